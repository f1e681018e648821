package provider

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

// TestRecordErrorsNameTheirKind: a 404 or 409 that reaches a server's or a
// project's generic error path (a failed read, delete or lookup) speaks of
// that kind, never of connections.
func TestRecordErrorsNameTheirKind(t *testing.T) {
	c, err := client.New("http://127.0.0.1:1", "key")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		rec     record
		status  int
		summary string
		mention string
	}{
		{serverRecord, http.StatusNotFound, "MCP server not found", "The MCP server was probably deleted"},
		{serverRecord, http.StatusConflict, "MCP server name already in use", "unique within a project"},
		{projectRecord, http.StatusNotFound, "Project not found", "The project was probably deleted"},
		{projectRecord, http.StatusConflict, "Project name already in use", "terraform import mcp_project."},
	} {
		var diags diag.Diagnostics
		tt.rec.addError(&diags, c, "look it up", &client.APIError{StatusCode: tt.status, Message: "no", Method: "GET", Path: "/x"})
		if diags.ErrorsCount() != 1 {
			t.Fatalf("%s %d: diagnostics %v, want one error", tt.rec.kind, tt.status, diags)
		}
		d := diags.Errors()[0]
		if d.Summary() != tt.summary || !strings.Contains(d.Detail(), tt.mention) || strings.Contains(d.Detail(), "onnection") {
			t.Errorf("%s %d: got %q / %q, want %q mentioning %q", tt.rec.kind, tt.status, d.Summary(), d.Detail(), tt.summary, tt.mention)
		}
	}
}
