package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tacit-social/tacit/federation/queue"
)

// TestAcceptBatcher: concurrent deliveries are written together while a transaction
// is under way, each gets its own answer, and a write that panics or fails neither
// loses an answer nor stops the deliveries after it.
func TestAcceptBatcher(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	release := make(chan struct{})
	b := &acceptBatcher{write: func(_ context.Context, reqs []*acceptRequest) {
		mu.Lock()
		sizes = append(sizes, len(reqs))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			<-release // hold the first transaction until the others are pending
		}
		for _, r := range reqs {
			switch r.job.DedupeKey {
			case "panic":
				panic("write failed")
			case "bad":
				r.err = errors.New("disk full")
			default:
				r.fresh, r.err = r.job.DedupeKey != "old", nil
			}
		}
	}}
	accept := func(id string) (fresh bool, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return b.accept(context.Background(), queue.Job{DedupeKey: id})
	}

	type result struct {
		fresh bool
		err   error
	}
	ids := []string{"first", "a", "old", "bad", "b"}
	results := make([]result, len(ids))
	var wg sync.WaitGroup
	wg.Go(func() {
		results[0].fresh, results[0].err = accept(ids[0])
	})
	for b.pendingCount() != 0 || !b.isBusy() {
		time.Sleep(time.Millisecond) // the first delivery is being written
	}
	for i := 1; i < len(ids); i++ {
		wg.Go(func() { results[i].fresh, results[i].err = accept(ids[i]) })
	}
	for b.pendingCount() != len(ids)-1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	want := []result{{true, nil}, {true, nil}, {false, nil}, {false, errors.New("disk full")}, {true, nil}}
	for i := range want {
		if results[i].fresh != want[i].fresh || (results[i].err == nil) != (want[i].err == nil) {
			t.Errorf("%s: fresh %v, err %v; want %v, %v", ids[i], results[i].fresh, results[i].err, want[i].fresh, want[i].err)
		}
	}
	if len(sizes) != 2 || sizes[0] != 1 || sizes[1] != 4 {
		t.Errorf("transactions of %v deliveries, want [1 4]", sizes)
	}

	// A write that panics fails its own batch, and the next delivery is written.
	release = make(chan struct{})
	close(release)
	if _, err := accept("panic"); err == nil {
		t.Error("a delivery whose write panicked was accepted")
	}
	if fresh, err := accept("c"); err != nil || !fresh {
		t.Errorf("after a panic: fresh %v, err %v", fresh, err)
	}
}

func (b *acceptBatcher) pendingCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

func (b *acceptBatcher) isBusy() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.busy
}

// TestInboxPayloadJSON: the payload written without re-encoding reads back as the one
// json.Marshal wrote.
func TestInboxPayloadJSON(t *testing.T) {
	activity := []byte(" {\"id\": \"https://b.example/a/1\",\n \"content\": \"<p>a & b</p>\", \"n\": [1, 2]}\n")
	got, err := inboxPayloadJSON("https://b.example/users/\"x\"", activity)
	if err != nil {
		t.Fatal(err)
	}
	var p inboxPayload
	if err := json.Unmarshal(got, &p); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if p.Signer != "https://b.example/users/\"x\"" || !bytes.Equal(bytes.TrimSpace(p.Activity), bytes.TrimSpace(activity)) {
		t.Errorf("read back %+v from %s", p, got)
	}
}
