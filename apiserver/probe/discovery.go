package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Discovery of the token endpoint when tokenUrl is omitted, as the MCP
// authorization specification says: the MCP server's 401 WWW-Authenticate
// names its protected resource metadata (resource_metadata, RFC 9728; else
// the well-known URL at the server's origin), whose authorization_servers[0]
// is the issuer, whose RFC 8414 metadata (or OpenID Connect discovery) names
// the token_endpoint. Every URL met on the way must be https (see
// allowedURL) and is dialled through the address guard; no redirect is
// followed. Nothing is sent to them but GETs; the secret goes only to the
// token endpoint found.

// discover finds the token endpoint from the 401's challenge.
func (c *oauthClient) discover(ctx context.Context, challenge []string) (string, error) {
	var candidates []string
	if rm := challengeParam(challenge, "resource_metadata"); rm != "" {
		if err := c.allowedURL(rm, "the resource_metadata URL the MCP server named"); err != nil {
			return "", err
		}
		candidates = []string{rm}
	} else {
		// RFC 9728 §3.1: the well-known URI inserted before the path, then at the root.
		base := &url.URL{Scheme: c.endpoint.Scheme, Host: c.endpoint.Host}
		if p := strings.TrimSuffix(c.endpoint.EscapedPath(), "/"); p != "" {
			candidates = append(candidates, base.String()+"/.well-known/oauth-protected-resource"+p)
		}
		candidates = append(candidates, base.String()+"/.well-known/oauth-protected-resource")
	}
	var prm struct {
		AuthorizationServers []string `json:"authorization_servers"`
	}
	where, err := c.metadata(ctx, candidates, "protected resource metadata", &prm)
	if err != nil {
		return "", err
	}
	if len(prm.AuthorizationServers) == 0 || prm.AuthorizationServers[0] == "" {
		return "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("the protected resource metadata at %s lists no authorization_servers: set oauth2.tokenUrl", where)}
	}
	issuer := prm.AuthorizationServers[0]
	if err := c.allowedURL(issuer, fmt.Sprintf("the authorization server %q named at %s", oneLine(issuer, 100), where)); err != nil {
		return "", err
	}
	var asm struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	where, err = c.metadata(ctx, issuerMetadataURLs(issuer), "authorization server metadata", &asm)
	if err != nil {
		return "", err
	}
	if asm.TokenEndpoint == "" {
		return "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("the authorization server metadata at %s has no token_endpoint: set oauth2.tokenUrl", where)}
	}
	return asm.TokenEndpoint, nil
}

// issuerMetadataURLs are where an issuer's metadata may be (RFC 8414 §3.1,
// OpenID Connect Discovery 1.0 §4), in the MCP specification's order.
func issuerMetadataURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return []string{issuer}
	}
	base := (&url.URL{Scheme: u.Scheme, Host: u.Host}).String()
	p := strings.TrimSuffix(u.EscapedPath(), "/")
	if p == "" {
		return []string{base + "/.well-known/oauth-authorization-server", base + "/.well-known/openid-configuration"}
	}
	return []string{
		base + "/.well-known/oauth-authorization-server" + p,
		base + "/.well-known/openid-configuration" + p,
		base + p + "/.well-known/openid-configuration",
	}
}

// metadata GETs the first of urls that answers 200 with JSON into v, and
// returns which it was. what names the document in messages.
func (c *oauthClient) metadata(ctx context.Context, urls []string, what string, v any) (string, error) {
	var tried []string
	for _, raw := range urls {
		where := redactURL(raw)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		if err != nil {
			return "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("the %s URL %s cannot be used: set oauth2.tokenUrl", what, where)}
		}
		req.Header.Set("Accept", "application/json")
		body, status, ct, err := c.do(req, "the "+what+" at "+where)
		if err != nil {
			return "", err
		}
		if status == http.StatusNotFound {
			tried = append(tried, where)
			continue
		}
		if status != http.StatusOK || ct != "application/json" {
			return "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("the %s at %s answered HTTP %d with %s, not JSON metadata: set oauth2.tokenUrl", what, where, status, describeContent(ct))}
		}
		if err := json.Unmarshal(body, v); err != nil {
			return "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("the %s at %s is not valid JSON metadata (%s): set oauth2.tokenUrl", what, where, oneLine(err.Error(), 120))}
		}
		return where, nil
	}
	return "", &authError{kind: contract.ErrorAuth, msg: fmt.Sprintf("no %s found (tried %s): set oauth2.tokenUrl", what, strings.Join(tried, ", "))}
}

// challengeParam is the value of the auth-param name in the Bearer
// challenges of a WWW-Authenticate header (RFC 9110 §11.6.1), or "".
func challengeParam(values []string, name string) string {
	for _, v := range values {
		rest := v
		for rest != "" {
			i := strings.Index(strings.ToLower(rest), name+"=")
			if i < 0 {
				break
			}
			// Only at a parameter boundary, not inside another's value or name.
			if i > 0 && !strings.ContainsRune(" ,\t", rune(rest[i-1])) {
				rest = rest[i+len(name)+1:]
				continue
			}
			val := rest[i+len(name)+1:]
			if strings.HasPrefix(val, `"`) {
				var b strings.Builder
				for j := 1; j < len(val); j++ {
					switch val[j] {
					case '\\':
						if j+1 < len(val) {
							j++
							b.WriteByte(val[j])
						}
					case '"':
						return b.String()
					default:
						b.WriteByte(val[j])
					}
				}
				return b.String()
			}
			if end := strings.IndexAny(val, " ,\t"); end >= 0 {
				val = val[:end]
			}
			return val
		}
	}
	return ""
}
