package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"gorm.io/gorm"
)

// How Tacit talks to SQLite
//
// SQLite allows one writer at a time; in WAL mode readers run in parallel with it and
// with each other, each seeing the database as of the last commit before its read
// began. The access layer mirrors that:
//
//   - one writer connection (a database/sql pool of exactly one) takes every write
//     and every read-write transaction, which it starts with BEGIN IMMEDIATE;
//   - a pool of read-only connections (PRAGMA query_only) takes every statement that
//     is a plain SELECT outside a transaction, and read-only transactions.
//
// Writers therefore queue for the writer connection in Go, never inside SQLite's
// busy handler, and a reader never waits for a writer. No lock is held while
// waiting for a connection: there is no shared prepared-statement cache in front of
// the pools (gorm's PrepareStmt cache held its mutex while waiting for a connection,
// and a connection holding the write lock waited for that mutex: a cycle that only
// busy_timeout broke, with 10-second stalls and "database is locked").
//
// A consequence the domain code must respect: inside a write transaction, write
// through the transaction's *gorm.DB, never through the outer one. The outer one
// would wait for the writer connection that the transaction itself holds. Reads
// through the outer *gorm.DB inside a transaction do not deadlock (they go to a
// reader) but do not see the transaction's uncommitted writes. For the same reason,
// do not write while iterating rows read through the outer *gorm.DB (db.Rows(),
// FindInBatches): read the rows first, then write. No code does either today.
//
// Read-your-writes holds across connections: a write returns after its commit, and
// a read that starts after that sees it (WAL readers take the latest commit when
// their read transaction starts).

// sqliteReaders is the size of the read pool: enough to keep every core busy with
// reads while one connection writes, and a few more so that a slow scan does not
// hold up short reads. Each connection has a page cache of its own.
func sqliteReaders() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// sqlitePool is the gorm.ConnPool over SQLite's writer connection and read pool. It
// routes by statement: a plain SELECT goes to the readers, everything else (INSERT,
// UPDATE, DELETE, INSERT … RETURNING, PRAGMA, WITH …) and every read-write
// transaction to the writer. Inside a transaction gorm uses the *sql.Tx, so every
// statement of a transaction runs on the connection that began it.
type sqlitePool struct {
	writer  *sql.DB
	readers *sql.DB
	// pad bounds the number of distinct statement texts; see padInLists.
	pad bool
}

var (
	_ gorm.ConnPool       = (*sqlitePool)(nil)
	_ gorm.TxBeginner     = (*sqlitePool)(nil)
	_ gorm.GetDBConnector = (*sqlitePool)(nil)
)

func (p *sqlitePool) route(query string) *sql.DB {
	if isPlainSelect(query) {
		return p.readers
	}
	return p.writer
}

// PrepareContext implements gorm.ConnPool.
func (p *sqlitePool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.route(query).PrepareContext(ctx, query)
}

// ExecContext implements gorm.ConnPool: Exec is for statements that change
// something, so it always goes to the writer.
func (p *sqlitePool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, args = p.bound(query, args)
	return p.writer.ExecContext(ctx, query, args...)
}

// QueryContext implements gorm.ConnPool.
func (p *sqlitePool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, args = p.bound(query, args)
	return p.route(query).QueryContext(ctx, query, args...)
}

// QueryRowContext implements gorm.ConnPool.
func (p *sqlitePool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	query, args = p.bound(query, args)
	return p.route(query).QueryRowContext(ctx, query, args...)
}

// BeginTx implements gorm.TxBeginner: read-write transactions run on the writer
// (the driver begins them with BEGIN IMMEDIATE, so a transaction that reads and then
// writes cannot fail to upgrade its lock); transactions that declare themselves
// read-only run on a reader.
func (p *sqlitePool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	if opts != nil && opts.ReadOnly {
		return p.readers.BeginTx(ctx, opts)
	}
	return p.writer.BeginTx(ctx, opts)
}

// GetDBConn implements gorm.GetDBConnector: db.DB() is the read pool, so that
// health checks (which ping it) never queue behind writers. Closing it closes the
// writer too (see utcConnector.Close). Migrations and other writes that need a
// *sql.DB take the writer through writerDB.
func (p *sqlitePool) GetDBConn() (*sql.DB, error) { return p.readers, nil }

// Ping checks both pools; gorm calls it when opening.
func (p *sqlitePool) Ping() error {
	return errors.Join(p.writer.Ping(), p.readers.Ping())
}

func (p *sqlitePool) bound(query string, args []any) (string, []any) {
	if !p.pad {
		return query, args
	}
	return padInLists(query, args)
}

// isPlainSelect reports whether query is a single SELECT statement, after leading
// white space, comments and parentheses. Anything else (including WITH, which may
// wrap an INSERT, UPDATE or DELETE) is treated as a write: a read sent to the writer
// is merely serialised, whereas a write sent to a reader would fail.
func isPlainSelect(query string) bool {
	q := query
	for {
		q = strings.TrimLeft(q, " \t\r\n(")
		switch {
		case strings.HasPrefix(q, "--"):
			i := strings.IndexByte(q, '\n')
			if i < 0 {
				return false
			}
			q = q[i+1:]
		case strings.HasPrefix(q, "/*"):
			i := strings.Index(q, "*/")
			if i < 0 {
				return false
			}
			q = q[i+2:]
		default:
			return len(q) >= 6 && strings.EqualFold(q[:6], "select") &&
				(len(q) == 6 || !isIdentByte(q[6]))
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// openSQLitePool opens the writer and the read pool on the database file at abs.
func openSQLitePool(abs string) (*sqlitePool, error) {
	writeConnector, err := newUTCConnector(sqliteDSN(abs, false), nil)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	writer := sql.OpenDB(writeConnector)
	// One writer: SQLite serialises writers anyway, and queueing them here (in
	// database/sql, bounded by each caller's context) rather than in SQLite's busy
	// handler (which polls with sleeps) keeps the write lock busy and never returns
	// SQLITE_BUSY.
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	readConnector, err := newUTCConnector(sqliteDSN(abs, true), writer.Close)
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	readers := sql.OpenDB(readConnector)
	n := sqliteReaders()
	readers.SetMaxOpenConns(n)
	// Keep every connection: opening one re-runs the pragmas and starts with a cold
	// page cache.
	readers.SetMaxIdleConns(n)
	readers.SetConnMaxLifetime(0)
	readers.SetConnMaxIdleTime(0)
	return &sqlitePool{writer: writer, readers: readers, pad: true}, nil
}

// writerDB is the *sql.DB that can write: SQLite's writer connection, or
// PostgreSQL's one pool.
func writerDB(db *gorm.DB) (*sql.DB, error) {
	if p := sqlitePoolOf(db); p != nil {
		return p.writer, nil
	}
	return db.DB()
}

// sqlitePoolOf returns the SQLite pool under db, or nil on PostgreSQL.
func sqlitePoolOf(db *gorm.DB) *sqlitePool {
	pool := db.ConnPool
	if t, ok := pool.(*trackingPool); ok {
		pool = t.inner
	}
	p, _ := pool.(*sqlitePool)
	return p
}
