package httpapi

import (
	"errors"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// kind is what the handlers of every kind of record share: the kind's name,
// for messages, and the shape of its ids in paths.
type kind[ID any] struct {
	name string // "MCP connection", "MCP server", "project"
	// aName is the name with its article: "an MCP connection".
	aName string
	// audit names the kind in audit events: their recordKind and the
	// first word of their action ("connection.create").
	audit string
	// idShape says what a valid id looks like, for the message of a bad one.
	idShape string
	parseID func(raw string) (ID, bool)
	// text is an id as audit events and the store's side tables take it.
	text func(ID) string
	// agentOf is the agent a record belongs to, for its audit events; nil
	// for kinds whose records belong to none.
	agentOf func(ID) *uuid.UUID
}

// checkedKind is a kind of record that checks probe (connections and
// servers): besides the kind's names it has a check state, a catalog and a
// history in the store's side tables.
type checkedKind[ID any] struct {
	kind[ID]
	// records is the kind's family in the store's side tables.
	records store.RecordKind
	// path is the collection's path, such as "/api/mcp-connections".
	path string
}

var (
	connectionKind = checkedKind[uuid.UUID]{
		kind:    uuidKind("MCP connection", "an MCP connection", "connection"),
		records: store.ConnectionRecords, path: connectionsPath}
	serverKind = checkedKind[string]{
		kind:    prefixedKind("MCP server", "an MCP server", "server", contract.ServerIDPrefix, contract.ValidServerID),
		records: store.ServerRecords, path: serversPath}
	projectKind = prefixedKind("project", "a project", "project", contract.ProjectIDPrefix, contract.ValidProjectID)
	// An agent's events carry its own id as their agent.
	agentKind      = withAgent(uuidKind("agent", "an agent", "agent"), func(id uuid.UUID) *uuid.UUID { return &id })
	agentTokenKind = uuidKind("agent token", "an agent token", "agent_token")
)

// uuidKind is a kind whose ids are UUIDs.
func uuidKind(name, aName, audit string) kind[uuid.UUID] {
	return kind[uuid.UUID]{name: name, aName: aName, audit: audit,
		idShape: "a UUID", parseID: parseUUID, text: uuid.UUID.String}
}

// prefixedKind is a kind whose ids are prefix and letters and digits, as
// valid checks.
func prefixedKind(name, aName, audit, prefix string, valid func(string) bool) kind[string] {
	return kind[string]{name: name, aName: aName, audit: audit,
		idShape: prefixedShape(prefix), parseID: validatedBy(valid), text: func(id string) string { return id }}
}

// withAgent is k with the agent its records belong to.
func withAgent[ID any](k kind[ID], agentOf func(ID) *uuid.UUID) kind[ID] {
	k.agentOf = agentOf
	return k
}

// pathID reads the :id path parameter, which must have the kind's id shape.
func (k kind[ID]) pathID(c *gin.Context) (ID, error) {
	return k.param(c, "id")
}

// param reads the path parameter name, which must have the kind's id shape.
func (k kind[ID]) param(c *gin.Context, name string) (ID, error) {
	raw := c.Param(name)
	id, ok := k.parseID(raw)
	if !ok {
		return id, badRequest("invalid %s id %q: must be %s", k.name, clipped(raw), k.idShape)
	}
	return id, nil
}

// notFound is the message of a 404 for a record of the kind.
func (k kind[ID]) notFound() string { return k.name + " not found" }

// noCatalog is the message of a 404 for the catalog of a record that has
// not passed a check yet.
func (k kind[ID]) noCatalog() string {
	return k.name + " has no catalog yet: it has not passed a check"
}

// nameTaken turns the store's store.ErrNameTaken into a 409 naming the
// name the request sent; name is nil when it sent none.
func (k kind[ID]) nameTaken(err error, name *string) error {
	if errors.Is(err, store.ErrNameTaken) && name != nil {
		return conflict("%s named %q already exists", k.aName, *name)
	}
	return err
}

// parseUUID accepts only the canonical 36-character form of a UUID, so one
// record has one URL.
func parseUUID(raw string) (uuid.UUID, bool) {
	id, err := uuid.Parse(raw)
	return id, err == nil && len(raw) == 36
}

func validatedBy(valid func(string) bool) func(string) (string, bool) {
	return func(raw string) (string, bool) { return raw, valid(raw) }
}

func prefixedShape(prefix string) string {
	return strconv.Quote(prefix) + " followed by letters and digits"
}

// newUUID returns a time-ordered (version 7) UUID, the id of connections,
// agents and agent tokens, so rows created in the same millisecond still
// list in creation order and a row inserted while a client pages cannot land
// before that client's cursor.
func newUUID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.New()
	}
	return id
}
