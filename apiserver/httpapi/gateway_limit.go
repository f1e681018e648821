package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// rpcRateLimited is the JSON-RPC error code of a request refused by the
// gateway's rate limit: -32000 opens the range JSON-RPC leaves to servers.
const rpcRateLimited = -32000

// maxPeekBytes bounds how much of a refused request's body is read to find
// its JSON-RPC id; a larger body gets the plain 429.
const maxPeekBytes = 1 << 20

// limitGateway applies the gateway's token buckets: one per agent (its
// tokens share it, on /mcp/agents and /mcp/servers alike), and for API key
// callers one per API key. It runs after the gateway's authentication.
//
// Over the limit, a request gets Retry-After and:
//   - a JSON-RPC request from an MCP client (a POST whose Accept lists both
//     application/json and text/event-stream, as Streamable HTTP requires)
//     gets 200 and a JSON-RPC error carrying its id: the Go SDK client
//     treats a 429 as a transient failure and never reads its body, so
//     only this way does the agent's client see why;
//   - any other JSON-RPC request (a plain POST) gets 429 with that JSON-RPC
//     error as its body;
//   - everything else (a GET stream, a notification, a body
//     that is not JSON-RPC) gets 429 with the plain error body.
//
// JSON-RPC responses (a client's answers to sampling or elicitation) are
// never refused: dropping one would stall the upstream call that asked. Nor
// is a DELETE, which ends a session: refusing it would keep the session and
// its upstream session (or stdio process) alive until they idle out.
func limitGateway(l *rateLimiter) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodDelete {
			c.Next()
			return
		}
		key, who := limitKey(c)
		allowed, wait := l.allow(key, time.Now())
		if allowed {
			c.Next()
			return
		}
		secs := max(1, int64(math.Ceil(wait.Seconds())))
		msg := fmt.Sprintf("rate limit exceeded for %s; retry after %d s (the gateway allows %s requests per second to each agent and API key)",
			who, secs, strconv.FormatFloat(float64(l.perSecond), 'f', -1, 64))
		if c.Request.Method != http.MethodPost {
			refuse(c, secs, msg)
			return
		}
		id, kind := peekJSONRPC(c.Request)
		switch kind {
		case rpcResponse:
			c.Next()
		case rpcRequest:
			status := http.StatusTooManyRequests
			if acceptsMCP(c.Request) {
				status = http.StatusOK
			}
			c.Header("Retry-After", strconv.FormatInt(secs, 10))
			c.AbortWithStatusJSON(status, rpcErrorBody{JSONRPC: "2.0", ID: id,
				Error: rpcError{Code: rpcRateLimited, Message: msg}})
		default:
			refuse(c, secs, msg)
		}
	}
}

// limitKey is the bucket of the caller and how messages name it.
func limitKey(c *gin.Context) (uuid.UUID, string) {
	if agent, ok := agentOf(c); ok {
		return agent.AgentID, "agent " + agent.AgentID.String()
	}
	key := apiKeyOf(c)
	return key, "API key " + key.String()
}

func refuse(c *gin.Context, secs int64, msg string) {
	c.Header("Retry-After", strconv.FormatInt(secs, 10))
	abortError(c, http.StatusTooManyRequests, msg)
}

// rpcKind is what a POST body holds, as far as the limit cares.
type rpcKind int

const (
	rpcOther   rpcKind = iota // not one JSON-RPC message (or too large to tell)
	rpcRequest                // a request, with an id to answer
	rpcNotification
	rpcResponse
)

// peekJSONRPC reads r's body (up to maxPeekBytes) to tell what it holds,
// and puts back what it read so the request can still be served.
func peekJSONRPC(r *http.Request) (json.RawMessage, rpcKind) {
	if r.Body == nil {
		return nil, rpcOther
	}
	head, err := io.ReadAll(io.LimitReader(r.Body, maxPeekBytes+1))
	r.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(head), r.Body), Closer: r.Body}
	if err != nil || len(head) > maxPeekBytes {
		return nil, rpcOther
	}
	var msg struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  *string         `json:"method"`
		Result  json.RawMessage `json:"result"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(head, &msg) != nil || msg.JSONRPC != "2.0" {
		return nil, rpcOther
	}
	hasID := len(msg.ID) > 0 && string(msg.ID) != "null"
	switch {
	case msg.Method != nil && hasID:
		return msg.ID, rpcRequest
	case msg.Method != nil:
		return nil, rpcNotification
	case hasID && (msg.Result != nil || msg.Error != nil):
		return nil, rpcResponse
	}
	return nil, rpcOther
}

type readCloser struct {
	io.Reader
	io.Closer
}

// acceptsMCP reports whether r's Accept lists both media types a
// Streamable HTTP client must accept.
func acceptsMCP(r *http.Request) bool {
	var jsonOK, sseOK bool
	for _, v := range r.Header.Values("Accept") {
		for part := range strings.SplitSeq(v, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			switch mt {
			case "application/json":
				jsonOK = true
			case "text/event-stream":
				sseOK = true
			}
		}
	}
	return jsonOK && sseOK
}

// rpcErrorBody is a JSON-RPC 2.0 error response.
type rpcErrorBody struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcError        `json:"error"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
