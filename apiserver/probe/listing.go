package probe

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Limits on what a check reads back (SPEC §8). A server may offer more; the
// listing then keeps what fits and says Truncated.
const (
	// MaxListItems is the most items kept per kind (tools, prompts, resources).
	MaxListItems = 1000
	// MaxListingBytes is the most raw item bytes kept over all kinds together.
	MaxListingBytes = 4 << 20
	// MaxListPages is the most pages read per kind: a server that pages
	// forever with fresh cursors (empty pages, or a few items each) ends
	// up truncated rather than holding the check until its timeout.
	MaxListPages = 100
)

// maxMessageBytes bounds one message a check reads from a server: an HTTP
// JSON body, one SSE event, one stdio result. Twice the whole listing
// budget, so a page that fits the budget always fits; anything larger fails
// the check (contract.ErrorProtocol) instead of being read into memory.
const maxMessageBytes = 2 * MaxListingBytes

// maxStreamBytes bounds a whole HTTP event stream: the legacy SSE
// transport sends every answer of a check down one GET response, and a
// Streamable HTTP POST may answer with a stream of several events.
const maxStreamBytes = 2 * maxMessageBytes

// errTooLarge marks a check that stopped reading an answer over maxMessageBytes.
var errTooLarge = fmt.Errorf("an answer larger than %d MiB", maxMessageBytes>>20)

// Listing is what a passing check read back of what the server offers: the
// items of tools/list, prompts/list and resources/list as the raw JSON
// objects the server sent, every field included (the SDK's types would drop
// the ones they do not model, and a tool's hash covers them all). A kind the
// server does not advertise is nil and was not asked for; an advertised kind
// with no items is empty, not nil.
type Listing struct {
	Tools, Prompts, Resources []json.RawMessage
	// Truncated reports that the server offered more than MaxListItems of a
	// kind, MaxListingBytes in all, or MaxListPages pages of a kind: what
	// is here is the first part of its offer, in the server's order.
	Truncated bool
}

// listingError marks a failure of a listing after a successful handshake.
type listingError struct {
	method string
	err    error
}

func (e *listingError) Error() string { return e.method + " failed: " + e.err.Error() }
func (e *listingError) Unwrap() error { return e.err }

// describeTooLarge explains an answer over maxMessageBytes.
func describeTooLarge(err error) string {
	var le *listingError
	if errors.As(err, &le) {
		return fmt.Sprintf("the MCP server completed the handshake but its %s answer is larger than %d MiB, the most a check reads",
			le.method, maxMessageBytes>>20)
	}
	return fmt.Sprintf("the MCP server sent an answer larger than %d MiB, the most a check reads", maxMessageBytes>>20)
}

// listKind is one of the three listings.
type listKind struct {
	method string
	// advertised reports whether the server's capabilities offer the kind.
	advertised func(*mcp.ServerCapabilities) bool
	// call sends one page request through the SDK; the typed result is
	// not used (the raw one is), but the SDK's decoding of it still
	// rejects a result of the wrong shape.
	call func(ctx context.Context, s *mcp.ClientSession, cursor string) error
	// items picks the kind's array out of a raw page.
	items func(*rawPage) []json.RawMessage
	// set stores the kind's items in a Listing.
	set func(*Listing, []json.RawMessage)
}

// rawPage is one page of a list result, items kept raw.
type rawPage struct {
	Tools      []json.RawMessage `json:"tools"`
	Prompts    []json.RawMessage `json:"prompts"`
	Resources  []json.RawMessage `json:"resources"`
	NextCursor string            `json:"nextCursor"`
}

// listKinds are listed in this order; tools first, since the budget is
// shared and the tool catalog is what checks exist for.
var listKinds = []listKind{
	{
		method:     "tools/list",
		advertised: func(c *mcp.ServerCapabilities) bool { return c.Tools != nil },
		call: func(ctx context.Context, s *mcp.ClientSession, cursor string) error {
			_, err := s.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
			return err
		},
		items: func(p *rawPage) []json.RawMessage { return p.Tools },
		set:   func(l *Listing, v []json.RawMessage) { l.Tools = v },
	},
	{
		method:     "prompts/list",
		advertised: func(c *mcp.ServerCapabilities) bool { return c.Prompts != nil },
		call: func(ctx context.Context, s *mcp.ClientSession, cursor string) error {
			_, err := s.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
			return err
		},
		items: func(p *rawPage) []json.RawMessage { return p.Prompts },
		set:   func(l *Listing, v []json.RawMessage) { l.Prompts = v },
	},
	{
		method:     "resources/list",
		advertised: func(c *mcp.ServerCapabilities) bool { return c.Resources != nil },
		call: func(ctx context.Context, s *mcp.ClientSession, cursor string) error {
			_, err := s.ListResources(ctx, &mcp.ListResourcesParams{Cursor: cursor})
			return err
		},
		items: func(p *rawPage) []json.RawMessage { return p.Resources },
		set:   func(l *Listing, v []json.RawMessage) { l.Resources = v },
	},
}

// list reads every advertised listing, page by page, within the limits.
//
// Where the limits end a listing early, the result is truncated, not an
// error: the server may well offer that much. A cursor the server already
// returned is an error (contract.ErrorProtocol): pagination that loops is broken, and
// what it yields is not the server's offer but an artefact of where the loop
// was noticed.
func list(ctx context.Context, s *mcp.ClientSession, caps *mcp.ServerCapabilities, wire *rawCapture) (Listing, error) {
	var out Listing
	if caps == nil {
		return out, nil
	}
	budget := MaxListingBytes
	for _, k := range listKinds {
		if !k.advertised(caps) {
			continue
		}
		if budget == 0 {
			out.Truncated = true
			break
		}
		items, truncated, err := listAll(ctx, s, k, wire, &budget)
		if err != nil {
			return Listing{}, &listingError{method: k.method, err: err}
		}
		k.set(&out, items)
		out.Truncated = out.Truncated || truncated
	}
	return out, nil
}

// listAll follows one kind's pages, spending budget on the items it keeps.
func listAll(ctx context.Context, s *mcp.ClientSession, k listKind, wire *rawCapture, budget *int) (items []json.RawMessage, truncated bool, err error) {
	items = []json.RawMessage{}
	// Hashes, not the cursors: a hostile server's cursors can be huge.
	seen := map[[sha256.Size]byte]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages == MaxListPages {
			return items, true, nil
		}
		page, err := fetchPage(ctx, s, k, wire, cursor)
		if err != nil {
			return nil, false, err
		}
		for _, item := range k.items(page) {
			if len(item) == 0 || item[0] != '{' {
				return nil, false, errors.New("the server returned an item that is not a JSON object")
			}
			if len(items) == MaxListItems || len(item) > *budget {
				return items, true, nil
			}
			items = append(items, item)
			*budget -= len(item)
		}
		if page.NextCursor == "" {
			return items, false, nil
		}
		if len(items) == MaxListItems {
			return items, true, nil
		}
		seen[sha256.Sum256([]byte(cursor))] = true
		h := sha256.Sum256([]byte(page.NextCursor))
		if seen[h] {
			return nil, false, fmt.Errorf("its pagination loops: it returned the cursor %q a second time", oneLine(page.NextCursor, 80))
		}
		cursor = page.NextCursor
	}
}

// fetchPage sends one page request through the SDK and returns the raw
// result the wire capture saw for it.
func fetchPage(ctx context.Context, s *mcp.ClientSession, k listKind, wire *rawCapture, cursor string) (*rawPage, error) {
	wire.arm(k.method)
	err := k.call(ctx, s, cursor)
	raw, ok := wire.take()
	switch {
	case err != nil && wire.overflowed():
		return nil, fmt.Errorf("%w: %v", errTooLarge, err)
	case err != nil:
		return nil, err
	case !ok:
		// The SDK returned a result the capture never saw on the wire;
		// only a client-side cache could do that, and cursors never repeat.
		return nil, errors.New("its answer was not seen on the wire")
	case !utf8.Valid(raw):
		return nil, errors.New("its answer is not valid UTF-8")
	}
	var page rawPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, fmt.Errorf("its answer has the wrong shape: %v", err)
	}
	return &page, nil
}
