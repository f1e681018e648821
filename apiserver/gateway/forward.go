package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// forward sends a downstream request on to up and returns its answer. The
// parameters are passed as the downstream sent them, but for the _meta keys
// that describe the downstream's own protocol (the upstream client states
// its own).
func forward(ctx context.Context, up *mcp.ClientSession, method string, params mcp.Params) (mcp.Result, error) {
	res, err := send(ctx, up, method, params)
	if err != nil || !completes(up, params) {
		return res, err
	}
	return markComplete(res)
}

// send is forward's request.
func send(ctx context.Context, up *mcp.ClientSession, method string, params mcp.Params) (mcp.Result, error) {
	switch p := params.(type) {
	case *mcp.ListToolsParams:
		return up.ListTools(ctx, upward(p))
	case *mcp.CallToolParamsRaw:
		if p == nil {
			return nil, errParams
		}
		out := &mcp.CallToolParams{Meta: forwardMeta(p.Meta), Name: p.Name, InputResponses: p.InputResponses, RequestState: p.RequestState}
		if len(p.Arguments) > 0 {
			out.Arguments = p.Arguments
		}
		return up.CallTool(ctx, out)
	case *mcp.ListPromptsParams:
		return up.ListPrompts(ctx, upward(p))
	case *mcp.GetPromptParams:
		return up.GetPrompt(ctx, upward(p))
	case *mcp.ListResourcesParams:
		return up.ListResources(ctx, upward(p))
	case *mcp.ListResourceTemplatesParams:
		return up.ListResourceTemplates(ctx, upward(p))
	case *mcp.ReadResourceParams:
		return up.ReadResource(ctx, upward(p))
	case *mcp.CompleteParams:
		return up.Complete(ctx, upward(p))
	}
	return nil, &jsonrpc.Error{Code: jsonrpc.CodeMethodNotFound, Message: fmt.Sprintf("method %q is not served through the gateway", method)}
}

// upward is a copy of a downstream request's parameters (empty ones for a
// request that sent none) to send upstream: its _meta without the keys that
// describe the downstream's own protocol.
func upward[P any, PP interface {
	*P
	mcp.Params
}](p PP) PP {
	q := PP(new(P))
	if p != nil {
		*q = *p
	}
	q.SetMeta(forwardMeta(q.GetMeta()))
	return q
}

// completes reports whether an answer of up to params must be marked
// complete: a 2026-07-28 downstream (its requests state their version in
// _meta) requires resultType on tools/call, prompts/get and resources/read
// results, which an older upstream never sends and the SDK adds only in its
// own handlers — the gateway answers from middleware.
func completes(up *mcp.ClientSession, params mcp.Params) bool {
	if !hasParams(params) {
		return false
	}
	v, _ := params.GetMeta()[mcp.MetaKeyProtocolVersion].(string)
	return v >= statelessVersion && up.InitializeResult().ProtocolVersion < statelessVersion
}

// markComplete is res with resultType "complete", for the result types that
// carry one (the field is the SDK's own, set only by decoding).
func markComplete(res mcp.Result) (mcp.Result, error) {
	// The three result types with a resultType are those that may need input.
	r, ok := res.(interface{ NeedsInput() bool })
	if !ok || r.NeedsInput() {
		return res, nil
	}
	out, ok := reflect.New(reflect.TypeOf(res).Elem()).Interface().(mcp.Result)
	if !ok {
		return res, nil
	}
	fields := map[string]json.RawMessage{}
	data, err := json.Marshal(res)
	if err == nil {
		err = json.Unmarshal(data, &fields)
	}
	if err == nil {
		fields["resultType"] = json.RawMessage(`"complete"`)
		data, err = json.Marshal(fields)
	}
	if err == nil {
		err = json.Unmarshal(data, out)
	}
	if err != nil {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "the upstream's answer cannot be passed on: " + err.Error()}
	}
	return out, nil
}

// protocolMeta are the _meta keys a 2026-07-28 client sets on every request
// about itself; the upstream client sets its own.
var protocolMeta = []string{mcp.MetaKeyProtocolVersion, mcp.MetaKeyClientInfo, mcp.MetaKeyClientCapabilities}

func forwardMeta(m mcp.Meta) mcp.Meta {
	if len(m) == 0 {
		return nil
	}
	out := maps.Clone(m)
	for _, k := range protocolMeta {
		delete(out, k)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// auditing is one audited downstream call (tools/call, prompts/get,
// resources/read) in progress; nil when the gateway audits nothing or the
// method is not audited.
type auditing struct {
	ep     *endpoint
	caller Caller
	method string
	start  time.Time
}

// auditRecordTimeout bounds waiting for an audit event to be stored.
const auditRecordTimeout = 30 * time.Second

// maxAuditError is the longest error message an audit event keeps.
const maxAuditError = 300

func (p *proxy) startAudit(method string) *auditing {
	return p.ep.startAudit(p.caller, method)
}

func (ep *endpoint) startAudit(caller Caller, method string) *auditing {
	if ep.g.audit == nil && ep.g.metrics == nil {
		return nil
	}
	switch method {
	case "tools/call", "prompts/get", "resources/read":
	default:
		return nil
	}
	return &auditing{ep: ep, caller: caller, method: method, start: time.Now()}
}

// done records the call's event — never its arguments or result — and
// returns once it is stored, so that a call whose reply was sent is in the
// log. A failure to store it is logged; the call's answer stands.
func (a *auditing) done(ctx context.Context, l *leg, name string, outcome contract.AuditOutcome, err error) {
	if a == nil {
		return
	}
	if l == nil {
		a.record(ctx, "", "", name, outcome, err)
		return
	}
	a.record(ctx, l.kind, l.id, name, outcome, err)
}

// record is done for the record of kind and id ("" when there is none).
func (a *auditing) record(ctx context.Context, kind, id, name string, outcome contract.AuditOutcome, err error) {
	ep := a.ep
	elapsed := time.Since(a.start)
	ep.observe(ctx, a.method, string(outcome), kind, id, name, elapsed)
	if ep.g.audit == nil {
		return
	}
	ev := store.AuditEvent{
		Action:   a.method,
		AgentID:  a.caller.AgentID,
		TokenID:  a.caller.TokenID,
		APIKeyID: a.caller.APIKeyID,
		Outcome:  string(outcome),
	}
	ev.TenantID = ep.key.tenant
	if ev.AgentID == nil {
		ev.AgentID = ep.agentID
	}
	if name != "" {
		ev.Tool = new(name)
	}
	if kind != "" {
		ev.RecordKind, ev.RecordID = new(kind), new(id)
	}
	switch {
	case err != nil:
		ev.Error = new(auditError(err))
	case outcome == contract.OutcomeError:
		ev.Error = new("the tool answered with an error result")
	}
	ev.DurationMs = new(elapsed.Milliseconds())
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditRecordTimeout)
	defer cancel()
	if rerr := ep.g.audit.Record(rctx, ev); rerr != nil {
		ep.g.log.WarnContext(ctx, "gateway: could not store the audit event of a call; the call was answered",
			"action", a.method, "tenant", ep.key.tenant, "error", rerr)
	}
}

// outcomeOf is the audit outcome of an upstream's answer: an error, or a
// tool result that says it is one, is "error".
func outcomeOf(res mcp.Result, err error) contract.AuditOutcome {
	if err != nil {
		return contract.OutcomeError
	}
	if r, ok := res.(*mcp.CallToolResult); ok && r.IsError {
		return contract.OutcomeError
	}
	return contract.OutcomeOK
}

// auditName is what an audited request names: its tool, prompt or resource.
func auditName(params mcp.Params) string {
	switch p := params.(type) {
	case *mcp.CallToolParamsRaw:
		if p != nil {
			return p.Name
		}
	case *mcp.GetPromptParams:
		if p != nil {
			return p.Name
		}
	case *mcp.ReadResourceParams:
		if p != nil {
			return p.URI
		}
	}
	return ""
}

// auditError is err's message, short: the JSON-RPC message alone.
func auditError(err error) string {
	msg := err.Error()
	var je *jsonrpc.Error
	if errors.As(err, &je) {
		msg = je.Message
	}
	if len(msg) > maxAuditError {
		cut := maxAuditError
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
