package contract

// Upstream authentication beyond a bearer token (SPEC §9): extra headers,
// OAuth 2.0 client credentials, private CAs and mutual TLS. Each secret in
// them (header values, the client secret, the TLS client key) is write-only:
// requests carry it, responses never do.

// AuthOAuth2 fetches an access token with the OAuth 2.0 client credentials
// grant (RFC 6749 §4.4) and sends it as "Authorization: Bearer <token>".
const AuthOAuth2 AuthType = "oauth2"

// Token endpoint client authentication methods (RFC 8414
// token_endpoint_auth_methods_supported).
const (
	// ClientSecretBasic sends client_id and client_secret as HTTP Basic
	// credentials (the default).
	ClientSecretBasic = "client_secret_basic"
	// ClientSecretPost sends them as form fields of the token request.
	ClientSecretPost = "client_secret_post"
)

// TokenEndpointAuthMethods lists every valid tokenEndpointAuthMethod.
var TokenEndpointAuthMethods = []string{ClientSecretBasic, ClientSecretPost}

// MaxHeaders is how many extra headers a record may carry.
const MaxHeaders = 20

// OAuth2 is a record's OAuth 2.0 client credentials configuration as the API
// returns it: everything but the client secret.
type OAuth2 struct {
	// TokenURL is nil when the token endpoint is discovered (401
	// WWW-Authenticate -> RFC 9728 -> RFC 8414).
	TokenURL                *string  `json:"tokenUrl"`
	ClientID                string   `json:"clientId"`
	Scopes                  []string `json:"scopes"`
	Audience                *string  `json:"audience"`
	Resource                *string  `json:"resource"`
	TokenEndpointAuthMethod string   `json:"tokenEndpointAuthMethod"`
}

// OAuth2Request is the oauth2 object of a create or PATCH. PATCH replaces
// the whole object, except that an omitted ClientSecret keeps the stored one.
type OAuth2Request struct {
	TokenURL     *string  `json:"tokenUrl,omitempty"`
	ClientID     string   `json:"clientId"`
	ClientSecret *string  `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     *string  `json:"audience,omitempty"`
	Resource     *string  `json:"resource,omitempty"`
	// TokenEndpointAuthMethod defaults to ClientSecretBasic when empty.
	TokenEndpointAuthMethod string `json:"tokenEndpointAuthMethod,omitempty"`
}

// TLS is a record's TLS settings as the API returns them: the PEM CA bundle
// and client certificate, and whether a client key is stored (never the key).
type TLS struct {
	CABundle          *string `json:"caBundle"`
	ClientCertificate *string `json:"clientCertificate"`
	ClientKeySet      bool    `json:"clientKeySet"`
}

// TLSRequest is the tls object of a create or PATCH. PATCH replaces the
// whole object, except that an omitted ClientKey keeps the stored one while
// a client certificate remains; {} removes every TLS setting.
type TLSRequest struct {
	CABundle          *string `json:"caBundle,omitempty"`
	ClientCertificate *string `json:"clientCertificate,omitempty"`
	ClientKey         *string `json:"clientKey,omitempty"`
}

// UpstreamAuth is the part of a record's response that describes how the
// API authenticates to its MCP server beyond authType; embedded in
// Connection and Server.
type UpstreamAuth struct {
	// HeaderNames are the names of the record's extra headers, sorted;
	// empty (never null) when it has none.
	HeaderNames []string `json:"headerNames"`
	// OAuth2 is set when authType is oauth2.
	OAuth2 *OAuth2 `json:"oauth2"`
	TLS    *TLS    `json:"tls"`
}

// UpstreamAuthRequest is the part of a create or PATCH body that sets it;
// embedded in the four request types. A nil field is left unchanged on
// PATCH. Headers replaces the whole map; an empty map removes every header.
type UpstreamAuthRequest struct {
	Headers *map[string]string `json:"headers,omitempty"`
	OAuth2  *OAuth2Request     `json:"oauth2,omitempty"`
	TLS     *TLSRequest        `json:"tls,omitempty"`
}
