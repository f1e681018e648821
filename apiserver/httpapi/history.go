package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// history serves what checks of one checked kind recorded (SPEC §8):
// GET {id}/catalog, {id}/checks and {id}/catalog-changes. Connections and
// servers differ only in their kind and in the bodies of their family.
type history[ID any] struct {
	kind   checkedKind[ID]
	store  *store.Store
	bodies historyBodies
}

// historyBodies wraps the catalog and history pages in a family's success body.
type historyBodies struct {
	catalog func(contract.Catalog) any
	checks  func(contract.CheckList) any
	changes func(contract.CatalogChangeList) any
}

var (
	// plainHistory answers the bare objects, as /api/mcp-connections does.
	plainHistory = historyBodies{
		catalog: func(c contract.Catalog) any { return c },
		checks:  func(l contract.CheckList) any { return l },
		changes: func(l contract.CatalogChangeList) any { return l },
	}
	// envelopeHistory answers in the {"success": true, ...} envelope of
	// /api/mcp/servers, under the keys catalog, checks and changes.
	envelopeHistory = historyBodies{
		catalog: func(c contract.Catalog) any { return contract.CatalogEnvelope{Success: true, Catalog: c} },
		checks: func(l contract.CheckList) any {
			return contract.CheckListEnvelope{Success: true, Checks: l.Data, NextCursor: l.NextCursor}
		},
		changes: func(l contract.CatalogChangeList) any {
			return contract.CatalogChangeListEnvelope{Success: true, Changes: l.Data, NextCursor: l.NextCursor}
		},
	}
)

// register adds the routes to g, the kind's collection, answered through e.
func (h history[ID]) register(g *gin.RouterGroup, e errorHandler) {
	g.GET("/:id/catalog", e.wrap("get "+h.kind.name+" catalog", h.catalog))
	g.GET("/:id/checks", e.wrap("list "+h.kind.name+" checks", h.checks))
	g.GET("/:id/catalog-changes", e.wrap("list "+h.kind.name+" catalog changes", h.changes))
}

func (h history[ID]) catalog(c *gin.Context) error {
	id, err := h.kind.pathID(c)
	if err != nil {
		return err
	}
	stored, err := h.store.GetCatalog(c.Request.Context(), h.kind.records, tenantOf(c), h.kind.text(id))
	if errors.Is(err, store.ErrNoCatalog) {
		return &apiError{status: http.StatusNotFound, msg: h.kind.noCatalog()}
	}
	if err != nil {
		return err
	}
	out, err := toCatalog(stored)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, h.bodies.catalog(out))
	return nil
}

// toCatalog is the wire form of a stored catalog, whose body is the JSON of
// a contract.Catalog but for observedAt.
func toCatalog(s store.StoredCatalog) (contract.Catalog, error) {
	var out contract.Catalog
	if err := json.Unmarshal(s.Body, &out); err != nil {
		return contract.Catalog{}, fmt.Errorf("decode stored catalog: %w", err)
	}
	out.ObservedAt = contract.NewTime(s.ObservedAt)
	// a kind the server does not offer is an empty list, never null
	out.Tools = nonNil(out.Tools)
	out.Prompts = nonNil(out.Prompts)
	out.Resources = nonNil(out.Resources)
	return out, nil
}

func (h history[ID]) checks(c *gin.Context) error {
	return answerHistory(h, c, h.store.ListChecks, toCheckEntry, h.bodies.checks)
}

func (h history[ID]) changes(c *gin.Context) error {
	return answerHistory(h, c, h.store.ListCatalogChanges, toCatalogChange, h.bodies.changes)
}

func toCheckEntry(r store.CheckEntry) contract.CheckEntry {
	return contract.CheckEntry{
		At:              contract.NewTime(r.At),
		OK:              r.OK,
		DurationMs:      r.DurationMs,
		ProtocolVersion: r.ProtocolVersion,
		ErrorKind:       (*contract.ErrorKind)(r.ErrorKind),
		Error:           r.Error,
		ToolsHash:       r.ToolsHash,
	}
}

func toCatalogChange(r store.CatalogChange) contract.CatalogChange {
	return contract.CatalogChange{
		At:           contract.NewTime(r.At),
		FromHash:     r.FromHash,
		ToHash:       r.ToHash,
		ToolsAdded:   nonNil(r.ToolsAdded),
		ToolsRemoved: nonNil(r.ToolsRemoved),
		ToolsChanged: nonNil(r.ToolsChanged),
	}
}

// answerHistory answers the page the query asks for of the history of the
// record in the path: list reads it, wire converts its rows (the list is
// never null) and body wraps the page in the family's success body.
func answerHistory[ID, R, E any](h history[ID], c *gin.Context,
	list func(context.Context, store.RecordKind, uuid.UUID, string, int, *store.Cursor) ([]R, *store.Cursor, error),
	wire func(R) E, body func(contract.Page[E]) any,
) error {
	id, err := h.kind.pathID(c)
	if err != nil {
		return err
	}
	limit, after, err := parsePage(c, store.HistoryIDs)
	if err != nil {
		return err
	}
	rows, next, err := list(c.Request.Context(), h.kind.records, tenantOf(c), h.kind.text(id), limit, after)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, body(pageOf(rows, next, wire)))
	return nil
}

// nonNil is s, or an empty list for none, so the wire has [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
