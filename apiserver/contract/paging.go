package contract

// Page sizes of every list of the API.
const (
	// DefaultPageLimit is the page size when ?limit= is absent.
	DefaultPageLimit = 50
	// MaxPageLimit is the largest accepted ?limit=.
	MaxPageLimit = 100
)
