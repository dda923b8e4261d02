package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// scratchRow is a table of the change-feed tests' own.
type scratchRow struct {
	ID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Name string
}

func (scratchRow) TableName() string { return "scratch_rows" }

// changeLog collects what a change feed announces.
type changeLog struct {
	mu      sync.Mutex
	changes []store.Change
}

func (l *changeLog) add(c store.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, c)
}

// take returns what was announced since the last take.
func (l *changeLog) take() []store.Change {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.changes
	l.changes = nil
	return out
}

// waitFor waits until a change covering row id of table is announced.
func (l *changeLog) waitFor(t *testing.T, table string, id int64) {
	t.Helper()
	eventually.Holds(t, fmt.Sprintf("a change of %s row %d is announced", table, id), func() bool {
		for _, c := range l.take() {
			if c.Covers(table, id) {
				return true
			}
		}
		return false
	})
}

func shareScratch(t *testing.T) {
	old := store.SharedTables
	store.SharedTables = append(slices.Clone(old), "scratch_rows")
	t.Cleanup(func() { store.SharedTables = old })
}

func subscribeScratch(t *testing.T, db *gorm.DB) *changeLog {
	t.Helper()
	if err := db.Exec("CREATE TABLE scratch_rows (id BIGINT PRIMARY KEY, name TEXT NOT NULL DEFAULT '')").Error; err != nil {
		t.Fatal(err)
	}
	log := &changeLog{}
	store.ChangesOf(db).Subscribe([]string{"scratch_rows"}, log.add)
	return log
}

// TestChangeFeed: every kind of write announces the rows it touched, or its whole
// table when it cannot tell which, and only once it has committed.
func TestChangeFeed(t *testing.T) {
	shareScratch(t)
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		log := subscribeScratch(t, db)
		ctx := context.Background()
		want := func(what string, table string, ids []int64) {
			t.Helper()
			got := log.take()
			for _, c := range got {
				if c.Table == table && slices.Equal(c.IDs, ids) {
					return
				}
			}
			t.Errorf("%s: announced %+v, want %s %v", what, got, table, ids)
		}

		if err := db.Create(&[]scratchRow{{ID: 1, Name: "a"}, {ID: 2, Name: "b"}, {ID: 3, Name: "c"}}).Error; err != nil {
			t.Fatal(err)
		}
		want("create", "scratch_rows", []int64{1, 2, 3})

		db.Model(&scratchRow{}).Where("id = ?", 2).Update("name", "B")
		want("update where id", "scratch_rows", []int64{2})

		db.Model(&scratchRow{}).Where("id IN ? AND name <> ?", []int64{1, 3}, "x").Update("name", "y")
		want("update where id in", "scratch_rows", []int64{1, 3})

		row := scratchRow{ID: 3}
		db.Model(&row).Update("name", "z")
		want("update of a model", "scratch_rows", []int64{3})

		db.Model(&scratchRow{}).Where("name = ? OR id = ?", "y", 2).Update("name", "w")
		want("update with OR", "scratch_rows", nil)

		db.Exec("UPDATE scratch_rows SET name = 'raw' WHERE id = 1")
		want("raw update", "scratch_rows", nil)

		db.Delete(&scratchRow{}, 2)
		want("delete by key", "scratch_rows", []int64{2})

		if got := log.take(); len(got) != 0 {
			t.Errorf("left over: %+v", got)
		}
		db.Model(&scratchRow{}).Where("id = ?", 99).Update("name", "nobody")
		if got := log.take(); len(got) != 0 {
			t.Errorf("an update of no row announced %+v", got)
		}

		// In a transaction: nothing before the commit, all of it after.
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Model(&scratchRow{}).Where("id = ?", 1).Update("name", "in tx").Error; err != nil {
				return err
			}
			if got := log.take(); len(got) != 0 {
				t.Errorf("announced before commit: %+v", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want("committed transaction", "scratch_rows", []int64{1})

		// A rolled-back transaction changed nothing.
		_ = db.Transaction(func(tx *gorm.DB) error {
			tx.Model(&scratchRow{}).Where("id = ?", 1).Update("name", "rolled back")
			return errors.New("roll back")
		})
		if got := log.take(); len(got) != 0 {
			t.Errorf("a rolled-back transaction announced %+v", got)
		}
	})
}

// TestChangeFeedSeesOtherProcesses: a write by another process on the same database
// (an admin command beside the server) reaches the subscribers.
func TestChangeFeedSeesOtherProcesses(t *testing.T) {
	shareScratch(t)
	open := func(t *testing.T, dsn, path string) *gorm.DB {
		db, err := store.Open(context.Background(), dsn, path, storetest.Logger(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close(db) })
		return db
	}
	check := func(t *testing.T, server, other *gorm.DB) {
		log := subscribeScratch(t, server)
		if err := other.Create(&scratchRow{ID: 7, Name: "from elsewhere"}).Error; err != nil {
			t.Fatal(err)
		}
		log.waitFor(t, "scratch_rows", 7)
	}
	t.Run("sqlite", func(t *testing.T) {
		if storetest.PostgresByDefault() {
			t.Skip("TACIT_TEST_DATABASE=postgres")
		}
		path := filepath.Join(t.TempDir(), "tacit.db")
		check(t, open(t, "", path), open(t, "", path))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresSchema(t)
		check(t, open(t, dsn, ""), open(t, dsn, ""))
	})
}
