package client_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// agentRecords registers a connection and a proxied server to assign.
func agentRecords(t *testing.T, c *client.Client) (connectionID, serverID string) {
	t.Helper()
	ctx := context.Background()
	conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{Name: "Order Management", ServerURL: "https://mcp.example.com/oms"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProject(ctx, contract.CreateProjectRequest{Name: "agents"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: p.ID, Name: "Ledger",
		URL: new("https://mcp.example.com/ledger"), ConnectionType: contract.ConnectionProxy})
	if err != nil {
		t.Fatal(err)
	}
	return conn.ID, s.ID
}

func TestAgentLifecycle(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)
	connID, serverID := agentRecords(t, c)

	created, err := c.CreateAgent(ctx, contract.CreateAgentRequest{
		Name:        "Support",
		Description: new("Answers customers"),
		Assignments: []contract.Assignment{
			{ConnectionID: &connID},
			{ServerID: &serverID, Prefix: "books", AllowedTools: []string{"get_invoice"}},
		},
	})
	if err != nil {
		t.Fatalf("CreateAgent: %v", err)
	}
	if created.ID == "" || created.TenantID != srv.TenantID.String() || created.Name != "Support" ||
		!strings.HasSuffix(created.GatewayURL, "/mcp/agents/"+created.ID) || len(created.Assignments) != 2 {
		t.Fatalf("created = %+v", created)
	}
	if a := created.Assignments[0]; a.Prefix != "order_management" || a.AllowedTools != nil || a.ServerID != nil {
		t.Errorf("first assignment = %+v, want the default prefix and all tools", a)
	}
	if a := created.Assignments[1]; a.Prefix != "books" || len(a.AllowedTools) != 1 || *a.ServerID != serverID {
		t.Errorf("second assignment = %+v", a)
	}

	got, err := c.GetAgent(ctx, created.ID)
	if err != nil || got.Name != "Support" || !got.CreatedAt.Equal(created.CreatedAt.Time) || len(got.Assignments) != 2 {
		t.Errorf("GetAgent = %+v, %v", got, err)
	}

	// PATCH replaces the list; nil fields stay.
	only := []contract.Assignment{{ServerID: &serverID}}
	updated, err := c.UpdateAgent(ctx, created.ID, contract.UpdateAgentRequest{Assignments: &only})
	if err != nil || updated.Name != "Support" || len(updated.Assignments) != 1 || updated.Assignments[0].Prefix != "ledger" {
		t.Errorf("UpdateAgent = %+v, %v", updated, err)
	}

	byName, err := c.ListAllAgents(ctx, client.AgentListOptions{Name: "Support"})
	if err != nil || len(byName) != 1 || byName[0].ID != created.ID {
		t.Errorf("ListAllAgents by name = %+v, %v", byName, err)
	}

	_, err = c.CreateAgent(ctx, contract.CreateAgentRequest{Name: "Support"})
	var apiErr *client.APIError
	if !errors.Is(err, client.ErrConflict) || !errors.As(err, &apiErr) || !strings.Contains(apiErr.Message, `"Support"`) {
		t.Errorf("duplicate name: %v, want ErrConflict naming it", err)
	}
	_, err = c.CreateAgent(ctx, contract.CreateAgentRequest{Name: "dup prefixes", Assignments: []contract.Assignment{
		{ConnectionID: &connID, Prefix: "same"}, {ServerID: &serverID, Prefix: "same"},
	}})
	if !errors.Is(err, client.ErrConflict) || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("duplicate prefix: %v, want ErrConflict about the prefix", err)
	}
	_, err = c.CreateAgent(ctx, contract.CreateAgentRequest{Name: "both", Assignments: []contract.Assignment{
		{ConnectionID: &connID, ServerID: &serverID},
	}})
	if !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("both ids: %v, want ErrBadRequest", err)
	}

	if err := c.DeleteAgent(ctx, created.ID); err != nil {
		t.Fatalf("DeleteAgent: %v", err)
	}
	if _, err := c.GetAgent(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetAgent after delete: %v, want ErrNotFound", err)
	}
	if err := c.DeleteAgent(ctx, created.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second delete: %v, want ErrNotFound", err)
	}
	if _, err := c.GetAgent(ctx, ".."); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("GetAgent(..): %v, want ErrBadRequest before any request", err)
	}
}

func TestListAllAgentsPages(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if _, err := c.CreateAgent(ctx, contract.CreateAgentRequest{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.ListAgents(ctx, client.AgentListOptions{Limit: 2})
	if err != nil || len(page.Data) != 2 || page.NextCursor == nil {
		t.Fatalf("first page = %+v, %v", page, err)
	}
	all, err := c.ListAllAgents(ctx, client.AgentListOptions{Limit: 2})
	if err != nil || len(all) != 5 {
		t.Fatalf("ListAllAgents = %d agents, %v; want 5", len(all), err)
	}
}

func TestAgentTokensAndAudit(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)
	agent, err := c.CreateAgent(ctx, contract.CreateAgentRequest{Name: "holder"})
	if err != nil {
		t.Fatal(err)
	}

	tok, err := c.CreateAgentToken(ctx, agent.ID, contract.CreateAgentTokenRequest{Name: "ci"})
	if err != nil {
		t.Fatalf("CreateAgentToken: %v", err)
	}
	if tok.ID == "" || tok.AgentID != agent.ID || tok.Name != "ci" || tok.ExpiresAt != nil ||
		tok.Token == nil || !strings.HasPrefix(*tok.Token, contract.AgentTokenPrefix) {
		t.Fatalf("created token = %+v", tok)
	}
	listed, err := c.ListAllAgentTokens(ctx, agent.ID, client.AgentTokenListOptions{})
	if err != nil || len(listed) != 1 || listed[0].ID != tok.ID || listed[0].Token != nil {
		t.Errorf("ListAllAgentTokens = %+v, %v; want the token without its value", listed, err)
	}
	if _, err := c.CreateAgentToken(ctx, agent.ID, contract.CreateAgentTokenRequest{Name: "old",
		ExpiresAt: new(contract.NewTime(tok.CreatedAt.AddDate(-1, 0, 0)))}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("token expiring in the past: %v, want ErrBadRequest", err)
	}

	if err := c.RevokeAgentToken(ctx, agent.ID, tok.ID); err != nil {
		t.Fatalf("RevokeAgentToken: %v", err)
	}
	if listed, err := c.ListAllAgentTokens(ctx, agent.ID, client.AgentTokenListOptions{}); err != nil || len(listed) != 0 {
		t.Errorf("tokens after revoke = %+v, %v; want none", listed, err)
	}
	if err := c.RevokeAgentToken(ctx, agent.ID, tok.ID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("second revoke: %v, want ErrNotFound", err)
	}
	if _, err := c.ListAgentTokens(ctx, "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11", client.AgentTokenListOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("tokens of no agent: %v, want ErrNotFound", err)
	}

	// Every write above is an audit event, newest first; the token's value is in none.
	events, err := c.ListAllAuditEvents(ctx, client.AuditEventListOptions{RecordID: tok.ID})
	if err != nil {
		t.Fatalf("ListAllAuditEvents: %v", err)
	}
	var actions []string
	for _, ev := range events {
		actions = append(actions, ev.Action)
		if ev.Error != nil && strings.Contains(*ev.Error, *tok.Token) {
			t.Errorf("event %s holds the token", ev.ID)
		}
	}
	if strings.Join(actions, ",") != "agent_token.revoke,agent_token.create" {
		t.Errorf("the token's events are %q, want its revoke then its create", actions)
	}
	created, err := c.ListAllAuditEvents(ctx, client.AuditEventListOptions{Action: "agent.create", Since: agent.CreatedAt.Add(-1e9)})
	if err != nil || len(created) != 1 || created[0].RecordID == nil || *created[0].RecordID != agent.ID {
		t.Errorf("agent.create events = %+v, %v", created, err)
	}
	if _, err := c.ListAuditEvents(ctx, client.AuditEventListOptions{AgentID: "nope"}); !errors.Is(err, client.ErrBadRequest) {
		t.Errorf("bad agentId filter: %v, want ErrBadRequest", err)
	}
}
