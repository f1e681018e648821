package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Catalogs reads the approved catalog of a pinned record; *store.Store is
// one. ApprovedToolHashes returns each tool's hash by name in the record's
// catalog of toolsHash, store.ErrUnknownToolsHash when it has none.
type Catalogs interface {
	ApprovedToolHashes(ctx context.Context, k store.RecordKind, tenantID uuid.UUID, id, toolsHash string) (map[string]string, error)
}

// liveToolsMaxAge is how long a pinning trusts the upstream's tools listing
// it last read. notifications/tools/list_changed ends that trust at once;
// the bound catches an upstream that changes a tool without saying so
// within this long, at the cost of one tools/list per this long of calls.
const liveToolsMaxAge = 30 * time.Second

// pinning is what a record's approved catalog allows of its live tools
// (SPEC §10, "Pinned catalogs"): a tool is offered and forwarded only while
// its live definition hashes to what it was in the approved catalog. One
// pinning belongs to one upstream session; a nil *pinning allows every tool.
//
// The live definition is the upstream's own answer to tools/list in this
// session, never the last check's catalog. A tool's live hash is
// catalog.ToolHash of the JSON of the SDK's mcp.Tool, the hash a check takes
// of the raw tool object: the same for every member the SDK models (all of
// SPEC §8's), and for a tool with members it does not model, a hash that
// differs from the approved one, so such a tool is withheld rather than let
// through unseen.
//
// tools/list results are filtered as they pass (listed). A tools/call is
// checked against the listing the pinning read itself (callable): read on
// the first call, again after the upstream's list_changed (changed), and
// again once it is older than liveToolsMaxAge.
//
// A refused tool is a JSON-RPC error with code InvalidParams (-32602), the
// code the SDK itself answers a call of an unknown tool with: to the agent,
// a tool that is not listed is not there.
type pinning struct {
	// approvedHash is the record's approvedToolsHash, approved its tools'
	// hashes by name.
	approvedHash string
	approved     map[string]string
	maxAge       time.Duration
	now          func() time.Time

	// fetch makes calls that find the listing stale wait for one read.
	fetch sync.Mutex

	mu sync.Mutex
	// live is each tool's live hash by name, as last read ("" for a name
	// listed twice, or a tool that cannot be hashed); nil when there is
	// none to trust.
	live map[string]string
	// at is when live was read; gen counts changed, so that a listing read
	// across a change is not kept as current.
	at  time.Time
	gen uint64
}

// pinningFor is the pinning of a record whose approvedToolsHash is
// approved: nil when it has none. Its error is the JSON-RPC error to answer
// the session with: a pinned record whose approved catalog cannot be read
// serves no tools, rather than all of them.
func (g *Gateway) pinningFor(ctx context.Context, kind store.RecordKind, tenant uuid.UUID, id string, approved *string) (*pinning, error) {
	if approved == nil || *approved == "" {
		return nil, nil
	}
	if g.catalogs == nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf(
			"MCP server %s is pinned to an approved catalog, but this gateway has no catalog store to read it from", id)}
	}
	hashes, err := g.catalogs.ApprovedToolHashes(ctx, kind, tenant, id, *approved)
	if errors.Is(err, store.ErrUnknownToolsHash) {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf(
			"the approved catalog of MCP server %s (approvedToolsHash %s) is not stored: approve its current toolsHash again", id, *approved)}
	}
	if err != nil {
		g.log.WarnContext(ctx, "gateway: cannot read the approved catalog", "record", id, "tenant", tenant, "error", err)
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf(
			"the approved catalog of MCP server %s cannot be read now: try again", id)}
	}
	return newPinning(*approved, hashes), nil
}

func newPinning(approvedHash string, approved map[string]string) *pinning {
	return &pinning{approvedHash: approvedHash, approved: approved, maxAge: liveToolsMaxAge, now: time.Now}
}

// listed keeps of a live tools listing the tools the approved catalog allows.
// A tool listed here as changed is refused by callable too, even before
// the pinning reads the listing again.
func (p *pinning) listed(tools []*mcp.Tool) []*mcp.Tool {
	if p == nil {
		return tools
	}
	hashes := liveHashes(tools)
	out := make([]*mcp.Tool, 0, len(tools))
	for _, t := range tools {
		if p.allows(t.Name, hashes) {
			out = append(out, t)
		}
	}
	p.mu.Lock()
	if p.live != nil {
		// Only ever to refuse: a page read before the pinning's own
		// listing must not let a changed tool back in.
		for name, h := range hashes {
			if h != p.approved[name] {
				p.live[name] = h
			}
		}
	}
	p.mu.Unlock()
	return out
}

// callable is nil when the tool named may be called as its live definition
// on up now stands, else the JSON-RPC error that names it and says why.
func (p *pinning) callable(ctx context.Context, up *probe.Session, name string) error {
	if p == nil {
		return nil
	}
	if _, ok := p.approved[name]; !ok {
		return p.refusal(name, nil)
	}
	live, err := p.liveTools(ctx, up)
	if err != nil {
		return err
	}
	if p.allows(name, live) {
		return nil
	}
	return p.refusal(name, live)
}

// changed is told when the upstream says its tool list changed.
func (p *pinning) changed() {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.live = nil
	p.gen++
	p.mu.Unlock()
}

// allows reports whether the tool name, whose live hash live holds, is as
// approved.
func (p *pinning) allows(name string, live map[string]string) bool {
	want, ok := p.approved[name]
	got, listed := live[name]
	return ok && listed && got != "" && got == want
}

// refusal is the error for calling name, which the approved catalog and
// the live listing live do not both allow.
func (p *pinning) refusal(name string, live map[string]string) error {
	var why string
	_, approved := p.approved[name]
	got, listed := live[name]
	switch {
	case !approved:
		why = "is not in the approved catalog (it was added since, or never existed)"
	case !listed:
		why = "is in the approved catalog but not in the upstream MCP server's tools listing now"
	case got == "":
		why = "is listed twice by the upstream MCP server, or its definition cannot be read, so it cannot be compared with the approved catalog"
	default:
		why = "has a definition that changed since the approved catalog"
	}
	return &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: fmt.Sprintf(
		"tool %s %s (approvedToolsHash %s): it is not offered; review the record's catalog and approve its current toolsHash to offer it",
		strconv.Quote(name), why, p.approvedHash)}
}

// liveTools is each live tool's hash by name: the pinning's listing while
// it is current, else the upstream's whole tools/list read anew.
func (p *pinning) liveTools(ctx context.Context, up *probe.Session) (map[string]string, error) {
	if live := p.current(); live != nil {
		return live, nil
	}
	p.fetch.Lock()
	defer p.fetch.Unlock()
	// Another call may have read it while this one waited.
	if live := p.current(); live != nil {
		return live, nil
	}
	p.mu.Lock()
	gen := p.gen
	p.mu.Unlock()
	started := p.now()
	tools, err := listTools(ctx, up)
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: fmt.Sprintf(
			"the upstream MCP server's tools cannot be listed to compare them with the approved catalog: %s", upstreamError(ctx, err).Error())}
	}
	live := liveHashes(tools)
	p.mu.Lock()
	if p.gen == gen {
		// Current from when the read started: a change after that
		// started is not in it for sure.
		p.live, p.at = live, started
	}
	p.mu.Unlock()
	return live, nil
}

// current is a copy of the pinning's listing while it is to be trusted, else nil.
func (p *pinning) current() map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.live == nil || p.now().Sub(p.at) >= p.maxAge {
		return nil
	}
	return maps.Clone(p.live)
}

// listTools reads every page of up's tools/list, as a check does, within
// the same page bound, and fails on pagination that loops.
func listTools(ctx context.Context, up *probe.Session) ([]*mcp.Tool, error) {
	var tools []*mcp.Tool
	seen := map[[sha256.Size]byte]bool{}
	cursor := ""
	for range probe.MaxListPages {
		res, err := up.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return nil, err
		}
		tools = append(tools, res.Tools...)
		if res.NextCursor == "" {
			return tools, nil
		}
		seen[sha256.Sum256([]byte(cursor))] = true
		h := sha256.Sum256([]byte(res.NextCursor))
		if seen[h] {
			return nil, errors.New("its tools/list pagination loops")
		}
		cursor = res.NextCursor
	}
	return nil, fmt.Errorf("its tools/list has more than %d pages", probe.MaxListPages)
}

// liveHashes is each tool's hash by name; "" for a name listed twice with
// different definitions (which of them a call reaches is the upstream's
// choice) and for a tool that cannot be hashed.
func liveHashes(tools []*mcp.Tool) map[string]string {
	out := make(map[string]string, len(tools))
	for _, t := range tools {
		if t == nil {
			continue
		}
		h := toolHash(t)
		if prev, dup := out[t.Name]; dup && prev != h {
			h = ""
		}
		out[t.Name] = h
	}
	return out
}

// toolHash is catalog.ToolHash of the tool as the SDK decoded it, "" when
// it has none.
func toolHash(t *mcp.Tool) string {
	raw, err := json.Marshal(t)
	if err != nil {
		return ""
	}
	h, err := catalog.ToolHash(raw)
	if err != nil {
		return ""
	}
	return h
}
