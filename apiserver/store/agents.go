package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
)

// Agent is a row of agents with its assignments in order.
type Agent struct {
	Key[uuid.UUID]
	Name        string  `db:"name"`
	Description *string `db:"description"`
	Timestamps
	// Assignments are stored in agent_assignments.
	Assignments []Assignment `db:"-"`
}

// Assignment gives an agent one connection or one proxied MCP server of
// its tenant: exactly one of ConnectionID and ServerID is set.
type Assignment struct {
	ConnectionID *uuid.UUID
	ServerID     *string
	// Prefix is empty in a write that lets the store choose: it then
	// becomes contract.DefaultPrefix of the record's name.
	Prefix string
	// AllowedTools nil means every tool of the record.
	AllowedTools []string
	// RecordName and RecordInstructions are the assigned record's name and
	// instructions, read with the agent; writes ignore them.
	RecordName         string
	RecordInstructions *string
}

// Instructions are the agent's composed instructions (SPEC §10): for each
// assignment in order whose record has instructions, "## <record name>" and
// a line break, then the instructions, separated by blank lines; nil when
// none has any.
func (a Agent) Instructions() *string {
	var parts []string
	for _, as := range a.Assignments {
		if as.RecordInstructions != nil && *as.RecordInstructions != "" {
			parts = append(parts, "## "+as.RecordName+"\n"+*as.RecordInstructions)
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return new(strings.Join(parts, "\n\n"))
}

// AssignmentProblem is why the store refused an assignment.
type AssignmentProblem int

// The problems an AssignmentError reports.
const (
	// AssignmentNotFound: the tenant has no such connection or server
	// (also when another tenant has it).
	AssignmentNotFound AssignmentProblem = iota + 1
	// AssignmentNotProxy: the server's connectionType is not proxy, so the
	// gateway does not serve it.
	AssignmentNotProxy
	// AssignmentPrefixTaken: an earlier assignment of the agent has the
	// same prefix.
	AssignmentPrefixTaken
)

// AssignmentError is the refusal of an agent's assignment.
type AssignmentError struct {
	// Index is the assignment's place in the list written.
	Index int
	// Field is the refused field: "connectionId", "serverId" or "prefix".
	Field string
	// Value is the refused value.
	Value   string
	Problem AssignmentProblem
}

func (e *AssignmentError) Error() string {
	switch e.Problem {
	case AssignmentNotFound:
		return fmt.Sprintf("assignments[%d].%s: %s not found", e.Index, e.Field, e.Value)
	case AssignmentNotProxy:
		return fmt.Sprintf("assignments[%d].%s: %s is not a proxy server", e.Index, e.Field, e.Value)
	default:
		return fmt.Sprintf("assignments[%d].%s: prefix %q is used by an earlier assignment", e.Index, e.Field, e.Value)
	}
}

// ServerAssignedError is the refusal to make an assigned MCP server
// direct: agents reach their servers through the gateway, which serves
// proxy servers only.
type ServerAssignedError struct {
	// Agents is how many agents have the server assigned.
	Agents int
}

func (e *ServerAssignedError) Error() string {
	return fmt.Sprintf("MCP server is assigned to %d agents", e.Agents)
}

// ListAgentsParams selects a page of a tenant's agents.
type ListAgentsParams struct {
	TenantID uuid.UUID
	Name     *string // exact match
	Limit    int     // 1..contract.MaxPageLimit
	After    *Cursor
}

// AgentIDs are UUIDs.
var AgentIDs = IDFormat{uuid: true}

const agentColumns = `id, tenant_id, name, description, ` + timestampColumns

// CreateAgent inserts a with its assignments. The caller sets ID (a
// version 7 UUID), TenantID, Name, Description and Assignments; the store
// fills the stored values back into a, including each assignment's prefix,
// record name and instructions. ErrNameTaken: the tenant has an agent of
// that name; *AssignmentError: an assignment names no record of the tenant,
// a direct server, or a prefix used before it; ErrNotFound: no such tenant.
func (s *Store) CreateAgent(ctx context.Context, a *Agent) error {
	if a.ID == uuid.Nil {
		return errors.New("create agent: the caller must assign an id")
	}
	var stored Agent
	err := s.inTx(ctx, "create agent", func(tx *sqlx.Tx) error {
		err := namedGet(ctx, tx, &stored, `
			INSERT INTO agents (id, tenant_id, name, description, created_at, updated_at)
			VALUES (:id, :tenant_id, :name, :description,
				date_trunc('milliseconds', now()), date_trunc('milliseconds', now()))
			RETURNING `+agentColumns,
			map[string]any{"id": a.ID, "tenant_id": a.TenantID, "name": a.Name, "description": a.Description})
		if err != nil {
			return s.agentError("create agent", a, err)
		}
		if stored.Assignments, err = s.setAssignments(ctx, tx, a.TenantID, a.ID, a.Assignments); err != nil {
			return err
		}
		return s.audit(ctx, tx, "create agent")
	})
	if err != nil {
		return err
	}
	*a = stored.utc()
	return nil
}

// GetAgent returns the tenant's agent id with its assignments, or
// ErrNotFound (also when it belongs to another tenant).
func (s *Store) GetAgent(ctx context.Context, tenantID, id uuid.UUID) (Agent, error) {
	var a Agent
	err := namedGet(ctx, s.db, &a, `SELECT `+agentColumns+` FROM agents WHERE tenant_id = :tenant_id AND id = :id`,
		map[string]any{"tenant_id": tenantID, "id": id})
	if errors.Is(err, sql.ErrNoRows) {
		return Agent{}, ErrNotFound
	}
	if err != nil {
		return Agent{}, s.fail("get agent", err)
	}
	byAgent, err := s.loadAssignments(ctx, s.db, []uuid.UUID{id})
	if err != nil {
		return Agent{}, err
	}
	a.Assignments = byAgent[id]
	return a.utc(), nil
}

// ListAgents returns a page of the tenant's agents in creation order, each
// with its assignments, and the cursor of the next page when there is one.
func (s *Store) ListAgents(ctx context.Context, p ListAgentsParams) ([]Agent, *Cursor, error) {
	q := pageQuery{op: "list agents", table: "agents", columns: agentColumns, idType: "uuid",
		filters: map[string]*string{"name": p.Name}, limit: p.Limit, after: p.After}
	rows, next, err := selectPage[Agent](ctx, s, p.TenantID, q, func(last Agent) Cursor {
		return Cursor{CreatedAt: last.CreatedAt, ID: last.ID.String()}
	})
	if err != nil {
		return nil, nil, err
	}
	ids := make([]uuid.UUID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	byAgent, err := s.loadAssignments(ctx, s.db, ids)
	if err != nil {
		return nil, nil, err
	}
	for i := range rows {
		rows[i].Assignments = byAgent[rows[i].ID]
	}
	return rows, next, nil
}

// UpdateAgent changes the tenant's agent id under a row lock: fn sees the
// current row with its assignments and changes Name, Description and
// Assignments; nothing is written when it returns an error, which is
// returned as is. Assignments are written again only when fn changed them
// (an assignment with an empty Prefix gets the default one). UpdatedAt
// becomes the database's current time. ErrNotFound, ErrNameTaken and
// *AssignmentError as for CreateAgent.
func (s *Store) UpdateAgent(ctx context.Context, tenantID, id uuid.UUID, fn func(*Agent) error) (Agent, error) {
	var stored Agent
	err := s.inTx(ctx, "update agent", func(tx *sqlx.Tx) error {
		var current Agent
		err := namedGet(ctx, tx, &current, `SELECT `+agentColumns+` FROM agents
			WHERE tenant_id = :tenant_id AND id = :id
			FOR UPDATE`,
			map[string]any{"tenant_id": tenantID, "id": id})
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return s.fail("update agent", err)
		}
		byAgent, err := s.loadAssignments(ctx, tx, []uuid.UUID{id})
		if err != nil {
			return err
		}
		current.Assignments = byAgent[id]
		current = current.utc()
		row := current
		row.Assignments = slices.Clone(current.Assignments)
		if err := fn(&row); err != nil {
			return err
		}
		err = namedGet(ctx, tx, &stored, `
			UPDATE agents SET
				name = :name,
				description = :description,
				updated_at = `+updatedAtSQL+`
			WHERE tenant_id = :tenant_id AND id = :id
			RETURNING `+agentColumns,
			map[string]any{"tenant_id": tenantID, "id": id, "name": row.Name, "description": row.Description})
		if err != nil {
			return s.agentError("update agent", &row, err)
		}
		stored.Assignments = current.Assignments
		if !slices.EqualFunc(row.Assignments, current.Assignments, sameAssignment) {
			if stored.Assignments, err = s.setAssignments(ctx, tx, tenantID, id, row.Assignments); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, "update agent")
	})
	if err != nil {
		return Agent{}, err
	}
	return stored.utc(), nil
}

// DeleteAgent deletes the tenant's agent id with its assignments and
// tokens, or returns ErrNotFound.
func (s *Store) DeleteAgent(ctx context.Context, tenantID, id uuid.UUID) error {
	return s.write(ctx, "delete agent", func(q sqlx.ExtContext) error {
		return deleteRow(ctx, s, q, "delete agent",
			`DELETE FROM agents WHERE tenant_id = :tenant_id AND id = :id`,
			map[string]any{"tenant_id": tenantID, "id": id})
	})
}

// deleteRow runs a DELETE of one row and returns ErrNotFound when it
// deleted none.
func deleteRow(ctx context.Context, s *Store, q sqlx.ExtContext, op, query string, arg any) error {
	res, err := namedExec(ctx, q, query, arg)
	if err != nil {
		return s.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.fail(op, err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// sameAssignment reports whether two assignments write the same row.
func sameAssignment(a, b Assignment) bool {
	return equalPtr(a.ConnectionID, b.ConnectionID) && equalPtr(a.ServerID, b.ServerID) &&
		a.Prefix == b.Prefix && (a.AllowedTools == nil) == (b.AllowedTools == nil) &&
		slices.Equal(a.AllowedTools, b.AllowedTools)
}

func equalPtr[T comparable](a, b *T) bool {
	return a == nil && b == nil || a != nil && b != nil && *a == *b
}

// assignedRecord is a connection or server an assignment may name.
type assignedRecord struct {
	ID             string  `db:"id"`
	Name           string  `db:"name"`
	ConnectionType string  `db:"connection_type"` // servers only
	Instructions   *string `db:"instructions"`
}

// setAssignments replaces the agent's assignments with list, in order, and
// returns them as stored. The records are locked against key changes
// (FOR KEY SHARE) until the transaction ends, so a server cannot be made
// direct, nor a record deleted, between the check and the insert.
func (s *Store) setAssignments(ctx context.Context, tx *sqlx.Tx, tenantID, agentID uuid.UUID, list []Assignment) ([]Assignment, error) {
	const op = "set agent assignments"
	var connIDs, serverIDs pq.StringArray
	for _, as := range list {
		switch {
		case as.ConnectionID != nil:
			connIDs = append(connIDs, as.ConnectionID.String())
		case as.ServerID != nil:
			serverIDs = append(serverIDs, *as.ServerID)
		}
	}
	conns, err := lockRecords(ctx, tx, `SELECT id, name, '' AS connection_type, instructions FROM mcp_connections
		WHERE tenant_id = :tenant_id AND id = ANY(CAST(:ids AS uuid[])) FOR KEY SHARE`, tenantID, connIDs)
	if err != nil {
		return nil, s.fail(op, err)
	}
	servers, err := lockRecords(ctx, tx, `SELECT id, name, connection_type, instructions FROM mcp_servers
		WHERE tenant_id = :tenant_id AND id = ANY(CAST(:ids AS text[])) FOR KEY SHARE`, tenantID, serverIDs)
	if err != nil {
		return nil, s.fail(op, err)
	}

	out := make([]Assignment, len(list))
	prefixes := map[string]bool{}
	n := len(list)
	conn := make([]*string, n)
	srv := make([]*string, n)
	prefix := make(pq.StringArray, n)
	allowed := make([]*string, n)
	for i, as := range list {
		var rec assignedRecord
		var ok bool
		switch {
		case as.ConnectionID != nil:
			if rec, ok = conns[as.ConnectionID.String()]; !ok {
				return nil, &AssignmentError{Index: i, Field: "connectionId", Value: as.ConnectionID.String(), Problem: AssignmentNotFound}
			}
			conn[i] = new(rec.ID)
		case as.ServerID != nil:
			if rec, ok = servers[*as.ServerID]; !ok {
				return nil, &AssignmentError{Index: i, Field: "serverId", Value: *as.ServerID, Problem: AssignmentNotFound}
			}
			if rec.ConnectionType != string(contract.ConnectionProxy) {
				return nil, &AssignmentError{Index: i, Field: "serverId", Value: *as.ServerID, Problem: AssignmentNotProxy}
			}
			srv[i] = new(rec.ID)
		default:
			return nil, fmt.Errorf("%s: assignment %d names neither a connection nor a server", op, i)
		}
		if as.Prefix == "" {
			as.Prefix = contract.DefaultPrefix(rec.Name)
		}
		if prefixes[as.Prefix] {
			return nil, &AssignmentError{Index: i, Field: "prefix", Value: as.Prefix, Problem: AssignmentPrefixTaken}
		}
		prefixes[as.Prefix] = true
		if as.AllowedTools != nil {
			v, err := textValue(pq.StringArray(as.AllowedTools))
			if err != nil {
				return nil, fmt.Errorf("%s: allowed tools of assignment %d: %w", op, i, err)
			}
			allowed[i] = &v
		}
		prefix[i] = as.Prefix
		as.AllowedTools = slices.Clone(as.AllowedTools)
		as.RecordName, as.RecordInstructions = rec.Name, rec.Instructions
		out[i] = as
	}
	if _, err := namedExec(ctx, tx, `DELETE FROM agent_assignments WHERE agent_id = :agent_id`,
		map[string]any{"agent_id": agentID}); err != nil {
		return nil, s.fail(op, err)
	}
	if n == 0 {
		return out, nil
	}
	_, err = namedExec(ctx, tx, `
		INSERT INTO agent_assignments (tenant_id, agent_id, position, connection_id, server_id, prefix, allowed_tools)
		SELECT :tenant_id, :agent_id, r.ord - 1, r.connection_id, r.server_id, r.prefix, CAST(r.allowed_tools AS text[])
		FROM unnest(CAST(:connections AS uuid[]), CAST(:servers AS text[]), CAST(:prefixes AS text[]),
			CAST(:allowed AS text[])) WITH ORDINALITY AS r(connection_id, server_id, prefix, allowed_tools, ord)`,
		map[string]any{"tenant_id": tenantID, "agent_id": agentID, "connections": pq.Array(conn),
			"servers": pq.Array(srv), "prefixes": prefix, "allowed": pq.Array(allowed)})
	switch {
	case constraint(err, pqerror.UniqueViolation) == "agent_assignments_prefix_key":
		// Unreachable: the loop above refuses duplicates first.
		return nil, &AssignmentError{Index: n - 1, Field: "prefix", Value: prefix[n-1], Problem: AssignmentPrefixTaken}
	case err != nil:
		return nil, s.fail(op, err)
	}
	return out, nil
}

// lockRecords reads the tenant's records of ids with query, by id.
func lockRecords(ctx context.Context, tx *sqlx.Tx, query string, tenantID uuid.UUID, ids pq.StringArray) (map[string]assignedRecord, error) {
	out := map[string]assignedRecord{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []assignedRecord
	if err := namedSelect(ctx, tx, &rows, query, map[string]any{"tenant_id": tenantID, "ids": ids}); err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// assignmentRow is how an assignment is scanned with its record's name and
// instructions.
type assignmentRow struct {
	AgentID            uuid.UUID      `db:"agent_id"`
	ConnectionID       *uuid.UUID     `db:"connection_id"`
	ServerID           *string        `db:"server_id"`
	Prefix             string         `db:"prefix"`
	AllowedTools       pq.StringArray `db:"allowed_tools"`
	RecordName         string         `db:"record_name"`
	RecordInstructions *string        `db:"record_instructions"`
}

// loadAssignments reads the assignments of the agents, in order, by agent.
func (s *Store) loadAssignments(ctx context.Context, q sqlx.ExtContext, agentIDs []uuid.UUID) (map[uuid.UUID][]Assignment, error) {
	out := map[uuid.UUID][]Assignment{}
	if len(agentIDs) == 0 {
		return out, nil
	}
	ids := make(pq.StringArray, len(agentIDs))
	for i, id := range agentIDs {
		ids[i] = id.String()
	}
	var rows []assignmentRow
	err := namedSelect(ctx, q, &rows, `
		SELECT a.agent_id, a.connection_id, a.server_id, a.prefix, a.allowed_tools,
			CASE WHEN a.connection_id IS NOT NULL THEN c.name ELSE s.name END AS record_name,
			CASE WHEN a.connection_id IS NOT NULL THEN c.instructions ELSE s.instructions END AS record_instructions
		FROM agent_assignments a
		LEFT JOIN mcp_connections c ON c.id = a.connection_id
		LEFT JOIN mcp_servers s ON s.id = a.server_id
		WHERE a.agent_id = ANY(CAST(:ids AS uuid[]))
		ORDER BY a.agent_id, a.position`, map[string]any{"ids": ids})
	if err != nil {
		return nil, s.fail("load agent assignments", err)
	}
	for _, r := range rows {
		as := Assignment{ConnectionID: r.ConnectionID, ServerID: r.ServerID, Prefix: r.Prefix,
			RecordName: r.RecordName, RecordInstructions: r.RecordInstructions}
		if r.AllowedTools != nil {
			as.AllowedTools = []string(r.AllowedTools)
		}
		out[r.AgentID] = append(out[r.AgentID], as)
	}
	return out, nil
}

// agentError turns constraint violations into errors that say what is
// wrong with a.
func (s *Store) agentError(op string, a *Agent, err error) error {
	return s.refusal(op, constraints{noun: "agent", id: a.ID, tenantID: a.TenantID,
		nameKey: "agents_tenant_id_name_key", idKeys: []string{"agents_pkey", "agents_tenant_id_id_key"},
		checks: map[string]string{"agents_name_check": "the name must not be empty"}}, err)
}

func (a Agent) utc() Agent {
	a.Timestamps = a.Timestamps.utc()
	return a
}
