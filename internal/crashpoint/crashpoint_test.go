package crashpoint

import "testing"

func TestParse(t *testing.T) {
	for in, want := range map[string]struct {
		step string
		n    int64
	}{"": {"", 1}, "after-put": {"after-put", 1}, "after-put:3": {"after-put", 3}, "x:zero": {"x", 1}} {
		if step, n := Parse(in); step != want.step || n != want.n {
			t.Errorf("Parse(%q) = %q, %d", in, step, n)
		}
	}
}

func TestFromEnvUnset(t *testing.T) {
	t.Setenv(Env, "")
	if FromEnv() != nil {
		t.Fatal("FromEnv returned a hook with the variable unset")
	}
}

// A hook that is set passes over other steps and earlier times.
func TestFromEnvPassesOtherSteps(t *testing.T) {
	t.Setenv(Env, "after-put:3")
	hook := FromEnv()
	if hook == nil {
		t.Fatal("FromEnv returned no hook with the variable set")
	}
	hook("after-row")
	hook("after-put")
	hook("after-put") // the third time would kill the test binary
}
