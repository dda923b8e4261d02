package store_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestUpgradeFromEverySchema starts from an empty database and stops at every schema
// version built into the binary, as a released Tacit may have left it. At each one it
// writes an account, a post and a follow with plain SQL that fits that version's tables
// (read from the database itself, so that new migrations need no change here), then
// carries on to the next. At the latest version every row written on the way must be
// there with its values, and the domain service must read them.
func TestUpgradeFromEverySchema(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		db, err := store.OpenNoMigrate(ctx(t), "", filepath.Join(t.TempDir(), "tacit.db"), storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close(db) })
		testUpgradeFromEverySchema(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := store.OpenNoMigrate(ctx(t), storetest.PostgresSchema(t), "", storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { store.Close(db) })
		testUpgradeFromEverySchema(t, db)
	})
}

// written is what was written at one schema version.
type written struct {
	version             int64
	account, status     int64
	username, text      string
	followOf, followsTo int64
}

func testUpgradeFromEverySchema(t *testing.T, db *gorm.DB) {
	migrations, err := store.Migrations(db)
	if err != nil {
		t.Fatal(err)
	}
	if len(migrations) == 0 {
		t.Fatal("no migrations built in")
	}
	var rows []written
	for i, m := range migrations {
		applied, err := store.MigrateTo(ctx(t), db, m.Version)
		if err != nil {
			t.Fatalf("migrate to %d (%s): %v", m.Version, m.Name, err)
		}
		if len(applied) != 1 || applied[0] != m.Version {
			t.Fatalf("migrating to %d applied %v", m.Version, applied)
		}
		if v, err := store.Version(ctx(t), db); err != nil || v != m.Version {
			t.Fatalf("after migrating to %d the schema is at %d (%v)", m.Version, v, err)
		}
		w := written{version: m.Version, account: int64(1000 + i), status: int64(5000 + i),
			username: fmt.Sprintf("schema%d", m.Version), text: fmt.Sprintf("written at schema %d", m.Version)}
		insertRow(t, db, "accounts", map[string]any{"id": w.account, "username": w.username})
		insertRow(t, db, "statuses", map[string]any{"id": w.status, "account_id": w.account, "text": w.text,
			"content": "<p>" + w.text + "</p>", "visibility": "public", "scope": "company"})
		if i > 0 {
			w.followOf, w.followsTo = w.account, rows[0].account
			insertRow(t, db, "follows", map[string]any{"id": int64(9000 + i), "account_id": w.followOf, "target_account_id": w.followsTo})
		}
		rows = append(rows, w)
	}

	if pending, err := store.PendingMigrations(ctx(t), db); err != nil || len(pending) != 0 {
		t.Fatalf("pending after the last migration: %v %v", pending, err)
	}
	svc := community.NewService(db, community.Options{Host: "upgrade.example", BaseURL: "https://upgrade.example"})
	for _, w := range rows {
		acct, err := svc.Unchecked().AccountByID(ctx(t), w.account)
		if err != nil || acct.Username != w.username {
			t.Errorf("account written at schema %d: %+v %v", w.version, acct, err)
			continue
		}
		st, err := svc.Unchecked().StatusByID(ctx(t), w.status)
		if err != nil || st.Text != w.text || st.AccountID != w.account {
			t.Errorf("post written at schema %d: %+v %v", w.version, st, err)
		}
		if w.followOf != 0 {
			var n int64
			db.Table("follows").Where("account_id = ? AND target_account_id = ?", w.followOf, w.followsTo).Count(&n)
			if n != 1 {
				t.Errorf("follow written at schema %d: %d rows", w.version, n)
			}
		}
	}
}

// column is what insertRow needs to know of a column.
type column struct {
	name, typ          string
	required, hasValue bool
}

// insertRow inserts values into table, and a value of the column's type into every
// other column that is NOT NULL without a default, with plain SQL.
func insertRow(t *testing.T, db *gorm.DB, table string, values map[string]any) {
	t.Helper()
	cols := tableColumns(t, db, table)
	var names, marks []string
	var args []any
	for _, c := range cols {
		v, given := values[c.name]
		if !given && !c.required {
			continue
		}
		if !given {
			v = zeroOf(c.typ)
		}
		names = append(names, c.name)
		marks = append(marks, "?")
		args = append(args, v)
	}
	q := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	if err := db.Exec(q, args...).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func tableColumns(t *testing.T, db *gorm.DB, table string) []column {
	t.Helper()
	var cols []column
	if store.Dialect(db) == store.DialectSQLite {
		var info []struct {
			Name, Type string
			NotNull    bool    `gorm:"column:notnull"`
			Default    *string `gorm:"column:dflt_value"`
			PK         int     `gorm:"column:pk"`
		}
		if err := db.Raw("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?)", table).Scan(&info).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range info {
			cols = append(cols, column{name: c.Name, typ: strings.ToLower(c.Type), required: c.NotNull && c.Default == nil && c.PK == 0})
		}
	} else {
		var info []struct {
			ColumnName, DataType, IsNullable string
			ColumnDefault                    *string
		}
		if err := db.Raw(`SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table).Scan(&info).Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range info {
			cols = append(cols, column{name: c.ColumnName, typ: strings.ToLower(c.DataType), required: c.IsNullable == "NO" && c.ColumnDefault == nil})
		}
	}
	if len(cols) == 0 {
		t.Fatalf("no table %s", table)
	}
	return cols
}

// zeroOf is a value a column of type typ accepts.
func zeroOf(typ string) any {
	switch {
	case strings.Contains(typ, "int"), strings.Contains(typ, "numeric"), strings.Contains(typ, "real"), strings.Contains(typ, "double"):
		return 0
	case strings.Contains(typ, "bool"):
		return false
	case strings.Contains(typ, "time"), strings.Contains(typ, "date"):
		return store.Now()
	case strings.Contains(typ, "json"):
		return "{}"
	default:
		return ""
	}
}
