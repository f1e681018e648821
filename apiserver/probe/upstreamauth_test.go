package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/internal/mcptest"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Headers and TLS settings against real MCP servers (Go SDK): one that
// demands two headers, and TLS servers under a CA made here that demand a
// client certificate.

// headerServer serves an MCP server that answers 401 unless both X-Api-Key
// and X-Tenant carry their values, and records the headers it saw.
type headerServer struct {
	*mcptest.Server
	mu   sync.Mutex
	seen []http.Header
}

func startHeaderServer(t *testing.T, key, tenant string) *headerServer {
	t.Helper()
	hs := &headerServer{}
	srv := mcptest.NewServer(mcptest.Config{Name: "headers", Tools: true})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true})
	hs.Server = mcptest.ServeHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs.mu.Lock()
		hs.seen = append(hs.seen, r.Header.Clone())
		hs.mu.Unlock()
		if key != "" && (r.Header.Get("X-Api-Key") != key || r.Header.Get("X-Tenant") != tenant) {
			http.Error(w, "missing or wrong X-Api-Key / X-Tenant", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	}))
	return hs
}

func (hs *headerServer) sawHeader(name string) bool {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	for _, h := range hs.seen {
		if h.Get(name) != "" {
			return true
		}
	}
	return false
}

func TestHeaders(t *testing.T) {
	const key, tenant = "api-key-0123456789", "tenant-a"
	srv := startHeaderServer(t, key, tenant)
	p := newProber(true)
	target := httpTarget(srv.URL)
	target.Headers = map[string]string{"X-Api-Key": key, "x-tenant": tenant}
	wantOK(t, probe(t, p, target))

	t.Run("wrong value", func(t *testing.T) {
		bad := httpTarget(srv.URL)
		bad.Headers = map[string]string{"X-Api-Key": "not-the-key-42", "X-Tenant": tenant}
		res := probe(t, p, bad)
		wantErr(t, res, "HTTP 401", "check the headers (X-Api-Key, X-Tenant)")
		noSecret(t, res.Err, "not-the-key-42")
	})
	t.Run("gateway sessions send them too", func(t *testing.T) {
		s, err := p.Connect(context.Background(), target, mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}); err != nil {
			t.Fatal(err)
		}
	})
}

// Headers, like the bearer token, never go to another host a redirect names.
func TestHeadersStayWithTheOrigin(t *testing.T) {
	other := startHeaderServer(t, "", "")
	redirect := mcptest.StartRedirect(t, other.URL, http.StatusTemporaryRedirect)
	target := httpTarget(redirect.URL)
	wantOK(t, probe(t, newProber(true), target))
	target.Headers = map[string]string{"X-Api-Key": "api-key-0123456789"}
	wantOK(t, probe(t, newProber(true), target))
	if other.sawHeader("X-Api-Key") {
		t.Fatal("the header was sent to the host the redirect named")
	}
	if !other.sawHeader("Mcp-Protocol-Version") {
		t.Fatal("the redirect target saw no request")
	}
}

// A server that echoes a header value back has it redacted in the message.
func TestHeaderValuesAreRedacted(t *testing.T) {
	srv := mcptest.ServeHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad key "+r.Header.Get("X-Api-Key"), http.StatusBadRequest)
	}))
	target := httpTarget(srv.URL)
	target.Headers = map[string]string{"X-Api-Key": "api-key-0123456789"}
	res := probe(t, newProber(true), target)
	wantErr(t, res, "HTTP 400", "bad key [redacted]")
	noSecret(t, res.Err, "api-key-0123456789")
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue makes a leaf certificate and its key, PEM-encoded.
func (ca *testCA) issue(t *testing.T, cn string, ips []net.IP, dns []string, usage x509.ExtKeyUsage, notAfter time.Time) (certPEM, keyPEM string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		IPAddresses: ips, DNSNames: dns,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}))
}

// startMTLS serves an MCP server over TLS with the given certificate that
// demands a client certificate issued by clientCA.
func startMTLS(t *testing.T, certPEM, keyPEM string, clientCA *testCA) string {
	t.Helper()
	pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(clientCA.cert)
	srv := mcptest.NewServer(mcptest.Config{Name: "mtls", Tools: true})
	mux := http.NewServeMux()
	mux.Handle(mcptest.Path, mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true}))
	hs := httptest.NewUnstartedServer(mux)
	hs.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	// The TLS errors of the tests' clients are expected; keep them out of the log.
	hs.Config.ErrorLog = log.New(io.Discard, "", 0)
	hs.StartTLS()
	t.Cleanup(hs.Close)
	return hs.URL + mcptest.Path
}

func TestTLS(t *testing.T) {
	ca := newCA(t, "probe test CA")
	otherCA := newCA(t, "another CA")
	loop := []net.IP{net.ParseIP("127.0.0.1")}
	later := time.Now().Add(12 * time.Hour)
	serverCert, serverKey := ca.issue(t, "mcp server", loop, nil, x509.ExtKeyUsageServerAuth, later)
	clientCert, clientKey := ca.issue(t, "probe client", nil, nil, x509.ExtKeyUsageClientAuth, later)
	foreignCert, foreignKey := otherCA.issue(t, "stranger", nil, nil, x509.ExtKeyUsageClientAuth, later)
	good := startMTLS(t, serverCert, serverKey, ca)

	expiredCert, expiredKey := ca.issue(t, "expired server", loop, nil, x509.ExtKeyUsageServerAuth, time.Now().Add(-time.Hour))
	expired := startMTLS(t, expiredCert, expiredKey, ca)
	wrongNameCert, wrongNameKey := ca.issue(t, "misnamed server", nil, []string{"mcp.internal.example"}, x509.ExtKeyUsageServerAuth, later)
	wrongName := startMTLS(t, wrongNameCert, wrongNameKey, ca)

	full := &TLS{CABundle: ca.pem, ClientCertificate: clientCert, ClientKey: clientKey}
	tlsTarget := func(url string, s *TLS) Target {
		target := httpTarget(url)
		target.TLS = s
		return target
	}
	p := newProber(true)

	t.Run("private CA and client certificate", func(t *testing.T) {
		wantOK(t, probe(t, p, tlsTarget(good, full)))
		// A gateway session, on the transport shared by targets with these settings.
		s, err := p.Connect(context.Background(), tlsTarget(good, full), mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "hi"}}); err != nil {
			t.Fatal(err)
		}
		if p.sessionTransport(mustTLS(t, p, full)) != p.sessionTransport(mustTLS(t, p, &TLS{CABundle: ca.pem, ClientCertificate: clientCert, ClientKey: clientKey})) {
			t.Fatal("equal TLS settings got two session transports")
		}
		if p.sessionTransport(mustTLS(t, p, full)) == p.sessionTransport(nil) {
			t.Fatal("TLS settings share the default session transport")
		}
	})
	for _, tc := range []struct {
		name   string
		url    string
		s      *TLS
		parts  []string
		secret string
	}{
		{"no CA bundle", good, &TLS{ClientCertificate: clientCert, ClientKey: clientKey},
			[]string{"the server's certificate for 127.0.0.1:", `issued by "CN=probe test CA"`, "not signed by a trusted authority", "set tls.caBundle"}, clientKey},
		{"wrong CA bundle", good, &TLS{CABundle: otherCA.pem, ClientCertificate: clientCert, ClientKey: clientKey},
			[]string{"not signed by a trusted authority", "tls.caBundle must hold the CA that signed it"}, clientKey},
		{"expired server certificate", expired, full,
			[]string{"the server's certificate for 127.0.0.1:", "has expired or is not yet valid", "must be renewed"}, clientKey},
		{"name mismatch", wrongName, full,
			[]string{"the server's certificate is not valid for the name 127.0.0.1:", "it is for mcp.internal.example"}, clientKey},
		{"no client certificate", good, &TLS{CABundle: ca.pem},
			[]string{"requires a client certificate", "set tls.clientCertificate and tls.clientKey"}, ""},
		{"client certificate refused", good, &TLS{CABundle: ca.pem, ClientCertificate: foreignCert, ClientKey: foreignKey},
			[]string{`refused the client certificate "CN=stranger" (issued by "CN=another CA"`, "check that the server trusts the CA that issued tls.clientCertificate"}, foreignKey},
		{"bundle without a certificate", good, &TLS{CABundle: "not a PEM"},
			[]string{"tls.caBundle must hold at least one PEM CERTIFICATE block", "set it to the CA certificate(s) that signed the server's certificate"}, ""},
		{"key does not match", good, &TLS{CABundle: ca.pem, ClientCertificate: clientCert, ClientKey: foreignKey},
			[]string{"tls.clientCertificate and tls.clientKey cannot be used together"}, foreignKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := probe(t, p, tlsTarget(tc.url, tc.s))
			wantFailure(t, res, contract.ErrorTLS, tc.parts...)
			noSecret(t, res.Err, tc.secret)
			// A gateway session fails alike.
			_, err := p.Connect(context.Background(), tlsTarget(tc.url, tc.s), mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil))
			ce, ok := err.(*ConnectError)
			if !ok || ce.Kind != contract.ErrorTLS || !strings.Contains(ce.Message, tc.parts[0]) {
				t.Fatalf("Connect: %v, want a tls ConnectError containing %q", err, tc.parts[0])
			}
		})
	}
}

func mustTLS(t *testing.T, p *Prober, s *TLS) *tlsSettings {
	t.Helper()
	got, err := p.tlsFor(s)
	if err != nil {
		t.Fatal(err)
	}
	return got
}
