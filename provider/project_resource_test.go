package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const projectAddr = "mcp_project.test"

var (
	projectIDPattern = regexp.MustCompile(`^proj_[A-Za-z0-9]+$`)
	timestampPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// checkProjectsDestroyed asserts every mcp_project Terraform knew is gone from the API.
func (e *accEnv) checkProjectsDestroyed(s *terraform.State) error {
	return checkGone(s, "mcp_project", "project", e.client.GetProject)
}

// projectConfig is mcp_project.test named name, described by description
// unless it is "".
func projectConfig(e *accEnv, name, description string) string {
	if description != "" {
		description = fmt.Sprintf("  description = %q\n", description)
	}
	return e.providerBlock() + fmt.Sprintf(`
resource "mcp_project" "test" {
  name = %q
%s}
`, name, description)
}

func TestAccProject_lifecycle(t *testing.T) {
	e := newAccEnv(t)
	sameID := sameValues()
	sameCreated := sameValues()

	parallelTest(t, e.checkProjectsDestroyed, []resource.TestStep{
		{
			Config:           projectConfig(e, "Payments", "Agents of the payments team"),
			ConfigPlanChecks: planned(projectAddr, plancheck.ResourceActionCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(projectAddr, attr("id")),
				sameCreated.AddStateValue(projectAddr, attr("created_at")),
				statecheck.ExpectKnownValue(projectAddr, attr("id"), knownvalue.StringRegexp(projectIDPattern)),
				statecheck.ExpectKnownValue(projectAddr, attr("name"), knownvalue.StringExact("Payments")),
				statecheck.ExpectKnownValue(projectAddr, attr("description"), knownvalue.StringExact("Agents of the payments team")),
				statecheck.ExpectKnownValue(projectAddr, attr("created_at"), knownvalue.StringRegexp(timestampPattern)),
				statecheck.ExpectKnownValue(projectAddr, attr("updated_at"), knownvalue.StringRegexp(timestampPattern)),
			},
		},
		{
			// Rename and drop the description, in place.
			Config:           projectConfig(e, "Billing", ""),
			ConfigPlanChecks: planned(projectAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				sameID.AddStateValue(projectAddr, attr("id")),
				sameCreated.AddStateValue(projectAddr, attr("created_at")),
				statecheck.ExpectKnownValue(projectAddr, attr("name"), knownvalue.StringExact("Billing")),
				statecheck.ExpectKnownValue(projectAddr, attr("description"), knownvalue.Null()),
			},
			Check: func(s *terraform.State) error {
				id, err := idOf(s, projectAddr)
				if err != nil {
					return err
				}
				p, err := e.client.GetProject(context.Background(), id)
				if err != nil {
					return err
				}
				if p.Name != "Billing" || p.Description != nil {
					return fmt.Errorf("the API holds %+v, want name Billing and no description", p)
				}
				return nil
			},
		},
		importStep(projectAddr),
		{
			ResourceName:  projectAddr,
			ImportState:   true,
			ImportStateId: "3f0b8a52-6a0e-4a39-9d7a-0b5d3f0c1a11",
			ExpectError:   regexp.MustCompile(`(?s)Invalid import ID.*must be a project id such as proj_abc123.*terraform import mcp_project\.example`),
		},
		{
			ResourceName:  projectAddr,
			ImportState:   true,
			ImportStateId: "proj_doesnotexist",
			ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
		},
	})
}

func TestAccProject_drift(t *testing.T) {
	e := newAccEnv(t)
	cfg := projectConfig(e, "drifting", "as configured")
	var firstID string
	parallelTest(t, e.checkProjectsDestroyed, []resource.TestStep{
		createdStep(cfg, projectAddr, &firstID),
		{
			// Renamed and re-described by hand: the plan puts it back in place.
			PreConfig: changeOutOfBand(t, func(ctx context.Context) error {
				_, err := e.client.UpdateProject(ctx, firstID, contract.UpdateProjectRequest{
					Name: new("renamed-by-hand"), Description: new("edited by hand"),
				})
				return err
			}),
			Config: cfg,
			ConfigPlanChecks: planned(projectAddr, plancheck.ResourceActionUpdate,
				plancheck.ExpectKnownValue(projectAddr, attr("name"), knownvalue.StringExact("drifting")),
			),
			Check: func(*terraform.State) error {
				p, err := e.client.GetProject(context.Background(), firstID)
				if err != nil {
					return err
				}
				if p.Name != "drifting" || p.Description == nil || *p.Description != "as configured" {
					return fmt.Errorf("apply did not repair the project: %+v", p)
				}
				return nil
			},
		},
		// Deleted by hand: refresh drops it and the plan re-creates it.
		goneStep(cfg, deleteOutOfBand(t, e.client.DeleteProject, &firstID)),
		recreatedStep(cfg, projectAddr, "project", &firstID, nil),
	})
}

func TestAccProject_conflicts(t *testing.T) {
	e := newAccEnv(t)
	ctx := context.Background()
	if _, err := e.client.CreateProject(ctx, contract.CreateProjectRequest{Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	var projectID, strayID string
	cfg := projectConfig(e, "kept-alive", "")
	parallelTest(t, e.checkProjectsDestroyed, []resource.TestStep{
		{
			Config:      projectConfig(e, "taken", ""),
			ExpectError: regexp.MustCompile(`(?s)Project name already in use.*"taken"\s+already\s+exists.*unique\s+within\s+a\s+tenant`),
		},
		createdStep(cfg, projectAddr, &projectID),
		{
			// A server made outside Terraform keeps the project alive.
			PreConfig: func() {
				s, err := e.client.CreateServer(ctx, contract.CreateServerRequest{
					ProjectID: projectID, Name: "stray", URL: new("https://mcp.example.com/mcp"),
				})
				if err != nil {
					t.Fatal(err)
				}
				strayID = s.ID
			},
			Config:      e.providerBlock(),
			ExpectError: regexp.MustCompile(`(?s)Project still has MCP servers.*still\s+has\s+1\s+MCP\s+server.*terraform\s+import\s+mcp_server`),
		},
		{
			PreConfig: func() {
				if err := e.client.DeleteServer(ctx, strayID); err != nil {
					t.Fatal(err)
				}
			},
			Config: e.providerBlock(),
		},
	})
}

func TestAccProject_planTimeValidation(t *testing.T) {
	e := newAccEnv(t)
	tests := []struct{ body, want string }{
		{`name = ""`, `Invalid name.*name must not be empty`},
		{`name = "x"
description = ""`, `Invalid description.*must not be empty; to have no description, remove the argument`},
		{"name = \"x\"\ndescription = \"bell\\u0007\"", `Invalid description.*control characters`},
	}
	steps := make([]resource.TestStep, len(tests))
	for i, tt := range tests {
		steps[i] = resource.TestStep{
			Config:      e.providerBlock() + "resource \"mcp_project\" \"test\" {\n" + tt.body + "\n}\n",
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)` + tt.want),
		}
	}
	parallelTest(t, nil, steps)
}
