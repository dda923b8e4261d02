package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The change feed
//
// Caches of rows (accounts, logins, tokens…) must drop a row as soon as it changes,
// whoever changed it and however: through a domain method, an adapter, an admin
// command, a bulk UPDATE or raw SQL. Domain events cover what the domain chose to
// announce, not every column (a post bumps its author's statuses_count without an
// event of its own), so the feed is taken where every write passes: gorm's
// callbacks. After each statement that may have written, the store records which
// table it touched and, when the statement names them (WHERE id = ?, id IN ?, a
// model with its primary key, created rows), which rows; when it cannot tell, the
// change covers the whole table, or every table.
//
// A change is announced only once it is committed: statements outside a transaction
// at once (they commit on their own), statements inside one when it commits, never
// when it rolls back. A cache that announced its copy stale before the commit could
// be refilled with the old row by a reader in the meantime.
//
// Other processes on the same database (an admin command beside the server) write
// without this process seeing their statements. On SQLite the feed watches PRAGMA
// data_version, which changes when another connection commits; on PostgreSQL every
// committing transaction sends NOTIFY with the tables it changed, and the feed
// listens. Either way a change from elsewhere reaches subscribers within
// externalPoll (SQLite) or a round trip (PostgreSQL).

// Change is a committed write: the rows IDs of Table, or any row of Table when IDs is
// nil, or any row of any table when Table is "".
type Change struct {
	Table string
	IDs   []int64
}

// Covers reports whether the change may have touched row id of table.
func (c Change) Covers(table string, id int64) bool {
	if c.Table == "" {
		return true
	}
	if c.Table != table {
		return false
	}
	if c.IDs == nil {
		return true
	}
	for _, x := range c.IDs {
		if x == id {
			return true
		}
	}
	return false
}

// Changes hands committed writes to subscribers, in the goroutine that committed
// them: a subscriber must be quick and must not touch the database.
type Changes struct {
	mu   sync.RWMutex
	subs []func(Change)
	// watch starts watching other processes' writes, once, on the first Subscribe.
	watch     func()
	watchOnce sync.Once
}

// Subscribe calls fn with every change committed from now on. tables are the tables
// the subscriber keeps rows of; each must be one of SharedTables or LocalTables.
func (c *Changes) Subscribe(tables []string, fn func(Change)) {
	for _, t := range tables {
		if !containsString(SharedTables, t) && !containsString(LocalTables, t) {
			panic(fmt.Sprintf("store: table %q is cached but in neither SharedTables nor LocalTables", t))
		}
	}
	c.mu.Lock()
	c.subs = append(c.subs, fn)
	c.mu.Unlock()
	if c.watch != nil {
		c.watchOnce.Do(c.watch)
	}
}

// SubscribeAll calls fn with every change committed from now on, to any table: for
// what depends on the whole database (a rendered page), where any change may matter.
// Other processes' changes reach it as for Subscribe: all of them on SQLite, those of
// SharedTables on PostgreSQL.
func (c *Changes) SubscribeAll(fn func(Change)) {
	c.mu.Lock()
	c.subs = append(c.subs, fn)
	c.mu.Unlock()
	if c.watch != nil {
		c.watchOnce.Do(c.watch)
	}
}

func (c *Changes) publish(changes ...Change) {
	if len(changes) == 0 {
		return
	}
	c.mu.RLock()
	subs := c.subs
	c.mu.RUnlock()
	for _, ch := range changes {
		for _, fn := range subs {
			fn(ch)
		}
	}
}

// ChangesOf returns the change feed of a database opened by Open; nil for a *gorm.DB
// opened otherwise.
func ChangesOf(db *gorm.DB) *Changes {
	if db == nil {
		return nil
	}
	if p, ok := db.ConnPool.(*trackingPool); ok {
		return p.changes
	}
	return nil
}

// trackingPool is the gorm.ConnPool every database opened by Open goes through: the
// statements go to inner (SQLite's writer and readers, or PostgreSQL's pool), and
// the transactions it begins remember what they changed until they commit.
type trackingPool struct {
	inner interface {
		gorm.ConnPool
		gorm.TxBeginner
	}
	changes *Changes
	// beforeCommit, when set, runs in a transaction that changed tables, just before
	// it commits (PostgreSQL's NOTIFY to other processes); afterWrite does the same
	// after a write outside a transaction.
	beforeCommit func(ctx context.Context, tx *sql.Tx, tables []string) error
	afterWrite   func(ctx context.Context, tables []string)
	// watch follows other processes' writes, from the first Subscribe until Close.
	watch *externalWatch
}

var (
	_ gorm.ConnPool         = (*trackingPool)(nil)
	_ gorm.ConnPoolBeginner = (*trackingPool)(nil)
	_ gorm.GetDBConnector   = (*trackingPool)(nil)
	_ gorm.TxCommitter      = (*trackingTx)(nil)
)

func (p *trackingPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return p.inner.PrepareContext(ctx, query)
}

func (p *trackingPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return p.inner.ExecContext(ctx, query, args...)
}

func (p *trackingPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return p.inner.QueryContext(ctx, query, args...)
}

func (p *trackingPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return p.inner.QueryRowContext(ctx, query, args...)
}

// BeginTx implements gorm.ConnPoolBeginner.
func (p *trackingPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := p.inner.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &trackingTx{Tx: tx, ctx: ctx, pool: p}, nil
}

// GetDBConn implements gorm.GetDBConnector with inner's *sql.DB.
func (p *trackingPool) GetDBConn() (*sql.DB, error) {
	switch inner := p.inner.(type) {
	case gorm.GetDBConnector:
		return inner.GetDBConn()
	case *sql.DB:
		return inner, nil
	}
	return nil, gorm.ErrInvalidDB
}

// Ping checks inner's connections; gorm calls it when opening.
func (p *trackingPool) Ping() error {
	if pinger, ok := p.inner.(interface{ Ping() error }); ok {
		return pinger.Ping()
	}
	return nil
}

// trackingTx is a transaction that holds its changes until it commits.
type trackingTx struct {
	*sql.Tx
	ctx     context.Context
	pool    *trackingPool
	pending []Change
}

// Commit commits, then announces what the transaction changed.
func (t *trackingTx) Commit() error {
	if len(t.pending) > 0 && t.pool.beforeCommit != nil {
		if err := t.pool.beforeCommit(t.ctx, t.Tx, tablesOf(t.pending)); err != nil {
			_ = t.Tx.Rollback()
			return fmt.Errorf("announce changes: %w", err)
		}
	}
	if err := t.Tx.Commit(); err != nil {
		return err
	}
	pending := t.pending
	t.pending = nil
	t.pool.changes.publish(pending...)
	return nil
}

// Rollback forgets the transaction's changes.
func (t *trackingTx) Rollback() error {
	t.pending = nil
	return t.Tx.Rollback()
}

func tablesOf(changes []Change) []string {
	var tables []string
	for _, ch := range changes {
		if !containsString(tables, ch.Table) {
			tables = append(tables, ch.Table)
		}
	}
	return tables
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// registerChangeCallbacks makes every statement that may have written record its
// change with the statement's pool.
func registerChangeCallbacks(db *gorm.DB) error {
	cb := db.Callback()
	return errors.Join(
		cb.Create().After("gorm:create").Register("tacit:changes", recordWrite),
		cb.Update().After("gorm:update").Register("tacit:changes", recordWrite),
		cb.Delete().After("gorm:delete").Register("tacit:changes", recordWrite),
		cb.Raw().After("gorm:raw").Register("tacit:changes", recordRaw),
		// Raw(…).Scan and Find with a statement of their own run as queries; a write
		// with RETURNING would pass there.
		cb.Row().After("gorm:row").Register("tacit:changes", recordRaw),
		cb.Query().After("gorm:query").Register("tacit:changes", recordRaw),
	)
}

// recordWrite records the change of a Create, Update or Delete built by gorm.
func recordWrite(db *gorm.DB) {
	if db.Error != nil || db.Statement == nil {
		return
	}
	stmt := db.Statement
	if stmt.RowsAffected == 0 && !isCreate(stmt) {
		return
	}
	table := stmt.Table
	if table == "" && stmt.Schema != nil {
		table = stmt.Schema.Table
	}
	if table == "" {
		record(db, Change{})
		return
	}
	var ids []int64
	if isCreate(stmt) {
		if _, upsert := stmt.Clauses["ON CONFLICT"]; !upsert {
			ids = createdIDs(stmt)
		}
	} else {
		ids = whereIDs(stmt)
	}
	record(db, Change{Table: table, IDs: ids})
}

func isCreate(stmt *gorm.Statement) bool {
	_, ok := stmt.Clauses["INSERT"]
	return ok
}

// recordRaw records the change of a statement written by hand, unless it only reads.
func recordRaw(db *gorm.DB) {
	if db.Error != nil || db.Statement == nil {
		return
	}
	sqlText := db.Statement.SQL.String()
	if isPlainSelect(sqlText) {
		return
	}
	if ignoredStatement.MatchString(sqlText) {
		return
	}
	if m := writtenTable.FindStringSubmatch(sqlText); m != nil {
		record(db, Change{Table: strings.ToLower(m[1])})
		return
	}
	record(db, Change{})
}

var (
	// writtenTable finds the table of INSERT, UPDATE, DELETE and REPLACE statements.
	writtenTable = regexp.MustCompile(`(?is)^\s*(?:insert(?:\s+or\s+\w+)?\s+into|replace\s+into|update(?:\s+or\s+\w+)?|delete\s+from)\s+["` + "`" + `]?(\w+)`)
	// ignoredStatement: statements that change no row.
	ignoredStatement = regexp.MustCompile(`(?is)^\s*(?:pragma|savepoint|release|rollback\s+to|analyze|explain|set\s|show\s|begin|commit)\b`)
)

// record hands a change to the statement's transaction, or announces it at once when
// the statement ran on its own.
func record(db *gorm.DB, ch Change) {
	switch pool := db.Statement.ConnPool.(type) {
	case *trackingTx:
		pool.pending = append(pool.pending, ch)
	case *trackingPool:
		if pool.afterWrite != nil {
			pool.afterWrite(db.Statement.Context, []string{ch.Table})
		}
		pool.changes.publish(ch)
	default:
		// A pool that bypasses the tracking (none is built today): the change is
		// announced at once, which may be before its commit; better early than never.
		if root, ok := db.ConnPool.(*trackingPool); ok {
			root.changes.publish(ch)
		}
	}
}

// createdIDs returns the primary keys of the rows a Create inserted.
func createdIDs(stmt *gorm.Statement) []int64 {
	if stmt.Schema == nil || stmt.Schema.PrioritizedPrimaryField == nil {
		return nil
	}
	field := stmt.Schema.PrioritizedPrimaryField
	var ids []int64
	add := func(v any) bool {
		id, ok := toInt64(v)
		if ok {
			ids = append(ids, id)
		}
		return ok
	}
	rv := stmt.ReflectValue
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			v, _ := field.ValueOf(stmt.Context, rv.Index(i))
			if !add(v) {
				return nil
			}
		}
	case reflect.Struct:
		v, _ := field.ValueOf(stmt.Context, rv)
		if !add(v) {
			return nil
		}
	default:
		return nil
	}
	return ids
}

// whereIDs returns the ids an UPDATE or DELETE is restricted to, or nil when its
// conditions do not pin the rows by primary key. Conditions are ANDed unless one of
// them is an OR; any one that names ids bounds the rows the statement touched.
func whereIDs(stmt *gorm.Statement) []int64 {
	c, ok := stmt.Clauses["WHERE"]
	if !ok {
		return nil
	}
	where, ok := c.Expression.(clause.Where)
	if !ok {
		return nil
	}
	for _, e := range where.Exprs {
		if _, or := e.(clause.OrConditions); or {
			return nil
		}
	}
	for _, e := range where.Exprs {
		if ids := idsOf(e); ids != nil {
			return ids
		}
	}
	return nil
}

// idsPart matches one ANDed condition on the id column: "id = ?", "t.id IN ?".
var idsPart = regexp.MustCompile(`(?i)^\(?\s*(?:["` + "`" + `]?\w+["` + "`" + `]?\.)?["` + "`" + `]?id["` + "`" + `]?\s*(=|in)\s*\(?\?\)?\s*\)?$`)

func idsOf(e clause.Expression) []int64 {
	switch e := e.(type) {
	case clause.Eq:
		if isIDColumn(e.Column) {
			if id, ok := toInt64(e.Value); ok {
				return []int64{id}
			}
		}
	case clause.IN:
		if isIDColumn(e.Column) {
			return int64s(e.Values)
		}
	case clause.Expr:
		text := e.SQL
		if strings.Contains(strings.ToLower(text), " or ") {
			return nil
		}
		// Several conditions in one string: find the one on id and its argument.
		arg := 0
		for _, part := range splitAnd(text) {
			if m := idsPart.FindStringSubmatch(strings.TrimSpace(part)); m != nil && arg < len(e.Vars) {
				if strings.EqualFold(m[1], "in") {
					return int64s(flatten(e.Vars[arg]))
				}
				if id, ok := toInt64(e.Vars[arg]); ok {
					return []int64{id}
				}
				return nil
			}
			arg += strings.Count(part, "?")
		}
	}
	return nil
}

var andSplit = regexp.MustCompile(`(?i)\s+and\s+`)

func splitAnd(s string) []string { return andSplit.Split(s, -1) }

func isIDColumn(col any) bool {
	switch c := col.(type) {
	case clause.Column:
		return c.Name == "id" || c.Name == clause.PrimaryKey
	case string:
		return c == "id" || strings.HasSuffix(c, ".id")
	}
	return false
}

func flatten(v any) []any {
	switch list := v.(type) {
	case []int64:
		out := make([]any, len(list))
		for i, x := range list {
			out[i] = x
		}
		return out
	case []any:
		return list
	}
	return []any{v}
}

func int64s(values []any) []int64 {
	if len(values) == 0 {
		return nil
	}
	out := make([]int64, 0, len(values))
	for _, v := range values {
		id, ok := toInt64(v)
		if !ok {
			return nil
		}
		out = append(out, id)
	}
	return out
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case *int64:
		if x != nil {
			return *x, true
		}
	}
	return 0, false
}

// Settle waits until other processes watching db can have seen what this process
// committed, so that a command that changed something beside a running server returns
// only once the server no longer serves the old rows.
func Settle(ctx context.Context, db *gorm.DB) {
	wait := 50 * time.Millisecond // PostgreSQL: NOTIFY arrives within a round trip
	if Dialect(db) == DialectSQLite {
		wait = 2*externalPoll + 50*time.Millisecond
	}
	select {
	case <-ctx.Done():
	case <-time.After(wait):
	}
}

// SharedTables are the tables whose rows some Tacit process keeps in memory. A
// process that changes one of them on PostgreSQL tells the others (NOTIFY), so that
// an admin command or another server process never leaves a stale copy behind; on
// SQLite other processes' commits are seen through data_version whatever they
// changed. Subscribing to a table not listed here is a programming error.
var SharedTables = []string{"accounts", "users", "tokens", "applications", "instance_settings"}

// LocalTables are tables that something keeps in memory and whose rows only the
// serving process adds or changes while it runs (an admin command at most deletes
// some, which no cache answers for): their changes are not sent to other processes
// on PostgreSQL. On SQLite any other process's commit still drops every cached row.
var LocalTables = []string{"media_attachments", "mentions", "status_tags", "polls", "statuses", "follows"}

// externalPoll is how often a SQLite database is checked for other processes' commits.
const externalPoll = 250 * time.Millisecond

// notifyChannel is the PostgreSQL channel of the change feed.
const notifyChannel = "tacit_changes"

// externalWatch runs a watch on other processes' writes from its first start until
// stop.
type externalWatch struct {
	// run watches until ctx ends; it calls ready once it is watching (or has
	// failed to start, to retry in the background).
	run     func(ctx context.Context, ready func())
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}
	started atomic.Bool
}

func newExternalWatch(run func(ctx context.Context, ready func())) *externalWatch {
	ctx, cancel := context.WithCancel(context.Background())
	return &externalWatch{run: run, ctx: ctx, cancel: cancel, done: make(chan struct{})}
}

// start returns once the watch is live, so that a change committed elsewhere after
// the first Subscribe is never missed.
func (w *externalWatch) start() {
	w.started.Store(true)
	ready := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(w.done)
		w.run(w.ctx, func() { once.Do(func() { close(ready) }) })
	}()
	select {
	case <-ready:
	case <-w.done:
	case <-time.After(5 * time.Second):
	}
}

func (w *externalWatch) stop() {
	w.cancel()
	if w.started.Load() {
		select {
		case <-w.done:
		case <-time.After(5 * time.Second):
		}
	}
}

// watchSQLiteWriters watches other processes' commits on SQLite: PRAGMA
// data_version, asked on the writer connection, changes when another connection
// (another process: this one writes only through the writer) commits. Any such
// commit drops every cached row.
func watchSQLiteWriters(writer *sql.DB, changes *Changes) *externalWatch {
	return newExternalWatch(func(ctx context.Context, ready func()) {
		tick := time.NewTicker(externalPoll)
		defer tick.Stop()
		last := int64(-1)
		for {
			var v int64
			err := writer.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
			if err == nil {
				if last >= 0 && v != last {
					changes.publish(Change{})
				}
				last = v
			} else if strings.Contains(err.Error(), "database is closed") {
				return
			}
			ready()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// postgresNotifier returns the hooks that tell other processes on a PostgreSQL
// database which shared tables this one changed, and the watch that listens for
// theirs. origin tells this process's own notifications apart.
func postgresNotifier(dsn string, db *sql.DB, changes *Changes) (beforeCommit func(context.Context, *sql.Tx, []string) error, afterWrite func(context.Context, []string), watch *externalWatch) {
	origin := newOrigin()
	payload := func(tables []string) string {
		var shared []string
		for _, t := range tables {
			if t == "" {
				return origin + " *"
			}
			if containsString(SharedTables, t) {
				shared = append(shared, t)
			}
		}
		if len(shared) == 0 {
			return ""
		}
		return origin + " " + strings.Join(shared, ",")
	}
	beforeCommit = func(ctx context.Context, tx *sql.Tx, tables []string) error {
		if p := payload(tables); p != "" {
			_, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", notifyChannel, p)
			return err
		}
		return nil
	}
	afterWrite = func(ctx context.Context, tables []string) {
		if p := payload(tables); p != "" {
			// The write has committed; if the notification fails, other processes
			// keep a stale copy until their caches evict it: log-worthy, not fatal.
			if _, err := db.ExecContext(context.WithoutCancel(ctx), "SELECT pg_notify($1, $2)", notifyChannel, p); err != nil {
				slog.Default().Warn("store: could not announce a change to other processes", "error", err)
			}
		}
	}
	watch = newExternalWatch(func(ctx context.Context, ready func()) { listenForChanges(ctx, dsn, origin, changes, ready) })
	return beforeCommit, afterWrite, watch
}

// listenForChanges listens on notifyChannel until ctx ends, reconnecting after
// failures.
func listenForChanges(ctx context.Context, dsn, origin string, changes *Changes, ready func()) {
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			ready() // the first attempt failed: keep trying in the background
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			continue
		}
		if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			_ = conn.Close(context.Background())
			continue
		}
		if !first {
			// What committed while this process was not listening went unheard:
			// everything may have changed.
			changes.publish(Change{})
		}
		ready()
		for {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				break
			}
			from, tables, _ := strings.Cut(n.Payload, " ")
			if from == origin {
				continue
			}
			for _, t := range strings.Split(tables, ",") {
				if t == "*" {
					t = ""
				}
				changes.publish(Change{Table: t})
			}
		}
		_ = conn.Close(context.Background())
	}
}

func newOrigin() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
