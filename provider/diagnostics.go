package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
)

// describeError turns a client error into the summary and detail of one
// diagnostic: what failed, the API's own message, and what to change.
// action completes "Could not ...", e.g. "create MCP connection \"oms\"".
func describeError(c *client.Client, action string, err error) (summary, detail string) {
	// The API's message alone reads better than the client's "METHOD path: HTTP n:" prefix.
	msg := err.Error()
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		msg = apiErr.Message
	}
	// The details below end sentences themselves.
	msg = strings.TrimRight(msg, ". ")
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
	case errors.Is(err, client.ErrConflict):
		return "MCP connection name already in use", fmt.Sprintf(
			"Could not %s: %s.\n\nConnection names are unique within a tenant. Choose another name, or bring "+
				"the existing connection under Terraform with `terraform import mcp_connection.<name> <id>`.",
			action, msg)
	case errors.Is(err, client.ErrNotFound):
		return "MCP connection not found", fmt.Sprintf(
			"Could not %s: %s.\n\nThe connection was probably deleted outside Terraform. "+
				"Run `terraform apply` again: the refresh removes it from state and plans to re-create it.",
			action, msg)
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

// addError appends err as one diagnostic.
func addError(diags *diag.Diagnostics, c *client.Client, action string, err error) {
	summary, detail := describeError(c, action, err)
	diags.AddError(summary, detail)
}
