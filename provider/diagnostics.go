package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

// describeError turns a client error into the summary and detail of one
// diagnostic: what failed, the API's own message, and what to change.
// action completes "Could not ...", e.g. "create MCP connection \"oms\"".
// The errors whose words depend on the kind of record (a name clash, a
// missing record) are record.describe's.
func describeError(c *client.Client, action string, err error) (summary, detail string) {
	msg := apiMessage(err)
	endpoint := c.Endpoint()

	switch {
	case errors.Is(err, client.ErrUnreachable):
		return "Cannot reach the MCP API", fmt.Sprintf(
			"Could not %s: %s.\n\nIs the API running at %s? Check the provider's endpoint argument "+
				"(or the %s environment variable) and that the API server is up and reachable from here.",
			action, msg, endpoint, EnvEndpoint)
	case errors.Is(err, client.ErrUnauthorized):
		return "MCP API rejected the API key", fmt.Sprintf(
			"Could not %s: the API at %s answered 401 Unauthorized (%s).\n\nCheck the provider's api_key "+
				"argument or the %s environment variable: it must be a current API key of your tenant "+
				"(create one with `mcp-api key create --tenant <tenant-uuid>`).",
			action, endpoint, msg, EnvAPIKey)
	case errors.Is(err, client.ErrBadRequest):
		return "MCP API rejected the request", fmt.Sprintf(
			"Could not %s: %s.\n\nChange the attribute the message names and apply again.", action, msg)
	case errors.Is(err, client.ErrRateLimited):
		return "MCP API rate limit reached", fmt.Sprintf(
			"Could not %s: the API kept answering 429 Too Many Requests after several retries (%s).\n\n"+
				"Run again later, or lower the number of parallel operations with `terraform apply -parallelism=N`.",
			action, msg)
	case errors.Is(err, client.ErrUnavailable):
		return "MCP API temporarily unavailable", fmt.Sprintf(
			"Could not %s: the API at %s kept answering that it is unavailable after several retries (%s).\n\n"+
				"The API or its database is down or overloaded; run again when it has recovered.",
			action, endpoint, msg)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "MCP API request interrupted", fmt.Sprintf("Could not %s: %s.", action, msg)
	default:
		return "MCP API error", fmt.Sprintf(
			"Could not %s: %s.\n\nIf this persists, check the API server's logs.", action, msg)
	}
}

// record names a kind of API record in diagnostics. Each kind declares one
// (connectionRecord, serverRecord, projectRecord) and reports its errors
// through it, so every kind's messages have the same shape.
type record struct {
	kind      string // in summaries: "MCP connection", "project", "MCP server"
	noun      string // in details, where the context already says MCP: "connection"
	typeName  string // "mcp_project"
	nameScope string // where names are unique
	exampleID string // for import hints
	listedBy  string // the data source that lists records of this kind, if any: "mcp_connections"
	checkID   func(string) error
}

// describe is describeError with this record's words for a name clash and
// a missing record.
func (r record) describe(c *client.Client, action string, err error) (summary, detail string) {
	msg := apiMessage(err)
	switch {
	case errors.Is(err, client.ErrConflict):
		return capitalize(r.kind) + " name already in use", fmt.Sprintf(
			"Could not %s: %s.\n\n%s names are unique %s. Choose another name, or bring the existing %s under "+
				"Terraform with `terraform import %s.<name> <id>`.",
			action, msg, capitalize(r.noun), r.nameScope, r.noun, r.typeName)
	case errors.Is(err, client.ErrNotFound):
		return capitalize(r.kind) + " not found", fmt.Sprintf(
			"Could not %s: %s.\n\nThe %s was probably deleted outside Terraform. Run `terraform apply` again: "+
				"the refresh removes it from state and plans to re-create it.",
			action, msg, r.noun)
	}
	return describeError(c, action, err)
}

// addError appends err as one diagnostic in this record's words.
func (r record) addError(diags *diag.Diagnostics, c *client.Client, action string, err error) {
	summary, detail := r.describe(c, action, err)
	diags.AddError(summary, detail)
}

// addWriteError reports a failed create or update; a name clash points at name.
func (r record) addWriteError(diags *diag.Diagnostics, c *client.Client, action string, err error) {
	summary, detail := r.describe(c, action, err)
	if errors.Is(err, client.ErrConflict) {
		diags.AddAttributeError(path.Root("name"), summary, detail)
		return
	}
	diags.AddError(summary, detail)
}

// importID checks an import ID before it reaches state.
func (r record) importID(id string, diags *diag.Diagnostics) bool {
	if err := r.checkID(id); err != nil {
		diags.AddError("Invalid import ID", fmt.Sprintf(
			"The import ID %s. Import an existing %s by its id: terraform import %s.example %s.",
			err, r.noun, r.typeName, r.exampleID))
		return false
	}
	return true
}

// apiMessage is the API's own message, which reads better than the
// client's "METHOD path: HTTP n:" prefix, without the final full stop the
// diagnostics add themselves.
func apiMessage(err error) string {
	msg := err.Error()
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		msg = apiErr.Message
	}
	return strings.TrimRight(msg, ". ")
}

// capitalize upper-cases the first letter, for a kind that starts a sentence.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
