package gateway

import (
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// endings runs what must happen once a downstream session ends with one
// goroutine per session, however many parts of the gateway wait for it
// (the session table and the proxy that holds its upstream sessions). At
// 1,000 open sessions each waiting goroutine is a stack of its own: one
// per session instead of two kept about 8 MB off the API's RSS.
type endings struct {
	mu    sync.Mutex
	funcs map[*mcp.ServerSession][]func()
}

// onEnd runs fn once ss has ended (at once, in the background, if it has
// already ended).
func (e *endings) onEnd(ss *mcp.ServerSession, fn func()) {
	e.mu.Lock()
	if e.funcs == nil {
		e.funcs = map[*mcp.ServerSession][]func(){}
	}
	waiting := e.funcs[ss] != nil
	e.funcs[ss] = append(e.funcs[ss], fn)
	e.mu.Unlock()
	if waiting {
		return
	}
	go func() {
		_ = ss.Wait()
		e.mu.Lock()
		fns := e.funcs[ss]
		delete(e.funcs, ss)
		e.mu.Unlock()
		for _, fn := range fns {
			fn()
		}
	}()
}
