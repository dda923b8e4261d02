package rowcache_test

import (
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/rowcache"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

type note struct {
	ID   int64 `gorm:"primaryKey;autoIncrement:false"`
	Text string
}

func (note) TableName() string { return "cache_notes" }

func open(t *testing.T) (*gorm.DB, *rowcache.Cache[int64, note]) {
	old := store.SharedTables
	store.SharedTables = append(slices.Clone(old), "cache_notes")
	t.Cleanup(func() { store.SharedTables = old })
	db := storetest.Open(t)
	if err := db.Exec("CREATE TABLE cache_notes (id BIGINT PRIMARY KEY, text TEXT NOT NULL DEFAULT '')").Error; err != nil {
		t.Fatal(err)
	}
	for id := int64(1); id <= 3; id++ {
		if err := db.Create(&note{ID: id, Text: "first"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	return db, rowcache.New[int64, note](store.ChangesOf(db), "cache_notes", 2, func(n note) int64 { return n.ID })
}

// load reads a note through the cache, as the domain does.
func load(t *testing.T, db *gorm.DB, c *rowcache.Cache[int64, note], id int64) note {
	t.Helper()
	n, err := c.Load(id, func() (note, error) {
		var n note
		return n, db.Take(&n, id).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestWritesDropCopies: a row written by any kind of statement is read fresh next time.
func TestWritesDropCopies(t *testing.T) {
	db, c := open(t)
	for _, write := range []struct {
		name string
		run  func(text string) error
	}{
		{"update by id", func(text string) error { return db.Model(&note{}).Where("id = ?", 1).Update("text", text).Error }},
		{"save", func(text string) error { return db.Save(&note{ID: 1, Text: text}).Error }},
		{"raw", func(text string) error { return db.Exec("UPDATE cache_notes SET text = ? WHERE id = 1", text).Error }},
		{"transaction", func(text string) error {
			return db.Transaction(func(tx *gorm.DB) error { return tx.Model(&note{ID: 1}).Update("text", text).Error })
		}},
	} {
		load(t, db, c, 1)
		if _, ok := c.Get(1); !ok {
			t.Fatalf("%s: the row was not kept", write.name)
		}
		if err := write.run(write.name); err != nil {
			t.Fatal(err)
		}
		if got := load(t, db, c, 1); got.Text != write.name {
			t.Errorf("%s: read %q after the write", write.name, got.Text)
		}
	}
}

// TestFillRacingAWrite: a copy read before a write committed is not kept.
func TestFillRacingAWrite(t *testing.T) {
	db, c := open(t)
	ticket := c.Begin()
	var stale note
	if err := db.Take(&stale, 2).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&note{}).Where("id = ?", 2).Update("text", "second").Error; err != nil {
		t.Fatal(err)
	}
	c.Put(ticket, 2, stale)
	if got, ok := c.Get(2); ok {
		t.Errorf("kept %q, read before the write committed", got.Text)
	}

	// A write to another row does not refuse the copy.
	ticket = c.Begin()
	fresh := note{}
	db.Take(&fresh, 2)
	db.Model(&note{}).Where("id = ?", 3).Update("text", "third")
	c.Put(ticket, 2, fresh)
	if got, ok := c.Get(2); !ok || got.Text != "second" {
		t.Errorf("Get(2) = %q, %v after an unrelated write", got.Text, ok)
	}
}

// TestBounded: the cache keeps at most its size, dropping the least recently used.
func TestBounded(t *testing.T) {
	db, c := open(t)
	load(t, db, c, 1)
	load(t, db, c, 2)
	load(t, db, c, 1)
	load(t, db, c, 3)
	if _, ok := c.Get(2); ok {
		t.Error("the least recently used row was kept past the size")
	}
	if _, ok := c.Get(1); !ok {
		t.Error("a recently used row was dropped")
	}
	if n := c.Len(); n != 2 {
		t.Errorf("%d rows kept, want 2", n)
	}
}

// TestClearOn: a versioned cache that follows tables it cannot tie to keys is emptied
// by any write to them, and a fill that read before such a write is refused.
func TestClearOn(t *testing.T) {
	db, _ := open(t)
	c := rowcache.NewVersioned[string, string](10)
	c.ClearOn(store.ChangesOf(db), "cache_notes")
	c.Put(c.Begin(), "summary", "three notes")
	if _, ok := c.Get("summary"); !ok {
		t.Fatal("the value was not kept")
	}
	ticket := c.Begin()
	if err := db.Model(&note{}).Where("id = ?", 1).Update("text", "changed").Error; err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get("summary"); ok {
		t.Error("a write to a followed table left the value in place")
	}
	c.Put(ticket, "summary", "made before the write")
	if v, ok := c.Get("summary"); ok {
		t.Errorf("kept %q, made from rows read before the write", v)
	}
}
