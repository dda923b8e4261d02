package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// The memory report is written even when the log level would hide info lines, and
// names every figure.
func TestLogMemoryWhateverTheLevel(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))
		logMemory(context.Background(), log)
		line := buf.String()
		if !strings.Contains(line, "msg=memory") {
			t.Fatalf("level %s: no memory line in %q", level, line)
		}
		for _, m := range memoryMetrics {
			if !strings.Contains(line, " "+m.name+"=") {
				t.Errorf("level %s: %s missing from %q", level, m.name, line)
			}
		}
	}
}
