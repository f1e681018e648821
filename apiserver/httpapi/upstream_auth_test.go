package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// testCert is a self-signed certificate and its key, both PEM, made for the test.
func testCert(t *testing.T, name string) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// storedAuth is the connection's upstream auth as stored, and its secrets opened.
func storedAuth(t *testing.T, s *apitest.Server, id string) (store.UpstreamAuth, store.AuthSecrets) {
	t.Helper()
	c, err := s.Store.GetConnection(context.Background(), s.TenantID, uuid.MustParse(id))
	if err != nil {
		t.Fatal(err)
	}
	return c.UpstreamAuth, openAuth(t, s, c.UpstreamAuth, store.ConnectionAuthAAD(c.ID))
}

func openAuth(t *testing.T, s *apitest.Server, a store.UpstreamAuth, aad []byte) store.AuthSecrets {
	t.Helper()
	var sec store.AuthSecrets
	if a.AuthSecretsCiphertext == nil {
		if a.AuthSecretsKeyID != nil {
			t.Fatal("key id without ciphertext")
		}
		return sec
	}
	plain, err := s.Secrets.Get(context.Background(), secrets.Ref{KeyID: *a.AuthSecretsKeyID, Data: a.AuthSecretsCiphertext}, aad)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		t.Fatal(err)
	}
	return sec
}

// TestUpstreamAuthRoundTrip: headers, oauth2 and tls are accepted on
// create, returned without their secrets (header names sorted), sealed at
// rest and bound to the row, and neither logged nor audited.
func TestUpstreamAuthRoundTrip(t *testing.T) {
	t.Parallel()
	logs, logOpt := captureLogs()
	s := apitest.Start(t, logOpt)
	a := newAPI(t, s)
	ca, _ := testCert(t, "private CA")
	cert, key := testCert(t, "client")

	r := a.do("POST", "/api/mcp-connections", map[string]any{
		"name": "oauth", "serverUrl": "https://mcp.example.com/mcp", "authType": "oauth2",
		"headers": map[string]string{"X-Tenant": "hdr-secret-tenant", "X-Api-Key": "hdr-secret-key"},
		"oauth2": map[string]any{"tokenUrl": "https://auth.example.com/token", "clientId": "client-1", "clientSecret": "cs-secret-1",
			"scopes": []string{"mcp:read", "mcp:write"}, "audience": "https://mcp.example.com", "resource": "https://mcp.example.com/mcp",
			"tokenEndpointAuthMethod": "client_secret_post"},
		"tls": map[string]any{"caBundle": ca, "clientCertificate": cert, "clientKey": key},
	})
	var created contract.Connection
	r.expect(t, http.StatusCreated, &created)
	want := contract.UpstreamAuth{
		HeaderNames: []string{"X-Api-Key", "X-Tenant"},
		OAuth2: &contract.OAuth2{TokenURL: ptr("https://auth.example.com/token"), ClientID: "client-1", Scopes: []string{"mcp:read", "mcp:write"},
			Audience: ptr("https://mcp.example.com"), Resource: ptr("https://mcp.example.com/mcp"), TokenEndpointAuthMethod: "client_secret_post"},
		TLS: &contract.TLS{CABundle: &ca, ClientCertificate: &cert, ClientKeySet: true},
	}
	if created.AuthType != contract.AuthOAuth2 || !reflect.DeepEqual(created.UpstreamAuth, want) {
		t.Fatalf("created = %+v %+v\nwant %+v", created.AuthType, created.UpstreamAuth, want)
	}
	var got contract.Connection
	g := a.do("GET", "/api/mcp-connections/"+created.ID, nil).expect(t, http.StatusOK, &got)
	if !reflect.DeepEqual(got.UpstreamAuth, want) {
		t.Fatalf("GET = %+v, want %+v", got.UpstreamAuth, want)
	}
	var list contract.ConnectionList
	l := a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, &list)

	secretValues := []string{"hdr-secret-tenant", "hdr-secret-key", "cs-secret-1", strings.Split(key, "\n")[1]}
	for _, body := range [][]byte{r.body, g.body, l.body} {
		for _, v := range secretValues {
			if strings.Contains(string(body), v) {
				t.Errorf("a response carries a secret %q: %s", v, body)
			}
		}
		for _, field := range []string{"clientSecret", "clientKey\"", `"headers"`} {
			if strings.Contains(string(body), field) {
				t.Errorf("a response carries %s: %s", field, body)
			}
		}
	}

	// At rest: no plaintext anywhere in the row; the secrets open only
	// with this row's associated data.
	db, err := sqlx.Connect("postgres", s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var row string
	if err := db.Get(&row, `SELECT row_to_json(r)::text FROM mcp_connections r`); err != nil {
		t.Fatal(err)
	}
	for _, v := range append(secretValues, "hdr-secret") {
		if strings.Contains(row, v) {
			t.Errorf("mcp_connections holds %q in the clear: %s", v, row)
		}
	}
	auth, sec := storedAuth(t, s, created.ID)
	wantSecrets := store.AuthSecrets{Headers: map[string]string{"X-Tenant": "hdr-secret-tenant", "X-Api-Key": "hdr-secret-key"},
		ClientSecret: "cs-secret-1", ClientKey: key}
	if !reflect.DeepEqual(sec, wantSecrets) {
		t.Fatalf("sealed secrets = %+v", sec)
	}
	if _, err := s.Secrets.Get(context.Background(), secrets.Ref{KeyID: *auth.AuthSecretsKeyID, Data: auth.AuthSecretsCiphertext}, store.ConnectionAuthAAD(uuid.New())); err == nil {
		t.Fatal("the sealed secrets open for another row")
	}
	if _, err := s.Secrets.Get(context.Background(), secrets.Ref{KeyID: *auth.AuthSecretsKeyID, Data: auth.AuthSecretsCiphertext}, store.ConnectionTokenAAD(uuid.MustParse(created.ID))); err == nil {
		t.Fatal("the sealed secrets open as the row's bearer token")
	}

	// A PATCH, its audit event and the logs carry no secret either.
	a.do("PATCH", "/api/mcp-connections/"+created.ID, map[string]any{"headers": map[string]string{"X-Api-Key": "hdr-secret-new"}}).
		expect(t, http.StatusOK, nil)
	ev := a.do("GET", "/api/audit-events", nil).expect(t, http.StatusOK, nil)
	if !strings.Contains(string(ev.body), "connection.update") {
		t.Fatalf("no audit event of the update: %s", ev.body)
	}
	for _, v := range append(secretValues, "hdr-secret-new") {
		if strings.Contains(string(ev.body), v) || strings.Contains(logs.String(), v) {
			t.Errorf("audit events or logs carry %q", v)
		}
	}
}

// TestUpstreamAuthRejectsBadInput: every rule of SPEC §9 is a 400 that
// names the field (and the header), and never echoes a secret.
func TestUpstreamAuthRejectsBadInput(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	cert, key := testCert(t, "client")
	otherCert, _ := testCert(t, "other")
	_, bareKey := testCert(t, "key only")
	oauth := func(fields string) string {
		return `{"name":"o","serverUrl":"https://mcp.example.com/mcp","authType":"oauth2","oauth2":{` + fields + `}}`
	}
	conn := func(fields string) string {
		return `{"name":"c","serverUrl":"https://mcp.example.com/mcp"` + fields + `}`
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	many := map[string]string{}
	for i := range contract.MaxHeaders + 1 {
		many[fmt.Sprintf("X-H%d", i)] = "v"
	}
	tests := []struct{ name, body, want string }{
		{"too many headers", conn(`,"headers":` + js(many)), "headers: must have at most 20 headers, got 21"},
		{"header name with a space", conn(`,"headers":{"X Key":"v"}`), `header name "X Key" must be an RFC 9110 token`},
		{"header name with a colon", conn(`,"headers":{"X-Key:":"v"}`), `header name "X-Key:" must be an RFC 9110 token`},
		{"Host", conn(`,"headers":{"host":"v"}`), `header "host" is set by the API itself`},
		{"Content-Length", conn(`,"headers":{"Content-Length":"1"}`), `header "Content-Length" is set by the API itself`},
		{"Transfer-Encoding", conn(`,"headers":{"Transfer-Encoding":"chunked"}`), `header "Transfer-Encoding" is set`},
		{"Connection", conn(`,"headers":{"Connection":"close"}`), `header "Connection" is set`},
		{"Mcp-Session-Id", conn(`,"headers":{"mcp-session-id":"s"}`), `header "mcp-session-id" is set`},
		{"Mcp-Protocol-Version", conn(`,"headers":{"Mcp-Protocol-Version":"x"}`), `header "Mcp-Protocol-Version" is set`},
		{"Authorization with bearer", conn(`,"authType":"bearer","bearerToken":"t","headers":{"authorization":"Basic eA=="}`),
			`header "authorization" must not be set when authType is "bearer"`},
		{"Authorization with oauth2", conn(`,"authType":"oauth2","oauth2":{"clientId":"c","clientSecret":"s"},"headers":{"Authorization":"x"}`),
			`header "Authorization" must not be set when authType is "oauth2"`},
		{"empty header value", conn(`,"headers":{"X-Key":""}`), `header "X-Key" must have a value`},
		{"CR LF in a value", conn(`,"headers":{"X-Key":"secret-crlf\r\nX-Evil: 1"}`), `the value of header "X-Key" must not contain control characters`},
		{"NUL in a value", conn(`,"headers":{"X-Key":"secret-nul\u0000"}`), `the value of header "X-Key" must not contain control characters`},
		{"names differing in case", conn(`,"headers":{"X-Key":"a","x-key":"b"}`), `headers "X-Key" and "x-key" are the same header`},
		{"oauth2 missing", conn(`,"authType":"oauth2"`), `oauth2 is required when authType is "oauth2"`},
		{"oauth2 with none", conn(`,"oauth2":{"clientId":"c","clientSecret":"s"}`), `oauth2 must not be set when authType is "none"`},
		{"oauth2 with bearer", conn(`,"authType":"bearer","bearerToken":"t","oauth2":{"clientId":"c","clientSecret":"s"}`), `oauth2 must not be set when authType is "bearer"`},
		{"bearerToken with oauth2", conn(`,"authType":"oauth2","bearerToken":"t","oauth2":{"clientId":"c","clientSecret":"s"}`), `bearerToken must not be set when authType is "oauth2"`},
		{"clientId missing", oauth(`"clientSecret":"s"`), "oauth2.clientId must not be empty"},
		{"clientSecret missing", oauth(`"clientId":"c"`), `oauth2.clientSecret is required`},
		{"clientSecret with a newline", oauth(`"clientId":"c","clientSecret":"secret-nl\n"`), "oauth2.clientSecret must contain only printable ASCII"},
		{"http tokenUrl", oauth(`"clientId":"c","clientSecret":"s","tokenUrl":"http://auth.example.com/token"`), "oauth2.tokenUrl must be an https URL"},
		{"tokenUrl not a URL", oauth(`"clientId":"c","clientSecret":"s","tokenUrl":"auth.example.com"`), "oauth2.tokenUrl must be an absolute http or https URL"},
		{"tokenUrl with credentials", oauth(`"clientId":"c","clientSecret":"s","tokenUrl":"https://u:p@auth.example.com/t"`), "oauth2.tokenUrl must not carry credentials"},
		{"scope with a space", oauth(`"clientId":"c","clientSecret":"s","scopes":["a b"]`), `oauth2.scopes item 0 ("a b") must be an RFC 6749 scope token`},
		{"empty scope", oauth(`"clientId":"c","clientSecret":"s","scopes":[""]`), "oauth2.scopes item 0 must not be empty"},
		{"bad auth method", oauth(`"clientId":"c","clientSecret":"s","tokenEndpointAuthMethod":"private_key_jwt"`), `oauth2.tokenEndpointAuthMethod must be one of "client_secret_basic" or "client_secret_post", got "private_key_jwt"`},
		{"resource not absolute", oauth(`"clientId":"c","clientSecret":"s","resource":"mcp"`), "oauth2.resource must be an absolute URI"},
		{"empty audience", oauth(`"clientId":"c","clientSecret":"s","audience":""`), "oauth2.audience must not be empty"},
		{"unknown oauth2 field", oauth(`"clientId":"c","clientSecret":"s","grantType":"password"`), `unknown field "grantType"`},
		{"caBundle not PEM", conn(`,"tls":{"caBundle":"not a certificate"}`), "tls.caBundle must hold at least one PEM CERTIFICATE block"},
		{"caBundle with a key only", conn(`,"tls":{"caBundle":` + js(bareKey) + `}`), `tls.caBundle PEM block 1 is a "PRIVATE KEY", not a CERTIFICATE`},
		{"caBundle that does not parse", conn(`,"tls":{"caBundle":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}`), "tls.caBundle certificate 1 does not parse"},
		{"clientCertificate not PEM", conn(`,"tls":{"clientCertificate":"x","clientKey":` + js(key) + `}`), "tls.clientCertificate must hold at least one PEM CERTIFICATE block"},
		{"certificate without key", conn(`,"tls":{"clientCertificate":` + js(cert) + `}`), "tls.clientCertificate needs its private key"},
		{"key without certificate", conn(`,"tls":{"clientKey":` + js(key) + `}`), "tls.clientKey must not be set without tls.clientCertificate"},
		{"key that does not match", conn(`,"tls":{"clientCertificate":` + js(otherCert) + `,"clientKey":` + js(key) + `}`), "tls.clientKey does not match the client certificate"},
		{"key that does not parse", conn(`,"tls":{"clientCertificate":` + js(cert) + `,"clientKey":"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n"}`), "tls.clientKey does not parse as a private key"},
		{"key not PEM", conn(`,"tls":{"clientCertificate":` + js(cert) + `,"clientKey":"secret-raw-key"}`), "tls.clientKey must be a PEM private key"},
		{"headers not strings", conn(`,"headers":{"X-Key":1}`), `field "headers" must be a string, got number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.do("POST", "/api/mcp-connections", tt.body)
			r.expectError(t, http.StatusBadRequest, tt.want)
			for _, secret := range []string{"secret-", "eA==", strings.Split(key, "\n")[1]} {
				if strings.Contains(string(r.body), secret) {
					t.Errorf("error echoes a secret (%q): %s", secret, r.body)
				}
			}
		})
	}
	var list contract.ConnectionList
	if a.do("GET", "/api/mcp-connections", nil).expect(t, http.StatusOK, &list); len(list.Data) != 0 {
		t.Fatalf("a rejected create stored %d connections", len(list.Data))
	}
}

// TestUpstreamAuthLoopbackTokenURL: an http tokenUrl is accepted on a
// loopback host only when the API allows private targets.
func TestUpstreamAuthLoopbackTokenURL(t *testing.T) {
	t.Parallel()
	body := func(name, tokenURL string) map[string]any {
		return map[string]any{"name": name, "serverUrl": "http://127.0.0.1:9/mcp", "authType": "oauth2",
			"oauth2": map[string]any{"tokenUrl": tokenURL, "clientId": "c", "clientSecret": "s"}}
	}
	allowed := newAPI(t, apitest.Start(t))
	for i, u := range []string{"http://127.0.0.1:8080/token", "http://localhost/token", "http://[::1]:1/token"} {
		allowed.do("POST", "/api/mcp-connections", body(fmt.Sprint(i), u)).expect(t, http.StatusCreated, nil)
	}
	allowed.do("POST", "/api/mcp-connections", body("lan", "http://10.0.0.1/token")).
		expectError(t, http.StatusBadRequest, "oauth2.tokenUrl must be an https URL")

	refused := newAPI(t, apitest.Start(t, apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) { cfg.AllowPrivateTargets = false })))
	refused.do("POST", "/api/mcp-connections", body("lo", "http://127.0.0.1:8080/token")).
		expectError(t, http.StatusBadRequest, "http is accepted only for loopback hosts, and only when the API server allows private targets")
	refused.do("POST", "/api/mcp-connections", body("tls", "https://127.0.0.1:8443/token")).expect(t, http.StatusCreated, nil)
}

// TestUpstreamAuthPatch: PATCH replaces headers (an empty map removes
// them), replaces oauth2 keeping the stored client secret, replaces tls
// keeping the stored key for a certificate it matches; resending what is
// stored keeps the check state, any change resets it.
func TestUpstreamAuthPatch(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	cert, key := testCert(t, "client")
	otherCert, otherKey := testCert(t, "other")
	ca, _ := testCert(t, "ca")
	const url = "https://mcp.example.com/mcp"
	oauth2 := map[string]any{"tokenUrl": "https://auth.example.com/token", "clientId": "c1", "clientSecret": "s1", "scopes": []string{"a"}}

	tests := []struct {
		name        string
		start       map[string]any
		patch       any
		status      int
		wantErr     string
		wantReset   bool
		wantAuth    contract.AuthType
		wantNames   []string
		wantSecrets store.AuthSecrets
		wantOAuth2  bool
		wantTLS     bool
	}{
		{name: "same headers keep state", start: map[string]any{"headers": map[string]string{"X-A": "1", "X-B": "2"}},
			patch: map[string]any{"headers": map[string]string{"X-B": "2", "X-A": "1"}}, status: 200, wantAuth: "none",
			wantNames: []string{"X-A", "X-B"}, wantSecrets: store.AuthSecrets{Headers: map[string]string{"X-A": "1", "X-B": "2"}}},
		{name: "headers replace the map", start: map[string]any{"headers": map[string]string{"X-A": "1", "X-B": "2"}},
			patch: map[string]any{"headers": map[string]string{"X-C": "3"}}, status: 200, wantReset: true, wantAuth: "none",
			wantNames: []string{"X-C"}, wantSecrets: store.AuthSecrets{Headers: map[string]string{"X-C": "3"}}},
		{name: "a new header value resets", start: map[string]any{"headers": map[string]string{"X-A": "1"}},
			patch: map[string]any{"headers": map[string]string{"X-A": "2"}}, status: 200, wantReset: true, wantAuth: "none",
			wantNames: []string{"X-A"}, wantSecrets: store.AuthSecrets{Headers: map[string]string{"X-A": "2"}}},
		{name: "empty headers remove all", start: map[string]any{"headers": map[string]string{"X-A": "1"}},
			patch: map[string]any{"headers": map[string]string{}}, status: 200, wantReset: true, wantAuth: "none", wantNames: []string{}},
		{name: "a rename keeps headers", start: map[string]any{"headers": map[string]string{"X-A": "1"}},
			patch: map[string]any{"name": "renamed"}, status: 200, wantAuth: "none",
			wantNames: []string{"X-A"}, wantSecrets: store.AuthSecrets{Headers: map[string]string{"X-A": "1"}}},
		{name: "Authorization header with none", start: map[string]any{},
			patch: map[string]any{"headers": map[string]string{"Authorization": "Basic eA=="}}, status: 200, wantReset: true, wantAuth: "none",
			wantNames: []string{"Authorization"}, wantSecrets: store.AuthSecrets{Headers: map[string]string{"Authorization": "Basic eA=="}}},
		{name: "a stored Authorization header blocks bearer", start: map[string]any{"headers": map[string]string{"Authorization": "Basic eA=="}},
			patch: map[string]any{"authType": "bearer", "bearerToken": "t"}, status: 400,
			wantErr: `headers: header "Authorization" must not be set when authType is "bearer"`, wantAuth: "none",
			wantNames: []string{"Authorization"}, wantSecrets: store.AuthSecrets{Headers: map[string]string{"Authorization": "Basic eA=="}}},
		{name: "a bad header in a PATCH", start: map[string]any{}, patch: map[string]any{"headers": map[string]string{"Host": "x"}},
			status: 400, wantErr: `header "Host" is set by the API itself`, wantAuth: "none", wantNames: []string{}},

		{name: "same oauth2 without secret keeps state", start: map[string]any{"authType": "oauth2", "oauth2": oauth2},
			patch: map[string]any{"oauth2": map[string]any{"tokenUrl": "https://auth.example.com/token", "clientId": "c1", "scopes": []string{"a"},
				"tokenEndpointAuthMethod": "client_secret_basic"}}, status: 200, wantAuth: "oauth2", wantNames: []string{},
			wantSecrets: store.AuthSecrets{ClientSecret: "s1"}, wantOAuth2: true},
		{name: "same oauth2 and secret keeps state", start: map[string]any{"authType": "oauth2", "oauth2": oauth2},
			patch: map[string]any{"authType": "oauth2", "oauth2": oauth2}, status: 200, wantAuth: "oauth2", wantNames: []string{},
			wantSecrets: store.AuthSecrets{ClientSecret: "s1"}, wantOAuth2: true},
		{name: "new scopes reset and keep the secret", start: map[string]any{"authType": "oauth2", "oauth2": oauth2},
			patch: map[string]any{"oauth2": map[string]any{"clientId": "c1", "scopes": []string{"b"}}}, status: 200, wantReset: true,
			wantAuth: "oauth2", wantNames: []string{}, wantSecrets: store.AuthSecrets{ClientSecret: "s1"}, wantOAuth2: true},
		{name: "a new client secret resets", start: map[string]any{"authType": "oauth2", "oauth2": oauth2},
			patch:  map[string]any{"oauth2": map[string]any{"tokenUrl": "https://auth.example.com/token", "clientId": "c1", "clientSecret": "s2", "scopes": []string{"a"}}},
			status: 200, wantReset: true, wantAuth: "oauth2", wantNames: []string{}, wantSecrets: store.AuthSecrets{ClientSecret: "s2"}, wantOAuth2: true},
		{name: "leaving oauth2 drops it and its secret", start: map[string]any{"authType": "oauth2", "oauth2": oauth2},
			patch: map[string]any{"authType": "none"}, status: 200, wantReset: true, wantAuth: "none", wantNames: []string{}},
		{name: "switching to oauth2 needs oauth2", start: map[string]any{}, patch: map[string]any{"authType": "oauth2"},
			status: 400, wantErr: `oauth2 is required when authType is "oauth2"`, wantAuth: "none", wantNames: []string{}},
		{name: "switching to oauth2 needs the secret", start: map[string]any{},
			patch:  map[string]any{"authType": "oauth2", "oauth2": map[string]any{"clientId": "c"}},
			status: 400, wantErr: "oauth2.clientSecret is required", wantAuth: "none", wantNames: []string{}},
		{name: "bearer to oauth2", start: map[string]any{"authType": "bearer", "bearerToken": "t"},
			patch: map[string]any{"authType": "oauth2", "oauth2": oauth2}, status: 200, wantReset: true, wantAuth: "oauth2",
			wantNames: []string{}, wantSecrets: store.AuthSecrets{ClientSecret: "s1"}, wantOAuth2: true},
		{name: "oauth2 while bearer", start: map[string]any{"authType": "bearer", "bearerToken": "t"},
			patch: map[string]any{"oauth2": oauth2}, status: 400, wantErr: `oauth2 must not be set when authType is "bearer"`,
			wantAuth: "bearer", wantNames: []string{}},

		{name: "same tls without key keeps state", start: map[string]any{"tls": map[string]any{"caBundle": ca, "clientCertificate": cert, "clientKey": key}},
			patch: map[string]any{"tls": map[string]any{"caBundle": ca, "clientCertificate": cert}}, status: 200, wantAuth: "none",
			wantNames: []string{}, wantSecrets: store.AuthSecrets{ClientKey: key}, wantTLS: true},
		{name: "a new certificate without its key", start: map[string]any{"tls": map[string]any{"clientCertificate": cert, "clientKey": key}},
			patch: map[string]any{"tls": map[string]any{"clientCertificate": otherCert}}, status: 400,
			wantErr: "tls.clientKey: the stored key does not match the new tls.clientCertificate", wantAuth: "none",
			wantNames: []string{}, wantSecrets: store.AuthSecrets{ClientKey: key}, wantTLS: true},
		{name: "a new certificate and key reset", start: map[string]any{"tls": map[string]any{"clientCertificate": cert, "clientKey": key}},
			patch: map[string]any{"tls": map[string]any{"clientCertificate": otherCert, "clientKey": otherKey}}, status: 200, wantReset: true,
			wantAuth: "none", wantNames: []string{}, wantSecrets: store.AuthSecrets{ClientKey: otherKey}, wantTLS: true},
		{name: "a CA only drops the client certificate", start: map[string]any{"tls": map[string]any{"caBundle": ca, "clientCertificate": cert, "clientKey": key}},
			patch: map[string]any{"tls": map[string]any{"caBundle": ca}}, status: 200, wantReset: true, wantAuth: "none",
			wantNames: []string{}, wantTLS: true},
		{name: "empty tls removes it", start: map[string]any{"tls": map[string]any{"caBundle": ca}},
			patch: map[string]any{"tls": map[string]any{}}, status: 200, wantReset: true, wantAuth: "none", wantNames: []string{}},
		{name: "a certificate without key and none stored", start: map[string]any{},
			patch: map[string]any{"tls": map[string]any{"clientCertificate": cert}}, status: 400,
			wantErr: "tls.clientCertificate needs its private key", wantAuth: "none", wantNames: []string{}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.t = t
			body := map[string]any{"name": fmt.Sprint("c", i), "serverUrl": url}
			c, _, after := a.patchChecked(s, body, tt.start, tt.patch, tt.status, tt.wantErr)
			if after.AuthType != tt.wantAuth || !reflect.DeepEqual(after.HeaderNames, tt.wantNames) ||
				(after.OAuth2 != nil) != tt.wantOAuth2 || (after.TLS != nil) != tt.wantTLS {
				t.Errorf("after = authType %q headerNames %v oauth2 %+v tls %+v", after.AuthType, after.HeaderNames, after.OAuth2, after.TLS)
			}
			if _, sec := storedAuth(t, s, c.ID); !reflect.DeepEqual(sec, tt.wantSecrets) {
				t.Errorf("stored secrets = %+v, want %+v", sec, tt.wantSecrets)
			}
			if tt.wantReset {
				if after.Status != contract.ConnectionUnknown || after.LastHealthCheckAt != nil {
					t.Errorf("not reset: %+v", after)
				}
			} else if after.Status != contract.ConnectionActive || after.LastHealthCheckAt == nil {
				t.Errorf("check state not kept: %+v", after)
			}
		})
	}
}

// TestServerUpstreamAuth: servers take headers, oauth2 and tls as
// connections do, gain authType (bearer when a token is given, else none),
// refuse credentials for stdio and drop them when switching to it.
func TestServerUpstreamAuth(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.WithConfig(func(_ *apitest.Server, cfg *httpapi.Config) { cfg.StdioCommands = []string{"node"} }))
	a := newAPI(t, s)
	p := a.createProject("p")
	cert, key := testCert(t, "client")
	create := func(fields map[string]any) *response {
		body := map[string]any{"projectId": p.ID, "name": uuid.NewString(), "url": "https://mcp.example.com/mcp"}
		for k, v := range fields {
			body[k] = v
		}
		return a.do("POST", "/api/mcp/servers", body)
	}
	var env contract.ServerEnvelope
	create(map[string]any{}).expect(t, http.StatusCreated, &env)
	if env.Server.AuthType != contract.AuthNone || env.Server.HeaderNames == nil || len(env.Server.HeaderNames) != 0 {
		t.Fatalf("a server without token = authType %q headerNames %v", env.Server.AuthType, env.Server.HeaderNames)
	}
	create(map[string]any{"bearerToken": "t"}).expect(t, http.StatusCreated, &env)
	if env.Server.AuthType != contract.AuthBearer {
		t.Fatalf("a server with a token has authType %q", env.Server.AuthType)
	}
	bearerID := env.Server.ID
	// Removing the token makes it none; setting one makes it bearer again.
	a.do("PATCH", "/api/mcp/servers/"+bearerID, map[string]any{"bearerToken": ""}).expect(t, http.StatusOK, &env)
	if env.Server.AuthType != contract.AuthNone {
		t.Fatalf("after removing the token authType = %q", env.Server.AuthType)
	}
	a.do("PATCH", "/api/mcp/servers/"+bearerID, map[string]any{"bearerToken": "t2"}).expect(t, http.StatusOK, &env)
	if env.Server.AuthType != contract.AuthBearer {
		t.Fatalf("after setting a token authType = %q", env.Server.AuthType)
	}
	a.do("PATCH", "/api/mcp/servers/"+bearerID, map[string]any{"authType": "bearer", "bearerToken": ""}).
		expectEnvelopeError(t, http.StatusBadRequest, `bearerToken must not be empty when authType is "bearer"`)

	create(map[string]any{"authType": "oauth2", "headers": map[string]string{"X-Key": "srv-secret-hdr"},
		"oauth2": map[string]any{"clientId": "c", "clientSecret": "srv-secret-cs", "resource": "https://mcp.example.com/mcp"},
		"tls":    map[string]any{"clientCertificate": cert, "clientKey": key}}).expect(t, http.StatusCreated, &env)
	srv := env.Server
	if srv.AuthType != contract.AuthOAuth2 || srv.OAuth2 == nil || srv.OAuth2.TokenURL != nil || srv.OAuth2.TokenEndpointAuthMethod != contract.ClientSecretBasic ||
		!reflect.DeepEqual(srv.HeaderNames, []string{"X-Key"}) || srv.TLS == nil || !srv.TLS.ClientKeySet || srv.TLS.CABundle != nil {
		t.Fatalf("oauth2 server = %+v", srv)
	}
	row, err := s.Store.GetServer(context.Background(), s.TenantID, srv.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sec := openAuth(t, s, row.UpstreamAuth, store.ServerAuthAAD(srv.ID)); sec.ClientSecret != "srv-secret-cs" ||
		sec.Headers["X-Key"] != "srv-secret-hdr" || sec.ClientKey != key {
		t.Fatalf("sealed server secrets = %+v", sec)
	}
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"bearerToken": "t"}).
		expectEnvelopeError(t, http.StatusBadRequest, `bearerToken must not be set while authType is "oauth2"`)

	// Resending the same credentials keeps what the last probe found; a
	// new header value makes the server connect again.
	connected := func() {
		t.Helper()
		if _, err := s.Store.UpdateServer(context.Background(), s.TenantID, srv.ID, func(r *store.Server) error {
			r.Status = string(contract.ServerConnected)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	connected()
	same := map[string]any{"headers": map[string]string{"X-Key": "srv-secret-hdr"},
		"oauth2": map[string]any{"clientId": "c", "resource": "https://mcp.example.com/mcp"},
		"tls":    map[string]any{"clientCertificate": cert}}
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, same).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerConnected {
		t.Fatalf("resending the same credentials: status %q, want connected", env.Server.Status)
	}
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"headers": map[string]string{"X-Key": "srv-secret-new"}}).expect(t, http.StatusOK, &env)
	if env.Server.Status != contract.ServerConnecting {
		t.Fatalf("a new header value: status %q, want connecting", env.Server.Status)
	}

	// stdio: refused on create, dropped when switching to it.
	for field, v := range map[string]any{"headers": map[string]string{"X-Key": "v"}, "oauth2": map[string]any{"clientId": "c"},
		"tls": map[string]any{"caBundle": "x"}, "authType": "oauth2"} {
		body := map[string]any{"projectId": p.ID, "name": "stdio", "transportType": "stdio", "command": "node", field: v}
		want := field + ` must not be set when transportType is "stdio"`
		if field == "authType" {
			want = `authType must be "none" when transportType is "stdio"`
		}
		a.do("POST", "/api/mcp/servers", body).expectEnvelopeError(t, http.StatusBadRequest, want)
	}
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"transportType": "stdio", "command": "node", "headers": map[string]string{"X-Key": "v"}}).
		expectEnvelopeError(t, http.StatusBadRequest, `headers must not be set when transportType is "stdio"`)
	a.do("PATCH", "/api/mcp/servers/"+srv.ID, map[string]any{"transportType": "stdio", "command": "node"}).expect(t, http.StatusOK, &env)
	if env.Server.AuthType != contract.AuthNone || len(env.Server.HeaderNames) != 0 || env.Server.OAuth2 != nil || env.Server.TLS != nil {
		t.Fatalf("after switching to stdio = %+v", env.Server)
	}
	if row, _ = s.Store.GetServer(context.Background(), s.TenantID, srv.ID); row.AuthSecretsCiphertext != nil {
		t.Fatal("switching to stdio kept the sealed secrets")
	}
}

// TestUpstreamAuthUnreadableSecrets: secrets the API's keys cannot open
// are never kept by a write: it must send them again (409 saying which),
// and once it has, they are sealed under the current key.
func TestUpstreamAuthUnreadableSecrets(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t)
	a := newAPI(t, s)
	c := a.create(map[string]any{"name": "c", "serverUrl": "https://mcp.example.com/mcp", "authType": "oauth2",
		"headers": map[string]string{"X-A": "1"}, "oauth2": map[string]any{"clientId": "c", "clientSecret": "s"}})
	if _, err := s.Store.UpdateConnection(context.Background(), s.TenantID, uuid.MustParse(c.ID), func(r *store.Connection) error {
		r.AuthSecretsKeyID = ptr("a-key-this-server-does-not-have")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	path := "/api/mcp-connections/" + c.ID
	a.do("PATCH", path, map[string]any{"name": "renamed"}).expect(t, http.StatusOK, nil)
	a.do("PATCH", path, map[string]any{"tls": map[string]any{}}).expectError(t, http.StatusConflict, "send headers again")
	a.do("PATCH", path, map[string]any{"headers": map[string]string{"X-A": "2"}}).expectError(t, http.StatusConflict, "send oauth2 with clientSecret again")
	a.do("PATCH", path, map[string]any{"headers": map[string]string{"X-A": "2"}, "oauth2": map[string]any{"clientId": "c"}}).
		expectError(t, http.StatusConflict, "send oauth2 with clientSecret again")
	a.do("PATCH", path, map[string]any{"headers": map[string]string{"X-A": "2"}, "oauth2": map[string]any{"clientId": "c", "clientSecret": "s2"}}).
		expect(t, http.StatusOK, nil)
	if _, sec := storedAuth(t, s, c.ID); sec.ClientSecret != "s2" || sec.Headers["X-A"] != "2" {
		t.Fatalf("resealed secrets = %+v", sec)
	}
}
