package store

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"

	"github.com/google/uuid"
)

// cursorVersion lets the format change without misreading old cursors.
const cursorVersion = 1

// cursorLen is the version byte, created_at in Unix microseconds (what
// PostgreSQL stores, so the position is exact) and the id.
const cursorLen = 1 + 8 + 16

// The range of created_at a cursor may carry: years 1 to 9999.
var (
	minCursorMicros = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
)

// ErrInvalidCursor means a cursor string is not one Encode produced.
var ErrInvalidCursor = errors.New("invalid cursor: pass the nextCursor of the previous page unchanged, or omit it for the first page")

// Encode returns the cursor as an opaque URL-safe string.
func (c Cursor) Encode() string {
	b := make([]byte, cursorLen)
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.CreatedAt.UnixMicro()))
	copy(b[9:], c.ID[:])
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor parses a string from Cursor.Encode. Anything else is
// ErrInvalidCursor.
func DecodeCursor(s string) (Cursor, error) {
	if base64.RawURLEncoding.DecodedLen(len(s)) != cursorLen {
		return Cursor{}, ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || b[0] != cursorVersion {
		return Cursor{}, ErrInvalidCursor
	}
	id, err := uuid.FromBytes(b[9:])
	if err != nil {
		return Cursor{}, ErrInvalidCursor
	}
	micros := int64(binary.BigEndian.Uint64(b[1:9]))
	// No row is created outside these years; PostgreSQL refuses some times
	// beyond them outright, which would turn a forged cursor into a 500.
	if micros < minCursorMicros || micros > maxCursorMicros {
		return Cursor{}, ErrInvalidCursor
	}
	return Cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}, nil
}
