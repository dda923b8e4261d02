package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"time"

	sqlite3 "github.com/ncruces/go-sqlite3/driver"
)

// The SQLite driver is github.com/ncruces/go-sqlite3: SQLite compiled to Go (no
// cgo), whose statements stay compiled after preparing. The connections opened here
// add two things to the driver's:
//
//   - every time argument is bound as text, in UTC, in one layout
//     (sqliteTimeFormat). SQLite stores times as text, and text compares character
//     by character, so a column mixing offsets or layouts would sort and compare
//     wrongly in ORDER BY and WHERE. The driver's own _timefmt option would set the
//     layout for reading too, and then fail to read times SQLite itself writes
//     (datetime('now') defaults, as in goose's version table); formatting here
//     leaves reading to the driver's "auto" mode, which accepts every SQLite layout.
//     Times read back are returned in UTC. PostgreSQL's TIMESTAMPTZ needs no such
//     care.
//   - each connection keeps its own bounded LRU cache of compiled statements, keyed
//     by the SQL text. A connection is used by one goroutine at a time, so the cache
//     needs no lock; nothing is shared between connections (unlike gorm's
//     PrepareStmt cache, whose mutex took part in a lock cycle, see sqlite_pool.go).

// stmtCacheSize bounds the compiled statements each connection keeps. Tacit runs a
// few hundred distinct statement texts (IN-lists are padded to a few sizes, see
// inlist.go); a compiled statement costs a few KiB. A variable only so that a
// benchmark can measure without the cache.
var stmtCacheSize = 256

// sqliteTimeFormat is how times are written: the layout the previous driver
// (modernc) wrote, so that databases created before keep one layout per column, and
// one that SQLite's date functions understand.
const sqliteTimeFormat = "2006-01-02 15:04:05.999999999-07:00"

// utcConnector opens SQLite connections that bind time arguments in UTC and cache
// their compiled statements.
type utcConnector struct {
	inner driver.Connector
	// onClose, when set, runs when the *sql.DB over this connector is closed: the
	// read pool's connector closes the writer with it, so that whoever closes the
	// *sql.DB that gorm's db.DB() returns closes every connection.
	onClose func() error
}

var (
	_ driver.Connector = (*utcConnector)(nil)
	_ io.Closer        = (*utcConnector)(nil)
)

func newUTCConnector(dsn string, onClose func() error) (*utcConnector, error) {
	inner, err := (&sqlite3.SQLite{}).OpenConnector(dsn)
	if err != nil {
		return nil, err
	}
	return &utcConnector{inner: inner, onClose: onClose}, nil
}

// Connect implements driver.Connector.
func (c *utcConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := conn.(sqliteConn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("store: sqlite driver connection %T lacks the expected methods", conn)
	}
	return &cachingConn{sqliteConn: sc, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

// Driver implements driver.Connector.
func (c *utcConnector) Driver() driver.Driver { return c.inner.Driver() }

// Close implements io.Closer; sql.DB.Close calls it.
func (c *utcConnector) Close() error {
	if c.onClose == nil {
		return nil
	}
	return c.onClose()
}

// sqliteConn is what the driver's connections implement; embedding it keeps every
// one of those methods visible to database/sql.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
}

// cachingConn is one SQLite connection with its own statement cache.
type cachingConn struct {
	sqliteConn
	byQuery map[string]*list.Element // of *cachedStmt
	lru     *list.List               // front: most recently used
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
	// busy: rows of this statement are open (a query inside the iteration of
	// another on the same connection, in a transaction, gets a statement of its own).
	busy bool
	// evicted: dropped from the cache while busy; closed when released.
	evicted bool
}

var (
	_ driver.QueryerContext    = (*cachingConn)(nil)
	_ driver.ExecerContext     = (*cachingConn)(nil)
	_ driver.NamedValueChecker = (*cachingConn)(nil)
)

// CheckNamedValue implements driver.NamedValueChecker.
func (*cachingConn) CheckNamedValue(nv *driver.NamedValue) error { return checkNamedValue(nv) }

// checkNamedValue is the default conversion (driver.Valuer, pointers, ...), then
// time.Time to text in UTC.
func checkNamedValue(nv *driver.NamedValue) error {
	v, err := driver.DefaultParameterConverter.ConvertValue(nv.Value)
	if err != nil {
		return err
	}
	if t, ok := v.(time.Time); ok {
		v = t.UTC().Format(sqliteTimeFormat)
	}
	nv.Value = v
	return nil
}

// PrepareContext implements driver.ConnPrepareContext for explicitly prepared
// statements (database/sql's Prepare), which bind through the statement's
// CheckNamedValue rather than the connection's.
func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s, ok := st.(sqliteStmt)
	if !ok {
		_ = st.Close()
		return nil, fmt.Errorf("store: sqlite driver statement %T lacks the expected methods", st)
	}
	return utcStmt{s}, nil
}

// sqliteStmt is what the driver's statements implement.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// utcStmt is a driver statement that binds times as checkNamedValue does.
type utcStmt struct{ sqliteStmt }

// CheckNamedValue implements driver.NamedValueChecker.
func (utcStmt) CheckNamedValue(nv *driver.NamedValue) error { return checkNamedValue(nv) }

// acquire returns a compiled statement for query, from the cache when it holds an
// idle one.
func (c *cachingConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if el, ok := c.byQuery[query]; ok {
		cs := el.Value.(*cachedStmt)
		if !cs.busy {
			c.lru.MoveToFront(el)
			cs.busy = true
			return cs, nil
		}
		// In use by open rows: a statement of its own, not cached.
		st, err := c.sqliteConn.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		return &cachedStmt{query: query, stmt: st, busy: true, evicted: true}, nil
	}
	st, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	cs := &cachedStmt{query: query, stmt: st, busy: true}
	c.byQuery[query] = c.lru.PushFront(cs)
	for c.lru.Len() > stmtCacheSize {
		c.evict(c.lru.Back())
	}
	return cs, nil
}

func (c *cachingConn) evict(el *list.Element) {
	cs := el.Value.(*cachedStmt)
	c.lru.Remove(el)
	delete(c.byQuery, cs.query)
	if cs.busy {
		cs.evicted = true // closed by release
		return
	}
	_ = cs.stmt.Close()
}

// release returns cs after use. A statement that failed is dropped rather than
// trusted again.
func (c *cachingConn) release(cs *cachedStmt, failed bool) {
	cs.busy = false
	if failed && !cs.evicted {
		if el, ok := c.byQuery[cs.query]; ok && el.Value == cs {
			c.evict(el)
			return
		}
	}
	if cs.evicted {
		_ = cs.stmt.Close()
	}
}

// QueryContext implements driver.QueryerContext.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(cs, true)
		return nil, err
	}
	r, ok := rows.(sqliteRows)
	if !ok {
		_ = rows.Close()
		c.release(cs, true)
		return nil, fmt.Errorf("store: sqlite driver rows %T lack the expected methods", rows)
	}
	return &cachedRows{sqliteRows: r, conn: c, cs: cs}, nil
}

// ExecContext implements driver.ExecerContext.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.release(cs, err != nil)
	return res, err
}

// Close implements driver.Conn: the cached statements first, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for el := c.lru.Front(); el != nil; el = el.Next() {
		errs = append(errs, el.Value.(*cachedStmt).stmt.Close())
	}
	c.lru.Init()
	clear(c.byQuery)
	return errors.Join(append(errs, c.sqliteConn.Close())...)
}

// sqliteRows is what the driver's rows implement.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypeScanType
}

// cachedRows hands its statement back to the cache when closed.
type cachedRows struct {
	sqliteRows
	conn   *cachingConn
	cs     *cachedStmt
	closed bool
}

// Close implements driver.Rows; the driver's Close resets the statement, ready for
// its next use.
func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.sqliteRows.Close()
	r.conn.release(r.cs, err != nil)
	return err
}

// Next implements driver.Rows: times come back in UTC, as they were written.
func (r *cachedRows) Next(dest []driver.Value) error {
	if err := r.sqliteRows.Next(dest); err != nil {
		return err
	}
	for i, v := range dest {
		if t, ok := v.(time.Time); ok {
			dest[i] = t.UTC()
		}
	}
	return nil
}

// ColumnTypeScanType implements driver.RowsColumnTypeScanType.
func (r *cachedRows) ColumnTypeScanType(index int) reflect.Type {
	return r.sqliteRows.ColumnTypeScanType(index)
}

// sqliteDriverDSN is the driver DSN for the database file at path: the pragmas each
// connection runs, in order, then the driver's transaction mode. No _timefmt: see
// checkNamedValue.
func sqliteDriverDSN(path string, pragmas []string, txlock string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}
