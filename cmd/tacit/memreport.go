package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/metrics"
	"syscall"
)

// reportMemoryOnSignal logs the process's Go memory figures each time it receives
// SIGUSR1 (`kill -USR1 <pid>`), until ctx ends: how an operator, or bench/compare.sh,
// reads the heap of a running server without a debug endpoint. The line is written
// whatever the log level, since someone asked for it.
func reportMemoryOnSignal(ctx context.Context, log *slog.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				logMemory(ctx, log)
			}
		}
	}()
}

// memoryMetrics are the runtime/metrics reported by logMemory, with the names they
// are logged under.
var memoryMetrics = []struct{ name, metric string }{
	{"heap_live_mb", "/gc/heap/live:bytes"},                   // reachable at the last GC
	{"heap_objects_mb", "/memory/classes/heap/objects:bytes"}, // live and not yet swept
	{"heap_goal_mb", "/gc/heap/goal:bytes"},
	{"heap_free_mb", "/memory/classes/heap/free:bytes"},         // held, could be returned
	{"heap_released_mb", "/memory/classes/heap/released:bytes"}, // returned to the OS
	{"stacks_mb", "/memory/classes/heap/stacks:bytes"},
	{"go_total_mb", "/memory/classes/total:bytes"}, // everything the runtime mapped
	{"goroutines", "/sched/goroutines:goroutines"},
	{"gc_cycles", "/gc/cycles/total:gc-cycles"},
}

func logMemory(ctx context.Context, log *slog.Logger) {
	samples := make([]metrics.Sample, len(memoryMetrics))
	for i, m := range memoryMetrics {
		samples[i].Name = m.metric
	}
	metrics.Read(samples)
	attrs := make([]slog.Attr, 0, len(samples))
	for i, s := range samples {
		if s.Value.Kind() != metrics.KindUint64 {
			continue // a metric this Go version does not have
		}
		v := s.Value.Uint64()
		if name := memoryMetrics[i].name; len(name) > 3 && name[len(name)-3:] == "_mb" {
			attrs = append(attrs, slog.Float64(name, float64(v*10/(1<<20))/10))
		} else {
			attrs = append(attrs, slog.Uint64(name, v))
		}
	}
	level := slog.LevelInfo
	if !log.Enabled(ctx, level) {
		level = slog.LevelWarn
		if !log.Enabled(ctx, level) {
			level = slog.LevelError
		}
	}
	log.LogAttrs(ctx, level, "memory", attrs...)
}
