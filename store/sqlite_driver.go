package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"time"

	"github.com/glebarez/sqlite"
)

// SQLite stores times as text, "2006-01-02 15:04:05.999999999-07:00" in the offset
// of the time.Time it was given. Text compares character by character, so a column
// mixing offsets (a time.Now() in the server's zone next to a UTC one) would sort and
// compare wrongly in ORDER BY and WHERE. The connections opened here therefore
// convert every time argument to UTC before the driver formats it, whatever the
// caller passed; PostgreSQL's TIMESTAMPTZ needs no such care.

// utcConnector opens SQLite connections that bind time arguments in UTC.
type utcConnector struct {
	dsn string
	drv driver.Driver
	// onClose, when set, runs when the *sql.DB over this connector is closed: the
	// writer's connector closes the read pool with it, so that whoever closes the
	// *sql.DB that gorm's db.DB() returns closes every connection.
	onClose func() error
}

var (
	_ driver.Connector = (*utcConnector)(nil)
	_ io.Closer        = (*utcConnector)(nil)
)

func newUTCConnector(dsn string, onClose func() error) (*utcConnector, error) {
	// The registered driver itself (rather than a new value of its type) so that
	// functions registered with the driver package still reach every connection.
	// sql.Open does not connect.
	base, err := sql.Open(sqlite.DriverName, "")
	if err != nil {
		return nil, err
	}
	drv := base.Driver()
	_ = base.Close()
	return &utcConnector{dsn: dsn, drv: drv, onClose: onClose}, nil
}

func (c *utcConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("store: sqlite driver connection %T lacks context methods", conn)
	}
	return utcConn{sc}, nil
}

func (c *utcConnector) Driver() driver.Driver { return c.drv }

// Close implements io.Closer; sql.DB.Close calls it.
func (c *utcConnector) Close() error {
	if c.onClose == nil {
		return nil
	}
	return c.onClose()
}

// sqliteConn is what the SQLite driver's connections implement; embedding it keeps
// every one of those methods visible to database/sql.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

type utcConn struct{ sqliteConn }

var _ driver.NamedValueChecker = utcConn{}

// CheckNamedValue implements driver.NamedValueChecker: the default conversion
// (driver.Valuer, pointers, ...), then time.Time to UTC.
func (utcConn) CheckNamedValue(nv *driver.NamedValue) error {
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC()
	}
	nv.Value = v
	return nil
}
