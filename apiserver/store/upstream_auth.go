package store

import (
	"database/sql/driver"
	"encoding/json"

	"github.com/google/uuid"
)

// UpstreamAuth is how a record authenticates to its MCP server beyond a
// bearer token (SPEC §9): its settings in the clear, and its secrets
// (AuthSecrets) sealed in one ciphertext bound to the row by
// ConnectionAuthAAD or ServerAuthAAD. The store never sees the secrets in
// the clear.
type UpstreamAuth struct {
	AuthSettings AuthSettings `db:"upstream_auth"`
	// AuthSecretsCiphertext and AuthSecretsKeyID are both nil when the
	// record has no secret beyond its bearer token.
	AuthSecretsCiphertext []byte  `db:"auth_secrets_ciphertext"`
	AuthSecretsKeyID      *string `db:"auth_secrets_key_id"`
	// AuthSecretsFingerprint is the secret store's keyed hash of the
	// secrets, nil on rows written before it.
	AuthSecretsFingerprint []byte `db:"auth_secrets_fingerprint"`
}

// upstreamAuthColumns are UpstreamAuth's columns.
const upstreamAuthColumns = `upstream_auth, auth_secrets_ciphertext, auth_secrets_key_id, auth_secrets_fingerprint`

// AuthSettings are the settings of UpstreamAuth that are not secret, stored
// as a JSON object; the zero value is a record with none.
type AuthSettings struct {
	// HeaderNames are the names of the extra headers, sorted.
	HeaderNames []string `json:"headerNames,omitempty"`
	// OAuth2 is set exactly when the record's auth type is oauth2.
	OAuth2 *OAuth2Settings `json:"oauth2,omitempty"`
	TLS    *TLSSettings    `json:"tls,omitempty"`
}

// OAuth2Settings is an OAuth 2.0 client credentials configuration without
// its client secret.
type OAuth2Settings struct {
	// TokenURL is nil when the token endpoint is discovered.
	TokenURL                *string  `json:"tokenUrl,omitempty"`
	ClientID                string   `json:"clientId"`
	Scopes                  []string `json:"scopes,omitempty"`
	Audience                *string  `json:"audience,omitempty"`
	Resource                *string  `json:"resource,omitempty"`
	TokenEndpointAuthMethod string   `json:"tokenEndpointAuthMethod"`
}

// TLSSettings are a record's PEM CA bundle and client certificate; the
// client key is one of its AuthSecrets.
type TLSSettings struct {
	CABundle          *string `json:"caBundle,omitempty"`
	ClientCertificate *string `json:"clientCertificate,omitempty"`
}

// Value implements driver.Valuer.
func (a AuthSettings) Value() (driver.Value, error) {
	b, err := json.Marshal(a)
	return string(b), err
}

// Scan implements sql.Scanner.
func (a *AuthSettings) Scan(src any) error {
	*a = AuthSettings{}
	return scanJSON(src, "upstream auth", a)
}

// AuthSecrets is what an UpstreamAuth's ciphertext holds, as JSON: the
// record's secrets beyond its bearer token.
type AuthSecrets struct {
	// Headers are the extra headers, name to value.
	Headers map[string]string `json:"headers,omitempty"`
	// ClientSecret is the OAuth 2.0 client secret.
	ClientSecret string `json:"clientSecret,omitempty"`
	// ClientKey is the PEM private key of the TLS client certificate.
	ClientKey string `json:"clientKey,omitempty"`
}

// Empty reports whether s holds no secret, and so is stored as none.
func (s AuthSecrets) Empty() bool {
	return len(s.Headers) == 0 && s.ClientSecret == "" && s.ClientKey == ""
}

// ConnectionAuthAAD binds a connection's sealed AuthSecrets to its row,
// and apart from its bearer token.
func ConnectionAuthAAD(id uuid.UUID) []byte {
	return []byte("mcp_connections:" + id.String() + ":auth")
}

// ServerAuthAAD binds an MCP server's sealed AuthSecrets to its row, and
// apart from its bearer token.
func ServerAuthAAD(id string) []byte {
	return []byte("mcp_servers:" + id + ":auth")
}
