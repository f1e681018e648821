package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

func TestAccProjectDataSource(t *testing.T) {
	e := newAccEnv(t)
	base := e.providerBlock() + `
resource "mcp_project" "test" {
  name        = "Looked up"
  description = "found by id and by name"
}
`
	same := func(ds, a string) statecheck.StateCheck {
		return statecheck.CompareValuePairs(projectAddr, attr(a), ds, attr(a), compare.ValuesSame())
	}
	var checks []statecheck.StateCheck
	for _, ds := range []string{"data.mcp_project.by_id", "data.mcp_project.by_name"} {
		for _, a := range []string{"id", "name", "description", "created_at", "updated_at"} {
			checks = append(checks, same(ds, a))
		}
	}
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testFactories,
		CheckDestroy:             e.checkProjectsDestroyed,
		Steps: []resource.TestStep{
			{
				Config: base + `
data "mcp_project" "by_id" {
  id = mcp_project.test.id
}
data "mcp_project" "by_name" {
  name = mcp_project.test.name
}
`,
				ConfigStateChecks: checks,
			},
			{
				Config:      base + `data "mcp_project" "bad" { id = "mcp_abc" }`,
				ExpectError: regexp.MustCompile(`(?s)Invalid project id.*must be a project id such as proj_abc123`),
			},
			{
				Config:      base + `data "mcp_project" "none" {}`,
				ExpectError: regexp.MustCompile(`Exactly one of these attributes must be configured: \[id,name\]`),
			},
			{
				Config: base + `
data "mcp_project" "both" {
  id   = mcp_project.test.id
  name = "Looked up"
}
`,
				ExpectError: regexp.MustCompile(`Invalid Attribute Combination`),
			},
			{
				Config:      base + `data "mcp_project" "missing" { id = "proj_nosuchproject" }`,
				ExpectError: regexp.MustCompile(`(?s)Project not found.*No project with id proj_nosuchproject`),
			},
			{
				Config:      base + `data "mcp_project" "missing" { name = "looked up" }`,
				ExpectError: regexp.MustCompile(`(?s)Project not found.*No project named "looked up".*case-sensitive`),
			},
		},
	})
}
