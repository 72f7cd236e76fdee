package logctx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/multiline/multiline/internal/logctx"
)

func TestRecordsCarryTheContextsAttributes(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(logctx.NewHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := logctx.With(context.Background(), "request_id", "r1", "thread", "t1")
	ctx = logctx.With(ctx, "thread", "t2", slog.Int64("job", 7))
	log.InfoContext(ctx, "hello", "n", 1)
	log.Info("no context")
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("lines: %s", buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(lines[1], &second)
	if first["request_id"] != "r1" || first["thread"] != "t2" || first["job"] != float64(7) || first["component"] != "test" || first["n"] != float64(1) {
		t.Errorf("first record: %v", first)
	}
	if _, ok := second["request_id"]; ok {
		t.Errorf("a record without the context carries its attributes: %v", second)
	}
	if v, ok := logctx.Value(ctx, "request_id"); !ok || v.String() != "r1" {
		t.Errorf("Value: %v %v", v, ok)
	}
}
