package probe

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// A target's TLS settings: a private CA bundle and a client certificate.
//
// Decision: a caBundle REPLACES the system roots for the MCP endpoint (a
// server under a private CA is trusted because of that CA, and a public CA
// must not vouch for it); requests to the OAuth 2.0 token endpoint and
// discovery trust the system roots AND the bundle, since the authorization
// server is as often public as it is under the same private CA. The client
// certificate is presented to the MCP endpoint only (token endpoint client
// authentication by certificate, RFC 8705, is not supported).

// maxTLSConfigs bounds the parsed configurations (and session transports)
// kept; past it the cache starts afresh, and sessions already open keep
// what they hold.
const maxTLSConfigs = 256

// tlsSettings is a parsed TLS configuration and the hash it is cached by.
type tlsSettings struct {
	hash   string
	config *tls.Config
	// client is the client certificate's leaf, for messages.
	client *x509.Certificate
	// bundle holds the CA bundle's certificates, for the token endpoint's pool.
	bundle []*x509.Certificate
}

// tlsFor parses t's TLS settings (nil when it has none), cached by their
// hash. A settings error is an *authError of kind tls naming the field.
func (p *Prober) tlsFor(t *TLS) (*tlsSettings, error) {
	if t == nil || (t.CABundle == "" && t.ClientCertificate == "" && t.ClientKey == "") {
		return nil, nil
	}
	sum := sha256.Sum256([]byte(t.CABundle + "\x00" + t.ClientCertificate + "\x00" + t.ClientKey))
	hash := hex.EncodeToString(sum[:])
	p.tlsMu.Lock()
	defer p.tlsMu.Unlock()
	if s, ok := p.tlsConfigs[hash]; ok {
		return s, nil
	}
	s, err := parseTLS(t)
	if err != nil {
		return nil, err
	}
	s.hash = hash
	if p.tlsConfigs == nil || len(p.tlsConfigs) >= maxTLSConfigs {
		p.tlsConfigs = map[string]*tlsSettings{}
		p.tlsSessions = map[string]*http.Transport{}
	}
	p.tlsConfigs[hash] = s
	return s, nil
}

func parseTLS(t *TLS) (*tlsSettings, error) {
	s := &tlsSettings{config: &tls.Config{MinVersion: tls.VersionTLS12}}
	bad := func(format string, args ...any) error {
		return &authError{kind: contract.ErrorTLS, msg: fmt.Sprintf(format, args...)}
	}
	if t.CABundle != "" {
		// The API validated the bundle with this same parser when it was
		// stored; a failure here is a record written some other way.
		certs, err := contract.ParseCertificates(t.CABundle)
		if err != nil {
			return nil, bad("tls.caBundle %v: set it to the CA certificate(s) that signed the server's certificate", err)
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			pool.AddCert(c)
		}
		s.bundle = certs
		s.config.RootCAs = pool
	}
	switch {
	case t.ClientCertificate != "" && t.ClientKey != "":
		// The key never reaches the message: X509KeyPair's errors do not quote it.
		pair, err := tls.X509KeyPair([]byte(t.ClientCertificate), []byte(t.ClientKey))
		if err != nil {
			return nil, bad("tls.clientCertificate and tls.clientKey cannot be used together: %v", err)
		}
		s.client = pair.Leaf
		s.config.Certificates = []tls.Certificate{pair}
	case t.ClientCertificate != "":
		return nil, bad("tls.clientCertificate is set without tls.clientKey: set both, or neither")
	case t.ClientKey != "":
		return nil, bad("tls.clientKey is set without tls.clientCertificate: set both, or neither")
	}
	return s, nil
}

// sessionTransport is the shared transport of every session to endpoints
// with the TLS settings s (nil: the default one): transports pool
// connections, and a pooled connection carries the TLS settings it was
// made with, so each distinct configuration has its own.
func (p *Prober) sessionTransport(s *tlsSettings) *http.Transport {
	if s == nil {
		p.sessionsOnce.Do(func() { p.sessions = p.policy.NewTransport() })
		return p.sessions
	}
	p.tlsMu.Lock()
	defer p.tlsMu.Unlock()
	if p.tlsSessions == nil {
		p.tlsSessions = map[string]*http.Transport{}
	}
	tr, ok := p.tlsSessions[s.hash]
	if !ok {
		tr = p.policy.NewTransport()
		tr.TLSClientConfig = s.config.Clone()
		p.tlsSessions[s.hash] = tr
	}
	return tr
}

// authRoots is the pool the token endpoint and discovery are verified
// with: the system roots and s's bundle (nil: the system roots alone).
func authRoots(s *tlsSettings) *x509.CertPool {
	if s == nil || len(s.bundle) == 0 {
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range s.bundle {
		pool.AddCert(c)
	}
	return pool
}

// describeTLS explains a TLS failure talking to host: which certificate
// failed (the server's or the client's) and why, and what to change. ok is
// false when err is no TLS failure it knows.
func describeTLS(err error, host string, s *tlsSettings) (string, bool) {
	var (
		unknown x509.UnknownAuthorityError
		badName x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	trust := "set tls.caBundle to the CA certificate that signed it"
	if s != nil && len(s.bundle) > 0 {
		trust = "tls.caBundle must hold the CA that signed it (a caBundle replaces the system's trusted authorities)"
	}
	switch {
	case errors.As(err, &unknown):
		issuer := ""
		if unknown.Cert != nil {
			issuer = fmt.Sprintf(" (issued by %q)", unknown.Cert.Issuer.String())
		}
		return fmt.Sprintf("TLS error: the server's certificate for %s%s is not signed by a trusted authority: %s", host, issuer, trust), true
	case errors.As(err, &badName):
		names := ""
		if badName.Certificate != nil {
			names = strings.Join(append(append([]string{}, badName.Certificate.DNSNames...), ipStrings(badName.Certificate)...), ", ")
		}
		if names == "" {
			return fmt.Sprintf("TLS error: the server's certificate is not valid for the name %s: %s; use the name it was issued for in the URL", host, badName.Error()), true
		}
		return fmt.Sprintf("TLS error: the server's certificate is not valid for the name %s (it is for %s): use one of those names in the URL, or have the certificate reissued", host, names), true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("TLS error: the server's certificate for %s has expired or is not yet valid%s: the server's certificate must be renewed", host, validity(invalid.Cert)), true
	case errors.As(err, &invalid):
		return fmt.Sprintf("TLS error: the server's certificate for %s is not valid: %s", host, invalid.Error()), true
	}
	// A refusal of our certificate arrives as the server's TLS alert.
	msg := err.Error()
	for _, alert := range []string{"certificate required", "bad certificate", "unknown certificate authority",
		"certificate expired", "certificate revoked", "unsupported certificate", "certificate unknown", "access denied"} {
		if !strings.Contains(msg, "remote error: tls: "+alert) {
			continue
		}
		if s == nil || s.client == nil {
			return fmt.Sprintf("TLS error: the server %s requires a client certificate (it answered %q): set tls.clientCertificate and tls.clientKey", host, alert), true
		}
		return fmt.Sprintf("TLS error: the server %s refused the client certificate %q (issued by %q%s): it answered %q; check that the server trusts the CA that issued tls.clientCertificate and that the certificate is current",
			host, s.client.Subject.String(), s.client.Issuer.String(), validity(s.client), alert), true
	}
	return "", false
}

// validity is ", valid from A until B" for c, or "".
func validity(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return fmt.Sprintf(", valid from %s until %s", c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
}

func ipStrings(c *x509.Certificate) []string {
	var s []string
	for _, ip := range c.IPAddresses {
		s = append(s, ip.String())
	}
	return s
}
