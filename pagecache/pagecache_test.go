package pagecache

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestServe: an answer is kept until a write to any table the pages may show, or its
// time is up; answers other than 200 are never kept; keys keep answers apart.
func TestServe(t *testing.T) {
	gin.SetMode(gin.TestMode)
	db := storetest.Open(t)
	pc := New(store.ChangesOf(db))
	now := time.Now()
	pc.now = func() time.Time { return now }
	calls := 0
	status := http.StatusOK
	handler := func(c *gin.Context) {
		calls++
		c.Header("Link", "<next>")
		c.JSON(status, gin.H{"call": calls})
	}
	serve := func(key string) (string, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(rec)
		c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
		pc.Serve(c, key, handler)
		return rec.Body.String(), rec.Header().Get("Link")
	}
	write := func() {
		t.Helper()
		if err := db.Exec("UPDATE accounts SET note = note WHERE id = 0").Error; err != nil {
			t.Fatal(err)
		}
	}

	first, _ := serve("a")
	if again, link := serve("a"); again != first || link != "<next>" || calls != 1 {
		t.Errorf("asked again: %q with Link %q after %d calls, want %q from memory", again, link, calls, first)
	}
	if other, _ := serve("b"); other == first {
		t.Error("another key got the first key's answer")
	}
	write()
	if after, _ := serve("a"); after == first {
		t.Error("an answer outlived a write")
	}
	calls0 := calls
	now = now.Add(2 * pageTTL)
	serve("a")
	if calls != calls0+1 {
		t.Error("an answer outlived its time")
	}
	// The delivery queue's table shows on no page.
	if err := db.Exec("UPDATE queue_jobs SET attempts = attempts WHERE id = 0").Error; err != nil {
		t.Fatal(err)
	}
	calls0 = calls
	serve("a")
	if calls != calls0 {
		t.Error("a write to the delivery queue dropped the answers")
	}
	status = http.StatusNotFound
	serve("missing")
	serve("missing")
	if calls != calls0+2 {
		t.Error("an answer other than 200 was kept")
	}
}

// TestSweep: answers whose time is up are dropped even when nothing asks again.
func TestSweep(t *testing.T) {
	gin.SetMode(gin.TestMode)
	pc := New(store.ChangesOf(storetest.Open(t)))
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = httptest.NewRequest(http.MethodGet, "/", nil)
	pc.Serve(c, "k", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"a": 1}) })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		pc.mu.Lock()
		left := pc.order.Len()
		pc.mu.Unlock()
		if left == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Error("an expired answer is still held")
}
