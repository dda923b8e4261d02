package queue

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestHostStats: per host, what waits, what died, the last error, and when the host
// last answered or failed; Discard deletes dead letters for good.
func TestHostStats(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		t.Parallel()
		ctx := t.Context()
		q := New(db, testOptions(t))
		start(t, q, map[string]Handler{"deliver": func(_ context.Context, j Job) error {
			switch j.Host {
			case "up.example":
				return nil
			case "refusing.example":
				return Permanent(errors.New("410 Gone"))
			}
			return fmt.Errorf("connection refused")
		}})
		if err := q.Enqueue(ctx,
			Job{Kind: "deliver", Host: "up.example", DedupeKey: "1"},
			Job{Kind: "deliver", Host: "refusing.example", DedupeKey: "2"},
			Job{Kind: "deliver", Host: "down.example", DedupeKey: "3"},
			Job{Kind: "inbox", Host: "up.example", DedupeKey: "4"}, // no handler: waits
		); err != nil {
			t.Fatal(err)
		}
		var st map[string]HostStats
		eventually.Holds(t, "every host tried", func() bool {
			var err error
			if st, err = q.HostStats(ctx, "deliver"); err != nil {
				t.Fatal(err)
			}
			// A host's answer is remembered as the handler returns, a moment before its
			// job is done in the database: wait for both.
			return !st["up.example"].LastAnswered.IsZero() && st["up.example"].Queued == 0 && st["refusing.example"].Dead == 1 &&
				!st["down.example"].LastFailed.IsZero() && st["down.example"].LastError != ""
		})
		if up := st["up.example"]; up.Queued != 0 || up.Dead != 0 || up.Failures != 0 {
			t.Errorf("up.example: %+v (the inbox job is another kind)", up)
		}
		if down := st["down.example"]; down.Queued+down.Running != 1 || down.Failures == 0 || down.LastError != "connection refused" ||
			down.OldestQueued.IsZero() || !down.LastAnswered.IsZero() {
			t.Errorf("down.example: %+v", down)
		}
		if ref := st["refusing.example"]; ref.LastAnswered.IsZero() || ref.Failures != 0 {
			t.Errorf("refusing.example answered, with a refusal: %+v", ref)
		}

		dead, err := q.HostDeadLetters(ctx, "deliver", "refusing.example", 10)
		if err != nil || len(dead) != 1 {
			t.Fatalf("HostDeadLetters = %v, %v", dead, err)
		}
		if other, err := q.HostDeadLetters(ctx, "deliver", "up.example", 10); err != nil || len(other) != 0 {
			t.Errorf("dead letters of another host: %v, %v", other, err)
		}
		n, err := q.Discard(ctx, dead[0].ID, 12345)
		if err != nil || n != 1 {
			t.Fatalf("Discard = %d, %v; want 1", n, err)
		}
		if left := deadLetters(t, db); len(left) != 0 {
			t.Errorf("dead letters after Discard: %+v", left)
		}
		if n := countJobs(t, db, "id = ?", dead[0].ID); n != 0 {
			t.Error("a discarded dead letter was queued")
		}
	})
}
