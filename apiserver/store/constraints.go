package store

import (
	"fmt"
	"slices"

	"github.com/lib/pq/pqerror"
)

// constraints is what the constraints of one kind's table mean when a
// write of a record violates them.
type constraints struct {
	noun         string
	id, tenantID any // the record's
	nameKey      string
	idKeys       []string // the unique keys on the id
	// foreign are the errors of violating the named foreign keys; any
	// other one means the tenant does not exist.
	foreign map[string]error
	// checks say what is wrong when the named check constraint fails.
	checks map[string]string
}

// refusal turns err, a write's constraint violation, into an error that
// says what is wrong (ErrNameTaken for the name's unique key, ErrNotFound
// wrapped for a missing tenant); any other error is s.fail's.
func (s *Store) refusal(op string, c constraints, err error) error {
	switch name := constraint(err, pqerror.UniqueViolation); {
	case name == "":
	case name == c.nameKey:
		return ErrNameTaken
	case slices.Contains(c.idKeys, name):
		return fmt.Errorf("%s: id %v is already used by another %s", op, c.id, c.noun)
	}
	if name := constraint(err, pqerror.ForeignKeyViolation); name != "" {
		if e, ok := c.foreign[name]; ok {
			return fmt.Errorf("%s: %w", op, e)
		}
		return fmt.Errorf("%s: tenant %v: %w", op, c.tenantID, ErrNotFound)
	}
	if msg, ok := c.checks[constraint(err, pqerror.CheckViolation)]; ok {
		return fmt.Errorf("%s: %s", op, msg)
	}
	return s.fail(op, err)
}
