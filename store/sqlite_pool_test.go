package store

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
)

func TestIsPlainSelect(t *testing.T) {
	for q, want := range map[string]bool{
		"SELECT * FROM statuses":                         true,
		"  select 1":                                     true,
		"(SELECT 1) UNION (SELECT 2)":                    true,
		"-- comment\nSELECT 1":                           true,
		"/* c */ SELECT 1":                               true,
		"SELECTED":                                       false,
		"INSERT INTO t VALUES (1) RETURNING id":          false,
		"UPDATE t SET a = 1":                             false,
		"WITH x AS (SELECT 1) DELETE FROM t":             false,
		"WITH x AS (SELECT 1) SELECT * FROM x":           false, // conservative
		"PRAGMA journal_mode":                            false,
		"-- unterminated comment":                        false,
		"":                                               false,
		"DELETE FROM t WHERE id IN (SELECT id FROM u)":   false,
		"select sqlite_version()":                        true,
		"\n\tSELECT count(*) FROM notifications WHERE 1": true,
	} {
		if got := isPlainSelect(q); got != want {
			t.Errorf("isPlainSelect(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestInListSize(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 4, 5: 8, 16: 16, 17: 32, 200: 256, 256: 256, 257: 512, 700: 768} {
		if got := inListSize(n); got != want {
			t.Errorf("inListSize(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestPadInLists(t *testing.T) {
	for _, tc := range []struct {
		query     string
		args      []any
		wantQuery string
		wantArgs  []any
	}{{
		query:     "SELECT * FROM t WHERE a = ? AND id IN (?,?,?) AND b = ?",
		args:      []any{"a", 1, 2, 3, "b"},
		wantQuery: "SELECT * FROM t WHERE a = ? AND id IN (?,?,?,?) AND b = ?",
		wantArgs:  []any{"a", 1, 2, 3, 3, "b"},
	}, {
		query:     "SELECT * FROM t WHERE x IN (?,?,?,?,?) AND y NOT IN (?,?,?)",
		args:      []any{1, 2, 3, 4, 5, 6, 7, 8},
		wantQuery: "SELECT * FROM t WHERE x IN (?,?,?,?,?,?,?,?) AND y NOT IN (?,?,?,?)",
		wantArgs:  []any{1, 2, 3, 4, 5, 5, 5, 5, 6, 7, 8, 8},
	}, {
		// Already a padded size: unchanged.
		query:     "SELECT * FROM t WHERE id IN (?,?)",
		args:      []any{1, 2},
		wantQuery: "SELECT * FROM t WHERE id IN (?,?)",
		wantArgs:  []any{1, 2},
	}, {
		// A quoted "IN (?,?,?)" is text, not a list; the real one is padded.
		query:     "SELECT 'IN (?,?,?)' FROM t WHERE id IN (?,?,?)",
		args:      []any{1, 2, 3},
		wantQuery: "SELECT 'IN (?,?,?)' FROM t WHERE id IN (?,?,?,?)",
		wantArgs:  []any{1, 2, 3, 3},
	}, {
		// Placeholders that do not match the arguments: left alone.
		query:     "SELECT * FROM t WHERE id IN (?,?,?)",
		args:      []any{1, 2},
		wantQuery: "SELECT * FROM t WHERE id IN (?,?,?)",
		wantArgs:  []any{1, 2},
	}, {
		// JOIN, MIN, INSERT … are not IN.
		query:     "INSERT INTO t (a,b,c) VALUES (?,?,?)",
		args:      []any{1, 2, 3},
		wantQuery: "INSERT INTO t (a,b,c) VALUES (?,?,?)",
		wantArgs:  []any{1, 2, 3},
	}} {
		q, args := padInLists(tc.query, tc.args)
		if q != tc.wantQuery || !slices.Equal(args, tc.wantArgs) {
			t.Errorf("padInLists(%q, %v)\n = %q, %v\nwant %q, %v", tc.query, tc.args, q, args, tc.wantQuery, tc.wantArgs)
		}
	}
}

// openTestSQLite opens a migrated SQLite database in a temporary directory.
func openTestSQLite(t *testing.T) *gorm.DB {
	t.Helper()
	db, err := Open(t.Context(), "", filepath.Join(t.TempDir(), "tacit.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Close(db) })
	return db
}

func pool(t *testing.T, db *gorm.DB) *sqlitePool {
	t.Helper()
	p := sqlitePoolOf(db)
	if p == nil {
		t.Fatalf("ConnPool is %T, want SQLite's pool under it", db.ConnPool)
	}
	return p
}

// TestSQLiteReadersAreReadOnly: a write that reaches a read connection fails loudly.
func TestSQLiteReadersAreReadOnly(t *testing.T) {
	db := openTestSQLite(t)
	p := pool(t, db)
	_, err := p.readers.ExecContext(t.Context(), "CREATE TABLE misrouted (id INTEGER)")
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("write on a reader: err = %v, want a read-only error", err)
	}
	var ro int
	if err := p.readers.QueryRowContext(t.Context(), "PRAGMA query_only").Scan(&ro); err != nil || ro != 1 {
		t.Fatalf("reader query_only = %d, %v; want 1", ro, err)
	}
	if got := p.readers.Stats().MaxOpenConnections; got != sqliteReaders() {
		t.Errorf("readers MaxOpenConnections = %d, want %d", got, sqliteReaders())
	}
	if got := p.writer.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", got)
	}
	// Positive control: the same write through gorm reaches the writer.
	if err := db.Exec("CREATE TABLE routed (id INTEGER)").Error; err != nil {
		t.Fatalf("write through gorm: %v", err)
	}
	// INSERT … RETURNING is a query that writes: it must go to the writer too.
	var id int
	if err := db.Raw("INSERT INTO routed (id) VALUES (7) RETURNING id").Row().Scan(&id); err != nil || id != 7 {
		t.Fatalf("INSERT … RETURNING = %d, %v", id, err)
	}
}

// TestSQLiteReadYourWrites: a read that follows a committed write, on any
// connection, sees it, while readers and writers run concurrently.
func TestSQLiteReadYourWrites(t *testing.T) {
	db := openTestSQLite(t)
	if err := db.Exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				k := w*rounds + i
				var err error
				if i%2 == 0 {
					err = db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", k, i).Error
				} else {
					err = db.Transaction(func(tx *gorm.DB) error {
						return tx.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", k, i).Error
					})
				}
				if err != nil {
					errs <- fmt.Errorf("write %d: %w", k, err)
					return
				}
				var v int64
				if err := db.Raw("SELECT count(*) FROM kv WHERE k = ?", k).Row().Scan(&v); err != nil || v != 1 {
					errs <- fmt.Errorf("read %d right after its write: count %d, %v", k, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestSQLiteReadsDoNotWaitForWriter: while a write transaction holds the writer
// connection, reads outside it still answer (they run on the read pool), and see the
// last committed state.
func TestSQLiteReadsDoNotWaitForWriter(t *testing.T) {
	db := openTestSQLite(t)
	if err := db.Exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
	inTx := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("INSERT INTO kv (k, v) VALUES (1, 1)").Error; err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var n int64
	err := db.WithContext(ctx).Raw("SELECT count(*) FROM kv").Row().Scan(&n)
	close(release)
	if err != nil {
		t.Fatalf("read while the writer is busy: %v", err)
	}
	if n != 0 {
		t.Errorf("read saw %d uncommitted rows", n)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := db.Raw("SELECT count(*) FROM kv").Row().Scan(&n); err != nil || n != 1 {
		t.Errorf("after commit: count %d, %v; want 1", n, err)
	}
}

// TestSQLiteCloseClosesWriter: closing the *sql.DB that db.DB() returns (as callers
// outside this package do) closes the writer too.
func TestSQLiteCloseClosesWriter(t *testing.T) {
	db, err := Open(t.Context(), "", filepath.Join(t.TempDir(), "tacit.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := pool(t, db)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Close(); err != nil {
		t.Fatal(err)
	}
	if sqlDB != p.readers {
		t.Error("db.DB() is not the read pool")
	}
	if err := p.writer.Ping(); err == nil {
		t.Error("writer still open after db.DB().Close()")
	}
}

// BenchmarkPrimaryKeyRead reads one row by primary key through gorm, the most
// common statement of a request; on SQLite it shows what the per-connection
// statement cache saves.
func BenchmarkPrimaryKeyRead(b *testing.B) {
	db, err := Open(b.Context(), "", filepath.Join(b.TempDir(), "tacit.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = Close(db) })
	if err := db.Exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT NOT NULL)").Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("INSERT INTO kv (k, v) VALUES (1, 'one')").Error; err != nil {
		b.Fatal(err)
	}
	type kv struct {
		K int64
		V string
	}
	for _, size := range []int{stmtCacheSize, 0} {
		name := "cached"
		if size == 0 {
			name = "uncached"
		}
		b.Run(name, func(b *testing.B) {
			defer func(old int) { stmtCacheSize = old }(stmtCacheSize)
			stmtCacheSize = size
			b.ReportAllocs()
			for b.Loop() {
				var row kv
				if err := db.Table("kv").Where("k = ?", 1).Take(&row).Error; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
