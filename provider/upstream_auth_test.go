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
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// testPKI is a CA, a client certificate it signed with its key, and a key
// of another certificate, all made for the test (nothing is committed).
type testPKI struct {
	caPEM, certPEM, keyPEM, otherKeyPEM string
	// keyPEMAlt is keyPEM's key in another encoding (SEC 1, not PKCS #8):
	// another value that still belongs to certPEM.
	keyPEMAlt string
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
	sec1, err := x509.MarshalECPrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	return testPKI{caPEM: certPEM(caDER), certPEM: certPEM(clientDER), keyPEM: clientKeyPEM, otherKeyPEM: otherKeyPEM,
		keyPEMAlt: string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))}
}

// TestCheckHeadersConfig checks the adapter of the API's header rules: an
// unknown value still counts, a null one is refused, the message names
// the provider's attributes and never quotes a value.
func TestCheckHeadersConfig(t *testing.T) {
	mapOf := func(values map[string]types.String) types.Map {
		elems := map[string]fwattr.Value{}
		for k, v := range values {
			elems[k] = v
		}
		return types.MapValueMust(types.StringType, elems)
	}
	many := map[string]types.String{}
	for i := range contract.MaxHeaders + 1 {
		many[fmt.Sprintf("X-H%d", i)] = types.StringUnknown()
	}
	tests := []struct {
		name    string
		headers types.Map
		auth    contract.AuthType
		want    string // substring of the one error; "" for none
	}{
		{"fine", mapOf(map[string]types.String{"X-Api-Key": types.StringValue("secret-value")}), contract.AuthBearer, ""},
		{"unknown value", mapOf(map[string]types.String{"X-Api-Key": types.StringUnknown()}), contract.AuthNone, ""},
		{"unknown values count", mapOf(many), contract.AuthNone, "at most 20 headers, got 21"},
		{"null value", mapOf(map[string]types.String{"X-Api-Key": types.StringNull()}), contract.AuthNone, `null value for the header "X-Api-Key"`},
		{"line break", mapOf(map[string]types.String{"X-Api-Key": types.StringValue("secret-value\r\nX: 1")}), contract.AuthNone, `"X-Api-Key"`},
		{"reserved", mapOf(map[string]types.String{"host": types.StringValue("secret-value")}), contract.AuthNone, `"host" is set by the API itself`},
		{"authorization with bearer", mapOf(map[string]types.String{"Authorization": types.StringValue("Basic secret-value")}), contract.AuthBearer,
			`auth_type is "bearer"`},
		{"authorization without auth", mapOf(map[string]types.String{"Authorization": types.StringValue("Basic secret-value")}), contract.AuthNone, ""},
	}
	for _, tt := range tests {
		var diags diag.Diagnostics
		checkHeadersConfig(tt.headers, tt.auth, &diags)
		switch {
		case tt.want == "" && diags.HasError():
			t.Errorf("%s: unexpected %v", tt.name, diags)
		case tt.want != "" && (diags.ErrorsCount() != 1 || !strings.Contains(diags.Errors()[0].Detail(), tt.want)):
			t.Errorf("%s: got %v, want one error containing %q", tt.name, diags, tt.want)
		}
		for _, d := range diags {
			if strings.Contains(d.Detail(), "secret-value") || strings.Contains(d.Detail(), "authType") {
				t.Errorf("%s: %q quotes a value or the API's field name", tt.name, d.Detail())
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
