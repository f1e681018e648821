package store

import (
	"bytes"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pressly/goose/v3"
)

// TestUpstreamAuthStored: the settings and the sealed secrets round-trip,
// the schema keeps oauth2 settings exactly on oauth2 records and every
// credential off stdio servers, and a check is stored only over the
// upstream auth it was made with.
func TestUpstreamAuthStored(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	settings := AuthSettings{HeaderNames: []string{"X-A"},
		OAuth2: &OAuth2Settings{TokenURL: new("https://auth.example.com/t"), ClientID: "c", Scopes: []string{"s"}, TokenEndpointAuthMethod: "client_secret_basic"},
		TLS:    &TLSSettings{CABundle: new("CA")}}
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "o", ServerURL: "https://mcp.example.com/mcp", AuthType: "oauth2",
		UpstreamAuth: UpstreamAuth{AuthSettings: settings, AuthSecretsCiphertext: []byte("sealed"), AuthSecretsKeyID: new("k1")}}
	if err := s.CreateConnection(ctx, &c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetConnection(ctx, tenant, c.ID)
	if err != nil || !reflect.DeepEqual(got.UpstreamAuth, c.UpstreamAuth) {
		t.Fatalf("GetConnection = %+v, %v; want %+v", got.UpstreamAuth, err, c.UpstreamAuth)
	}

	refused := []struct {
		name   string
		change func(*Connection)
		want   string
	}{
		{"oauth2 without settings", func(c *Connection) { c.AuthSettings.OAuth2 = nil }, "oauth2 needs them"},
		{"settings without oauth2", func(c *Connection) { c.AuthType = "none" }, "oauth2 needs them"},
		{"ciphertext without key id", func(c *Connection) { c.AuthSecretsKeyID = nil }, "auth secrets ciphertext and its key id"},
	}
	for _, tc := range refused {
		_, err := s.UpdateConnection(ctx, tenant, c.ID, func(c *Connection) error { tc.change(c); return nil })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: UpdateConnection = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}

	// A check made before the settings or the secrets changed is not stored.
	for name, change := range map[string]func(*Connection){
		"settings": func(c *Connection) { c.AuthSettings.HeaderNames = []string{"X-B"} },
		"secrets":  func(c *Connection) { c.AuthSecretsCiphertext = []byte("resealed") },
	} {
		read, err := s.GetConnection(ctx, tenant, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateConnection(ctx, tenant, c.ID, func(c *Connection) error { change(c); return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordConnectionCheck(ctx, read, CheckResult{OK: true}, time.Hour); !errors.Is(err, ErrChanged) {
			t.Errorf("a check made before the %s changed = %v, want ErrChanged", name, err)
		}
		read, _ = s.GetConnection(ctx, tenant, c.ID)
		if _, err := s.RecordConnectionCheck(ctx, read, CheckResult{OK: true}, time.Hour); err != nil {
			t.Errorf("a check of the current %s = %v", name, err)
		}
	}

	p := newProject(t, s, tenant, "p")
	stdio := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "stdio", TransportType: "stdio",
		ConnectionType: "direct", Command: new("node"), Args: []string{},
		UpstreamAuth: UpstreamAuth{AuthSettings: AuthSettings{HeaderNames: []string{"X-A"}}, AuthSecretsCiphertext: []byte("x"), AuthSecretsKeyID: new("k")}}
	if err := s.CreateServer(ctx, &stdio); err == nil || !strings.Contains(err.Error(), "stdio server cannot have a bearer token or other credentials") {
		t.Fatalf("a stdio server with headers = %v", err)
	}
	srv := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "http", TransportType: "http",
		ConnectionType: "direct", URL: new("https://mcp.example.com/mcp"), AuthType: "oauth2", UpstreamAuth: c.UpstreamAuth}
	if err := s.CreateServer(ctx, &srv); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetServer(ctx, tenant, srv.ID); err != nil || got.AuthType != "oauth2" || !reflect.DeepEqual(got.UpstreamAuth, c.UpstreamAuth) {
		t.Fatalf("GetServer = %+v, %v", got, err)
	}
}

// TestReencryptCoversAuthSecrets: key rotation re-seals the sealed
// AuthSecrets of both kinds as well as their tokens, each with its own
// associated data.
func TestReencryptCoversAuthSecrets(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "c", ServerURL: "https://x.example", AuthType: "bearer",
		SealedToken:  SealedToken{TokenCiphertext: []byte("old:token"), TokenKeyID: new("old")},
		UpstreamAuth: UpstreamAuth{AuthSettings: AuthSettings{HeaderNames: []string{"X-A"}}, AuthSecretsCiphertext: []byte("old:auth"), AuthSecretsKeyID: new("old")}}
	if err := s.CreateConnection(ctx, &c); err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s, tenant, "p")
	srv := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "s", TransportType: "http",
		ConnectionType: "direct", URL: new("https://x.example"),
		UpstreamAuth: UpstreamAuth{AuthSettings: AuthSettings{HeaderNames: []string{"X-A"}}, AuthSecretsCiphertext: []byte("old:srv"), AuthSecretsKeyID: new("old")}}
	if err := s.CreateServer(ctx, &srv); err != nil {
		t.Fatal(err)
	}

	var aads []string
	rotate := func(aad, ct []byte, keyID string) ([]byte, string, error) {
		if keyID == "new" {
			return ct, keyID, nil
		}
		aads = append(aads, string(aad))
		return append([]byte("new:"), bytes.TrimPrefix(ct, []byte("old:"))...), "new", nil
	}
	n, err := s.ReencryptConnectionSecrets(ctx, rotate)
	if err != nil || n != 2 {
		t.Fatalf("ReencryptConnectionSecrets = %d, %v; want 2", n, err)
	}
	if n, err := s.ReencryptServerSecrets(ctx, rotate); err != nil || n != 1 {
		t.Fatalf("ReencryptServerSecrets = %d, %v; want 1", n, err)
	}
	want := []string{string(ConnectionTokenAAD(c.ID)), string(ConnectionAuthAAD(c.ID)), string(ServerAuthAAD(srv.ID))}
	if !reflect.DeepEqual(aads, want) {
		t.Fatalf("fn got associated data %q, want %q", aads, want)
	}
	gotC, _ := s.GetConnection(ctx, tenant, c.ID)
	gotS, _ := s.GetServer(ctx, tenant, srv.ID)
	if string(gotC.TokenCiphertext) != "new:token" || string(gotC.AuthSecretsCiphertext) != "new:auth" || *gotC.AuthSecretsKeyID != "new" ||
		string(gotS.AuthSecretsCiphertext) != "new:srv" || *gotS.AuthSecretsKeyID != "new" || !gotC.UpdatedAt.Equal(c.UpdatedAt) {
		t.Fatalf("after rotation: connection %+v, server %+v", gotC.UpstreamAuth, gotS.UpstreamAuth)
	}
	if n, _ := s.ReencryptConnectionSecrets(ctx, rotate); n != 0 {
		t.Fatalf("a second rotation changed %d values", n)
	}
}

func TestAuthAAD(t *testing.T) {
	// Secrets already stored were sealed with exactly these; changing them
	// would make every one of them unreadable.
	id := uuid.MustParse("0b6f1f3e-2c1d-4f5e-9a8b-7c6d5e4f3a2b")
	if got := string(ConnectionAuthAAD(id)); got != "mcp_connections:0b6f1f3e-2c1d-4f5e-9a8b-7c6d5e4f3a2b:auth" {
		t.Fatalf("ConnectionAuthAAD = %q", got)
	}
	if got := string(ServerAuthAAD("mcp_abc")); got != "mcp_servers:mcp_abc:auth" {
		t.Fatalf("ServerAuthAAD = %q", got)
	}
}

// TestUpstreamAuthMigrationDown: 00007 rolls back over rows that use what
// it added (an oauth2 connection, a server with headers), and applies again.
func TestUpstreamAuthMigrationDown(t *testing.T) {
	ctx, s, tenant := newTenantStore(t, "a")
	c := Connection{Key: Key[uuid.UUID]{ID: uuid.New(), TenantID: tenant}, Name: "o", ServerURL: "https://x.example", AuthType: "oauth2",
		UpstreamAuth: UpstreamAuth{AuthSettings: AuthSettings{OAuth2: &OAuth2Settings{ClientID: "c", TokenEndpointAuthMethod: "client_secret_basic"}},
			AuthSecretsCiphertext: []byte("x"), AuthSecretsKeyID: new("k")}}
	if err := s.CreateConnection(ctx, &c); err != nil {
		t.Fatal(err)
	}
	p := newProject(t, s, tenant, "p")
	srv := Server{Key: Key[string]{ID: NewServerID(), TenantID: tenant}, ProjectID: p.ID, Name: "s", TransportType: "http",
		ConnectionType: "direct", URL: new("https://x.example"), UpstreamAuth: UpstreamAuth{AuthSettings: AuthSettings{HeaderNames: []string{"X-A"}},
			AuthSecretsCiphertext: []byte("x"), AuthSecretsKeyID: new("k")}}
	if err := s.CreateServer(ctx, &srv); err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, s.db.DB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := provider.DownTo(ctx, 6); err != nil {
		t.Fatalf("down to 6: %v", err)
	}
	var auth string
	if err := s.db.Get(&auth, `SELECT auth_type FROM mcp_connections WHERE id = $1`, c.ID); err != nil || auth != "none" {
		t.Fatalf("after down the oauth2 connection has auth type %q (%v), want none", auth, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if got, err := s.GetServer(ctx, tenant, srv.ID); err != nil || got.AuthType != "none" || len(got.AuthSettings.HeaderNames) != 0 {
		t.Fatalf("after down and up: %+v, %v", got, err)
	}
}
