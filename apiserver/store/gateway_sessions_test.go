package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestGatewaySessions(t *testing.T) {
	t.Parallel()
	ctx, s, tenant := newTenantStore(t, "t")
	agent, token := uuid.New(), uuid.New()
	params := json.RawMessage(`{"protocolVersion":"2025-06-18","capabilities":{"sampling":{}},"clientInfo":{"name":"c","version":"1"}}`)

	gs := GatewaySession{ID: "s1", TenantID: tenant, EndpointKind: GatewayAgentEndpoint, EndpointID: "a1",
		AgentID: &agent, TokenID: &token, InitializeParams: params}
	if err := s.CreateGatewaySession(ctx, &gs); err != nil {
		t.Fatal(err)
	}
	if gs.CreatedAt.IsZero() || gs.LastSeenAt.IsZero() {
		t.Fatalf("created: %+v", gs)
	}
	dup := GatewaySession{ID: "s1", TenantID: tenant, EndpointKind: GatewayServerEndpoint, EndpointID: "x", InitializeParams: params}
	if err := s.CreateGatewaySession(ctx, &dup); err == nil {
		t.Fatal("a taken session id was stored twice")
	}
	unknown := GatewaySession{ID: "s2", TenantID: uuid.New(), EndpointKind: GatewayServerEndpoint, EndpointID: "x", InitializeParams: params}
	if err := s.CreateGatewaySession(ctx, &unknown); !errors.Is(err, ErrNotFound) {
		t.Fatalf("session of an unknown tenant: %v, want ErrNotFound", err)
	}

	got, err := s.TouchGatewaySession(ctx, "s1", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ip, want map[string]any
	_ = json.Unmarshal(got.InitializeParams, &ip)
	_ = json.Unmarshal(params, &want)
	if got.TenantID != tenant || got.EndpointKind != "agent" || got.EndpointID != "a1" || *got.AgentID != agent ||
		*got.TokenID != token || got.APIKeyID != nil || ip["protocolVersion"] != want["protocolVersion"] || got.LastSeenAt.Before(gs.LastSeenAt) {
		t.Fatalf("touched: %+v (params %s)", got, got.InitializeParams)
	}
	if _, err := s.TouchGatewaySession(ctx, "nope", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("touch of an unknown session: %v", err)
	}

	// A session idle longer than the limit is gone for every replica, and
	// the sweep deletes it; a fresh one stays.
	if _, err := s.db.ExecContext(ctx, `UPDATE gateway_sessions SET last_seen_at = now() - interval '1 hour' WHERE id = 's1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TouchGatewaySession(ctx, "s1", time.Minute); !errors.Is(err, ErrNotFound) {
		t.Fatalf("touch of an idle session: %v, want ErrNotFound", err)
	}
	fresh := GatewaySession{ID: "s3", TenantID: tenant, EndpointKind: GatewayServerEndpoint, EndpointID: "x", InitializeParams: params}
	if err := s.CreateGatewaySession(ctx, &fresh); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteIdleGatewaySessions(ctx, time.Minute); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1 deleted", n, err)
	}
	if _, err := s.TouchGatewaySession(ctx, "s3", time.Minute); err != nil {
		t.Fatalf("the fresh session was swept: %v", err)
	}

	if err := s.DeleteGatewaySession(ctx, "s3"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGatewaySession(ctx, "s3"); err != nil {
		t.Fatalf("deleting a deleted session: %v", err)
	}
	if _, err := s.TouchGatewaySession(ctx, "s3", time.Hour); !errors.Is(err, ErrNotFound) {
		t.Fatalf("touch of a deleted session: %v", err)
	}
}
