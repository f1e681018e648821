package health

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/probe"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/secrets"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// upstream fills in t what a record sends its MCP server beyond a bearer
// token (SPEC §9), the same for both kinds: extra headers, OAuth 2.0 client
// credentials, TLS settings, and the key that keeps what is cached for the
// record (access tokens) apart from other records'. authType is the
// record's, auth its upstream authentication with its secrets sealed by
// aad, and key names the record ("conn:<id>", "server:<id>"). It says why
// the secrets cannot be opened (a message for lastError, with ErrorAuth as
// its kind) and logs that for the operator.
func (c *checker[R]) upstream(ctx context.Context, row R, t *probe.Target, authType string, auth store.UpstreamAuth, aad []byte, key string) string {
	t.Key = key
	secrets, err := openAuthSecrets(c.keyring, auth, aad)
	if err != nil {
		c.log.WarnContext(ctx, "cannot decrypt the stored credentials of an "+c.noun+"; check MCP_API_SECRET_KEY and MCP_API_SECRET_KEY_PREVIOUS",
			append(c.attrs(row), "error", err)...)
		return authSecretsMessage(err)
	}
	fillTarget(t, authType, auth.AuthSettings, secrets)
	return ""
}

// fillTarget sets t's headers, OAuth 2.0 and TLS settings from a record's
// settings and opened secrets.
func fillTarget(t *probe.Target, authType string, settings store.AuthSettings, s store.AuthSecrets) {
	if len(s.Headers) > 0 {
		t.Headers = maps.Clone(s.Headers)
	}
	if o := settings.OAuth2; o != nil && authType == string(contract.AuthOAuth2) {
		t.OAuth2 = &probe.OAuth2{
			TokenURL:     orEmpty(o.TokenURL),
			ClientID:     o.ClientID,
			ClientSecret: s.ClientSecret,
			Scopes:       append([]string(nil), o.Scopes...),
			Audience:     orEmpty(o.Audience),
			Resource:     orEmpty(o.Resource),
			AuthMethod:   o.TokenEndpointAuthMethod,
		}
		if t.OAuth2.AuthMethod == "" {
			t.OAuth2.AuthMethod = contract.ClientSecretBasic
		}
	}
	if tls := settings.TLS; tls != nil {
		t.TLS = &probe.TLS{CABundle: orEmpty(tls.CABundle), ClientCertificate: orEmpty(tls.ClientCertificate), ClientKey: s.ClientKey}
	}
}

func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// openAuthSecrets opens a record's sealed AuthSecrets, bound to it by aad;
// a record without any has none.
func openAuthSecrets(kr *secrets.Keyring, auth store.UpstreamAuth, aad []byte) (store.AuthSecrets, error) {
	var s store.AuthSecrets
	if auth.AuthSecretsCiphertext == nil || auth.AuthSecretsKeyID == nil {
		return s, nil
	}
	plain, err := kr.Open(auth.AuthSecretsCiphertext, *auth.AuthSecretsKeyID, aad)
	if err != nil {
		return s, err
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &s); err != nil {
		return s, errors.New("the decrypted credentials are not the JSON object the API stores")
	}
	return s, nil
}

// authSecretsMessage is the lastError of a check that could not open the
// record's credentials, for the tenant: what to do, without the keyring's
// details.
func authSecretsMessage(err error) string {
	what := "the stored headers, oauth2.clientSecret and tls.clientKey"
	if errors.Is(err, secrets.ErrUnknownKey) {
		return what + " were encrypted with a key this API server does not have, so nothing was sent: " +
			"the operator must set MCP_API_SECRET_KEY_PREVIOUS to the key that encrypted them, or you can set them again"
	}
	return strings.Join([]string{what, " could not be decrypted with the API server's secret key, so nothing was sent: ",
		"the operator must check MCP_API_SECRET_KEY (and MCP_API_SECRET_KEY_PREVIOUS while rotating), or you can set them again"}, "")
}
