package httpapi

import (
	"errors"

	"github.com/mcpconn/terraform-provider-mcp/apiserver/contract"
	"github.com/mcpconn/terraform-provider-mcp/apiserver/store"
)

// What checks tell about a record, the same on both checked kinds
// (SPEC §8): the check state, the capabilities and serverInfo of the last
// passing check, and the approval of a catalog.

// toCheckState is the one place a record's stored check state becomes the
// wire's.
func toCheckState(s store.CheckState) contract.CheckState {
	return contract.CheckState{
		ProtocolVersion:   s.ProtocolVersion,
		LastErrorKind:     (*contract.ErrorKind)(s.LastErrorKind),
		ToolCount:         s.ToolCount,
		ToolsHash:         s.ToolsHash,
		ToolsChangedAt:    contract.TimePtr(s.ToolsChangedAt),
		ApprovedToolsHash: s.ApprovedToolsHash,
		ToolsDrift:        s.ApprovedToolsHash != nil && (s.ToolsHash == nil || *s.ApprovedToolsHash != *s.ToolsHash),
	}
}

// toCapabilities is the wire form of stored capabilities; nil before the
// first passing check.
func toCapabilities(c *store.Capabilities) *contract.Capabilities {
	if c == nil {
		return nil
	}
	return &contract.Capabilities{Tools: c.Tools, Resources: c.Resources, Prompts: c.Prompts}
}

// toImplementation is the wire form of a stored serverInfo; nil before the
// first passing check.
func toImplementation(name, version *string) *contract.Implementation {
	if name == nil {
		return nil
	}
	impl := contract.Implementation{Name: *name}
	if version != nil {
		impl.Version = *version
	}
	return &impl
}

// forgetEndpoint clears what the last check learnt of the endpoint itself
// when a PATCH points the record elsewhere, as lastError is cleared. The
// catalog's fields stay: they describe the stored catalog, which GET
// …/catalog still returns, and an approval keeps showing drift against
// what the new endpoint offers.
func forgetEndpoint(s *store.CheckState) {
	s.ProtocolVersion = nil
	s.LastErrorKind = nil
}

// refuseApprovalOnCreate refuses an approvedToolsHash on create: it must be
// a toolsHash the record has had (SPEC §8), and a new record has had none.
func refuseApprovalOnCreate(string) error { return errApprovalOnCreate }

var errApprovalOnCreate = badRequest("approvedToolsHash: a new record has had no catalog yet; set it with PATCH after a check has passed")

// checkApprovedHash checks the shape of a PATCH's approvedToolsHash; ""
// passes, as it removes the approval. Whether the record has had the hash
// is approve's part.
func checkApprovedHash(hash string) error {
	if hash == "" || contract.ValidHash(hash) {
		return nil
	}
	return badRequest(`approvedToolsHash must be a toolsHash, %q followed by 64 lower-case hex digits, or "" to remove the approval; got %q`,
		contract.HashPrefix, clipped(hash))
}

// approve applies a validated PATCH's approvedToolsHash (nil: unchanged,
// "": removed) to state. The store refuses, on the locked row, a hash the
// record has never had; unknownHash turns that into the client's error.
func approve(hash *string, state *store.CheckState) {
	switch {
	case hash == nil:
	case *hash == "":
		state.ApprovedToolsHash = nil
	default:
		state.ApprovedToolsHash = new(*hash)
	}
}

// unknownHash is err, or, when the store refused the approval of hash on
// the record id, the 400 that says what to send instead.
func (k checkedKind[ID]) unknownHash(err error, id ID, hash *string) error {
	if !errors.Is(err, store.ErrUnknownToolsHash) || hash == nil {
		return err
	}
	base := k.path + "/" + k.text(id)
	return badRequest("approvedToolsHash %q is not a toolsHash this %s has had; use one of its catalog's toolsHash values (GET %s/catalog or %s/catalog-changes)",
		*hash, k.name, base, base)
}
