package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"

	"gorm.io/gorm"
)

// SnapshotSQLite writes a consistent copy of db's SQLite database to the new file at
// path, while the database stays in use: VACUUM INTO reads the database inside one
// read transaction, so the copy holds exactly the transactions committed before it
// began, and in WAL mode writers go on committing meanwhile. path must not exist yet;
// the copy is compacted and needs no WAL file beside it.
//
// It runs on a connection of the read pool, so that this process's writes do not
// queue behind the copy. Read connections refuse to write (query_only), and SQLite
// counts writing the copy as writing; the connection lifts that for the copy alone
// and is dropped from the pool if it cannot put it back.
func SnapshotSQLite(ctx context.Context, db *gorm.DB, path string) (err error) {
	p := sqlitePoolOf(db)
	if p == nil {
		return errors.New("store: snapshot: not a SQLite database")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("store: snapshot: %s exists already", path)
	}
	conn, err := p.readers.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	defer func() {
		// A fresh context: the pragma must run even when ctx has ended.
		if _, rerr := conn.ExecContext(context.Background(), "PRAGMA query_only(1)"); rerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("store: snapshot: restore query_only: %w", rerr))
		}
		_ = conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "PRAGMA query_only(0)"); err != nil {
		return fmt.Errorf("store: snapshot: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("store: snapshot into %s: %w", path, err)
	}
	return nil
}
