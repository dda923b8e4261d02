// Package storetest gives tests a freshly migrated database of their own: SQLite in a
// temporary directory always, PostgreSQL in a private schema when the environment
// variable TACIT_TEST_POSTGRES names a server, for example
//
//	TACIT_TEST_POSTGRES='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test ./...
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"gorm.io/gorm"

	"github.com/tacit-social/tacit/store"
)

// EnvPostgres names the environment variable holding the PostgreSQL URL for tests.
const EnvPostgres = "TACIT_TEST_POSTGRES"

// EnvDatabase names the environment variable that moves every test database to
// PostgreSQL: TACIT_TEST_DATABASE=postgres makes Open, and test instances started
// without a choice of database, use a schema of TACIT_TEST_POSTGRES, so that a whole
// package's tests run once more on PostgreSQL. The sqlite subtests of Each are skipped
// then, as the package ran them already.
const EnvDatabase = "TACIT_TEST_DATABASE"

// PostgresByDefault reports whether TACIT_TEST_DATABASE asks for PostgreSQL.
func PostgresByDefault() bool { return os.Getenv(EnvDatabase) == "postgres" }

// Open returns a migrated SQLite database in t.TempDir(), closed when the test ends,
// or a PostgreSQL one when PostgresByDefault.
func Open(t testing.TB) *gorm.DB {
	t.Helper()
	if PostgresByDefault() {
		return OpenPostgres(t)
	}
	return OpenSQLite(t)
}

// OpenSQLite returns a migrated SQLite database in t.TempDir(), closed when the test
// ends.
func OpenSQLite(t testing.TB) *gorm.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tacit.db")
	db, err := store.Open(context.Background(), "", path, Logger(t))
	if err != nil {
		t.Fatalf("storetest: open sqlite: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(db); err != nil {
			t.Errorf("storetest: close sqlite: %v", err)
		}
	})
	return db
}

// PostgresURL returns the server named by TACIT_TEST_POSTGRES, or skips the test when
// it is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvPostgres)
	if u == "" {
		t.Skipf("storetest: %s is not set; skipping the PostgreSQL variant", EnvPostgres)
	}
	return u
}

// OpenPostgres returns a migrated PostgreSQL database private to the test: a fresh
// schema (see PostgresSchema), migrated. It skips the test when TACIT_TEST_POSTGRES is
// unset.
func OpenPostgres(t testing.TB) *gorm.DB {
	t.Helper()
	dsn := PostgresSchema(t)
	db, err := store.Open(context.Background(), dsn, "", Logger(t))
	if err != nil {
		t.Fatalf("storetest: open postgres: %v", err)
	}
	// Registered after the schema cleanup, so it runs before it.
	t.Cleanup(func() {
		if err := store.Close(db); err != nil {
			t.Errorf("storetest: close postgres: %v", err)
		}
	})
	return db
}

// PostgresSchema creates a schema t_<random> private to the test in the database
// named by TACIT_TEST_POSTGRES, drops it (CASCADE) when the test ends, and returns a
// URL that uses it through search_path. It skips the test when TACIT_TEST_POSTGRES
// is unset.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()

	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: connect to %s: %v", EnvPostgres, err)
	}
	schema := "t_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		t.Fatalf("storetest: create schema: %v", err)
	}
	t.Cleanup(func() {
		defer func() { _ = admin.Close() }()
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("storetest: drop schema %s: %v", schema, err)
		}
	})
	dsn, err := withSearchPath(base, schema)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvPostgres, err)
	}
	return dsn
}

// Each runs fn as two subtests, "sqlite" and "postgres", each with its own migrated
// database. The postgres subtest is skipped when TACIT_TEST_POSTGRES is unset.
func Each(t *testing.T, fn func(t *testing.T, db *gorm.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		if PostgresByDefault() {
			t.Skipf("%s=postgres", EnvDatabase)
		}
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
}

// Logger returns a slog.Logger writing through t.Log, which goes quiet once the test
// has finished (so that late log lines from background goroutines don't panic).
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop) // first registered, so it runs last
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

var _ io.Writer = (*testWriter)(nil)

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Helper()
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}

// withSearchPath adds search_path=<schema> to a postgres:// URL; pgx sends unknown
// query parameters to the server as run-time parameters.
func withSearchPath(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
