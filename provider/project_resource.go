package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

var _ importableResource = (*projectResource)(nil)

// NewProjectResource returns the mcp_project resource.
func NewProjectResource() resource.Resource {
	return &projectResource{recordResource{rec: projectRecord}}
}

type projectResource struct {
	recordResource
}

func (r *projectResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A project: a named group of MCP servers (`mcp_server`) within your tenant. " +
			"A project that still has servers cannot be deleted; Terraform deletes the servers that refer to it first.",
		Attributes: r.rec.resourceAttributes(projectDescs),
	}
}

func (r *projectResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan projectFields
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	body := contract.CreateProjectRequest{Name: plan.Name.ValueString(), Description: plan.Description.ValueStringPointer()}
	p, err := r.client.CreateProject(ctx, body)
	if err != nil {
		projectRecord.addWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("create project %q", body.Name), err)
		return
	}
	tflog.Debug(ctx, "created project", map[string]any{"id": p.ID})
	resp.Diagnostics.Append(resp.State.Set(ctx, projectStateAfterWrite(plan, p))...)
}

func (r *projectResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	readRecord(ctx, &r.recordResource, req, resp, (*client.Client).GetProject,
		func(state *projectFields, p *contract.Project) diag.Diagnostics {
			*state = projectFieldsOf(p)
			return nil
		})
}

func (r *projectResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state projectFields
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	id := state.ID.ValueString()

	var body contract.UpdateProjectRequest
	body.Name = changedString(plan.Name, state.Name)
	body.Description = changedDescription(plan.Description, state.Description)
	p, err := updateOrGet(ctx, r.client, id, body, body.Name != nil || body.Description != nil,
		(*client.Client).UpdateProject, (*client.Client).GetProject)
	if err != nil {
		projectRecord.addWriteError(&resp.Diagnostics, r.client, fmt.Sprintf("update project %q (%s)", plan.Name.ValueString(), id), err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, projectStateAfterWrite(plan, p))...)
}

func (r *projectResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state projectFields
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.client.DeleteProject(ctx, state.ID.ValueString())
	switch {
	case err == nil, errors.Is(err, client.ErrNotFound):
		// Already gone is what delete wants.
	case errors.Is(err, client.ErrConflict):
		resp.Diagnostics.AddError("Project still has MCP servers", fmt.Sprintf(
			"Could not delete project %q (%s): %s.\n\nServers created outside this configuration keep the project "+
				"alive. Delete them or move them to another project (their project_id), or import them with "+
				"`terraform import mcp_server.<name> <server-id>` so Terraform deletes them too, then apply again.",
			state.Name.ValueString(), state.ID.ValueString(), apiMessage(err)))
	default:
		projectRecord.addError(&resp.Diagnostics, r.client, fmt.Sprintf("delete project %q (%s)", state.Name.ValueString(), state.ID.ValueString()), err)
	}
}

// projectStateAfterWrite keeps the configured values the plan promised and
// takes the computed ones from the API.
func projectStateAfterWrite(plan projectFields, p *contract.Project) projectFields {
	state := projectFieldsOf(p)
	state.Name, state.Description = plan.Name, plan.Description
	return state
}
