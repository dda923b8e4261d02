package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/tacit-social/tacit/bench/load"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestConcurrentClients runs a short version of the load mix (200 clients posting,
// reading timelines and notifications, favouriting) against an in-process instance
// on each database, and requires that no request fails with a server error or a
// "database is locked". It makes no claim about speed.
func TestConcurrentClients(t *testing.T) {
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		users, err := load.CreateUsers(ctx, inst.Instance, "loader", 20)
		if err != nil {
			t.Fatal(err)
		}
		if err := load.FollowRing(ctx, inst.URL, users, 5); err != nil {
			t.Fatal(err)
		}
		rep, err := load.Run(ctx, load.Config{
			BaseURL:     inst.URL,
			Users:       users,
			Clients:     200,
			Duration:    5 * time.Second,
			MaxRequests: 200_000,
			Seed:        1,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Log(rep)
		if n := rep.ServerErrors(); n > 0 {
			t.Errorf("%d requests answered with a server error", n)
		}
		if rep.Locked > 0 {
			t.Errorf("%d answers say \"database is locked\"", rep.Locked)
		}
		if n := rep.ByStatus[0]; n > 0 {
			t.Errorf("%d requests failed without an answer", n)
		}
		// A run that did nothing proves nothing.
		for _, op := range []string{load.OpPost, load.OpHome, load.OpNotifications, load.OpFavourite} {
			if s := rep.Ops[op]; s == nil || s.Count == 0 {
				t.Errorf("no %s request was made", op)
			}
		}
		if rep.ByStatus[200] == 0 {
			t.Error("no request succeeded")
		}
	})
}
