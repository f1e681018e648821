package store

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Cursor is a position in a list of records ordered by (created_at, id): the
// keyset every list of the API pages on. ID is the record's id as text (a
// connection's UUID in its canonical form).
type Cursor struct {
	CreatedAt time.Time
	ID        string
}

// Cursor formats, by their first byte. A UUID id is carried as its 16 bytes,
// which keeps connection cursors short; any other id as its text. The
// versions differ, so a cursor of one list is never mistaken for another's.
const (
	uuidCursorVersion = 1
	textCursorVersion = 2
)

// cursorHeader is the version byte and created_at in Unix microseconds
// (what PostgreSQL stores, so the position is exact).
const cursorHeader = 1 + 8

// maxCursorID bounds the text id a cursor may carry (prefix plus 64 characters).
const maxCursorID = 80

// The range of created_at a cursor may carry: years 1 to 9999.
var (
	minCursorMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// ErrInvalidCursor means a cursor string is not one Encode produced.
var ErrInvalidCursor = errors.New("invalid cursor: pass the nextCursor of the previous page unchanged, or omit it for the first page")

// Encode returns the cursor as an opaque URL-safe string.
func (c Cursor) Encode() string {
	id, err := uuid.Parse(c.ID)
	isUUID := err == nil && id.String() == c.ID
	b := make([]byte, cursorHeader, cursorHeader+max(len(c.ID), len(id)))
	binary.BigEndian.PutUint64(b[1:cursorHeader], uint64(c.CreatedAt.UnixMicro()))
	if isUUID {
		b[0] = uuidCursorVersion
		b = append(b, id[:]...)
	} else {
		b[0] = textCursorVersion
		b = append(b, c.ID...)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a string from Cursor.Encode whose id has the form of
// ids (ConnectionIDs, ServerIDs, ProjectIDs). Anything else is
// ErrInvalidCursor.
func DecodeCursor(s string, ids IDFormat) (Cursor, error) {
	if len(s) > base64.RawURLEncoding.EncodedLen(cursorHeader+maxCursorID) {
		return Cursor{}, ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) <= cursorHeader {
		return Cursor{}, ErrInvalidCursor
	}
	var id string
	switch {
	case ids.uuid && b[0] == uuidCursorVersion && len(b) == cursorHeader+16:
		u, err := uuid.FromBytes(b[cursorHeader:])
		if err != nil {
			return Cursor{}, ErrInvalidCursor
		}
		id = u.String()
	case !ids.uuid && b[0] == textCursorVersion:
		id = string(b[cursorHeader:])
		if !ids.valid(id) {
			return Cursor{}, ErrInvalidCursor
		}
	default:
		return Cursor{}, ErrInvalidCursor
	}
	micros := int64(binary.BigEndian.Uint64(b[1:cursorHeader]))
	// No row is created outside these years; PostgreSQL refuses some times
	// beyond them outright, which would turn a forged cursor into a 500.
	if micros < minCursorMicros || micros > maxCursorMicros {
		return Cursor{}, ErrInvalidCursor
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}, nil
}

// valid reports whether id is prefix followed by base62 characters.
func (f IDFormat) valid(id string) bool {
	rest, ok := strings.CutPrefix(id, f.prefix)
	if !ok || rest == "" {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(base62, rest[i]) < 0 {
			return false
		}
	}
	return true
}
