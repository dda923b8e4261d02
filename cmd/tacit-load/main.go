// Command tacit-load starts a Tacit instance in-process on a loopback port, creates
// users who follow each other, and drives it with many concurrent Mastodon API
// clients: 40 % post a status, 40 % read the home timeline or the notifications, 20 %
// favourite a recent status. It prints throughput, latency percentiles and errors by
// HTTP status, and how many server log lines said "database is locked".
//
//	tacit-load -clients 200 -duration 60s                     # SQLite in a temporary directory
//	tacit-load -database 'postgres://postgres@127.0.0.1:5432/tacit_load?sslmode=disable'
//
// The PostgreSQL database should be empty: the tool creates its users there. The
// tool never targets another machine, and stops after -duration (and -max-requests,
// when set). It exits with status 1 when any request failed with a server error.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tacit-social/tacit/bench/load"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tacit-load:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		clients     = flag.Int("clients", 200, "concurrent clients")
		duration    = flag.Duration("duration", 60*time.Second, "how long to run the mix")
		users       = flag.Int("users", 50, "accounts the clients act as (shared round-robin)")
		follows     = flag.Int("follows", 10, "each user follows this many others")
		database    = flag.String("database", "", "postgres:// URL of an empty database; empty means SQLite in -data")
		dataDir     = flag.String("data", "", "data directory (default: a temporary one, removed at the end)")
		maxRequests = flag.Int64("max-requests", 0, "stop after this many requests (0: only -duration bounds the run)")
		seed        = flag.Uint64("seed", 1, "seed of the operation mix (0: random)")
		cpuProfile  = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	)
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "tacit-load-")
		if err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
		defer func() { _ = os.RemoveAll(tmp) }()
		dir = tmp
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	host := listener.Addr().String()
	cfg := config.Default()
	cfg.Host, cfg.Listen, cfg.Protocol = host, host, "http"
	cfg.DataDir = dir
	cfg.Database = *database
	cfg.RateLimit.Requests = 0 // the clients share a few accounts and one address

	// Server logs go to stderr at Warn; lines about a locked database are counted.
	locked := &lineCounter{needle: []byte("database is locked"), next: os.Stderr}
	logger := slog.New(slog.NewTextHandler(locked, &slog.HandlerOptions{Level: slog.LevelWarn}))

	inst, err := instance.Open(ctx, cfg, logger)
	if err != nil {
		_ = listener.Close()
		return fmt.Errorf("open instance: %w", err)
	}
	defer func() { _ = inst.Close() }()
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- inst.Serve(serveCtx, listener) }()
	defer func() {
		stopServe()
		if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "tacit-load: serve:", err)
		}
	}()
	baseURL := "http://" + host

	dialect := store.Dialect(inst.DB)
	fmt.Printf("instance %s on %s; creating %d users…\n", baseURL, dialect, *users)
	us, err := load.CreateUsers(ctx, inst, "loader", *users)
	if err != nil {
		return err
	}
	if err := load.FollowRing(ctx, baseURL, us, *follows); err != nil {
		return err
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer func() { _ = f.Close() }()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}

	fmt.Printf("running %d clients for %s…\n", *clients, *duration)
	cpuBefore := processCPU()
	rep, err := load.Run(ctx, load.Config{
		BaseURL: baseURL, Users: us, Clients: *clients, Duration: *duration,
		MaxRequests: *maxRequests, Seed: *seed,
	})
	if err != nil {
		return err
	}
	cpu := processCPU() - cpuBefore
	fmt.Printf("%s: %s", dialect, rep)
	// On a shared machine the process may get much less than its cores; requests per
	// CPU-second (server and clients together, both in this process) compare runs
	// better than requests per second.
	if cpu > 0 {
		fmt.Printf("process CPU %.1fs (%.2f cores on average): %.0f requests per CPU-second\n",
			cpu.Seconds(), cpu.Seconds()/rep.Elapsed.Seconds(), float64(rep.Requests)/cpu.Seconds())
	}
	fmt.Printf("server log lines with \"database is locked\": %d\n", locked.n.Load())
	if n := rep.ServerErrors(); n > 0 {
		return fmt.Errorf("%d server errors", n)
	}
	return nil
}

// processCPU is the CPU time this process has used so far (user + system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// lineCounter passes log output on and counts the writes that contain needle (the
// text handler writes one record per Write).
type lineCounter struct {
	needle []byte
	next   io.Writer
	n      atomic.Int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, c.needle) {
		c.n.Add(1)
	}
	return c.next.Write(p)
}
