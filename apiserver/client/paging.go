package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// pageQuery adds the paging parameters every list endpoint takes to q; zero
// values leave them out, so the API's defaults apply.
func pageQuery(q url.Values, limit int, cursor string) url.Values {
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	return q
}

// PageOptions pages a listing that takes no filters: an agent's tokens, and
// a record's history (GET …/checks and …/catalog-changes of a connection or
// a server). Zero values mean "from the start" (for a history, the newest)
// and "the API's default page size".
type PageOptions struct {
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o PageOptions) query() url.Values {
	return pageQuery(url.Values{}, o.Limit, o.Cursor)
}

func (o *PageOptions) page() (limit *int, cursor *string) { return &o.Limit, &o.Cursor }

// NameListOptions filters and pages a list whose only filter is the name
// (agents, projects). Zero values mean "no filter" and "the API's default
// page size".
type NameListOptions struct {
	// Name restricts the list to the record with exactly this name.
	Name string
	// Limit is the page size, 1 to contract.MaxPageLimit.
	Limit int
	// Cursor is the NextCursor of the previous page.
	Cursor string
}

func (o NameListOptions) query() url.Values {
	return pageQuery(filters("name", o.Name), o.Limit, o.Cursor)
}

func (o *NameListOptions) page() (limit *int, cursor *string) { return &o.Limit, &o.Cursor }

// filters is the query of a listing's filters, given as name, value pairs;
// an empty value leaves its filter out.
func filters(pairs ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q
}

// allPagesLimit is the page size a ListAll call asks for: the caller's, or
// the largest the API allows, which makes the fewest round trips.
func allPagesLimit(limit int) int {
	if limit <= 0 {
		return contract.MaxPageLimit
	}
	return limit
}

// listAll calls page with each cursor in turn, from first, until the API
// returns no next cursor, and returns the items of every page. path names
// the listing in errors.
func listAll[T any](path, first string, page func(cursor string) ([]T, *string, error)) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	cursor := first
	for {
		items, next, err := page(cursor)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == nil || *next == "" {
			return all, nil
		}
		// A cursor that comes back twice would loop forever.
		if seen[*next] {
			return nil, fmt.Errorf("GET %s: the API returned the cursor %q twice; stopping to avoid an endless listing", path, *next)
		}
		seen[*next] = true
		cursor = *next
	}
}

// paged is the options of a listing, which page it asks for.
type paged[O any] interface {
	*O
	page() (limit *int, cursor *string)
}

// listEvery is a ListAll call: it sets the limit of opts to allPagesLimit
// and calls list with opts at each page in turn, from the cursor opts
// holds; items takes a page's records and its next cursor.
func listEvery[O any, PO paged[O], P, T any](ctx context.Context, path string, opts O, list func(context.Context, O) (*P, error), items func(*P) ([]T, *string)) ([]T, error) {
	limit, cursor := PO(&opts).page()
	*limit = allPagesLimit(*limit)
	return listAll(path, *cursor, func(next string) ([]T, *string, error) {
		*cursor = next
		page, err := list(ctx, opts)
		if err != nil {
			return nil, nil, err
		}
		got, nextCursor := items(page)
		return got, nextCursor, nil
	})
}

// listEveryPage is listEvery for a listing of contract.Page[T] items.
func listEveryPage[O any, PO paged[O], T any](ctx context.Context, path string, opts O, list func(context.Context, O) (*contract.Page[T], error)) ([]T, error) {
	return listEvery[O, PO](ctx, path, opts, list, pageItems)
}

// below is list for the listing below the record id (its tokens, its
// history).
func below[O, P any](id string, list func(context.Context, string, O) (*P, error)) func(context.Context, O) (*P, error) {
	return func(ctx context.Context, opts O) (*P, error) { return list(ctx, id, opts) }
}

// pageItems is the items function of listEvery for a contract.Page.
func pageItems[T any](p *contract.Page[T]) ([]T, *string) { return p.Data, p.NextCursor }
