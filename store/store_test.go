package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// models is every gorm model whose table the migrations create.
var models = []any{
	&community.Account{},
	&community.User{},
	&community.Status{},
	&community.StatusEdit{},
	&community.Mention{},
	&community.Tag{},
	&community.StatusTag{},
	&community.Follow{},
	&community.FollowRequest{},
	&community.Block{},
	&community.Mute{},
	&community.Favourite{},
	&community.Bookmark{},
	&community.StatusPin{},
	&community.Notification{},
	&community.Marker{},
	&community.FeaturedTag{},
	&community.IdempotencyKey{},
	&community.ReceivedActivity{},
	&community.AccountTombstone{},
	&community.MediaAttachment{},
	&community.Poll{},
	&community.PollVote{},
	&community.List{},
	&community.ListAccount{},
	&community.Filter{},
	&community.FilterKeyword{},
	&community.FilterStatus{},
	&community.Conversation{},
	&community.ConversationStatus{},
	&community.Board{},
	&community.BoardModerator{},
	&community.BoardBan{},
	&community.Idea{},
	&community.IdeaVote{},
	&community.ModerationLogEntry{},
	&community.Report{},
	&community.AccountSanction{},
	&community.DomainBlock{},
	&community.DomainAllow{},
	&community.TagFollow{},
	&community.AccountPin{},
	&community.SuggestionDismissal{},
	&community.ScheduledStatus{},
	&auth.Application{},
	&auth.Token{},
	&auth.AuthorizationCode{},
	&queue.Job{},
	&queue.DeadLetter{},
	&store.IdentityRecord{},
	&community.InstanceSettingsRecord{},
	&community.LegalHold{},
	&community.ExternalIdentity{},
	&community.Invite{},
	&community.ProvisionedUser{},
	&community.ProvisionedGroup{},
	&community.ProvisionedGroupMember{},
	&auth.SCIMToken{},
}

// migrationVersions lists the versions of the embedded migrations, from the file
// names (both dialects have the same ones, see TestMigrationDialectsAgree).
func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	entries, err := os.ReadDir("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	var vs []int64
	for _, e := range entries {
		var v int64
		if _, err := fmt.Sscanf(e.Name(), "%d_", &v); err != nil {
			t.Fatalf("migration file %s: %v", e.Name(), err)
		}
		vs = append(vs, v)
	}
	return vs
}

func latestVersion(t *testing.T) int64 {
	vs := migrationVersions(t)
	return vs[len(vs)-1]
}

func ctx(t *testing.T) context.Context { return t.Context() }

func TestOpenSQLiteMigratesOnceAndIsIdempotent(t *testing.T) {
	// A directory that does not exist yet: Open creates it.
	path := filepath.Join(t.TempDir(), "nested", "dir", "tacit.db")
	log := storetest.Logger(t)

	db, err := store.OpenNoMigrate(ctx(t), "", path, log)
	if err != nil {
		t.Fatal(err)
	}
	if got := store.Dialect(db); got != store.DialectSQLite {
		t.Errorf("Dialect = %q, want sqlite", got)
	}
	pending, err := store.Pending(ctx(t), db)
	if err != nil {
		t.Fatal(err)
	}
	all := migrationVersions(t)
	if !slices.Equal(pending, all) {
		t.Errorf("Pending on a new database = %v, want %v", pending, all)
	}
	if v, err := store.Version(ctx(t), db); err != nil || v != 0 {
		t.Errorf("Version on a new database = %d, %v; want 0", v, err)
	}
	applied, err := store.Migrate(ctx(t), db)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(applied, all) {
		t.Errorf("Migrate applied %v, want %v", applied, all)
	}
	applied, err = store.Migrate(ctx(t), db)
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", applied, err)
	}
	if err := store.Close(db); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}

	// Open (which migrates) twice more on the same file.
	for i := range 2 {
		db, err := store.Open(ctx(t), "", path, log)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+2, err)
		}
		if v, err := store.Version(ctx(t), db); err != nil || v != latestVersion(t) {
			t.Errorf("Version = %d, %v; want %d", v, err, latestVersion(t))
		}
		if err := store.Close(db); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	if _, err := store.Open(ctx(t), "mysql://x", "", nil); err == nil {
		t.Fatal("Open(mysql://…) succeeded")
	}
	if _, err := store.Open(ctx(t), "", "", nil); err == nil {
		t.Fatal("Open with neither URL nor path succeeded")
	}
}

func TestSQLiteDriverSettings(t *testing.T) {
	db := storetest.Open(t)
	for pragma, want := range map[string]string{
		"journal_mode": "wal",
		"foreign_keys": "1",
		"busy_timeout": "10000",
		"synchronous":  "1", // NORMAL
	} {
		var got string
		if err := db.Raw("PRAGMA " + pragma).Row().Scan(&got); err != nil {
			t.Fatal(err)
		}
		if strings.ToLower(got) != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	// db.DB() is the read pool (health checks ping it); writes have one connection
	// of their own (sqlite_pool_test.go).
	if got := sqlDB.Stats().MaxOpenConnections; got < 4 {
		t.Errorf("read pool MaxOpenConnections = %d, want at least 4", got)
	}
}

func TestPostgresMigrateIsIdempotent(t *testing.T) {
	db := storetest.OpenPostgres(t)
	if got := store.Dialect(db); got != store.DialectPostgres {
		t.Errorf("Dialect = %q, want postgres", got)
	}
	if v, err := store.Version(ctx(t), db); err != nil || v != latestVersion(t) {
		t.Errorf("Version = %d, %v; want %d", v, err, latestVersion(t))
	}
	applied, err := store.Migrate(ctx(t), db)
	if err != nil || len(applied) != 0 {
		t.Errorf("second Migrate = %v, %v; want nothing applied", applied, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != 20 {
		t.Errorf("MaxOpenConnections = %d, want 20", got)
	}
}

func TestVersionAndLatest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		v, err := store.Version(ctx(t), db)
		if err != nil {
			t.Fatal(err)
		}
		latest, err := store.LatestVersion(db)
		if err != nil {
			t.Fatal(err)
		}
		if want := latestVersion(t); v != latest || latest != want {
			t.Errorf("Version = %d, LatestVersion = %d, want both %d", v, latest, want)
		}
		if p, err := store.Pending(ctx(t), db); err != nil || len(p) != 0 {
			t.Errorf("Pending = %v, %v; want none", p, err)
		}
	})
}

// dbColumn is a column of a migrated table as the database describes it.
type dbColumn struct {
	Type       string
	Nullable   bool
	HasDefault bool
	Default    string // normalized: no quotes, no ::cast, lower case
}

var castSuffix = regexp.MustCompile(`::[a-z ]+$`)

func normalizeDefault(s string) string {
	s = castSuffix.ReplaceAllString(strings.TrimSpace(s), "")
	s = strings.Trim(s, "'")
	return strings.ToLower(s)
}

func tables(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var names []string
	var err error
	switch store.Dialect(db) {
	case store.DialectSQLite:
		err = db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'goose_db_version' ORDER BY name`).Scan(&names).Error
	default:
		err = db.Raw(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> 'goose_db_version' ORDER BY table_name`).Scan(&names).Error
	}
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func columns(t *testing.T, db *gorm.DB, table string) map[string]dbColumn {
	t.Helper()
	cols := map[string]dbColumn{}
	switch store.Dialect(db) {
	case store.DialectSQLite:
		rows, err := db.Raw(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			var notNull bool
			var def *string
			var pk int
			if err := rows.Scan(&name, &typ, &notNull, &def, &pk); err != nil {
				t.Fatal(err)
			}
			typ = strings.ToUpper(typ)
			// An INTEGER PRIMARY KEY is the rowid, never NULL (SQLite reports notnull=0).
			rowid := typ == "INTEGER" && pk > 0
			c := dbColumn{Type: typ, Nullable: !notNull && !rowid, HasDefault: def != nil}
			if def != nil {
				c.Default = normalizeDefault(*def)
			}
			cols[name] = c
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	default:
		rows, err := db.Raw(`SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`, table).Rows()
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ, nullable string
			var def *string
			if err := rows.Scan(&name, &typ, &nullable, &def); err != nil {
				t.Fatal(err)
			}
			c := dbColumn{Type: typ, Nullable: nullable == "YES", HasDefault: def != nil}
			if def != nil {
				c.Default = normalizeDefault(*def)
			}
			cols[name] = c
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return cols
}

// wantTypes lists, per gorm data type, the column types the migrations may use.
func wantTypes(dialect string, f *schema.Field) []string {
	sqlite := dialect == store.DialectSQLite
	switch f.DataType {
	case schema.Bool:
		if sqlite {
			return []string{"BOOLEAN"}
		}
		return []string{"boolean"}
	case schema.Int, schema.Uint:
		if sqlite {
			if f.PrimaryKey && len(f.Schema.PrimaryFields) == 1 {
				return []string{"INTEGER"} // the rowid
			}
			return []string{"BIGINT"}
		}
		return []string{"bigint"}
	case schema.String, "text":
		if sqlite {
			return []string{"TEXT"}
		}
		return []string{"text"}
	case schema.Time:
		if sqlite {
			return []string{"DATETIME"}
		}
		return []string{"timestamp with time zone"}
	}
	return nil
}

// TestSchemaMatchesModels is the guard that keeps the SQL migrations and the gorm
// models in step: every model column exists with a compatible type, NULL exactly for
// pointer fields, and the gorm default where the model declares one; the migrated
// tables have no column and no table the models don't know.
func TestSchemaMatchesModels(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		dialect := store.Dialect(db)
		var modelTables []string
		for _, m := range models {
			s, err := schema.Parse(m, &sync.Map{}, schema.NamingStrategy{})
			if err != nil {
				t.Fatal(err)
			}
			modelTables = append(modelTables, s.Table)
			cols := columns(t, db, s.Table)
			if len(cols) == 0 {
				t.Errorf("%s: table %s missing", s.Name, s.Table)
				continue
			}
			seen := map[string]bool{}
			for _, f := range s.Fields {
				if f.DBName == "" {
					continue
				}
				seen[f.DBName] = true
				c, ok := cols[f.DBName]
				if !ok {
					t.Errorf("%s.%s: column %s.%s missing", s.Name, f.Name, s.Table, f.DBName)
					continue
				}
				if want := wantTypes(dialect, f); !slices.Contains(want, c.Type) {
					t.Errorf("%s.%s: column %s.%s has type %q, want one of %q (gorm data type %q)",
						s.Name, f.Name, s.Table, f.DBName, c.Type, want, f.DataType)
				}
				wantNullable := f.FieldType.Kind() == reflect.Pointer
				if c.Nullable != wantNullable {
					t.Errorf("%s.%s: column %s.%s nullable = %v, want %v",
						s.Name, f.Name, s.Table, f.DBName, c.Nullable, wantNullable)
				}
				if f.HasDefaultValue && f.DefaultValue != "" || f.DefaultValueInterface != nil {
					want := strings.ToLower(strings.Trim(f.DefaultValue, "'"))
					if !c.HasDefault || c.Default != want {
						t.Errorf("%s.%s: column %s.%s default = %q (has %v), want %q",
							s.Name, f.Name, s.Table, f.DBName, c.Default, c.HasDefault, want)
					}
				}
			}
			for name := range cols {
				if !seen[name] {
					t.Errorf("column %s.%s has no field in %s", s.Table, name, s.Name)
				}
			}
		}
		slices.Sort(modelTables)
		if got := tables(t, db); !slices.Equal(got, modelTables) {
			t.Errorf("tables = %v\nmodels = %v", got, modelTables)
		}
	})
}

// TestMigrationDialectsAgree checks that the SQLite and PostgreSQL migrations are
// the same statements up to the documented dialect differences.
func TestMigrationDialectsAgree(t *testing.T) {
	entries, err := os.ReadDir("migrations/postgres")
	if err != nil {
		t.Fatal(err)
	}
	sqliteEntries, err := os.ReadDir("migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(sqliteEntries) {
		t.Fatalf("%d postgres migrations, %d sqlite migrations", len(entries), len(sqliteEntries))
	}
	comment := regexp.MustCompile(`(?m)--.*$`)
	space := regexp.MustCompile(`\s+`)
	normalize := func(s string, sqlite bool) string {
		if sqlite {
			s = strings.ReplaceAll(s, "INTEGER PRIMARY KEY", "BIGINT PRIMARY KEY")
			s = strings.ReplaceAll(s, "DATETIME", "TIMESTAMPTZ")
			s = strings.ReplaceAll(s, ") WITHOUT ROWID;", ");")
		}
		// Keep the goose annotations, drop other comments.
		s = strings.ReplaceAll(s, "-- +goose", "GOOSE")
		s = comment.ReplaceAllString(s, "")
		return strings.TrimSpace(space.ReplaceAllString(s, " "))
	}
	for i, e := range entries {
		if e.Name() != sqliteEntries[i].Name() {
			t.Errorf("migration %d: postgres %s, sqlite %s", i, e.Name(), sqliteEntries[i].Name())
			continue
		}
		pg, err := os.ReadFile(filepath.Join("migrations/postgres", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lite, err := os.ReadFile(filepath.Join("migrations/sqlite", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		a, b := normalize(string(lite), true), normalize(string(pg), false)
		if a != b {
			as, bs := strings.Split(a, ";"), strings.Split(b, ";")
			for j := range min(len(as), len(bs)) {
				if as[j] != bs[j] {
					t.Errorf("%s: statement %d differs:\nsqlite:   %s\npostgres: %s", e.Name(), j, as[j], bs[j])
					break
				}
			}
			if len(as) != len(bs) {
				t.Errorf("%s: %d statements in sqlite, %d in postgres", e.Name(), len(as), len(bs))
			}
		}
	}
}

func TestDownMigrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		down, err := store.MigrateDown(ctx(t), db, 0)
		if err != nil {
			t.Fatal(err)
		}
		all := migrationVersions(t)
		reversed := slices.Clone(all)
		slices.Reverse(reversed)
		if !slices.Equal(down, reversed) {
			t.Errorf("MigrateDown rolled back %v, want %v", down, reversed)
		}
		if v, err := store.Version(ctx(t), db); err != nil || v != 0 {
			t.Errorf("Version after down = %d, %v; want 0", v, err)
		}
		if got := tables(t, db); len(got) != 0 {
			t.Errorf("tables left after down: %v", got)
		}
		up, err := store.Migrate(ctx(t), db)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(up, all) {
			t.Errorf("Migrate applied %v, want %v", up, all)
		}
		if got := tables(t, db); len(got) != len(models) {
			t.Errorf("tables after up again: %v", got)
		}
	})
}

var nextID int64 = 1000

func newID() int64 {
	nextID++
	return nextID
}

func createAccount(t *testing.T, db *gorm.DB, username, domain string) *community.Account {
	t.Helper()
	a := &community.Account{ID: newID(), Username: username, Domain: domain}
	if err := db.Create(a).Error; err != nil {
		t.Fatalf("create account %s@%s: %v", username, domain, err)
	}
	return a
}

func createStatus(t *testing.T, db *gorm.DB, s *community.Status) *community.Status {
	t.Helper()
	if s.ID == 0 {
		s.ID = newID()
	}
	if s.Visibility == "" {
		s.Visibility = community.VisibilityPublic
	}
	if s.Scope == "" {
		s.Scope = community.ScopeWorld
	}
	if err := db.Create(s).Error; err != nil {
		t.Fatalf("create status: %v", err)
	}
	return s
}

func TestTimeRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		// gorm fills CreatedAt/UpdatedAt through NowFunc: UTC, microseconds.
		a := createAccount(t, db, "timey", "")
		if a.CreatedAt.Location() != time.UTC || a.CreatedAt.Nanosecond()%1000 != 0 {
			t.Errorf("NowFunc time = %v, want UTC with microsecond precision", a.CreatedAt)
		}

		zone := time.FixedZone("UTC+2", 2*60*60)
		last := time.Date(2024, 5, 6, 7, 8, 9, 123456000, zone)
		if err := db.Model(a).Update("last_status_at", last).Error; err != nil {
			t.Fatal(err)
		}
		var got community.Account
		if err := db.First(&got, a.ID).Error; err != nil {
			t.Fatal(err)
		}
		for name, pair := range map[string][2]time.Time{
			"created_at":     {a.CreatedAt, got.CreatedAt},
			"updated_at":     {a.UpdatedAt, got.UpdatedAt},
			"last_status_at": {last, deref(got.LastStatusAt)},
		} {
			want, have := pair[0], pair[1]
			if !have.Equal(want) {
				t.Errorf("%s = %v, want %v", name, have, want)
			}
			if have.Location() != time.UTC {
				t.Errorf("%s comes back in %v, want UTC", name, have.Location())
			}
		}

		// Times compare and sort as instants whatever zone they were written in.
		early := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
		later := time.Date(2024, 1, 1, 11, 30, 0, 0, zone) // 09:30 UTC: earlier still
		b := &community.Account{ID: newID(), Username: "early", CreatedAt: early}
		c := &community.Account{ID: newID(), Username: "later-in-local", CreatedAt: later}
		if err := db.Create(b).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Create(c).Error; err != nil {
			t.Fatal(err)
		}
		var order []string
		if err := db.Model(&community.Account{}).Where("id IN ?", []int64{b.ID, c.ID}).
			Order("created_at").Pluck("username", &order).Error; err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(order, []string{"later-in-local", "early"}) {
			t.Errorf("ORDER BY created_at = %v, want [later-in-local early]", order)
		}
		var n int64
		if err := db.Model(&community.Account{}).Where("id IN ? AND created_at < ?", []int64{b.ID, c.ID},
			time.Date(2024, 1, 1, 11, 45, 0, 0, zone)).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("created_at < 09:45Z matched %d rows, want 1", n)
		}

		if store.Dialect(db) == store.DialectSQLite {
			var text string
			if err := db.Raw("SELECT CAST(created_at AS TEXT) FROM accounts WHERE id = ?", c.ID).Row().Scan(&text); err != nil {
				t.Fatal(err)
			}
			if text != "2024-01-01 09:30:00+00:00" {
				t.Errorf("stored text = %q, want UTC", text)
			}
		}
	})
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func TestUsernameUniqueCaseInsensitive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		createAccount(t, db, "alice", "")
		err := db.Create(&community.Account{ID: newID(), Username: "Alice"}).Error
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("second account Alice: err = %v, want gorm.ErrDuplicatedKey", err)
		}
		// Same name on another domain is another person.
		createAccount(t, db, "Alice", "example.com")
		err = db.Create(&community.Account{ID: newID(), Username: "ALICE", Domain: "example.com"}).Error
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("ALICE@example.com: err = %v, want gorm.ErrDuplicatedKey", err)
		}
		// Empty URIs don't collide; equal non-empty ones do.
		createAccount(t, db, "bob", "")
		if err := db.Create(&community.Account{ID: newID(), Username: "carol", Domain: "x.example", URI: "https://x.example/u/carol"}).Error; err != nil {
			t.Fatal(err)
		}
		err = db.Create(&community.Account{ID: newID(), Username: "carol2", Domain: "x.example", URI: "https://x.example/u/carol"}).Error
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("duplicate uri: err = %v, want gorm.ErrDuplicatedKey", err)
		}
	})
}

func TestForeignKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		alice := createAccount(t, db, "alice", "")
		bob := createAccount(t, db, "bob", "")
		post := createStatus(t, db, &community.Status{AccountID: alice.ID, Text: "hi @bob"})
		if err := db.Create(&community.Mention{ID: newID(), StatusID: post.ID, AccountID: bob.ID}).Error; err != nil {
			t.Fatal(err)
		}
		reply := createStatus(t, db, &community.Status{AccountID: bob.ID, InReplyToID: &post.ID, InReplyToAccountID: &alice.ID})
		reblog := createStatus(t, db, &community.Status{AccountID: bob.ID, ReblogOfID: &post.ID})
		if err := db.Create(&community.Favourite{ID: newID(), AccountID: bob.ID, StatusID: post.ID}).Error; err != nil {
			t.Fatal(err)
		}
		// One reblog per account per status.
		err := db.Create(&community.Status{ID: newID(), AccountID: bob.ID, ReblogOfID: &post.ID,
			Visibility: community.VisibilityPublic, Scope: community.ScopeWorld}).Error
		if !errors.Is(err, gorm.ErrDuplicatedKey) {
			t.Errorf("second reblog: err = %v, want gorm.ErrDuplicatedKey", err)
		}
		// Rows pointing nowhere are refused.
		err = db.Create(&community.Mention{ID: newID(), StatusID: 424242, AccountID: bob.ID}).Error
		if !errors.Is(err, gorm.ErrForeignKeyViolated) {
			t.Errorf("mention of a missing status: err = %v, want gorm.ErrForeignKeyViolated", err)
		}

		if err := db.Delete(&community.Status{}, post.ID).Error; err != nil {
			t.Fatal(err)
		}
		count := func(model any, where string, args ...any) int64 {
			t.Helper()
			var n int64
			if err := db.Model(model).Where(where, args...).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(&community.Mention{}, "status_id = ?", post.ID); n != 0 {
			t.Errorf("%d mentions left after deleting their status", n)
		}
		if n := count(&community.Favourite{}, "status_id = ?", post.ID); n != 0 {
			t.Errorf("%d favourites left after deleting their status", n)
		}
		if n := count(&community.Status{}, "id = ?", reblog.ID); n != 0 {
			t.Errorf("reblog survived its original")
		}
		var r community.Status
		if err := db.First(&r, reply.ID).Error; err != nil {
			t.Fatalf("reply deleted with its parent: %v", err)
		}
		if r.InReplyToID != nil {
			t.Errorf("reply.in_reply_to_id = %d, want NULL", *r.InReplyToID)
		}

		// Deleting an account takes its statuses (and their children) along, and
		// unlinks replies to it.
		if err := db.Delete(&community.Account{}, alice.ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.First(&r, reply.ID).Error; err != nil {
			t.Fatal(err)
		}
		if r.InReplyToAccountID != nil {
			t.Errorf("reply.in_reply_to_account_id = %d, want NULL", *r.InReplyToAccountID)
		}
		if err := db.Delete(&community.Account{}, bob.ID).Error; err != nil {
			t.Fatal(err)
		}
		if n := count(&community.Status{}, "1 = 1"); n != 0 {
			t.Errorf("%d statuses left after deleting every account", n)
		}
	})
}

// TestSQLiteConcurrentReadThenWrite proves that concurrent read-then-write
// transactions neither fail with "database is locked" nor lose updates.
func TestSQLiteConcurrentReadThenWrite(t *testing.T) {
	db := storetest.Open(t)
	a := createAccount(t, db, "counter", "")
	const workers, perWorker = 50, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				errs <- db.Transaction(func(tx *gorm.DB) error {
					var cur community.Account
					if err := tx.Select("followers_count").First(&cur, a.ID).Error; err != nil {
						return fmt.Errorf("read: %w", err)
					}
					return tx.Model(&community.Account{}).Where("id = ?", a.ID).
						Update("followers_count", cur.FollowersCount+1).Error
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			if failed == 0 {
				t.Errorf("transaction failed: %v", err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d transactions failed", failed, workers*perWorker)
	}
	var got community.Account
	if err := db.First(&got, a.ID).Error; err != nil {
		t.Fatal(err)
	}
	if got.FollowersCount != workers*perWorker {
		t.Errorf("counter = %d, want %d", got.FollowersCount, workers*perWorker)
	}
}

func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := store.Open(ctx(t), "", filepath.Join(t.TempDir(), "tacit.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close(db) })
	logged := func() string {
		mu.Lock()
		defer mu.Unlock()
		s := buf.String()
		buf.Reset()
		return s
	}
	if s := logged(); !strings.Contains(s, "database migrated") {
		t.Errorf("no migration log line in %q", s)
	}

	var a community.Account
	if err := db.First(&a, 1).Error; !errors.Is(err, gorm.ErrRecordNotFound) {
		t.Fatalf("First = %v", err)
	}
	if s := logged(); s != "" {
		t.Errorf("record not found was logged: %q", s)
	}

	createAccount(t, db, "dup", "")
	if err := db.Create(&community.Account{ID: newID(), Username: "dup"}).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate: %v", err)
	}
	if s := logged(); s != "" {
		t.Errorf("duplicate key logged above Debug: %q", s)
	}

	const secret = "hunter2-secret"
	if err := db.Exec("INSERT INTO no_such_table (x) VALUES (?)", secret).Error; err == nil {
		t.Fatal("insert into a missing table succeeded")
	}
	s := logged()
	if !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "no_such_table") {
		t.Errorf("failed query not logged as an error: %q", s)
	}
	if strings.Contains(s, secret) {
		t.Errorf("log contains a bound value: %q", s)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
