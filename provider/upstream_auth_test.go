package provider

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
	"strings"
	"testing"
	"time"

	fwattr "github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// testPKI is a CA, a client certificate it signed with its key, and a key
// of another certificate, all made for the test (nothing is committed).
type testPKI struct {
	caPEM, certPEM, keyPEM, otherKeyPEM string
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	newKey := func() (*ecdsa.PrivateKey, string) {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	caKey, _ := newKey()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	clientKey, clientKeyPEM := newKey()
	client := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "mcp-api"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	clientDER, err := x509.CreateCertificate(rand.Reader, client, ca, &clientKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKeyPEM := newKey()
	certPEM := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	return testPKI{caPEM: certPEM(caDER), certPEM: certPEM(clientDER), keyPEM: clientKeyPEM, otherKeyPEM: otherKeyPEM}
}

func TestUpstreamAuthRules(t *testing.T) {
	pki := newTestPKI(t)
	tests := []struct {
		name  string
		check func(string) error
		in    string
		want  string // substring of the error; "" for none
	}{
		{"header name", checkHeaderName, "X-Api-Key", ""},
		{"header name with space", checkHeaderName, "X Api", "RFC 9110 token"},
		{"header name with colon", checkHeaderName, "X-Api:", "RFC 9110 token"},
		{"reserved header", checkHeaderName, "mcp-session-id", `must not set the header "mcp-session-id"`},
		{"host header", checkHeaderName, "Host", `"Host"`},
		{"token url", checkTokenURL, "https://auth.example.com/token", ""},
		{"loopback http token url", checkTokenURL, "http://127.0.0.1:9000/token", ""},
		{"localhost http token url", checkTokenURL, "http://localhost:9000/token", ""},
		{"http token url", checkTokenURL, "http://auth.example.com/token", "must be an https URL"},
		{"relative token url", checkTokenURL, "/token", "absolute https URL"},
		{"token url with credentials", checkTokenURL, "https://id:secret@auth.example.com/token", "must not embed credentials"},
		{"token url with fragment", checkTokenURL, "https://auth.example.com/token#x", "fragment"},
		{"resource", checkResourceIndicator, "https://mcp.example.com/mcp", ""},
		{"relative resource", checkResourceIndicator, "mcp", "absolute URI"},
		{"resource with fragment", checkResourceIndicator, "https://mcp.example.com/#a", "fragment"},
		{"client id", checkClientID, "my client", ""},
		{"empty client id", checkClientID, "", "must not be empty"},
		{"client id with tab", checkClientID, "a\tb", "printable ASCII"},
		{"scope", checkScope, "tools:read", ""},
		{"two scopes in one", checkScope, "a b", "several items"},
		{"audience", checkAudience, "https://mcp.example.com", ""},
		{"empty audience", checkAudience, "", "must not be empty"},
		{"ca bundle", checkCABundle, pki.caPEM + pki.certPEM, ""},
		{"empty ca bundle", checkCABundle, "", "at least one PEM certificate"},
		{"ca bundle of text", checkCABundle, "not pem", "not valid PEM"},
		{"ca bundle with a key", checkCABundle, pki.caPEM + pki.keyPEM, `type "PRIVATE KEY" (block 2)`},
		{"client certificate", checkClientCertificate, pki.certPEM, ""},
		{"client certificate garbled", checkClientCertificate, strings.Replace(pki.certPEM, "M", "A", 3), "does not parse"},
		{"private key", checkPrivateKey, pki.keyPEM, ""},
		{"private key of text", checkPrivateKey, "secret-key-material", "is not PEM"},
		{"certificate as key", checkPrivateKey, pki.certPEM, `type "CERTIFICATE"`},
	}
	for _, tt := range tests {
		err := tt.check(tt.in)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret-key-material") {
			t.Errorf("%s: the key is quoted in %q", tt.name, err)
		}
	}

	if err := checkKeyPair(pki.certPEM, pki.keyPEM); err != nil {
		t.Errorf("matching key: %v", err)
	}
	if err := checkKeyPair(pki.certPEM, pki.otherKeyPEM); err == nil || !strings.Contains(err.Error(), "does not belong to tls.client_certificate") {
		t.Errorf("other key: %v", err)
	}
}

func TestCheckHeaders(t *testing.T) {
	many := map[string]string{}
	for i := range contract.MaxHeaders + 1 {
		many[fmt.Sprintf("X-H%d", i)] = "v"
	}
	tests := []struct {
		name    string
		headers map[string]string
		auth    bool
		want    []string // substrings, one per error
	}{
		{"fine", map[string]string{"X-Api-Key": "k", "X-Tenant": "t"}, true, nil},
		{"too many", many, false, []string{"at most 20 headers, got 21"}},
		{"empty value", map[string]string{"X-Api-Key": ""}, false, []string{`empty value for the header "X-Api-Key"`}},
		{"line break", map[string]string{"X-Api-Key": "secret-value\r\nX-Evil: 1"}, false, []string{`"X-Api-Key" with a line break`}},
		{"authorization with auth", map[string]string{"authorization": "Basic secret-value"}, true, []string{`"authorization": auth_type sends it`}},
		{"authorization without auth", map[string]string{"Authorization": "Basic secret-value"}, false, nil},
		{"same name twice", map[string]string{"X-A": "1", "x-a": "2"}, false, []string{"HTTP treats as one"}},
	}
	for _, tt := range tests {
		errs := checkHeaders(tt.headers, tt.auth)
		if len(errs) != len(tt.want) {
			t.Errorf("%s: got %v, want %d errors", tt.name, errs, len(tt.want))
			continue
		}
		for i, err := range errs {
			if !strings.Contains(err.Error(), tt.want[i]) {
				t.Errorf("%s: error %q, want %q", tt.name, err, tt.want[i])
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Errorf("%s: a header value is quoted in %q", tt.name, err)
			}
		}
	}
}

// authFields builds upstreamAuthFields for the request tests: headers
// version hv (0 for none), oauth2 and tls objects (nil for none).
func authFields(t *testing.T, headers map[string]string, hv int64, oauth2 *oauth2Model, tls *tlsModel) upstreamAuthFields {
	t.Helper()
	f := upstreamAuthFields{
		HeadersWO: types.MapNull(types.StringType), HeadersWOVersion: types.Int64Null(),
		HeaderNames: types.ListNull(types.StringType),
		OAuth2:      types.ObjectNull(oauth2AttrTypes), TLS: types.ObjectNull(tlsAttrTypes),
	}
	if headers != nil {
		elems := map[string]fwattr.Value{}
		for k, v := range headers {
			elems[k] = types.StringValue(v)
		}
		f.HeadersWO = types.MapValueMust(types.StringType, elems)
	}
	if hv != 0 {
		f.HeadersWOVersion = types.Int64Value(hv)
	}
	ctx := context.Background()
	if oauth2 != nil {
		obj, d := types.ObjectValueFrom(ctx, oauth2AttrTypes, *oauth2)
		if d.HasError() {
			t.Fatal(d)
		}
		f.OAuth2 = obj
	}
	if tls != nil {
		obj, d := types.ObjectValueFrom(ctx, tlsAttrTypes, *tls)
		if d.HasError() {
			t.Fatal(d)
		}
		f.TLS = obj
	}
	return f
}

func oauth2Of(clientID, secret string, version int64) *oauth2Model {
	m := &oauth2Model{
		TokenURL: types.StringValue("https://auth.example.com/token"), ClientID: types.StringValue(clientID),
		ClientSecretWO: types.StringNull(), ClientSecretWOVersion: types.Int64Value(version),
		Scopes:   types.SetValueMust(types.StringType, []fwattr.Value{types.StringValue("b"), types.StringValue("a")}),
		Audience: types.StringNull(), Resource: types.StringNull(), TokenEndpointAuthMethod: types.StringValue(contract.ClientSecretBasic),
	}
	if secret != "" {
		m.ClientSecretWO = types.StringValue(secret)
	}
	return m
}

func tlsOf(cert, key string, version int64) *tlsModel {
	m := &tlsModel{CABundle: types.StringValue("CA"), ClientCertificate: types.StringValue(cert),
		ClientKeyWO: types.StringNull(), ClientKeyWOVersion: types.Int64Value(version)}
	if key != "" {
		m.ClientKeyWO = types.StringValue(key)
	}
	return m
}

// TestUpstreamAuthRequests checks what a create and each kind of update
// send: every secret only when its version changed, or when the object
// that holds it is new.
func TestUpstreamAuthRequests(t *testing.T) {
	ctx := context.Background()
	hdrs := map[string]string{"X-Api-Key": "k1"}
	// In a plan or state the write-only values are null; only the config has them.
	base := func() (state upstreamAuthFields) {
		return authFields(t, nil, 1, oauth2Of("c", "", 1), tlsOf("CERT", "", 1))
	}
	tests := []struct {
		name         string
		state        upstreamAuthFields
		plan, config upstreamAuthFields
		authChanged  bool
		want         string
	}{
		{name: "nothing changed", state: base(), plan: base(),
			config: authFields(t, hdrs, 1, oauth2Of("c", "s1", 1), tlsOf("CERT", "KEY", 1)), want: `{}`},
		{name: "headers version", state: base(), plan: authFields(t, nil, 2, oauth2Of("c", "", 1), tlsOf("CERT", "", 1)),
			config: authFields(t, hdrs, 2, oauth2Of("c", "s1", 1), tlsOf("CERT", "KEY", 1)),
			want:   `{"headers":{"X-Api-Key":"k1"}}`},
		{name: "headers removed", state: base(), plan: authFields(t, nil, 0, oauth2Of("c", "", 1), tlsOf("CERT", "", 1)),
			config: authFields(t, nil, 0, oauth2Of("c", "s1", 1), tlsOf("CERT", "KEY", 1)),
			want:   `{"headers":{}}`},
		{name: "client id without the secret", state: base(), plan: authFields(t, nil, 1, oauth2Of("d", "", 1), tlsOf("CERT", "", 1)),
			config: authFields(t, hdrs, 1, oauth2Of("d", "s1", 1), tlsOf("CERT", "KEY", 1)),
			want:   `{"oauth2":{"tokenUrl":"https://auth.example.com/token","clientId":"d","scopes":["a","b"],"tokenEndpointAuthMethod":"client_secret_basic"}}`},
		{name: "client secret version", state: base(), plan: authFields(t, nil, 1, oauth2Of("c", "", 2), tlsOf("CERT", "", 1)),
			config: authFields(t, hdrs, 1, oauth2Of("c", "s2", 2), tlsOf("CERT", "KEY", 1)),
			want:   `{"oauth2":{"tokenUrl":"https://auth.example.com/token","clientId":"c","clientSecret":"s2","scopes":["a","b"],"tokenEndpointAuthMethod":"client_secret_basic"}}`},
		{name: "switch to oauth2 sends the secret", state: authFields(t, nil, 1, nil, tlsOf("CERT", "", 1)), plan: base(),
			config: authFields(t, hdrs, 1, oauth2Of("c", "s1", 1), tlsOf("CERT", "KEY", 1)), authChanged: true,
			want: `{"oauth2":{"tokenUrl":"https://auth.example.com/token","clientId":"c","clientSecret":"s1","scopes":["a","b"],"tokenEndpointAuthMethod":"client_secret_basic"}}`},
		{name: "client key version", state: base(), plan: authFields(t, nil, 1, oauth2Of("c", "", 1), tlsOf("CERT", "", 2)),
			config: authFields(t, hdrs, 1, oauth2Of("c", "s1", 1), tlsOf("CERT", "KEY2", 2)),
			want:   `{"tls":{"caBundle":"CA","clientCertificate":"CERT","clientKey":"KEY2"}}`},
		{name: "new certificate sends its key", state: base(), plan: authFields(t, nil, 1, oauth2Of("c", "", 1), tlsOf("CERT2", "", 1)),
			config: authFields(t, hdrs, 1, oauth2Of("c", "s1", 1), tlsOf("CERT2", "KEY2", 1)),
			want:   `{"tls":{"caBundle":"CA","clientCertificate":"CERT2","clientKey":"KEY2"}}`},
		{name: "tls removed", state: base(), plan: authFields(t, nil, 1, oauth2Of("c", "", 1), nil),
			config: authFields(t, hdrs, 1, oauth2Of("c", "s1", 1), nil),
			want:   `{"tls":{}}`},
	}
	for _, tt := range tests {
		req, diags := updateRequest(ctx, tt.plan, tt.state, tt.config, tt.authChanged)
		if diags.HasError() {
			t.Fatalf("%s: %v", tt.name, diags)
		}
		got, _ := json.Marshal(req)
		if string(got) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if setsAny(req) != (tt.want != `{}`) {
			t.Errorf("%s: setsAny = %v", tt.name, setsAny(req))
		}
	}

	req, diags := createRequest(ctx, base(), authFields(t, hdrs, 1, oauth2Of("c", "s1", 1), tlsOf("CERT", "KEY", 1)))
	if diags.HasError() {
		t.Fatal(diags)
	}
	got, _ := json.Marshal(req)
	want := `{"headers":{"X-Api-Key":"k1"},"oauth2":{"tokenUrl":"https://auth.example.com/token","clientId":"c","clientSecret":"s1",` +
		`"scopes":["a","b"],"tokenEndpointAuthMethod":"client_secret_basic"},"tls":{"caBundle":"CA","clientCertificate":"CERT","clientKey":"KEY"}}`
	if string(got) != want {
		t.Errorf("create:\n got %s\nwant %s", got, want)
	}
}

// TestUpstreamAuthRefresh reads the API's view into state: header names,
// objects without secrets, Terraform's versions kept, a PEM in another
// layout read as the configured one.
func TestUpstreamAuthRefresh(t *testing.T) {
	ctx := context.Background()
	pki := newTestPKI(t)
	prior := authFields(t, nil, 3, oauth2Of("c", "", 4), &tlsModel{CABundle: types.StringValue(pki.caPEM),
		ClientCertificate: types.StringValue(pki.certPEM), ClientKeyWO: types.StringNull(), ClientKeyWOVersion: types.Int64Value(5)})
	f := prior
	diags := f.refresh(ctx, contract.UpstreamAuth{
		HeaderNames: []string{"X-A", "X-B"},
		OAuth2: &contract.OAuth2{TokenURL: new("https://auth.example.com/token"), ClientID: "c2", Scopes: []string{"a", "b"},
			TokenEndpointAuthMethod: contract.ClientSecretPost},
		// The same certificate, with Windows line ends and a trailing blank line.
		TLS: &contract.TLS{CABundle: new(strings.ReplaceAll(pki.caPEM, "\n", "\r\n") + "\r\n"), ClientCertificate: new(pki.caPEM), ClientKeySet: true},
	})
	if diags.HasError() {
		t.Fatal(diags)
	}
	if got := f.HeaderNames.String(); got != `["X-A","X-B"]` {
		t.Errorf("header_names %s", got)
	}
	if !f.HeadersWOVersion.Equal(types.Int64Value(3)) {
		t.Errorf("headers_wo_version %s, want 3 (Terraform's own)", f.HeadersWOVersion)
	}
	var o oauth2Model
	var tl tlsModel
	f.OAuth2.As(ctx, &o, basetypes.ObjectAsOptions{})
	f.TLS.As(ctx, &tl, basetypes.ObjectAsOptions{})
	if o.ClientID.ValueString() != "c2" || o.TokenEndpointAuthMethod.ValueString() != contract.ClientSecretPost ||
		!o.ClientSecretWOVersion.Equal(types.Int64Value(4)) || !o.ClientSecretWO.IsNull() {
		t.Errorf("oauth2 %+v", o)
	}
	if !o.Scopes.Equal(prior.OAuth2.Attributes()["scopes"]) {
		t.Errorf("scopes %s: the same set in another order must keep the prior value", o.Scopes)
	}
	if tl.CABundle.ValueString() != pki.caPEM {
		t.Errorf("ca_bundle: the same certificates in another layout must read as the configured PEM")
	}
	if tl.ClientCertificate.ValueString() != pki.caPEM {
		t.Errorf("client_certificate: another certificate must read as the API's")
	}
	if !tl.ClientKeyWOVersion.Equal(types.Int64Value(5)) {
		t.Errorf("client_key_wo_version %s", tl.ClientKeyWOVersion)
	}

	f.refresh(ctx, contract.UpstreamAuth{})
	if !f.OAuth2.IsNull() || !f.TLS.IsNull() || f.HeaderNames.String() != "[]" {
		t.Errorf("without upstream auth: oauth2 %s, tls %s, header_names %s", f.OAuth2, f.TLS, f.HeaderNames)
	}
}
