package health

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// sealedAuth is auth with secrets sealed by kr for aad.
func sealedAuth(t *testing.T, kr *secrets.Keyring, settings store.AuthSettings, s store.AuthSecrets, aad []byte) store.UpstreamAuth {
	t.Helper()
	plain, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	ct, keyID, err := kr.Seal(plain, aad)
	if err != nil {
		t.Fatal(err)
	}
	return store.UpstreamAuth{AuthSettings: settings, AuthSecretsCiphertext: ct, AuthSecretsKeyID: &keyID}
}

var (
	testSettings = store.AuthSettings{
		HeaderNames: []string{"X-Api-Key", "X-Tenant"},
		OAuth2: &store.OAuth2Settings{TokenURL: new("https://auth.example.com/token"), ClientID: "client-1",
			Scopes: []string{"mcp:read", "mcp:write"}, Audience: new("https://mcp.example.com"), Resource: new("https://mcp.example.com/mcp"),
			TokenEndpointAuthMethod: contract.ClientSecretPost},
		TLS: &store.TLSSettings{CABundle: new("CA PEM"), ClientCertificate: new("CERT PEM")},
	}
	testSecrets = store.AuthSecrets{Headers: map[string]string{"X-Api-Key": "key-1", "X-Tenant": "t-1"},
		ClientSecret: "client-secret-1", ClientKey: "KEY PEM"}
	// testTarget is what testSettings and testSecrets make of a target.
	testTarget = probe.Target{
		Headers: map[string]string{"X-Api-Key": "key-1", "X-Tenant": "t-1"},
		OAuth2: &probe.OAuth2{TokenURL: "https://auth.example.com/token", ClientID: "client-1", ClientSecret: "client-secret-1",
			Scopes: []string{"mcp:read", "mcp:write"}, Audience: "https://mcp.example.com", Resource: "https://mcp.example.com/mcp",
			AuthMethod: contract.ClientSecretPost},
		TLS: &probe.TLS{CABundle: "CA PEM", ClientCertificate: "CERT PEM", ClientKey: "KEY PEM"},
	}
)

// TestTargetCarriesUpstreamAuth: the target checks and the gateway use
// carries a record's headers, OAuth 2.0 and TLS settings with their
// secrets opened, and the key its cached tokens are kept under.
func TestTargetCarriesUpstreamAuth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	conns := e.checker(t, e.store, newProber(time.Second), 0)

	conn := store.Connection{Key: store.Key[uuid.UUID]{ID: uuid.New(), TenantID: e.tenant}, ServerURL: "https://mcp.example.com/mcp", AuthType: "oauth2"}
	conn.UpstreamAuth = sealedAuth(t, e.keyring, testSettings, testSecrets, store.ConnectionAuthAAD(conn.ID))
	got, err := conns.ConnectionTarget(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	want := testTarget
	want.Transport, want.URL, want.Key = contract.TransportHTTP, conn.ServerURL, "conn:"+conn.ID.String()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("connection target = %+v\nwant %+v", got, want)
	}

	servers, err := NewServerChecker(CheckerConfig{Store: e.store, Keyring: e.keyring, Prober: newProber(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	srv := store.Server{Key: store.Key[string]{ID: store.NewServerID(), TenantID: e.tenant}, TransportType: "sse",
		URL: new("https://mcp.example.com/sse"), AuthType: "oauth2"}
	srv.UpstreamAuth = sealedAuth(t, e.keyring, testSettings, testSecrets, store.ServerAuthAAD(srv.ID))
	got, err = servers.ServerTarget(ctx, srv)
	if err != nil {
		t.Fatal(err)
	}
	want.Transport, want.URL, want.Key = contract.TransportSSE, *srv.URL, "server:"+srv.ID
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("server target = %+v\nwant %+v", got, want)
	}

	// A bearer record keeps its token; oauth2 settings of another auth type
	// (which the schema forbids) are not used; no secrets, no headers.
	token, keyID, err := e.keyring.Seal([]byte("tok"), store.ConnectionTokenAAD(conn.ID))
	if err != nil {
		t.Fatal(err)
	}
	bearer := conn
	bearer.AuthType, bearer.TokenCiphertext, bearer.TokenKeyID = "bearer", token, &keyID
	bearer.UpstreamAuth = store.UpstreamAuth{AuthSettings: store.AuthSettings{OAuth2: testSettings.OAuth2}}
	got, err = conns.ConnectionTarget(ctx, bearer)
	if err != nil {
		t.Fatal(err)
	}
	if got.BearerToken != "tok" || got.OAuth2 != nil || got.Headers != nil || got.TLS != nil || got.Key != "conn:"+conn.ID.String() {
		t.Fatalf("bearer target = %+v", got)
	}

	// Secrets sealed for another row do not open: the target is refused
	// with kind auth, and the message names what to set again.
	moved := conn
	moved.ID = uuid.New()
	_, err = conns.ConnectionTarget(ctx, moved)
	var ce *probe.ConnectError
	if !errors.As(err, &ce) || ce.Kind != contract.ErrorAuth || !strings.Contains(ce.Message, "could not be decrypted") ||
		strings.Contains(ce.Message, "client-secret-1") {
		t.Fatalf("moved secrets: %v", err)
	}
}
