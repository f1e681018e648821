package contract

// Page sizes of every list of the API.
const (
	// DefaultPageLimit is the page size when ?limit= is absent.
	DefaultPageLimit = 50
	// MaxPageLimit is the largest accepted ?limit=.
	MaxPageLimit = 100
)

// Page is one page of a list in the connections family (and of agents,
// their tokens and audit events): its records and where the next one starts.
type Page[T any] struct {
	Data []T `json:"data"`
	// NextCursor is passed as ?cursor= to fetch the next page; nil on the last page.
	NextCursor *string `json:"nextCursor"`
}
