// Package nodefixture installs the npm dependencies of a test fixture (a
// directory with a package.json and the scripts Node runs from it) with
// scripts/npm-fixture.sh, and says where Node and the modules are.
package nodefixture

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Install is the fixture in dir, installed (once: the install is cached) as
// name; marker is a file under node_modules a finished install leaves.
type Install struct {
	// Node is Node 22's binary; Modules the node_modules directory that
	// holds the fixture's dependencies.
	Node, Modules string
}

// Run installs the fixture in dir and locates Node and its modules.
func Run(dir, name, marker string) (Install, error) {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "scripts", "npm-fixture.sh")
	cmd := exec.Command(script, dir, name, marker)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return Install{}, fmt.Errorf("scripts/npm-fixture.sh %s: %v\n%s", dir, err, stderr.String())
	}
	var in Install
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "node":
			in.Node = v
		case "modules":
			in.Modules = v
		}
	}
	if in.Node == "" || in.Modules == "" {
		return Install{}, fmt.Errorf("scripts/npm-fixture.sh %s printed no node or modules:\n%s", dir, out)
	}
	return in, nil
}
