// Package rowcache keeps bounded in-memory copies of database rows that the store's
// change feed drops the moment a committed write touches them.
//
// A copy is filled from a read that began before it is stored. A write that commits
// between the two would otherwise be lost under an old copy: the read saw the row as
// it was, and the write's announcement came before the copy existed to drop. So
// every fill takes a ticket before it reads, and Put refuses the copy if a change
// announced since the ticket covers its row.
package rowcache

import (
	"container/list"
	"slices"
	"sync"

	"github.com/tacit-social/tacit/store"
)

// recentChanges is how many announced changes a cache remembers for the fills in
// flight; a fill older than all of them is refused.
const recentChanges = 256

// Cache holds up to size rows of one table by key K (the row id, or another unique
// column such as a token's hash). idOf names a value's row id, which is what the
// change feed reports. Cache is safe for concurrent use.
type Cache[K comparable, V any] struct {
	table string
	idOf  func(V) int64
	size  int

	mu      sync.Mutex
	entries map[K]*list.Element
	byID    map[int64]K // each row is cached under one key
	order   *list.List  // front: most recently used
	gen     uint64      // number of changes announced so far
	recent  []seenChange
}

type entry[K comparable, V any] struct {
	key   K
	value V
}

// seenChange is a change as the cache remembers it: ids nil means any row.
type seenChange struct {
	gen uint64
	ids []int64
}

// Ticket marks when a fill began reading.
type Ticket struct{ gen uint64 }

// New returns a cache of up to size rows of table, following the change feed. Without
// a change feed (a database not opened by the store) nothing could drop a stale copy,
// so the cache keeps nothing.
func New[K comparable, V any](changes *store.Changes, table string, size int, idOf func(V) int64) *Cache[K, V] {
	if changes == nil {
		size = 0
	}
	return newCache[K](changes, table, size, idOf)
}

// NewVersioned returns a cache of up to size values that never go stale because
// their key names the version of what they were made from (a row's id with its
// updated_at, say): a change makes a new key, and the old one ages out.
func NewVersioned[K comparable, V any](size int) *Cache[K, V] {
	return newCache[K, V](nil, "", size, nil)
}

func newCache[K comparable, V any](changes *store.Changes, table string, size int, idOf func(V) int64) *Cache[K, V] {
	c := &Cache[K, V]{
		table:   table,
		idOf:    idOf,
		size:    size,
		entries: make(map[K]*list.Element, size),
		byID:    make(map[int64]K, size),
		order:   list.New(),
	}
	if changes != nil {
		changes.Subscribe([]string{table}, c.apply)
	}
	return c
}

// Get returns the cached row for key.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).value, true
	}
	var zero V
	return zero, false
}

// Load returns the row under key, from memory or else from load, whose result it
// keeps (unless a change raced the read). Callers must not change what it returns.
func (c *Cache[K, V]) Load(key K, load func() (V, error)) (V, error) {
	if v, ok := c.Get(key); ok {
		return v, nil
	}
	ticket := c.Begin()
	v, err := load()
	if err != nil {
		return v, err
	}
	c.Put(ticket, key, v)
	return v, nil
}

// Begin takes the ticket for a fill: call it before reading the rows to Put.
func (c *Cache[K, V]) Begin() Ticket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Ticket{gen: c.gen}
}

// Put stores value under key unless a change announced since t may have touched its
// row.
func (c *Cache[K, V]) Put(t Ticket, key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var id int64
	if c.idOf != nil {
		id = c.idOf(value)
	}
	if t.gen != c.gen && c.changedSince(t.gen, id) {
		return
	}
	if c.idOf != nil {
		if old, ok := c.byID[id]; ok && old != key {
			c.remove(c.entries[old])
		}
	}
	if el, ok := c.entries[key]; ok {
		c.remove(el)
	}
	c.entries[key] = c.order.PushFront(&entry[K, V]{key: key, value: value})
	if c.idOf != nil {
		c.byID[c.idOf(value)] = key
	}
	for c.order.Len() > c.size {
		c.remove(c.order.Back())
	}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	if el == nil {
		return
	}
	e := el.Value.(*entry[K, V])
	c.order.Remove(el)
	delete(c.entries, e.key)
	if c.idOf == nil {
		return
	}
	if k, ok := c.byID[c.idOf(e.value)]; ok && k == e.key {
		delete(c.byID, c.idOf(e.value))
	}
}

// changedSince reports whether a change after gen may have touched row id.
func (c *Cache[K, V]) changedSince(gen uint64, id int64) bool {
	if len(c.recent) == 0 || c.recent[0].gen > gen+1 {
		return true // the changes right after gen are forgotten
	}
	for _, ch := range c.recent {
		if ch.gen > gen && (ch.ids == nil || slices.Contains(ch.ids, id)) {
			return true
		}
	}
	return false
}

// apply drops the rows a change touched.
func (c *Cache[K, V]) apply(ch store.Change) {
	if ch.Table != "" && ch.Table != c.table {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop(ch.IDs)
}

// drop forgets the rows ids (every row when ids is nil) and remembers the change for
// the fills in flight.
func (c *Cache[K, V]) drop(ids []int64) {
	c.gen++
	if len(c.recent) == recentChanges {
		c.recent = slices.Delete(c.recent, 0, 1)
	}
	c.recent = append(c.recent, seenChange{gen: c.gen, ids: ids})
	if ids == nil {
		clear(c.entries)
		clear(c.byID)
		c.order.Init()
		return
	}
	for _, id := range ids {
		if key, ok := c.byID[id]; ok {
			c.remove(c.entries[key])
		}
	}
}

// ClearOn empties the cache whenever one of tables changes: for values made from
// rows of several tables that the change feed cannot tie to a key.
func (c *Cache[K, V]) ClearOn(changes *store.Changes, tables ...string) {
	if changes == nil {
		c.mu.Lock()
		c.size = 0
		c.mu.Unlock()
		return
	}
	changes.Subscribe(tables, func(ch store.Change) {
		if ch.Table == "" || slices.Contains(tables, ch.Table) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.drop(nil)
		}
	})
}

// Len returns how many rows the cache holds.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
