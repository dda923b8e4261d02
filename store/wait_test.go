package store_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// syncBuffer is a log destination written by one goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestWaitForDatabaseGivesUp(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	dsn := "postgres://postgres@" + freeAddr(t) + "/tacit?sslmode=disable"
	err := store.WaitForDatabase(context.Background(), dsn, 1500*time.Millisecond, log)
	if err == nil || !strings.Contains(err.Error(), "not reachable after 1.5s") {
		t.Fatalf("err = %v, want one saying the database was not reachable after 1.5s", err)
	}
	// Several attempts, one line: the error is told once, not at every retry.
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "database not reachable yet, retrying") || !strings.Contains(lines[0], "err=") {
		t.Errorf("log = %q, want one line naming the error", logs.String())
	}
}

func TestWaitForDatabaseNoWait(t *testing.T) {
	// SQLite, and a wait of 0, never wait.
	if err := store.WaitForDatabase(context.Background(), "", time.Minute, nil); err != nil {
		t.Errorf("sqlite: %v", err)
	}
	var logs syncBuffer
	dsn := "postgres://postgres@" + freeAddr(t) + "/tacit?sslmode=disable"
	if err := store.WaitForDatabase(context.Background(), dsn, 0, slog.New(slog.NewTextHandler(&logs, nil))); err != nil {
		t.Errorf("wait 0: %v (the connection error comes from opening the database)", err)
	}
	if logs.String() != "" {
		t.Errorf("wait 0 logged %q", logs.String())
	}
}

// TestWaitForDatabaseLateServer starts forwarding to the test PostgreSQL server only
// after the first attempts have failed, as a database container that is still starting.
func TestWaitForDatabaseLateServer(t *testing.T) {
	pgURL := storetest.PostgresURL(t)
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	proxyAddr := freeAddr(t)
	u.Host = proxyAddr
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Let the first attempts fail, then listen on the address they try.
		for !strings.Contains(logs.String(), "database not reachable yet") {
			time.Sleep(10 * time.Millisecond)
		}
		l, err := net.Listen("tcp", proxyAddr)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return
		}
		go func() { <-ctx.Done(); l.Close() }()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go forward(c, target)
		}
	}()
	if err := store.WaitForDatabase(ctx, u.String(), 30*time.Second, log); err != nil {
		t.Fatalf("WaitForDatabase: %v", err)
	}
	out := logs.String()
	if strings.Count(out, "database not reachable yet") != 1 || !strings.Contains(out, "database reachable") {
		t.Errorf("log = %q, want one line for the failure and one when reached", out)
	}
}

func forward(c net.Conn, target string) {
	defer c.Close()
	up, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(up, c) }()
	_, _ = io.Copy(c, up)
}
