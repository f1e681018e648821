package contract

import (
	"encoding/json"
	"fmt"
	"time"
)

// TimeLayout is how every timestamp leaves the API: RFC 3339, UTC, millisecond precision.
const TimeLayout = "2006-01-02T15:04:05.000Z07:00"

// Time is a timestamp that marshals as TimeLayout in UTC.
type Time struct {
	time.Time
}

// NewTime wraps t, truncated to the millisecond and converted to UTC.
func NewTime(t time.Time) Time {
	return Time{t.UTC().Truncate(time.Millisecond)}
}

// TimePtr is NewTime for an optional timestamp: nil stays nil.
func TimePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := NewTime(*t)
	return &v
}

// String formats the time the way the API sends it.
func (t Time) String() string {
	return t.UTC().Format(TimeLayout)
}

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.String())
}

// UnmarshalJSON implements json.Unmarshaler; it accepts any RFC 3339 timestamp.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp must be a string: %w", err)
	}
	parsed, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q is not RFC 3339: %w", s, err)
	}
	t.Time = parsed.UTC()
	return nil
}
