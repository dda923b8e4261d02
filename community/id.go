package community

import (
	"crypto/rand"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// IDs are snowflake-style: milliseconds since the Unix epoch in the high 48 bits and a
// per-process sequence in the low 16. They sort by creation time, which is what
// Mastodon clients rely on for max_id/since_id pagination, and fit a signed 64-bit column.
const sequenceBits = 16

var idGen struct {
	sync.Mutex
	lastMillis int64
	seq        int64
}

// NewID returns a new time-ordered identifier, unique within this process and, with
// overwhelming probability, across processes (the sequence starts at a time-derived offset).
func NewID() int64 {
	return newIDAt(time.Now())
}

func newIDAt(t time.Time) int64 {
	ms := t.UnixMilli()
	idGen.Lock()
	defer idGen.Unlock()
	if ms <= idGen.lastMillis {
		// Same millisecond, or the clock went back: keep counting from the last one so
		// ids stay strictly increasing in this process.
		ms = idGen.lastMillis
		idGen.seq++
		if idGen.seq >= 1<<sequenceBits {
			ms++
			idGen.seq = 0
		}
	} else {
		// A fresh millisecond starts at a pseudo-random offset so that two processes
		// writing to one PostgreSQL database rarely collide.
		idGen.seq = (time.Now().UnixNano() >> 7) & 0x3ff
	}
	idGen.lastMillis = ms
	return ms<<sequenceBits | idGen.seq
}

// IDAt returns the smallest id that could have been created at t. Pagination by date
// (Mastodon's min_id on a timestamp) and "posts since" queries use it.
func IDAt(t time.Time) int64 {
	return t.UnixMilli() << sequenceBits
}

// TimeOf returns when an id was created.
func TimeOf(id int64) time.Time {
	return time.UnixMilli(id >> sequenceBits).UTC()
}

// FormatID renders an id the way the API exposes it: a decimal string.
func FormatID(id int64) string {
	return strconv.FormatInt(id, 10)
}

// ParseID reads an id from the API. It reports false for anything that is not a
// positive decimal integer.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// IDForTime returns an id placed at t, for content created elsewhere at that time (a
// post arriving from a peer), so that it sorts among its contemporaries. The low bits
// come from a counter that starts at a random value and steps on every call, so ids for
// the same millisecond made by this process differ (up to 65,536 of them); two
// processes sharing a database collide only by chance.
func IDForTime(t time.Time) int64 {
	if !t.Before(time.Now()) {
		return NewID()
	}
	seq := pastSeq.Add(1) & (1<<sequenceBits - 1)
	return t.UnixMilli()<<sequenceBits | seq
}

var pastSeq = func() *atomic.Int64 {
	var b [2]byte
	_, _ = rand.Read(b[:])
	var v atomic.Int64
	v.Store(int64(b[0])<<8 | int64(b[1]))
	return &v
}()

// uniqueIDs keeps the first of each id, in order, so that IN lists stay short.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
