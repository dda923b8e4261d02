// Package pagecache keeps rendered answers to GET requests until the next committed
// write to the database, for at most a second.
package pagecache

import (
	"bytes"
	"container/list"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/store"
)

// The reads people make most (timelines, notifications, a status, a profile) are
// asked again and again by clients that poll, and between two writes to the database
// the answer cannot change: everything in them comes from the database. So an answer
// is kept, per reader and request, until the next committed write to any table that
// may touch it (the store's change feed; only tables no page shows, the delivery
// queue's, are left out) and for at most pageTTL, which bounds what time alone
// changes: a mute or filter that expires, a poll that closes.
//
// The write that a reader makes is committed before its answer, so their next read
// is made afresh; a write racing a read makes the page it started with unusable (its
// generation is taken before the read begins).

const (
	// pageTTL bounds how long a page is served without a write to drop it.
	pageTTL = time.Second
	// pageCacheBytes bounds the memory the pages take.
	pageCacheBytes = 32 << 20
	// maxCachedPage: larger answers are not kept.
	maxCachedPage = 1 << 20
)

// unshownTables change without changing any page: the delivery queue's.
var unshownTables = map[string]bool{"queue_jobs": true, "queue_dead_letters": true}

type cachedPage struct {
	key         string
	gen         uint64
	until       time.Time
	body        []byte
	contentType string
	link        string
}

// size is what an answer costs the cache's budget: its key (which carries the query
// string a client chose) as well as its body.
func (p *cachedPage) size() int { return len(p.key) + len(p.body) + len(p.link) }

// Cache holds answers by key. Callers build the key from everything the answer depends
// on besides the database: the request and who asks.
type Cache struct {
	mu    sync.Mutex
	gen   uint64
	pages map[string]*list.Element
	order *list.List
	bytes int
	now   func() time.Time
	// sweeping is set while a sweep of expired answers is scheduled: answers are
	// good for a second, and an idle server should not hold on to them.
	sweeping bool
}

// New returns a cache following changes, or nil without a change feed (a nil Cache
// keeps nothing).
func New(changes *store.Changes) *Cache {
	if changes == nil {
		return nil
	}
	pc := &Cache{pages: map[string]*list.Element{}, order: list.New(), now: time.Now}
	changes.SubscribeAll(func(ch store.Change) {
		if unshownTables[ch.Table] {
			return
		}
		pc.mu.Lock()
		defer pc.mu.Unlock()
		pc.gen++
		clear(pc.pages)
		pc.order.Init()
		pc.bytes = 0
	})
	return pc
}

// Serve answers c from memory when the answer kept under key is still good, and
// otherwise runs handler and keeps its answer if it is a 200.
func (pc *Cache) Serve(c *gin.Context, key string, handler gin.HandlerFunc) {
	if pc == nil {
		handler(c)
		return
	}
	pc.mu.Lock()
	gen := pc.gen
	if el, ok := pc.pages[key]; ok {
		p := el.Value.(*cachedPage)
		if p.gen == gen && pc.now().Before(p.until) {
			pc.order.MoveToFront(el)
			pc.mu.Unlock()
			if p.link != "" {
				c.Header("Link", p.link)
			}
			c.Data(http.StatusOK, p.contentType, p.body)
			return
		}
	}
	pc.mu.Unlock()

	w := &capturingWriter{ResponseWriter: c.Writer}
	c.Writer = w
	handler(c)
	c.Writer = w.ResponseWriter
	if w.Status() != http.StatusOK || w.failed || w.buf.Len() > maxCachedPage {
		return
	}
	pc.put(&cachedPage{key: key, gen: gen, until: pc.now().Add(pageTTL), body: bytes.Clone(w.buf.Bytes()),
		contentType: w.Header().Get("Content-Type"), link: w.Header().Get("Link")})
}

func (pc *Cache) put(p *cachedPage) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if p.gen != pc.gen {
		return // something was written while the page was made
	}
	if el, ok := pc.pages[p.key]; ok {
		pc.remove(el)
	}
	pc.pages[p.key] = pc.order.PushFront(p)
	pc.bytes += p.size()
	for pc.bytes > pageCacheBytes {
		pc.remove(pc.order.Back())
	}
	if !pc.sweeping {
		pc.sweeping = true
		time.AfterFunc(2*pageTTL, pc.sweep)
	}
}

// sweep drops the answers whose time is up, and comes back while any remain.
func (pc *Cache) sweep() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	now := pc.now()
	for el := pc.order.Front(); el != nil; {
		next := el.Next()
		if !now.Before(el.Value.(*cachedPage).until) {
			pc.remove(el)
		}
		el = next
	}
	if pc.order.Len() > 0 {
		time.AfterFunc(2*pageTTL, pc.sweep)
		return
	}
	pc.sweeping = false
}

func (pc *Cache) remove(el *list.Element) {
	p := el.Value.(*cachedPage)
	pc.order.Remove(el)
	delete(pc.pages, p.key)
	pc.bytes -= p.size()
}

// capturingWriter keeps a copy of what a handler writes.
type capturingWriter struct {
	gin.ResponseWriter
	buf    bytes.Buffer
	failed bool
}

func (w *capturingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.buf.Write(b[:n])
	w.failed = w.failed || err != nil
	return n, err
}

func (w *capturingWriter) WriteString(s string) (int, error) {
	n, err := w.ResponseWriter.WriteString(s)
	w.buf.WriteString(s[:n])
	w.failed = w.failed || err != nil
	return n, err
}
