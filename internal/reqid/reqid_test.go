package reqid

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestWithAndFrom(t *testing.T) {
	ctx := context.Background()
	if got := From(ctx); got != "" {
		t.Fatalf("From(Background) = %q, want empty", got)
	}
	if With(ctx, "") != ctx {
		t.Fatal("With an empty id must leave the context as it is")
	}
	a := With(ctx, "req-a")
	if got := From(a); got != "req-a" {
		t.Fatalf("From = %q, want req-a", got)
	}
	if With(a, "req-a") != a {
		t.Fatal("With the id the context already carries must not wrap it again")
	}
	if got := From(With(a, "req-b")); got != "req-b" {
		t.Fatalf("a later id must win: From = %q, want req-b", got)
	}
}

func TestLoggerNamesTheRequest(t *testing.T) {
	var buf bytes.Buffer
	log := Logger(slog.New(slog.NewJSONHandler(&buf, nil)).With("component", "x"))
	if Logger(log) != log {
		t.Fatal("Logger of a Logger must not wrap it twice (every line would name the request twice)")
	}
	log.InfoContext(With(context.Background(), "req-1"), "with id", "k", "v")
	log.InfoContext(context.Background(), "without id")
	log.Info("no context")

	dec := json.NewDecoder(&buf)
	var lines []map[string]any
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3: %v", len(lines), lines)
	}
	if lines[0][Attr] != "req-1" || lines[0]["k"] != "v" || lines[0]["component"] != "x" {
		t.Errorf("line logged with a request's context: %v, want request_id req-1 beside its own attributes", lines[0])
	}
	for _, l := range lines[1:] {
		if _, ok := l[Attr]; ok {
			t.Errorf("line logged without a request id names one: %v", l)
		}
	}
}

func TestLoggerOfNilDiscards(t *testing.T) {
	log := Logger(nil)
	if log.Enabled(context.Background(), slog.LevelError) {
		t.Fatal("Logger(nil) must discard everything")
	}
	log.Error("dropped") // must not panic
}
