package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccProjectDataSource(t *testing.T) {
	e := newAccEnv(t)
	base := projectConfig(e, "Looked up", "found by id and by name")
	checks := sameAs(projectAddr, []string{"data.mcp_project.by_id", "data.mcp_project.by_name"},
		"id", "name", "description", "created_at", "updated_at")
	steps := append([]resource.TestStep{
		{Config: base + lookupConfig("mcp_project", projectAddr), ConfigStateChecks: checks},
		{
			Config:      base + `data "mcp_project" "bad" { id = "mcp_abc" }`,
			ExpectError: regexp.MustCompile(`(?s)Invalid project id.*must be a project id such as proj_abc123`),
		},
	}, exactlyOneSteps(base, "mcp_project", projectAddr)...)
	parallelTest(t, e.checkProjectsDestroyed, append(steps, notFoundSteps(base, "mcp_project", "proj_nosuchproject", "looked up",
		regexp.MustCompile(`(?s)Project not found.*No project with id proj_nosuchproject`),
		regexp.MustCompile(`(?s)Project not found.*No project named "looked up".*case-sensitive`))...))
}
