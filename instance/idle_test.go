package instance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// The trim runs once per quiet period: once after start, not again while nothing
// happens, and once more after the next request has been followed by quiet.
func TestIdleTrimOncePerQuietPeriod(t *testing.T) {
	var trims atomic.Int32
	trim := newIdleTrim(40 * time.Millisecond)
	trim.trim = func() { trims.Add(1) }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go trim.run(ctx)

	waitFor := func(n int32) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for trims.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d trims after 10 s, want %d", trims.Load(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(1)
	time.Sleep(200 * time.Millisecond) // several quiet periods without requests
	if n := trims.Load(); n != 1 {
		t.Fatalf("%d trims without requests in between, want 1", n)
	}

	h := trim.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/health", nil))
	waitFor(2)
}
