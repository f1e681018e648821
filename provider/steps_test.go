package provider

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/compare"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// Test cases and steps that the acceptance tests of every kind share.

// parallelTest runs the acceptance test steps against this provider, in
// parallel with the other tests, and checkDestroy after them.
func parallelTest(t *testing.T, checkDestroy resource.TestCheckFunc, steps []resource.TestStep) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{ProtoV6ProviderFactories: testFactories, CheckDestroy: checkDestroy, Steps: steps})
}

// writeOnlyTest is parallelTest for steps that set write-only attributes,
// which Terraform has from 1.11 on.
func writeOnlyTest(t *testing.T, checkDestroy resource.TestCheckFunc, steps []resource.TestStep) {
	t.Helper()
	resource.ParallelTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testFactories,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.RequireAbove(tfversion.Version1_11_0)},
		CheckDestroy:             checkDestroy,
		Steps:                    steps,
	})
}

// planned checks, before apply, that the plan has action for the resource
// at addr, and then the more checks.
func planned(addr string, action plancheck.ResourceActionType, more ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: append([]plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, action)}, more...)}
}

// attr is the path of the top-level attribute name.
func attr(name string) tfjsonpath.Path { return tfjsonpath.New(name) }

// idOf reads the id of the resource at address a from a state.
func idOf(s *terraform.State, a string) (string, error) {
	rs, ok := s.RootModule().Resources[a]
	if !ok {
		return "", fmt.Errorf("%s is not in state", a)
	}
	return rs.Primary.ID, nil
}

// createdStep applies cfg and keeps the id of the resource at addr in *id,
// for the steps after it.
func createdStep(cfg, addr string, id *string) resource.TestStep {
	return resource.TestStep{Config: cfg, Check: keepID(addr, id)}
}

// keepID keeps the id of the resource at addr in *id.
func keepID(addr string, id *string) resource.TestCheckFunc {
	return func(s *terraform.State) (err error) {
		*id, err = idOf(s, addr)
		return err
	}
}

// goneStep plans cfg after deleteIt removed the record outside Terraform:
// refresh finds it gone, which is a plan to re-create it, not an error.
func goneStep(cfg string, deleteIt func()) resource.TestStep {
	return resource.TestStep{PreConfig: deleteIt, Config: cfg, PlanOnly: true, ExpectNonEmptyPlan: true}
}

// importStep imports the resource at addr by its id and verifies that the
// import reads back what state holds, but for the attributes ignore.
func importStep(addr string, ignore ...string) resource.TestStep {
	return resource.TestStep{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: ignore}
}

// recreatedStep applies cfg to a record deleted outside Terraform (by
// deleteIt, or by an earlier step when it is nil) and asserts that the plan
// creates addr again, under an id other than *firstID (a pointer: an
// earlier step sets it).
func recreatedStep(cfg, addr, noun string, firstID *string, deleteIt func()) resource.TestStep {
	return resource.TestStep{
		PreConfig:        deleteIt,
		Config:           cfg,
		ConfigPlanChecks: planned(addr, plancheck.ResourceActionCreate),
		Check: func(s *terraform.State) error {
			id, err := idOf(s, addr)
			if err == nil && id == *firstID {
				err = fmt.Errorf("id %s was not replaced by a new %s", id, noun)
			}
			return err
		},
	}
}

// deleteOutOfBand is a PreConfig that deletes the record *id with remove,
// as someone outside Terraform would (id is a pointer: an earlier step sets it).
func deleteOutOfBand(t *testing.T, remove func(ctx context.Context, id string) error, id *string) func() {
	return func() {
		if err := remove(context.Background(), *id); err != nil {
			t.Fatalf("deleting out of band: %v", err)
		}
	}
}

// changeOutOfBand is a PreConfig that makes change to records outside
// Terraform.
func changeOutOfBand(t *testing.T, change func(ctx context.Context) error) func() {
	return func() {
		if err := change(context.Background()); err != nil {
			t.Fatalf("changing out of band: %v", err)
		}
	}
}

// serverBlock is the mcp_server labelled label in the project projectExpr
// (an HCL expression), named name, with one more attribute for each of
// attrs ("url = ...").
func serverBlock(label, projectExpr, name string, attrs ...string) string {
	var lines strings.Builder
	for _, a := range attrs {
		lines.WriteString("  " + a + "\n")
	}
	return fmt.Sprintf(`
resource "mcp_server" %q {
  project_id = %s
  name       = %q
%s}
`, label, projectExpr, name, lines.String())
}

// serverConfig is the provider block and mcp_server.test in the project
// projectID, made outside Terraform (serverBlock).
func (e *accEnv) serverConfig(projectID, name string, attrs ...string) string {
	return e.providerBlock() + serverBlock("test", strconv.Quote(projectID), name, attrs...)
}

// serverInProject is the configuration of mcp_project.test named project
// and, in it, the mcp_server labelled label (serverBlock).
func serverInProject(project, label, name string, attrs ...string) string {
	return fmt.Sprintf(`
resource "mcp_project" "test" {
  name = %q
}
`, project) + serverBlock(label, "mcp_project.test.id", name, attrs...)
}

// valueSeries compares the values of an attribute that the steps add to it.
type valueSeries interface {
	AddStateValue(resourceAddress string, attributePath tfjsonpath.Path) statecheck.StateCheck
}

// sameValues checks that every value added to it is the one before, such
// as an id that an update in place keeps.
func sameValues() valueSeries { return statecheck.CompareValue(compare.ValuesSame()) }

// differentValues checks that every value added to it differs from the one
// before.
func differentValues() valueSeries { return statecheck.CompareValue(compare.ValuesDiffer()) }

// samePair checks that attribute a of the resource at addrA holds what
// attribute b of the one at addrB holds.
func samePair(addrA string, a tfjsonpath.Path, addrB string, b tfjsonpath.Path) statecheck.StateCheck {
	return statecheck.CompareValuePairs(addrA, a, addrB, b, compare.ValuesSame())
}

// differentPair checks that attribute a of the resource at addrA differs
// from attribute b of the one at addrB.
func differentPair(addrA string, a tfjsonpath.Path, addrB string, b tfjsonpath.Path) statecheck.StateCheck {
	return statecheck.CompareValuePairs(addrA, a, addrB, b, compare.ValuesDiffer())
}

// unknownValues checks that a plan leaves each of attrs of the resource at
// addr unknown, to be known after apply.
func unknownValues(addr string, attrs ...string) []plancheck.PlanCheck {
	checks := make([]plancheck.PlanCheck, 0, len(attrs))
	for _, a := range attrs {
		checks = append(checks, plancheck.ExpectUnknownValue(addr, attr(a)))
	}
	return checks
}
