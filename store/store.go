// Package store opens Tacit's database (SQLite or PostgreSQL) through gorm and keeps
// its schema up to date with versioned SQL migrations (goose, one set per dialect,
// embedded in the binary).
//
// The schema is written by hand in migrations/<dialect>/*.sql, never by gorm's
// AutoMigrate; store_test.go checks that every column of the gorm models in
// community and auth exists in the migrated tables with a matching type and
// nullability.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/ncruces/go-sqlite3/gormlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// Dialect names returned by Dialect.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// PostgreSQL pool sizes; see openPostgres. SQLite's are in sqlite_pool.go.
const (
	postgresMaxOpenConns = 20
	postgresMaxIdleConns = 10
	postgresConnLifetime = 30 * time.Minute
)

// migrationLockID is the PostgreSQL advisory lock key held while migrating, so that
// several Tacit processes starting at once against one database migrate one at a
// time. It is Tacit's own (not goose's default) so as not to contend with other
// goose users of the same database.
const migrationLockID int64 = 0x7461636974 // "tacit"

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// Now is the gorm NowFunc: UTC, truncated to microseconds, which is what both
// PostgreSQL's TIMESTAMPTZ and the SQLite text encoding round-trip exactly.
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// Open connects to the database named by dsn, configures it, and applies pending
// migrations.
//
// dsn "" means SQLite at sqlitePath (its directory is created if missing); a
// "postgres://" or "postgresql://" URL means PostgreSQL. logger receives slow
// queries, database errors and the list of migrations applied; nil means
// slog.Default().
func Open(ctx context.Context, dsn, sqlitePath string, logger *slog.Logger) (*gorm.DB, error) {
	if logger == nil {
		logger = slog.Default()
	}
	db, err := OpenNoMigrate(ctx, dsn, sqlitePath, logger)
	if err != nil {
		return nil, err
	}
	applied, err := Migrate(ctx, db)
	if err != nil {
		_ = Close(db)
		return nil, err
	}
	if len(applied) > 0 {
		logger.InfoContext(ctx, "database migrated", "dialect", Dialect(db), "applied", applied)
	}
	return db, nil
}

// OpenNoMigrate is Open without applying migrations, for `tacit migrate` (which
// reports what it applies) and for inspecting a database.
func OpenNoMigrate(ctx context.Context, dsn, sqlitePath string, logger *slog.Logger) (*gorm.DB, error) {
	if logger == nil {
		logger = slog.Default()
	}
	var (
		dialector gorm.Dialector
		sqlDB     *sql.DB
		tracking  = &trackingPool{changes: &Changes{}}
	)
	switch {
	case dsn == "":
		pool, err := openSQLite(sqlitePath)
		if err != nil {
			return nil, err
		}
		sqlDB = pool.readers // closing it closes the writer too
		tracking.inner = pool
		tracking.watch = watchSQLiteWriters(pool.writer, tracking.changes)
		dialector = gormlite.OpenDB(tracking)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		var err error
		sqlDB, err = openPostgres(dsn)
		if err != nil {
			return nil, err
		}
		tracking.inner = sqlDB
		tracking.beforeCommit, tracking.afterWrite, tracking.watch = postgresNotifier(dsn, sqlDB, tracking.changes)
		dialector = postgres.New(postgres.Config{Conn: tracking})
	default:
		return nil, errors.New("store: unsupported database URL: want empty (SQLite) or postgres://…")
	}
	tracking.changes.watch = tracking.watch.start

	db, err := gorm.Open(dialector, &gorm.Config{
		// Services wrap multi-statement writes in explicit transactions; a transaction
		// around every single INSERT/UPDATE would only cost a round trip (and, on
		// SQLite, a BEGIN IMMEDIATE).
		SkipDefaultTransaction: true,
		// Unique and foreign-key violations come back as gorm.ErrDuplicatedKey and
		// gorm.ErrForeignKeyViolated on both dialects.
		TranslateError: true,
		// No PrepareStmt: gorm's statement cache is shared by every connection and
		// holds its mutex while it waits for a connection, which together with
		// SQLite's single write lock made a lock cycle under load (see
		// sqlite_pool.go).
		NowFunc: Now,
		Logger:  newGormLogger(logger),
	})
	if err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: open %s: %w", dialector.Name(), err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: connect %s: %w", dialector.Name(), err)
	}
	if err := registerChangeCallbacks(db); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: register change feed: %w", err)
	}
	return db, nil
}

// WaitForDatabase waits up to wait for the PostgreSQL server named by dsn to accept a
// connection, retrying with exponential back-off: a server started at the same time as
// Tacit (a container beside it, a host booting) may need some seconds. The first
// failure is logged once, with its error, and success after it once more; when wait
// runs out, the last error is returned. A server that answers with a refusal (a wrong
// password, a missing database) is not retried. SQLite (dsn "") and wait 0 return at
// once.
func WaitForDatabase(ctx context.Context, dsn string, wait time.Duration, logger *slog.Logger) error {
	if wait <= 0 || !(strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")) {
		return nil
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: parse database URL: %w", err)
	}
	start := time.Now()
	deadline := start.Add(wait)
	delay := 250 * time.Millisecond
	failed := false
	for {
		attempt := cfg.Copy()
		if attempt.ConnectTimeout <= 0 || attempt.ConnectTimeout > time.Until(deadline) {
			attempt.ConnectTimeout = max(time.Until(deadline), 100*time.Millisecond)
		}
		conn, err := pgx.ConnectConfig(ctx, attempt)
		if err == nil {
			_ = conn.Close(ctx)
			if failed {
				logger.InfoContext(ctx, "database reachable", "waited_ms", time.Since(start).Milliseconds())
			}
			return nil
		}
		if refused(err) || ctx.Err() != nil {
			return fmt.Errorf("store: connect postgres: %w", err)
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return fmt.Errorf("store: database not reachable after %s: %w", wait, err)
		}
		if !failed {
			logger.WarnContext(ctx, "database not reachable yet, retrying", "wait", wait.String(), "err", err)
			failed = true
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("store: connect postgres: %w", ctx.Err())
		case <-time.After(min(delay, remaining)):
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// refused reports whether the PostgreSQL server answered the connection with an
// error that waiting will not cure; "starting up" and "too many connections" will.
func refused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case "57P03", "53300": // cannot_connect_now, too_many_connections
		return false
	}
	return true
}

// sqliteDSN is the driver DSN for a SQLite database file, for the writer connection
// or (readOnly) for the read pool.
//
// The driver runs every _pragma on each new connection, in order. The writer starts
// every read-write transaction with BEGIN IMMEDIATE (_txlock=immediate). With a
// single writer connection no other connection of this process competes for the
// write lock, but another process (tacit admin …) may: BEGIN IMMEDIATE then waits
// for it via busy_timeout instead of failing later with SQLITE_BUSY when a deferred
// transaction tries to upgrade its lock.
//
// Read connections add query_only, last (after journal_mode, which may have to
// switch a new file to WAL): a write that is routed to them by mistake fails at once
// ("attempt to write a readonly database") instead of passing unnoticed. The driver
// begins their (read-only) transactions with a plain BEGIN.
func sqliteDSN(path string, readOnly bool) string {
	pragmas := []string{"busy_timeout(10000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"}
	if readOnly {
		return sqliteDriverDSN(path, append(pragmas, "query_only(1)"), "")
	}
	return sqliteDriverDSN(path, pragmas, "immediate")
}

// openSQLite opens the writer connection and the read pool (see sqlite_pool.go).
func openSQLite(path string) (*sqlitePool, error) {
	if path == "" {
		return nil, errors.New("store: no SQLite path and no database URL")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("store: create database directory: %w", err)
	}
	return openSQLitePool(abs)
}

func openPostgres(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse database URL: %w", err)
	}
	sqlDB := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(func(_ context.Context, conn *pgx.Conn) error {
		// pgx scans TIMESTAMPTZ into time.Local by default; UTC makes both dialects
		// return the same time.Time (and JSON renders "Z").
		conn.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}))
	sqlDB.SetMaxOpenConns(postgresMaxOpenConns)
	sqlDB.SetMaxIdleConns(postgresMaxIdleConns)
	sqlDB.SetConnMaxLifetime(postgresConnLifetime)
	return sqlDB, nil
}

// Close closes the database's connection pool. On SQLite it first runs
// PRAGMA optimize, as SQLite recommends before closing a long-lived connection.
func Close(db *gorm.DB) error {
	if p, ok := db.ConnPool.(*trackingPool); ok {
		p.watch.stop()
	}
	if Dialect(db) == DialectSQLite {
		if w, err := writerDB(db); err == nil {
			_, _ = w.Exec("PRAGMA optimize")
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Dialect returns "sqlite" or "postgres".
func Dialect(db *gorm.DB) string {
	return db.Dialector.Name()
}

// provider returns a goose provider over db's connection pool with the migrations
// of db's dialect. It uses no goose global state.
func provider(db *gorm.DB) (*goose.Provider, error) {
	sqlDB, err := writerDB(db)
	if err != nil {
		return nil, err
	}
	var (
		dialect goose.Dialect
		opts    = []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	)
	switch name := Dialect(db); name {
	case DialectSQLite:
		dialect = goose.DialectSQLite3
	case DialectPostgres:
		dialect = goose.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID))
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return nil, fmt.Errorf("store: no migrations for dialect %q", name)
	}
	fsys, err := fs.Sub(migrationFiles, "migrations/"+Dialect(db))
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, sqlDB, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("store: migrations: %w", err)
	}
	return p, nil
}

// Migrate applies pending migrations and returns the versions applied, in order.
// On failure it returns the versions applied before the failing one.
func Migrate(ctx context.Context, db *gorm.DB) ([]int64, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	return ranVersions(results, err, "store: migrate")
}

// MigrateDown rolls migrations back until the schema is at version to (0 drops
// everything) and returns the versions rolled back, in order.
func MigrateDown(ctx context.Context, db *gorm.DB, to int64) ([]int64, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	results, err := p.DownTo(ctx, to)
	return ranVersions(results, err, "store: migrate down")
}

// Pending returns the versions Migrate would apply.
func Pending(ctx context.Context, db *gorm.DB) ([]int64, error) {
	migrations, err := PendingMigrations(ctx, db)
	if err != nil {
		return nil, err
	}
	pending := make([]int64, 0, len(migrations))
	for _, m := range migrations {
		pending = append(pending, m.Version)
	}
	return pending, nil
}

// ranVersions are the versions a goose run applied or rolled back, in order, also when
// it stopped at a failing migration; err, if any, is wrapped with what the run was.
func ranVersions(results []*goose.MigrationResult, err error, what string) ([]int64, error) {
	var partial *goose.PartialError
	if errors.As(err, &partial) {
		results = partial.Applied
	}
	ran := versions(results)
	if err != nil {
		return ran, fmt.Errorf("%s: %w", what, err)
	}
	return ran, nil
}

// Version returns the current schema version (0 for an empty database).
func Version(ctx context.Context, db *gorm.DB) (int64, error) {
	p, err := provider(db)
	if err != nil {
		return 0, err
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// LatestVersion returns the version of the newest migration built into the binary.
func LatestVersion(db *gorm.DB) (int64, error) {
	p, err := provider(db)
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, s := range p.ListSources() {
		latest = max(latest, s.Version)
	}
	return latest, nil
}

func versions(results []*goose.MigrationResult) []int64 {
	var out []int64
	for _, r := range results {
		if r != nil && r.Source != nil && r.Error == nil {
			out = append(out, r.Source.Version)
		}
	}
	return out
}
