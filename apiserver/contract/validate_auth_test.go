package contract

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestValidateHeaders(t *testing.T) {
	many := map[string]string{}
	for i := range MaxHeaders + 1 {
		many[fmt.Sprintf("X-%d", i)] = "v"
	}
	tests := []struct {
		name    string
		headers map[string]string
		auth    AuthType
		want    string // "" for valid
	}{
		{"api key", map[string]string{"X-Api-Key": "k", "X-Tenant": "t\tx"}, AuthBearer, ""},
		{"authorization with none", map[string]string{"Authorization": "Basic eA=="}, AuthNone, ""},
		{"all token characters", map[string]string{"!#$%&'*+-.^_`|~09azAZ": "v"}, AuthNone, ""},
		{"authorization with bearer", map[string]string{"authorization": "x"}, AuthBearer, `header "authorization" must not be set when authType is "bearer"`},
		{"authorization with oauth2", map[string]string{"Authorization": "x"}, AuthOAuth2, `when authType is "oauth2"`},
		{"host", map[string]string{"HOST": "x"}, AuthNone, `header "HOST" is set by the API itself`},
		{"mcp-protocol-version", map[string]string{"mcp-protocol-version": "x"}, AuthNone, "is set by the API itself"},
		{"space", map[string]string{"X Y": "v"}, AuthNone, "RFC 9110 token"},
		{"non-ASCII", map[string]string{"X-é": "v"}, AuthNone, "RFC 9110 token"},
		{"empty name", map[string]string{"": "v"}, AuthNone, "must not be empty"},
		{"long name", map[string]string{strings.Repeat("a", HeaderNameMaxLength+1): "v"}, AuthNone, "at most"},
		{"empty value", map[string]string{"X-A": ""}, AuthNone, `header "X-A" must have a value`},
		{"CR", map[string]string{"X-A": "a\rb"}, AuthNone, "control characters"},
		{"LF", map[string]string{"X-A": "a\nb"}, AuthNone, "control characters"},
		{"NUL", map[string]string{"X-A": "a\x00b"}, AuthNone, "control characters"},
		{"invalid UTF-8", map[string]string{"X-A": "a\xffb"}, AuthNone, "UTF-8"},
		{"case duplicates", map[string]string{"x-a": "1", "X-A": "2"}, AuthNone, `headers "X-A" and "x-a" are the same header`},
		{"too many", many, AuthNone, "at most 20 headers, got 21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateHeaders(tt.headers, tt.auth)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateHeaders = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ValidateHeaders = %v, want it to contain %q", err, tt.want)
			}
			for _, v := range tt.headers {
				if len(v) > 2 && strings.Contains(err.Error(), v) {
					t.Fatalf("error %q quotes the value", err)
				}
			}
		})
	}
}

func TestValidateTokenURL(t *testing.T) {
	tests := []struct {
		url      string
		loopback bool
		ok       bool
	}{
		{"https://auth.example.com/token", false, true},
		{"https://127.0.0.1/token", false, true},
		{"http://127.0.0.1:8080/token", true, true},
		{"http://localhost/token", true, true},
		{"http://a.localhost/token", true, true},
		{"http://[::1]/token", true, true},
		{"http://127.0.0.1:8080/token", false, false},
		{"http://auth.example.com/token", true, false},
		{"http://10.0.0.1/token", true, false},
		{"ftp://auth.example.com/token", true, false},
		{"https://u:p@auth.example.com/token", true, false},
		{"", true, false},
	}
	for _, tt := range tests {
		if err := ValidateTokenURL(tt.url, tt.loopback); (err == nil) != tt.ok {
			t.Errorf("ValidateTokenURL(%q, %v) = %v, want ok %v", tt.url, tt.loopback, err, tt.ok)
		}
	}
}

func TestValidateOAuth2Fields(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"client id", ValidateClientID("client-1"), true},
		{"empty client id", ValidateClientID(""), false},
		{"client id with newline", ValidateClientID("a\nb"), false},
		{"secret", ValidateClientSecret("s3cr3t with space"), true},
		{"empty secret", ValidateClientSecret(""), false},
		{"secret with tab", ValidateClientSecret("a\tb"), false},
		{"scopes", ValidateScopes([]string{"mcp:read", "offline_access", "https://x.example/s"}), true},
		{"no scopes", ValidateScopes(nil), true},
		{"scope with space", ValidateScopes([]string{"a b"}), false},
		{"scope with quote", ValidateScopes([]string{`a"`}), false},
		{"scope with backslash", ValidateScopes([]string{`a\`}), false},
		{"too many scopes", ValidateScopes(make([]string, MaxScopes+1)), false},
		{"audience", ValidateAudience("api://mcp"), true},
		{"empty audience", ValidateAudience(""), false},
		{"resource", ValidateResource("https://mcp.example.com/mcp"), true},
		{"relative resource", ValidateResource("/mcp"), false},
		{"resource with fragment", ValidateResource("https://mcp.example.com/#x"), false},
		{"basic", ValidateTokenEndpointAuthMethod(ClientSecretBasic), true},
		{"post", ValidateTokenEndpointAuthMethod(ClientSecretPost), true},
		{"default", ValidateTokenEndpointAuthMethod(""), true},
		{"jwt", ValidateTokenEndpointAuthMethod("private_key_jwt"), false},
	} {
		if (tt.err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok %v", tt.name, tt.err, tt.ok)
		}
	}
}

func testKeyPair(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

func TestValidateTLS(t *testing.T) {
	cert, key := testKeyPair(t)
	other, otherKey := testKeyPair(t)
	for _, tt := range []struct {
		name string
		err  error
		want string // "" for valid
	}{
		{"bundle", ValidateCABundle(cert + other), ""},
		{"empty bundle", ValidateCABundle(""), "at least one PEM CERTIFICATE"},
		{"not PEM", ValidateCABundle("hello"), "at least one PEM CERTIFICATE"},
		{"trailing garbage", ValidateCABundle(cert + "garbage"), "text after certificate 1"},
		{"a key in the bundle", ValidateCABundle(cert + key), `PEM block 2 is a "EC PRIVATE KEY"`},
		{"broken certificate", ValidateCABundle("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1 does not parse"},
		{"client certificate", ValidateClientCertificate(cert), ""},
		{"matching key", ValidateClientKey(cert, key), ""},
		{"other key", ValidateClientKey(cert, otherKey), "does not match the client certificate"},
		{"empty key", ValidateClientKey(cert, ""), "must not be empty"},
		{"not a key", ValidateClientKey(cert, other), `got a "CERTIFICATE" block`},
		{"raw key", ValidateClientKey(cert, "c2VjcmV0"), "must be a PEM private key"},
	} {
		switch {
		case tt.want == "" && tt.err != nil:
			t.Errorf("%s: %v, want nil", tt.name, tt.err)
		case tt.want != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.want)):
			t.Errorf("%s: %v, want it to contain %q", tt.name, tt.err, tt.want)
		}
	}
	if err := ValidateClientKey(cert, otherKey); strings.Contains(err.Error(), strings.Split(otherKey, "\n")[1]) {
		t.Fatal("the error quotes the key")
	}
}
