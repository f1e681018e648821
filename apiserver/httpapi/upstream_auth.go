package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// Upstream authentication beyond a bearer token (SPEC §9), the same on
// connections and MCP servers: extra headers, OAuth 2.0 client credentials
// and TLS settings. What is not secret is kept in the clear on the row;
// the secrets (header values, the client secret, the client key) are sealed
// together as one store.AuthSecrets bound to the row.

// upstreamAuth is one record's upstream authentication as a handler
// changes it.
type upstreamAuth struct {
	keyring *secrets.Keyring
	row     *store.UpstreamAuth
	// aad binds the sealed secrets to their record.
	aad []byte
}

// toUpstreamAuth is the one place a row's upstream authentication becomes
// the wire's: the secrets stay behind.
func toUpstreamAuth(a store.UpstreamAuth) contract.UpstreamAuth {
	out := contract.UpstreamAuth{HeaderNames: append([]string{}, a.AuthSettings.HeaderNames...)}
	if o := a.AuthSettings.OAuth2; o != nil {
		out.OAuth2 = &contract.OAuth2{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: append([]string{}, o.Scopes...),
			Audience: o.Audience, Resource: o.Resource, TokenEndpointAuthMethod: o.TokenEndpointAuthMethod}
	}
	if t := a.AuthSettings.TLS; t != nil {
		out.TLS = &contract.TLS{CABundle: t.CABundle, ClientCertificate: t.ClientCertificate, ClientKeySet: t.ClientCertificate != nil}
	}
	return out
}

// checkUpstreamAuth checks what of req can be checked without the stored
// row: every field's own syntax, and Authorization among the headers
// against authType. allowLoopbackHTTP is whether an http tokenUrl may name
// a loopback host (the outbound policy allows private targets).
func checkUpstreamAuth(req contract.UpstreamAuthRequest, authType contract.AuthType, allowLoopbackHTTP bool) error {
	return firstError(
		optional(req.Headers, func(h map[string]string) error { return checkHeaders(h, authType) }),
		optional(req.OAuth2, func(o contract.OAuth2Request) error { return checkOAuth2(o, allowLoopbackHTTP) }),
		optional(req.TLS, checkTLS),
	)
}

func checkHeaders(headers map[string]string, authType contract.AuthType) error {
	if err := contract.ValidateHeaders(headers, authType); err != nil {
		return badRequest("headers: %v", err)
	}
	return nil
}

func checkOAuth2(o contract.OAuth2Request, allowLoopbackHTTP bool) error {
	check := func(field string, err error) error {
		if err != nil {
			return badRequest("oauth2.%s %v", field, err)
		}
		return nil
	}
	return firstError(
		check("clientId", contract.ValidateClientID(o.ClientID)),
		optional(o.ClientSecret, func(s string) error { return check("clientSecret", contract.ValidateClientSecret(s)) }),
		optional(o.TokenURL, func(u string) error { return check("tokenUrl", contract.ValidateTokenURL(u, allowLoopbackHTTP)) }),
		check("scopes", contract.ValidateScopes(o.Scopes)),
		optional(o.Audience, func(a string) error { return check("audience", contract.ValidateAudience(a)) }),
		optional(o.Resource, func(r string) error { return check("resource", contract.ValidateResource(r)) }),
		check("tokenEndpointAuthMethod", contract.ValidateTokenEndpointAuthMethod(o.TokenEndpointAuthMethod)),
	)
}

// checkTLS checks a tls object on its own; whether a certificate sent
// without its key matches the stored key is apply's part.
func checkTLS(t contract.TLSRequest) error {
	check := func(field string, err error) error {
		if err != nil {
			return badRequest("tls.%s %v", field, err)
		}
		return nil
	}
	return firstError(
		optional(t.CABundle, func(pem string) error { return check("caBundle", contract.ValidateCABundle(pem)) }),
		optional(t.ClientCertificate, func(pem string) error { return check("clientCertificate", contract.ValidateClientCertificate(pem)) }),
		optional(t.ClientKey, func(key string) error {
			if t.ClientCertificate == nil {
				return errKeyWithoutCertificate
			}
			return check("clientKey", contract.ValidateClientKey(*t.ClientCertificate, key))
		}),
	)
}

var (
	errKeyWithoutCertificate = badRequest("tls.clientKey must not be set without tls.clientCertificate, the certificate it belongs to")
	errCertificateWithoutKey = badRequest("tls.clientCertificate needs its private key: also send tls.clientKey (PEM)")
	// errUnreadableSecrets is what opened returns when the current keys
	// cannot open the stored secrets; apply then starts from none.
	errUnreadableSecrets = errors.New("the stored auth secrets cannot be decrypted with the current keys")
)

// unreadable is the refusal of a write that would keep secrets the API
// cannot decrypt: what must be sent again.
func unreadable(what string) error {
	return conflict("this record's stored credentials cannot be decrypted with the API server's current secret keys: send %s again, "+
		"or the operator must restore the key that sealed them (MCP_API_SECRET_KEY_PREVIOUS)", what)
}

// forbidAuthWith refuses the upstream authentication fields of req for a
// record that cannot use them, such as a stdio server; why ends the message.
func forbidAuthWith(req contract.UpstreamAuthRequest, why string) error {
	switch {
	case req.Headers != nil:
		return badRequest("headers must not be set %s", why)
	case req.OAuth2 != nil:
		return badRequest("oauth2 must not be set %s", why)
	case req.TLS != nil:
		return badRequest("tls must not be set %s", why)
	}
	return nil
}

// opened is the record's sealed secrets in the clear; none when it has none.
func (u upstreamAuth) opened() (store.AuthSecrets, error) {
	var s store.AuthSecrets
	if u.row.AuthSecretsCiphertext == nil || u.row.AuthSecretsKeyID == nil {
		return s, nil
	}
	plain, err := u.keyring.Open(u.row.AuthSecretsCiphertext, *u.row.AuthSecretsKeyID, u.aad)
	if err != nil {
		return s, errUnreadableSecrets
	}
	if err := json.Unmarshal(plain, &s); err != nil {
		return s, fmt.Errorf("stored auth secrets: %w", err)
	}
	return s, nil
}

// seal stores s as the record's sealed secrets, or none when it is empty.
func (u upstreamAuth) seal(s store.AuthSecrets) error {
	if s.Empty() {
		u.row.AuthSecretsCiphertext, u.row.AuthSecretsKeyID = nil, nil
		return nil
	}
	plain, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("seal auth secrets: %w", err)
	}
	ct, keyID, err := u.keyring.Seal(plain, u.aad)
	if err != nil {
		return fmt.Errorf("seal auth secrets: %w", err)
	}
	u.row.AuthSecretsCiphertext, u.row.AuthSecretsKeyID = ct, &keyID
	return nil
}

// clear removes every setting and secret: the record sends nothing but
// what its auth type sends.
func (u upstreamAuth) clear() (changed bool) {
	changed = !reflect.DeepEqual(u.row.AuthSettings, store.AuthSettings{}) || u.row.AuthSecretsCiphertext != nil
	*u.row = store.UpstreamAuth{}
	return changed
}

// apply applies req, checked by checkUpstreamAuth, to the record, whose
// auth type goes from from to to (from is none on create, where the record
// has nothing yet), and reports whether that changed what the API
// sends to the MCP server. Headers replace the stored map; oauth2 replaces
// the stored settings, keeping the stored client secret when none is sent;
// tls replaces the stored settings, keeping the stored client key when a
// certificate is sent without one ({} removes them all). Leaving oauth2
// drops its settings and secret. Resending what is stored changes nothing.
func (u upstreamAuth) apply(req contract.UpstreamAuthRequest, from, to contract.AuthType) (changed bool, err error) {
	settings := u.row.AuthSettings
	if to != contract.AuthOAuth2 && req.OAuth2 != nil {
		return false, badRequest(`oauth2 must not be set when authType is %q; set authType to "oauth2" to use OAuth 2.0 client credentials`, to)
	}
	if to == contract.AuthOAuth2 && req.OAuth2 == nil && from != contract.AuthOAuth2 {
		return false, badRequest(`oauth2 is required when authType is "oauth2": an object with clientId, clientSecret and, unless it is discovered, tokenUrl`)
	}
	// Authorization is judged against the auth type the record ends with,
	// for stored headers too.
	names := settings.HeaderNames
	if req.Headers != nil {
		names = slices.Sorted(maps.Keys(*req.Headers))
	}
	for _, name := range names {
		if http.CanonicalHeaderKey(name) == "Authorization" && to.SetsAuthorization() {
			return false, badRequest(`headers: header %q must not be set when authType is %q, which sends its own; remove it from headers or use authType "none"`, name, to)
		}
	}
	dropOAuth2 := to != contract.AuthOAuth2 && settings.OAuth2 != nil
	if req.Headers == nil && req.OAuth2 == nil && req.TLS == nil && !dropOAuth2 {
		return false, nil
	}

	// Secrets the current keys cannot open are replaced, never kept: the
	// write goes on from none, and refuses below to keep one it lost.
	secrets, err := u.opened()
	lost := errors.Is(err, errUnreadableSecrets)
	if err != nil && !lost {
		return false, err
	}
	was := secrets
	was.Headers = maps.Clone(secrets.Headers)

	if req.Headers != nil {
		secrets.Headers = maps.Clone(*req.Headers)
		settings.HeaderNames = names
		if len(names) == 0 {
			secrets.Headers, settings.HeaderNames = nil, nil
		}
	}

	switch {
	case dropOAuth2:
		settings.OAuth2, secrets.ClientSecret = nil, ""
	case req.OAuth2 != nil:
		o := *req.OAuth2
		method := o.TokenEndpointAuthMethod
		if method == "" {
			method = contract.ClientSecretBasic
		}
		settings.OAuth2 = &store.OAuth2Settings{TokenURL: o.TokenURL, ClientID: o.ClientID, Scopes: nonEmpty(o.Scopes),
			Audience: o.Audience, Resource: o.Resource, TokenEndpointAuthMethod: method}
		switch {
		case o.ClientSecret != nil:
			secrets.ClientSecret = *o.ClientSecret
		case lost && from == contract.AuthOAuth2:
			return false, unreadable("oauth2 with clientSecret")
		case from != contract.AuthOAuth2 || secrets.ClientSecret == "":
			return false, badRequest(`oauth2.clientSecret is required when authType becomes "oauth2"`)
		}
	}

	if req.TLS != nil {
		t := *req.TLS
		switch {
		case t.CABundle == nil && t.ClientCertificate == nil:
			settings.TLS, secrets.ClientKey = nil, ""
		default:
			settings.TLS = &store.TLSSettings{CABundle: t.CABundle, ClientCertificate: t.ClientCertificate}
			switch {
			case t.ClientCertificate == nil:
				secrets.ClientKey = ""
			case t.ClientKey != nil:
				secrets.ClientKey = *t.ClientKey
			case secrets.ClientKey == "":
				return false, errCertificateWithoutKey
			default:
				if err := contract.ValidateClientKey(*t.ClientCertificate, secrets.ClientKey); err != nil {
					return false, badRequest("tls.clientKey: the stored key does not match the new tls.clientCertificate; send the certificate's key in tls.clientKey")
				}
			}
		}
	}

	if lost {
		switch {
		case len(settings.HeaderNames) != len(secrets.Headers):
			return false, unreadable("headers")
		case settings.OAuth2 != nil && secrets.ClientSecret == "":
			return false, unreadable("oauth2 with clientSecret")
		case settings.TLS != nil && settings.TLS.ClientCertificate != nil && secrets.ClientKey == "":
			return false, unreadable("tls with clientKey")
		}
	}
	settingsChanged := !reflect.DeepEqual(settings, u.row.AuthSettings)
	secretsChanged := lost || !equalSecrets(secrets, was)
	u.row.AuthSettings = settings
	if secretsChanged {
		if err := u.seal(secrets); err != nil {
			return false, err
		}
	}
	return settingsChanged || secretsChanged, nil
}

// equalSecrets compares two records' secrets in constant time per value,
// so a resent secret that equals the stored one is not a change.
func equalSecrets(a, b store.AuthSecrets) bool {
	if len(a.Headers) != len(b.Headers) {
		return false
	}
	same := secretEqual(a.ClientSecret, b.ClientSecret) && secretEqual(a.ClientKey, b.ClientKey)
	for name, v := range a.Headers {
		w, ok := b.Headers[name]
		same = ok && secretEqual(v, w) && same
	}
	return same
}

// nonEmpty is s, or nil when it is empty, as the row stores no scopes.
func nonEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
