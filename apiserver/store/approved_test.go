package store

import (
	"encoding/json"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/catalog"
)

func TestApprovedToolHashes(t *testing.T) {
	ctx, s, tenant, other := newTwoTenantStore(t)
	c := newConn(t, s, tenant, "pinned")
	id := c.ID.String()

	if _, err := s.ApprovedToolHashes(ctx, ConnectionRecords, tenant, id, "sha256:00"); !errors.Is(err, ErrUnknownToolsHash) {
		t.Fatalf("before any check: %v, want ErrUnknownToolsHash", err)
	}

	first := catalogOf(t, toolA, toolB)
	recheck(t, s, c, passed(first))
	// The same tools with a prompt: a second catalog row of the same toolsHash.
	withPrompt, err := catalog.Build([]json.RawMessage{json.RawMessage(toolA), json.RawMessage(toolB)},
		[]json.RawMessage{json.RawMessage(`{"name":"p"}`)}, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	recheck(t, s, c, passed(&withPrompt))
	second := catalogOf(t, toolB2, toolC)
	recheck(t, s, c, passed(second))
	if n := countRows(t, s, "catalogs", "connection_id", id); n != 3 {
		t.Fatalf("%d catalogs stored, want 3", n)
	}

	for _, want := range []*catalog.Catalog{first, second} {
		got, err := s.ApprovedToolHashes(ctx, ConnectionRecords, tenant, id, want.ToolsHash)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want.ToolHashes()) {
			t.Errorf("tool hashes of %s: %v, want %v", want.ToolsHash, got, want.ToolHashes())
		}
	}

	if _, err := s.ApprovedToolHashes(ctx, ConnectionRecords, tenant, id, "sha256:never"); !errors.Is(err, ErrUnknownToolsHash) {
		t.Errorf("a hash the record never had: %v, want ErrUnknownToolsHash", err)
	}
	for name, tc := range map[string]struct {
		tenant uuid.UUID
		id     string
	}{
		"another tenant's record": {other, id},
		"an unknown record":       {tenant, uuid.NewString()},
		"a malformed id":          {tenant, "not-a-uuid"},
	} {
		if _, err := s.ApprovedToolHashes(ctx, ConnectionRecords, tc.tenant, tc.id, first.ToolsHash); !errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}
}

func TestApprovedToolHashesOfServerWithoutTools(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	srv := newHTTPServer(t, s, tenant, newProject(t, s, tenant, "p").ID, "empty")
	empty := catalogOf(t)
	cur, err := s.GetServer(ctx, tenant, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordServerCheck(ctx, cur, passed(empty), time.Hour, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.ApprovedToolHashes(ctx, ServerRecords, tenant, srv.ID, empty.ToolsHash)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("a catalog without tools: %v, %v; want an empty map", got, err)
	}
	if _, err := s.ApprovedToolHashes(ctx, ConnectionRecords, tenant, srv.ID, empty.ToolsHash); !errors.Is(err, ErrNotFound) {
		t.Errorf("a server id as a connection: %v, want ErrNotFound", err)
	}
}
