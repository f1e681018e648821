package contract

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimeJSON(t *testing.T) {
	in := time.Date(2026, 3, 25, 14, 0, 0, 123456789, time.FixedZone("x", 2*3600))
	b, err := json.Marshal(NewTime(in))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `"2026-03-25T12:00:00.123Z"`; got != want {
		t.Fatalf("marshal = %s, want %s", got, want)
	}
	var back Time
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Equal(in.Truncate(time.Millisecond)) {
		t.Fatalf("round trip = %v, want %v", back, in)
	}
	if err := json.Unmarshal([]byte(`"yesterday"`), &back); err == nil {
		t.Fatal("accepted a non-RFC 3339 timestamp")
	}
	if TimePtr(nil) != nil {
		t.Fatal("TimePtr(nil) != nil")
	}
}
