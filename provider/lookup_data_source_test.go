package provider

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
)

// lookupConfig is two data sources of typeName that look the resource at
// addr up: by_id by its id, by_name by its name.
func lookupConfig(typeName, addr string) string {
	return fmt.Sprintf(`
data %[1]q "by_id" {
  id = %[2]s.id
}
data %[1]q "by_name" {
  name = %[2]s.name
}
`, typeName, addr)
}

// sameAs checks that each of attrs of every data source in sources holds
// what the resource at addr holds.
func sameAs(addr string, sources []string, attrs ...string) []statecheck.StateCheck {
	var checks []statecheck.StateCheck
	for _, ds := range sources {
		for _, a := range attrs {
			checks = append(checks, samePair(addr, attr(a), ds, attr(a)))
		}
	}
	return checks
}

// notFoundSteps look up, after base, a record of typeName that does not
// exist: by id, which fails with byID, and by name, which fails with byName.
func notFoundSteps(base, typeName, id, name string, byID, byName *regexp.Regexp) []resource.TestStep {
	return []resource.TestStep{
		{Config: base + fmt.Sprintf("data %q \"missing\" {\n  id = %q\n}\n", typeName, id), ExpectError: byID},
		{Config: base + fmt.Sprintf("data %q \"missing\" {\n  name = %q\n}\n", typeName, name), ExpectError: byName},
	}
}

// exactlyOneSteps are the refusals every lookup data source shares, after
// base: a lookup with neither id nor name, and one with both (of the
// resource at addr).
func exactlyOneSteps(base, typeName, addr string) []resource.TestStep {
	return []resource.TestStep{
		{
			Config:      base + fmt.Sprintf("data %q \"none\" {}\n", typeName),
			ExpectError: regexp.MustCompile(`Exactly one of these attributes must be configured: \[id,name\]`),
		},
		{
			Config: base + fmt.Sprintf(`
data %q "both" {
  id   = %[2]s.id
  name = %[2]s.name
}
`, typeName, addr),
			ExpectError: regexp.MustCompile(`Invalid Attribute Combination`),
		},
	}
}
