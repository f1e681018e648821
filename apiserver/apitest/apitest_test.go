package apitest_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/apitest"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/httpapi"
	"github.com/mcpconn/terraform-provider-mcp/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func list(t *testing.T, s *apitest.Server, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+"/api/mcp-connections", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func TestStart(t *testing.T) {
	t.Parallel()
	configured := false
	s := apitest.Start(t, apitest.WithConfig(func(s *apitest.Server, cfg *httpapi.Config) {
		if s.Store == nil || s.Keyring == nil || cfg.Store != s.Store || cfg.Keyring != s.Keyring {
			t.Error("WithConfig ran before the store and keyring were ready")
		}
		configured = true
	}))
	if !configured {
		t.Fatal("WithConfig hook not called")
	}
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.DatabaseURL == "" || s.SecretKey == "" {
		t.Fatalf("server = %+v", s)
	}
	if code := list(t, s, s.APIKey); code != http.StatusOK {
		t.Fatalf("the API key gets %d", code)
	}
	if code := list(t, s, "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong key gets %d", code)
	}

	other, key := s.NewTenant(t, "other")
	if other == s.TenantID || key == s.APIKey {
		t.Fatal("NewTenant returned the first tenant")
	}
	if code := list(t, s, key); code != http.StatusOK {
		t.Fatalf("the new tenant's key gets %d", code)
	}
}

func TestServersAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := apitest.Start(t), apitest.Start(t)
	if a.DatabaseURL == b.DatabaseURL {
		t.Fatal("two servers share a database")
	}
	if code := list(t, b, a.APIKey); code != http.StatusUnauthorized {
		t.Fatalf("a key of one server works on another: %d", code)
	}
}
