package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// auditEvents reads every audit event of query, page by page.
func (a *api) auditEvents(query string) ([]contract.AuditEvent, string) {
	a.t.Helper()
	var all []contract.AuditEvent
	var bodies strings.Builder
	cursor := ""
	for {
		r := a.do("GET", "/api/audit-events?limit=3&"+query+cursor, nil)
		var page contract.AuditEventList
		r.expect(a.t, http.StatusOK, &page)
		bodies.Write(r.body)
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all, bodies.String()
		}
		cursor = "&cursor=" + *page.NextCursor
	}
}

func TestAuditEventsOfAPIWrites(t *testing.T) {
	t.Parallel()
	logs, logOpt := captureLogs()
	s := apitest.Start(t, logOpt)
	a := newAPI(t, s)
	start := time.Now().Add(-time.Second)

	conn := a.create(map[string]any{"name": "c", "serverUrl": "https://c.example.com/mcp", "authType": "bearer", "bearerToken": "conn-secret-123"})
	a.do("PATCH", "/api/mcp-connections/"+conn.ID, map[string]any{"bearerToken": "conn-secret-456"}).expect(t, http.StatusOK, nil)
	p := a.createProject("p")
	a.do("PATCH", "/api/projects/"+p.ID, map[string]any{"description": "d"}).expect(t, http.StatusOK, nil)
	srv := a.createServer(map[string]any{"projectId": p.ID, "name": "s", "url": "https://s.example.com/mcp", "connectionType": "proxy", "bearerToken": "server-secret-789"})
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"name": "s2"}).expect(t, http.StatusOK, nil)
	ag := a.createAgent(map[string]any{"name": "bot", "assignments": []map[string]any{{"connectionId": conn.ID}, {"serverId": srv.ID}}})
	a.do("PATCH", "/api/agents/"+ag.ID, map[string]any{"name": "bot2"}).expect(t, http.StatusOK, nil)
	var tok contract.AgentToken
	a.do("POST", "/api/agents/"+ag.ID+"/tokens", map[string]any{"name": "t"}).expect(t, http.StatusCreated, &tok)
	a.do("DELETE", "/api/agents/"+ag.ID+"/tokens/"+tok.ID, nil).expect(t, http.StatusNoContent, nil)
	a.do("DELETE", "/api/agents/"+ag.ID, nil).expect(t, http.StatusNoContent, nil)
	a.do("DELETE", "/api/mcp/servers/"+srv.ID, nil).expect(t, http.StatusOK, nil)
	a.do("DELETE", "/api/projects/"+p.ID, nil).expect(t, http.StatusOK, nil)
	a.do("DELETE", "/api/mcp-connections/"+conn.ID, nil).expect(t, http.StatusNoContent, nil)
	// Refused writes leave no event.
	a.do("POST", "/api/agents", map[string]any{"name": ""}).expect(t, http.StatusBadRequest, nil)
	a.do("DELETE", "/api/agents/"+ag.ID, nil).expect(t, http.StatusNotFound, nil)

	events, bodies := a.auditEvents("")
	want := []struct{ action, kind, id string }{
		{"connection.delete", "connection", conn.ID},
		{"project.delete", "project", p.ID},
		{"server.delete", "server", srv.ID},
		{"agent.delete", "agent", ag.ID},
		{"agent_token.revoke", "agent_token", tok.ID},
		{"agent_token.create", "agent_token", tok.ID},
		{"agent.update", "agent", ag.ID},
		{"agent.create", "agent", ag.ID},
		{"server.update", "server", srv.ID},
		{"server.create", "server", srv.ID},
		{"project.update", "project", p.ID},
		{"project.create", "project", p.ID},
		{"connection.update", "connection", conn.ID},
		{"connection.create", "connection", conn.ID},
	}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(events), len(want), events)
	}
	keyID := events[0].APIKeyID
	if keyID == nil {
		t.Fatal("apiKeyId is null")
	}
	for i, w := range want {
		ev := events[i]
		if ev.Action != w.action || ev.RecordKind == nil || *ev.RecordKind != w.kind || ev.RecordID == nil || *ev.RecordID != w.id ||
			ev.Outcome != contract.OutcomeOK || ev.APIKeyID == nil || *ev.APIKeyID != *keyID || ev.At.Before(start) ||
			ev.TokenID != nil || ev.Tool != nil || ev.DurationMs != nil || ev.Error != nil {
			t.Errorf("event %d = %+v, want %s of %s %s", i, ev, w.action, w.kind, w.id)
		}
		if strings.HasPrefix(w.action, "agent") && (ev.AgentID == nil || *ev.AgentID != ag.ID) {
			t.Errorf("event %d (%s): agentId = %v, want %s", i, w.action, ev.AgentID, ag.ID)
		}
	}
	for _, secret := range []string{"conn-secret-123", "conn-secret-456", "server-secret-789", "mcpa_", s.APIKey} {
		if strings.Contains(bodies, secret) {
			t.Errorf("audit events carry a secret %q", secret)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log carries a secret %q", secret)
		}
	}

	// Filters.
	if got, _ := a.auditEvents("agentId=" + ag.ID); len(got) != 5 {
		t.Errorf("agentId filter: %d events, want 5", len(got))
	}
	if got, _ := a.auditEvents("recordId=" + srv.ID); len(got) != 3 || got[0].Action != "server.delete" {
		t.Errorf("recordId filter: %+v", got)
	}
	if got, _ := a.auditEvents("action=agent_token.create"); len(got) != 1 || *got[0].RecordID != tok.ID {
		t.Errorf("action filter: %+v", got)
	}
	since := events[3].At.String()
	if got, _ := a.auditEvents("since=" + since); len(got) < 4 || got[len(got)-1].At.Before(events[3].At.Time) {
		t.Errorf("since filter: %+v", got)
	}
	if got, _ := a.auditEvents("since=2999-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("since in the future: %+v", got)
	}

	// Tenant-scoped.
	_, otherKey := s.NewTenant(t, "other")
	if got, _ := a.as(otherKey).auditEvents(""); len(got) != 0 {
		t.Errorf("another tenant sees %d events", len(got))
	}

	for _, tc := range []struct{ query, want string }{
		{"since=yesterday", "since must be an RFC 3339 timestamp"},
		{"limit=0", "limit must be an integer from 1 to"},
		{"limit=x", "limit must be an integer from 1 to"},
		{"cursor=zzz", "invalid cursor"},
		{"agentId=nope", "agentId must be an agent id (a UUID)"},
	} {
		a.do("GET", "/api/audit-events?"+tc.query, nil).expectError(t, http.StatusBadRequest, tc.want)
	}
}
