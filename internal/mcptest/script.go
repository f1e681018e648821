package mcptest

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// ScriptVersion is the protocol version a Script server negotiates: it
// speaks only the initialize handshake.
const ScriptVersion = LegacyVersion

// Script is a hand-written MCP server, for answers the SDK's server never
// gives: tools with fields the SDK does not model, broken pagination,
// oversized or malformed results. It answers server/discover with "method
// not found" (so clients fall back to initialize), initialize with
// ScriptVersion and Capabilities, ping with {}, and every other request with
// Handle.
type Script struct {
	// Name is the serverInfo name; it defaults to "mcptest-script".
	Name string
	// Capabilities is the raw JSON capabilities object of the initialize
	// result; empty means {"tools":{}}.
	Capabilities string
	// Handle answers a request: a raw JSON result, or an error. Nil
	// answers every request with "method not found".
	Handle func(method string, params json.RawMessage) (json.RawMessage, *RPCError)
}

// RPCError is a JSON-RPC error a Script answers with.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// codeMethodNotFound is JSON-RPC's "method not found".
const codeMethodNotFound = -32601

// rpcMessage is a JSON-RPC message as a Script reads it.
type rpcMessage struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// answer returns the JSON-RPC response to msg, or nil for a notification or response.
func (s Script) answer(msg rpcMessage) []byte {
	if msg.Method == "" || msg.ID == nil {
		return nil
	}
	var (
		result json.RawMessage
		rpcErr *RPCError
	)
	switch msg.Method {
	case "server/discover":
		rpcErr = &RPCError{Code: codeMethodNotFound, Message: "method not found"}
	case "initialize":
		name, caps := s.Name, s.Capabilities
		if name == "" {
			name = "mcptest-script"
		}
		if caps == "" {
			caps = `{"tools":{}}`
		}
		info, _ := json.Marshal(map[string]string{"name": name, "version": "1.0.0"})
		result = json.RawMessage(`{"protocolVersion":"` + ScriptVersion + `","capabilities":` + caps + `,"serverInfo":` + string(info) + `}`)
	case "ping":
		result = json.RawMessage(`{}`)
	default:
		if s.Handle == nil {
			rpcErr = &RPCError{Code: codeMethodNotFound, Message: "method not found"}
		} else {
			result, rpcErr = s.Handle(msg.Method, msg.Params)
		}
	}
	// Written out by hand: the result goes on the wire exactly as Handle
	// gave it, invalid UTF-8 and all, which json.Marshal would not do.
	out := []byte(`{"jsonrpc":"2.0","id":`)
	out = append(out, msg.ID...)
	if rpcErr != nil {
		e, _ := json.Marshal(rpcErr)
		out = append(append(append(out, `,"error":`...), e...), '}')
	} else {
		out = append(append(append(out, `,"result":`...), result...), '}')
	}
	return out
}

// StartScript serves s over Streamable HTTP, answering each POST with an
// application/json body, without sessions.
func StartScript(t testing.TB, s Script) *Server {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var msg rpcMessage
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(w, "bad JSON-RPC", http.StatusBadRequest)
			return
		}
		out := s.answer(msg)
		if out == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
	return start(t, h)
}

// ServeScript serves s over newline-delimited JSON-RPC on r and w (a stdio
// server's stdin and stdout) until r ends.
func ServeScript(s Script, r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var msg rpcMessage
		if json.Unmarshal(sc.Bytes(), &msg) != nil {
			continue
		}
		if out := s.answer(msg); out != nil {
			if _, err := w.Write(append(out, '\n')); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
