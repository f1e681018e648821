package health

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Results stored at once share statements, yet every caller gets back its
// own row with its own result.
func TestRecorderCoalescesConcurrentResults(t *testing.T) {
	e := newEnv(t)
	const n = 120
	conns := make([]store.Connection, n)
	for i := range conns {
		conns[i] = e.create(t, connName(i), fmt.Sprintf("https://mcp%d.example.com/mcp", i), "", nil)
	}
	// One of them changes endpoint before its result arrives.
	moved, err := e.store.UpdateConnection(context.Background(), e.tenant, conns[7].ID, func(c *store.Connection) error {
		c.ServerURL = "https://moved.example.com/mcp"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder[store.Connection]{save: e.store.RecordConnectionChecks, interval: time.Hour}

	var wg sync.WaitGroup
	got := make([]store.Connection, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			r := store.CheckResult{OK: i%2 == 0, Err: fmt.Sprintf("failure %d", i)}
			if r.OK {
				msg := fmt.Sprintf("instructions %d", i)
				r.Instructions = &msg
			}
			got[i], errs[i] = rec.record(store.Check[store.Connection]{Record: conns[i], Result: r})
		})
	}
	wg.Wait()
	for i := range n {
		if i == 7 {
			if !errors.Is(errs[i], store.ErrChanged) || got[i].ServerURL != moved.ServerURL {
				t.Errorf("moved connection: %+v, %v; want the current row and ErrChanged", got[i], errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Errorf("connection %d: %v", i, errs[i])
			continue
		}
		c := got[i]
		switch {
		case c.ID != conns[i].ID:
			t.Errorf("caller %d got row %s back, want %s", i, c.ID, conns[i].ID)
		case i%2 == 0 && (c.Status != "active" || c.Instructions == nil || *c.Instructions != fmt.Sprintf("instructions %d", i)):
			t.Errorf("connection %d: status %s, instructions %v", i, c.Status, deref(c.Instructions))
		case i%2 == 1 && (c.Status != "error" || c.LastError == nil || *c.LastError != fmt.Sprintf("failure %d", i)):
			t.Errorf("connection %d: status %s, lastError %v", i, c.Status, deref(c.LastError))
		}
	}
	rec.wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.flushing || len(rec.queue) != 0 {
		t.Fatalf("recorder left busy: flushing %t, %d queued", rec.flushing, len(rec.queue))
	}
}

// A database that is gone fails the callers of a batch, and the recorder is
// not left waiting for a write that ended.
func TestRecorderStoreError(t *testing.T) {
	e := newEnv(t)
	c := e.create(t, "c", "https://mcp.example.com/mcp", "", nil)
	closed := openStore(t, e.url)
	_ = closed.Close()
	rec := &recorder[store.Connection]{save: closed.RecordConnectionChecks, interval: time.Hour}
	for range 2 {
		if _, err := rec.record(store.Check[store.Connection]{Record: c, Result: store.CheckResult{OK: true}}); err == nil {
			t.Fatal("recording on a closed store succeeded")
		}
	}
	rec.wait()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.flushing || len(rec.queue) != 0 {
		t.Fatalf("recorder left busy: flushing %t, %d queued", rec.flushing, len(rec.queue))
	}
}
