package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/client"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

const tokenAddr = "mcp_agent_token.test"

// agentTokenIDs lists the ids of the tokens the API holds for an agent.
func (e *accEnv) agentTokenIDs(agentID string) ([]string, error) {
	tokens, err := e.client.ListAllAgentTokens(context.Background(), agentID, client.AgentTokenListOptions{})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		if t.Token != nil {
			return nil, fmt.Errorf("the token list shows the value of token %s", t.ID)
		}
		ids[i] = t.ID
	}
	return ids, nil
}

func TestAccAgentToken_lifecycle(t *testing.T) {
	e := newAccEnv(t)
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	agent := e.providerBlock() + `
resource "mcp_agent" "test" {
  name = "token holder"
}
`
	token := func(extra string) string {
		return agent + `
resource "mcp_agent_token" "test" {
  agent_id = mcp_agent.test.id
  name     = "ci"
  ` + extra + `
}
`
	}
	var agentID, firstID, secondID string
	ids := func(s *terraform.State) (err error) {
		if agentID, err = idOf(s, agentAddr); err != nil {
			return err
		}
		secondID, err = idOf(s, tokenAddr)
		return err
	}
	// listed checks the agent's token list against the ids want points
	// at, read when the check runs.
	listed := func(wantIDs ...*string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			want := make([]string, len(wantIDs))
			for i, id := range wantIDs {
				want[i] = *id
			}
			got, err := e.agentTokenIDs(agentID)
			if err != nil {
				return err
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				return fmt.Errorf("the agent's tokens are %q, want %q", got, want)
			}
			return nil
		}
	}
	differentToken := differentValues()
	vars := config.Variables{} // filled in PreConfig, once the ids are known
	const importedTokenAddr = "mcp_agent_token.imported"

	parallelTest(t, e.checkAgentsDestroyed, []resource.TestStep{
		{
			Config: token(""),
			ConfigPlanChecks: planned(tokenAddr, plancheck.ResourceActionCreate,
				plancheck.ExpectUnknownValue(tokenAddr, attr("token")),
				plancheck.ExpectSensitiveValue(tokenAddr, attr("token")),
			),
			ConfigStateChecks: []statecheck.StateCheck{
				differentToken.AddStateValue(tokenAddr, attr("token")),
				statecheck.ExpectKnownValue(tokenAddr, attr("id"), knownvalue.StringRegexp(uuidPattern)),
				samePair(tokenAddr, attr("agent_id"), agentAddr, attr("id")),
				statecheck.ExpectKnownValue(tokenAddr, attr("name"), knownvalue.StringExact("ci")),
				statecheck.ExpectKnownValue(tokenAddr, attr("expires_at"), knownvalue.Null()),
				statecheck.ExpectKnownValue(tokenAddr, attr("token"),
					knownvalue.StringRegexp(regexp.MustCompile(`^`+contract.AgentTokenPrefix+`.{16,}$`))),
				statecheck.ExpectSensitiveValue(tokenAddr, attr("token")),
				statecheck.ExpectKnownValue(tokenAddr, attr("created_at"), knownvalue.StringRegexp(timestampPattern)),
			},
			Check: resource.ComposeAggregateTestCheckFunc(ids, func(*terraform.State) error {
				firstID = secondID
				return listed(&firstID)(nil)
			}),
		},
		{
			// A new expires_at issues a new token and revokes the old one.
			Config:           token(fmt.Sprintf("expires_at = %q", expires)),
			ConfigPlanChecks: planned(tokenAddr, plancheck.ResourceActionDestroyBeforeCreate),
			ConfigStateChecks: []statecheck.StateCheck{
				differentToken.AddStateValue(tokenAddr, attr("token")),
				// Kept as configured, though the API formats it its own way.
				statecheck.ExpectKnownValue(tokenAddr, attr("expires_at"), knownvalue.StringExact(expires)),
			},
			Check: resource.ComposeAggregateTestCheckFunc(ids, func(*terraform.State) error {
				if secondID == firstID {
					return fmt.Errorf("token %s was not replaced", firstID)
				}
				return listed(&secondID)(nil)
			}),
		},
		{
			ResourceName:      tokenAddr,
			ImportState:       true,
			ImportStateVerify: true,
			ImportStateIdFunc: func(*terraform.State) (string, error) { return agentID + "/" + secondID, nil },
			// The value cannot be recovered; the API formats the time its own way.
			ImportStateVerifyIgnore: []string{"token", "expires_at"},
		},
		{
			// Imported for real (a second resource on the same token): the
			// value cannot be recovered, and the API's spelling of
			// expires_at is no reason to replace the token, only to take
			// the configured one.
			PreConfig:       func() { vars["import_id"] = config.StringVariable(agentID + "/" + secondID) },
			ConfigVariables: vars,
			Config: token(fmt.Sprintf("expires_at = %q", expires)) + fmt.Sprintf(`
variable "import_id" {
  type = string
}
import {
  to = mcp_agent_token.imported
  id = var.import_id
}
resource "mcp_agent_token" "imported" {
  agent_id   = mcp_agent.test.id
  name       = "ci"
  expires_at = %q
}
`, expires),
			ConfigPlanChecks: planned(importedTokenAddr, plancheck.ResourceActionUpdate),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(importedTokenAddr, attr("token"), knownvalue.Null()),
				statecheck.ExpectKnownValue(importedTokenAddr, attr("expires_at"), knownvalue.StringExact(expires)),
				samePair(importedTokenAddr, attr("id"), tokenAddr, attr("id")),
			},
			Check: listed(&secondID),
		},
		{
			ResourceName:  tokenAddr,
			ImportState:   true,
			ImportStateId: "just-one-id",
			// The step runs in the previous step's configuration.
			ConfigVariables: vars,
			ExpectError:     regexp.MustCompile(`(?s)Invalid import ID.*<agent_id>/<token_id>`),
		},
		{
			// Revoked outside Terraform: a plan to issue a new one.
			PreConfig: func() {
				if err := e.client.RevokeAgentToken(context.Background(), agentID, secondID); err != nil {
					t.Fatalf("revoking out of band: %v", err)
				}
			},
			Config:            token(fmt.Sprintf("expires_at = %q", expires)),
			ConfigPlanChecks:  planned(tokenAddr, plancheck.ResourceActionCreate),
			ConfigStateChecks: []statecheck.StateCheck{differentToken.AddStateValue(tokenAddr, attr("token"))},
			Check:             ids,
		},
		{
			// Removing the resource revokes the token: the list no longer has it.
			Config: agent,
			Check:  listed(),
		},
	})
}

func TestAgentTokenExpiresAtValue(t *testing.T) {
	at := contract.NewTime(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		prior types.String
		got   *contract.Time
		want  types.String
	}{
		{types.StringNull(), nil, types.StringNull()},
		{types.StringValue("2027-01-31T00:00:00Z"), nil, types.StringNull()},
		// The same instant written another way keeps the configured text.
		{types.StringValue("2027-01-31T01:00:00+01:00"), &at, types.StringValue("2027-01-31T01:00:00+01:00")},
		{types.StringValue("2027-02-01T00:00:00Z"), &at, types.StringValue("2027-01-31T00:00:00.000Z")},
		{types.StringNull(), &at, types.StringValue("2027-01-31T00:00:00.000Z")},
	}
	for _, tt := range tests {
		if got := expiresAtValue(tt.prior, tt.got); !got.Equal(tt.want) {
			t.Errorf("expiresAtValue(%s, %v) = %s, want %s", tt.prior, tt.got, got, tt.want)
		}
	}
}

func TestCheckTimestamp(t *testing.T) {
	for _, ok := range []string{"2027-01-31T00:00:00Z", "2027-01-31T00:00:00.123Z", "2027-01-31T01:00:00+01:00"} {
		if err := checkTimestamp(ok); err != nil {
			t.Errorf("checkTimestamp(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "2027-01-31", "2027-01-31T00:00:00", "2027-01-31 00:00:00Z", "2027-01-31T00:00:00.0001Z"} {
		if err := checkTimestamp(bad); err == nil {
			t.Errorf("checkTimestamp(%q) accepted it", bad)
		}
	}
}
