package provider

// The API's rules for upstream authentication (SPEC §9), checked at plan
// time so that Terraform refuses what the API would before anything is
// applied. They live here, in one place, until the contract package exports
// its own: then these call those. No message quotes a secret (a header's
// value, a client secret, a private key); header names, URLs and scopes
// are not secrets and are quoted.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// reservedHeaders are set by HTTP or by MCP itself, so a record may never
// set them; Authorization is reserved only when auth_type sets it.
var reservedHeaders = []string{"Host", "Content-Length", "Transfer-Encoding", "Connection", "Mcp-Session-Id", "Mcp-Protocol-Version"}

// checkHeaderName accepts an RFC 9110 field name (a token) that is not
// reserved.
func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("has a header with an empty name")
	}
	for _, r := range name {
		if !isTChar(r) {
			return fmt.Errorf("has a header named %q: a header name must be an RFC 9110 token (letters, digits and !#$%%&'*+-.^_`|~), "+
				"without spaces or colons", name)
		}
	}
	for _, reserved := range reservedHeaders {
		if strings.EqualFold(name, reserved) {
			return fmt.Errorf("must not set the header %q: HTTP or MCP sets it; remove it", name)
		}
	}
	return nil
}

// checkHeaderValue accepts a non-empty value without line breaks or NUL.
// The value is a secret: the message names only its header.
func checkHeaderValue(name, value string) error {
	if value == "" {
		return fmt.Errorf("has an empty value for the header %q: remove the header or give it a value", name)
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return fmt.Errorf("has a value for the header %q with a line break or NUL character, which HTTP does not allow", name)
	}
	return nil
}

// checkHeaders applies every rule to a whole map: at most
// contract.MaxHeaders, each name and value valid, no name twice in
// different case (HTTP names are case-insensitive). authSetsAuthorization
// is whether auth_type sends an Authorization header itself.
func checkHeaders(headers map[string]string, authSetsAuthorization bool) []error {
	var errs []error
	if len(headers) > contract.MaxHeaders {
		errs = append(errs, fmt.Errorf("must have at most %d headers, got %d", contract.MaxHeaders, len(headers)))
	}
	seen := make(map[string]string, len(headers))
	for _, name := range sortedKeys(headers) {
		if err := checkHeaderName(name); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := checkHeaderValue(name, headers[name]); err != nil {
			errs = append(errs, err)
		}
		if authSetsAuthorization && strings.EqualFold(name, "Authorization") {
			errs = append(errs, fmt.Errorf("must not set the header %q: auth_type sends it; remove the header, "+
				"or set auth_type = \"none\" to send your own", name))
		}
		if other, dup := seen[strings.ToLower(name)]; dup {
			errs = append(errs, fmt.Errorf("has the headers %q and %q, which HTTP treats as one (names are case-insensitive): keep one", other, name))
		}
		seen[strings.ToLower(name)] = name
	}
	return errs
}

func isTChar(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-.^_`|~", r)
}

// checkTokenURL accepts an absolute https URL without credentials or
// fragment (RFC 6749 §3.2), or an http one on a loopback host, for an
// authorization server beside the API; whether the API may reach private
// addresses only the API knows.
func checkTokenURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("must be an absolute https URL such as https://auth.example.com/oauth/token, got %q", s)
	}
	if u.User != nil {
		return errors.New("must not embed credentials: put the client id in client_id and the secret in client_secret_wo")
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("must not have a fragment (#...), got %q", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("must be an https URL (http only on a loopback host such as 127.0.0.1), got %q", s)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkResourceIndicator accepts an RFC 8707 resource indicator: an
// absolute URI without a fragment.
func checkResourceIndicator(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("must be an absolute URI such as https://mcp.example.com/mcp (RFC 8707), got %q", s)
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return fmt.Errorf("must not have a fragment (#...) (RFC 8707), got %q", s)
	}
	return nil
}

// checkClientID accepts an RFC 6749 client_id: printable ASCII, spaces
// allowed, not empty.
func checkClientID(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return fmt.Errorf("must be printable ASCII (RFC 6749), got %q", s)
		}
	}
	return nil
}

// checkAudience accepts any non-empty audience without control characters.
func checkAudience(s string) error {
	if s == "" {
		return errors.New("must not be empty; to send none, remove it")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("must not contain control characters, got %q", s)
		}
	}
	return nil
}

// checkScope accepts one RFC 6749 scope-token: printable ASCII but space,
// '"' and '\'.
func checkScope(s string) error {
	if s == "" {
		return errors.New("must not contain an empty scope")
	}
	for _, r := range s {
		if r <= 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return fmt.Errorf("has the scope %q: a scope is one RFC 6749 token, without spaces, quotes or backslashes; "+
				"list several scopes as several items", s)
		}
	}
	return nil
}

// checkCABundle accepts PEM holding at least one certificate and nothing
// but certificates.
func checkCABundle(s string) error {
	certs, err := parseCertificates(s)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return errors.New("must hold at least one PEM certificate (-----BEGIN CERTIFICATE-----), got none")
	}
	return nil
}

// checkClientCertificate accepts a PEM certificate, optionally followed by
// its intermediates.
func checkClientCertificate(s string) error {
	certs, err := parseCertificates(s)
	if err != nil {
		return err
	}
	if len(certs) == 0 {
		return errors.New("must be a PEM certificate (-----BEGIN CERTIFICATE-----), got none")
	}
	return nil
}

// parseCertificates parses every PEM block of s as a certificate; an
// unparsable block, a block of another kind or text that is not PEM is an
// error that says which block.
func parseCertificates(s string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := []byte(s)
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			if strings.TrimSpace(string(rest)) != "" {
				return nil, fmt.Errorf("is not valid PEM after certificate %d: expected -----BEGIN CERTIFICATE-----", n-1)
			}
			return certs, nil
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("holds a PEM block of type %q (block %d); only CERTIFICATE blocks belong here", block.Type, n)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("holds a certificate that does not parse (block %d): %v", n, err)
		}
		certs = append(certs, cert)
	}
}

// checkPrivateKey accepts one PEM private key (PKCS #1, PKCS #8 or SEC 1).
// The key is a secret: no message quotes any of it.
func checkPrivateKey(s string) error {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return errors.New("must be a PEM private key (-----BEGIN PRIVATE KEY-----), and is not PEM")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return errors.New("must hold exactly one PEM private key, and has more after it")
	}
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		_, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		_, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		_, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return fmt.Errorf("must be a PEM private key, got a block of type %q", block.Type)
	}
	if err != nil {
		return fmt.Errorf("holds a %s block that does not parse as a private key", block.Type)
	}
	return nil
}

// checkKeyPair accepts a key that belongs to the certificate.
func checkKeyPair(cert, key string) error {
	if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
		// The standard library's messages quote no key material.
		return fmt.Errorf("does not belong to tls.client_certificate (%v): set the key of that certificate", err)
	}
	return nil
}

// The plan-time checks of §9's attributes.
var (
	validTokenURL = checkString{summary: "Invalid token_url",
		about: "must be an https URL (http only on a loopback host)", check: checkTokenURL}
	validClientID = checkString{summary: "Invalid client_id", about: "must be printable ASCII, not empty", check: checkClientID}
	validScope    = checkString{summary: "Invalid scopes", about: "each must be an RFC 6749 scope token", check: checkScope}
	validAudience = checkString{summary: "Invalid audience", about: "must not be empty", check: checkAudience}
	validResource = checkString{summary: "Invalid resource",
		about: "must be an absolute URI without a fragment (RFC 8707)", check: checkResourceIndicator}
	validCABundle = checkString{summary: "Invalid ca_bundle",
		about: "must be PEM certificates, at least one", check: checkCABundle}
	validClientCertificate = checkString{summary: "Invalid client_certificate",
		about: "must be a PEM certificate", check: checkClientCertificate}
	// The key is never echoed: checkPrivateKey's messages quote none of it.
	validPrivateKey = checkString{summary: "Invalid client_key_wo",
		about: "must be a PEM private key", check: checkPrivateKey}
)

// validHeaders applies the API's header rules to headers_wo at plan time;
// values are secrets and never quoted. Unknown names or values are checked
// at apply, once known.
type validHeaders struct{}

var _ validator.Map = validHeaders{}

func (validHeaders) Description(context.Context) string {
	return fmt.Sprintf("at most %d headers with RFC 9110 names and values without line breaks", contract.MaxHeaders)
}

func (v validHeaders) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (validHeaders) ValidateMap(_ context.Context, req validator.MapRequest, resp *validator.MapResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	m := map[string]string{}
	for name, v := range req.ConfigValue.Elements() {
		s, ok := v.(types.String)
		if !ok || s.IsUnknown() {
			continue
		}
		if s.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path, "Invalid headers_wo",
				fmt.Sprintf("%s has a null value for the header %q: remove the header or give it a value.", req.Path, name))
			continue
		}
		m[name] = s.ValueString()
	}
	if n := len(req.ConfigValue.Elements()); n > contract.MaxHeaders {
		// checkHeaders counts only the known values.
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid headers_wo",
			fmt.Sprintf("%s must have at most %d headers, got %d.", req.Path, contract.MaxHeaders, n))
		return
	}
	for _, err := range checkHeaders(m, false) {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid headers_wo", req.Path.String()+" "+err.Error()+".")
	}
}
