package client_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// TestUpstreamAuthFields: the client sends headers, oauth2 and tls on
// create and PATCH of both kinds and reads back headerNames, oauth2 and
// tls, as the provider does.
func TestUpstreamAuthFields(t *testing.T) {
	srv := apitest.Start(t)
	c, ctx := connected(t, srv)

	conn, err := c.CreateConnection(ctx, contract.CreateConnectionRequest{
		Name: "oauth", ServerURL: "https://mcp.example.com/mcp", AuthType: contract.AuthOAuth2,
		UpstreamAuthRequest: contract.UpstreamAuthRequest{
			Headers: &map[string]string{"X-B": "b", "X-A": "a"},
			OAuth2: &contract.OAuth2Request{TokenURL: new("https://auth.example.com/token"), ClientID: "c1", ClientSecret: new("s1"),
				Scopes: []string{"mcp"}, TokenEndpointAuthMethod: contract.ClientSecretPost},
		},
	})
	if err != nil {
		t.Fatalf("CreateConnection: %v", err)
	}
	wantOAuth2 := &contract.OAuth2{TokenURL: new("https://auth.example.com/token"), ClientID: "c1", Scopes: []string{"mcp"},
		TokenEndpointAuthMethod: contract.ClientSecretPost}
	if conn.AuthType != contract.AuthOAuth2 || !reflect.DeepEqual(conn.HeaderNames, []string{"X-A", "X-B"}) ||
		!reflect.DeepEqual(conn.OAuth2, wantOAuth2) || conn.TLS != nil {
		t.Fatalf("created = %+v", conn.UpstreamAuth)
	}
	conn, err = c.UpdateConnection(ctx, conn.ID, contract.UpdateConnectionRequest{
		UpstreamAuthRequest: contract.UpstreamAuthRequest{Headers: &map[string]string{}}})
	if err != nil || len(conn.HeaderNames) != 0 || conn.HeaderNames == nil {
		t.Fatalf("UpdateConnection removing headers = %+v, %v", conn, err)
	}

	p, err := c.CreateProject(ctx, contract.CreateProjectRequest{Name: "p"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.CreateServer(ctx, contract.CreateServerRequest{ProjectID: p.ID, Name: "s", URL: new("https://mcp.example.com/mcp"),
		UpstreamAuthRequest: contract.UpstreamAuthRequest{Headers: &map[string]string{"X-Key": "k"}}})
	if err != nil {
		t.Fatalf("CreateServer: %v", err)
	}
	if s.AuthType != contract.AuthNone || !reflect.DeepEqual(s.HeaderNames, []string{"X-Key"}) {
		t.Fatalf("created server = %+v", s)
	}
	_, err = c.UpdateServer(ctx, s.ID, contract.UpdateServerRequest{AuthType: new(contract.AuthOAuth2)})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "oauth2 is required") {
		t.Fatalf("UpdateServer to oauth2 without oauth2 = %v", err)
	}
}
