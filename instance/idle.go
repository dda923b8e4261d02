package instance

import (
	"context"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// idleTrim returns to the operating system the memory a burst of requests left behind,
// once the server has been quiet for a while. Go's runtime returns freed heap memory
// by itself, but slowly (its background scavenger), so an instance that served a
// burst an hour ago could still hold several megabytes it no longer uses; a
// department's instance is idle most of the day. The cost while busy is one atomic
// store per request; the trim itself (a garbage collection) runs at most once per
// quiet period.
type idleTrim struct {
	last  atomic.Int64 // Unix nanoseconds of the last request
	quiet time.Duration
	trim  func() // debug.FreeOSMemory; a test counts the calls instead
}

func newIdleTrim(quiet time.Duration) *idleTrim {
	t := &idleTrim{quiet: quiet, trim: debug.FreeOSMemory}
	t.last.Store(time.Now().UnixNano())
	return t
}

// wrap notes every request that h serves.
func (t *idleTrim) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.last.Store(time.Now().UnixNano())
		h.ServeHTTP(w, r)
	})
}

// run checks every quiet/4 and trims once per quiet period, until ctx ends.
func (t *idleTrim) run(ctx context.Context) {
	tick := time.NewTicker(t.quiet / 4)
	defer tick.Stop()
	var trimmedAfter int64 // the last request before the latest trim
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		last := t.last.Load()
		if last == trimmedAfter || time.Since(time.Unix(0, last)) < t.quiet {
			continue
		}
		trimmedAfter = last
		t.trim()
	}
}
