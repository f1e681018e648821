package client

import (
	"fmt"
	"net/url"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// collection is where one kind of record lives in the API and how an id of
// that kind is checked before it reaches a URL: an id the API cannot have
// issued ("", "..", "a/b") would otherwise address another endpoint.
type collection struct {
	path    string
	checkID func(id string) error
	err     error // why the collection itself has no path (a bad parent id)
}

var (
	connections = collection{path: connectionsPath, checkID: uuidID("connection")}
	agents      = collection{path: agentsPath, checkID: uuidID("agent")}
	servers     = collection{path: serversPath, checkID: prefixedID("MCP server", contract.ValidServerID, contract.ServerIDPrefix)}
	projects    = collection{path: projectsPath, checkID: prefixedID("project", contract.ValidProjectID, contract.ProjectIDPrefix)}
)

// uuidID checks the id of a kind whose ids are UUIDs: the API parses them,
// so only the ids that a URL path would clean away are refused here.
func uuidID(noun string) func(string) error {
	return func(id string) error {
		switch id {
		case "":
			return fmt.Errorf("%w: the %s id must not be empty", ErrBadRequest, noun)
		case ".", "..":
			return fmt.Errorf("%w: the %s id must be a UUID, got %q", ErrBadRequest, noun, id)
		}
		return nil
	}
}

// prefixedID checks the id of a kind whose ids are prefix followed by
// letters and digits.
func prefixedID(noun string, valid func(string) bool, prefix string) func(string) error {
	return func(id string) error {
		if !valid(id) {
			return fmt.Errorf("%w: the %s id must be %q followed by letters and digits, got %q",
				ErrBadRequest, noun, prefix, id)
		}
		return nil
	}
}

// at is the path of the record id of col, or why id cannot be one.
func (col collection) at(id string) (string, error) {
	if col.err != nil {
		return "", col.err
	}
	if err := col.checkID(id); err != nil {
		return "", err
	}
	return col.path + "/" + url.PathEscape(id), nil
}

// on addresses cl to the record id of col: cl.path ("", "/checks") is
// appended to the record's path. A bad id makes a call that do refuses
// unsent.
func (col collection) on(id string, cl call) call {
	p, err := col.at(id)
	cl.path, cl.err = p+cl.path, err
	return cl
}

// below is the collection named sub ("tokens") of the record id of col,
// whose own ids are checked by checkID.
func (col collection) below(id, sub string, checkID func(string) error) collection {
	p, err := col.at(id)
	return collection{path: p + "/" + sub, checkID: checkID, err: err}
}
