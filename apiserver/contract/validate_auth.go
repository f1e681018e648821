package contract

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on upstream authentication input (SPEC §9), shared by the API's
// validation and the provider's plan-time checks.
const (
	// HeaderNameMaxLength is the longest allowed extra header name, in bytes.
	HeaderNameMaxLength = 256
	// HeaderValueMaxLength is the longest allowed extra header value, in bytes.
	HeaderValueMaxLength = 8192
	// ClientIDMaxLength is the longest allowed OAuth 2.0 client id, in bytes.
	ClientIDMaxLength = 1024
	// MaxScopes is the most OAuth 2.0 scopes a record may ask for.
	MaxScopes = 100
	// ScopeMaxLength is the longest allowed single scope, in bytes.
	ScopeMaxLength = 256
	// PEMMaxLength is the longest allowed PEM document (CA bundle,
	// certificate or key), in bytes.
	PEMMaxLength = 256 << 10
)

// reservedHeaders are the headers the API's HTTP client or the MCP transport
// set themselves, which an extra header must never replace (canonical form).
var reservedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Mcp-Session-Id", "Mcp-Protocol-Version"}

// ValidateHeaderName checks an extra header's name: an RFC 9110 token that
// is not one of the headers the API sets itself, nor Authorization when
// authType sets that. The error text names the header.
func ValidateHeaderName(name string, authType AuthType) error {
	if name == "" {
		return fmt.Errorf("a header name must not be empty")
	}
	if len(name) > HeaderNameMaxLength {
		return fmt.Errorf("header name %q must be at most %d bytes", name[:32]+"...", HeaderNameMaxLength)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return fmt.Errorf("header name %q must be an RFC 9110 token (letters, digits and !#$%%&'*+-.^_`|~), without spaces or colons", name)
		}
	}
	canonical := http.CanonicalHeaderKey(name)
	if slices.Contains(reservedHeaders, canonical) {
		return fmt.Errorf("header %q is set by the API itself and must not be sent as an extra header", name)
	}
	if canonical == "Authorization" && authType.SetsAuthorization() {
		return fmt.Errorf(`header %q must not be set when authType is %q, which sends its own; use authType "none" to send a custom Authorization header`, name, authType)
	}
	return nil
}

// ValidateHeaderValue checks an extra header's value: not empty, bounded,
// valid UTF-8 and free of control characters other than tab (CR, LF and NUL
// would split or cut the request). The value is a secret, so the error text
// names the header, never the value.
func ValidateHeaderValue(name, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("header %q must have a value; remove the header instead of sending it empty", name)
	case len(value) > HeaderValueMaxLength:
		return fmt.Errorf("the value of header %q must be at most %d bytes", name, HeaderValueMaxLength)
	case !utf8.ValidString(value):
		return fmt.Errorf("the value of header %q must be valid UTF-8", name)
	}
	for _, r := range value {
		if unicode.IsControl(r) && r != '\t' {
			return fmt.Errorf("the value of header %q must not contain control characters (CR, LF, NUL and others)", name)
		}
	}
	return nil
}

// ValidateHeaders checks a record's extra headers (name to value) for a
// record whose authType is authType: at most MaxHeaders, each name and
// value valid, and no two names that differ only in case. The first error,
// in name order, is returned; its text names the header.
func ValidateHeaders(headers map[string]string, authType AuthType) error {
	if len(headers) > MaxHeaders {
		return fmt.Errorf("must have at most %d headers, got %d", MaxHeaders, len(headers))
	}
	names := make([]string, 0, len(headers))
	for name := range headers {
		names = append(names, name)
	}
	slices.Sort(names)
	seen := make(map[string]string, len(names))
	for _, name := range names {
		if err := ValidateHeaderName(name, authType); err != nil {
			return err
		}
		if err := ValidateHeaderValue(name, headers[name]); err != nil {
			return err
		}
		canonical := http.CanonicalHeaderKey(name)
		if other, ok := seen[canonical]; ok {
			return fmt.Errorf("headers %q and %q are the same header (names are case-insensitive); keep one", other, name)
		}
		seen[canonical] = name
	}
	return nil
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// IsLoopbackHost reports whether host (without a port) names the local
// machine: "localhost", a name under .localhost, or a loopback address.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ValidateTokenURL checks an OAuth 2.0 token endpoint: an absolute https URL
// with a host, no user info, query-less fragments or spaces. http is
// accepted only for loopback hosts, and only when allowLoopbackHTTP is set
// (the API's outbound policy lets checks reach loopback addresses). The
// error text does not name the field.
func ValidateTokenURL(raw string, allowLoopbackHTTP bool) error {
	if err := ValidateServerURL(raw); err != nil {
		return fmt.Errorf("%s", strings.Replace(err.Error(), "; use authType bearer and bearerToken instead", "; the client credentials go in clientId and clientSecret", 1))
	}
	u, _ := url.Parse(raw) // ValidateServerURL parsed it
	if u.Scheme == "https" {
		return nil
	}
	if !IsLoopbackHost(u.Hostname()) {
		return fmt.Errorf("must be an https URL (client secrets are never sent in the clear), got %q", raw)
	}
	if !allowLoopbackHTTP {
		return fmt.Errorf("must be an https URL, got %q: http is accepted only for loopback hosts, and only when the API server allows private targets", raw)
	}
	return nil
}

// ValidateClientID checks an OAuth 2.0 client id: not empty, bounded and
// printable (RFC 6749 VSCHAR). The error text does not name the field.
func ValidateClientID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("must not be empty")
	case len(id) > ClientIDMaxLength:
		return fmt.Errorf("must be at most %d bytes", ClientIDMaxLength)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("must contain only printable ASCII characters (RFC 6749 VSCHAR)")
		}
	}
	return nil
}

// ValidateClientSecret checks an OAuth 2.0 client secret: not empty,
// bounded and printable (RFC 6749 VSCHAR). The error text never quotes it.
func ValidateClientSecret(secret string) error {
	switch {
	case secret == "":
		return fmt.Errorf("must not be empty")
	case len(secret) > TokenMaxLength:
		return fmt.Errorf("must be at most %d bytes", TokenMaxLength)
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("must contain only printable ASCII characters (RFC 6749 VSCHAR)")
		}
	}
	return nil
}

// ValidateScopes checks OAuth 2.0 scopes: at most MaxScopes, each an RFC
// 6749 scope-token (printable ASCII without spaces, '"' and '\'). The error
// text does not name the field.
func ValidateScopes(scopes []string) error {
	if len(scopes) > MaxScopes {
		return fmt.Errorf("must have at most %d items, got %d", MaxScopes, len(scopes))
	}
	for i, s := range scopes {
		if s == "" {
			return fmt.Errorf("item %d must not be empty", i)
		}
		if len(s) > ScopeMaxLength {
			return fmt.Errorf("item %d must be at most %d bytes", i, ScopeMaxLength)
		}
		for j := 0; j < len(s); j++ {
			if c := s[j]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
				return fmt.Errorf("item %d (%q) must be an RFC 6749 scope token: printable ASCII without spaces, '\"' or '\\'; send several scopes as several items", i, s)
			}
		}
	}
	return nil
}

// ValidateAudience checks an OAuth 2.0 audience: not empty, bounded and
// free of control characters. The error text does not name the field.
func ValidateAudience(aud string) error {
	switch {
	case aud == "":
		return fmt.Errorf("must not be empty; omit it to send none")
	case len(aud) > URLMaxLength:
		return fmt.Errorf("must be at most %d bytes", URLMaxLength)
	case !utf8.ValidString(aud):
		return fmt.Errorf("must be valid UTF-8")
	}
	for _, r := range aud {
		if unicode.IsControl(r) {
			return fmt.Errorf("must not contain control characters")
		}
	}
	return nil
}

// ValidateResource checks an RFC 8707 resource indicator: an absolute URI
// without a fragment. The error text does not name the field.
func ValidateResource(raw string) error {
	if err := ValidateAudience(raw); err != nil {
		return err
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("must be an absolute URI (RFC 8707), such as the MCP server's URL, got %q", raw)
	}
	if u.Fragment != "" {
		return fmt.Errorf("must not have a #fragment (RFC 8707), got %q", raw)
	}
	return nil
}

// ValidateTokenEndpointAuthMethod checks a tokenEndpointAuthMethod; ""
// (the default, client_secret_basic) passes.
func ValidateTokenEndpointAuthMethod(m string) error {
	if m == "" || slices.Contains(TokenEndpointAuthMethods, m) {
		return nil
	}
	return fmt.Errorf("must be one of %q or %q, got %q", ClientSecretBasic, ClientSecretPost, m)
}

// ParseCertificates parses the certificates of a PEM document: it must
// hold at least one CERTIFICATE block, and every block must be one that
// parses. The error text says which certificate failed and why, not the
// field.
func ParseCertificates(doc string) ([]*x509.Certificate, error) {
	if len(doc) > PEMMaxLength {
		return nil, fmt.Errorf("must be at most %d bytes", PEMMaxLength)
	}
	rest := []byte(doc)
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %d is a %q, not a CERTIFICATE", len(certs)+1, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("must hold at least one PEM CERTIFICATE block (-----BEGIN CERTIFICATE-----)")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, fmt.Errorf("must be PEM: text after certificate %d is not a PEM block", len(certs))
	}
	return certs, nil
}

// ValidateCABundle checks a PEM CA bundle: one or more certificates that
// parse. The error text does not name the field.
func ValidateCABundle(doc string) error {
	_, err := ParseCertificates(doc)
	return err
}

// ValidateClientCertificate checks a PEM client certificate (optionally
// followed by its chain). The error text does not name the field.
func ValidateClientCertificate(doc string) error {
	_, err := ParseCertificates(doc)
	return err
}

// ValidateClientKey checks a PEM private key against the PEM certificate
// it belongs to: it must parse and match the certificate's public key. The
// key is a secret, so the error text never quotes it; it does not name the
// field.
func ValidateClientKey(certificate, key string) error {
	if key == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(key) > PEMMaxLength {
		return fmt.Errorf("must be at most %d bytes", PEMMaxLength)
	}
	block, _ := pem.Decode([]byte(key))
	if block == nil {
		return fmt.Errorf("must be a PEM private key (-----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE KEY)")
	}
	if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
		return fmt.Errorf("must be a PEM private key, got a %q block", block.Type)
	}
	if _, err := tls.X509KeyPair([]byte(certificate), []byte(key)); err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return fmt.Errorf("does not match the client certificate's public key: send the key the certificate was issued for")
		}
		return fmt.Errorf("does not parse as a private key for the client certificate (PKCS #1, PKCS #8 or SEC 1, unencrypted)")
	}
	return nil
}
