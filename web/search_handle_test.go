package web_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestSearchFindsNewAccountsByHandleAtOnce creates an account as `tacit admin
// create-user` does, beside the running server and without its search index, and
// searches for it at once as `toot follow carol` would: the exact username and handle
// find it before the index has caught up; words of its name do not need to.
func TestSearchFindsNewAccountsByHandleAtOnce(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})

		admin, err := instance.Open(ctx, inst.Config, slog.New(slog.NewTextHandler(io.Discard, nil)), instance.WithoutSearch(), instance.Existing())
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = admin.Community.CreateLocalAccount(ctx, community.NewLocalAccount{
			Username: "carol", Password: "a long secret phrase", Role: community.RoleUser, DisplayName: "Carol Quinn",
		})
		admin.Close()
		if err != nil {
			t.Fatal(err)
		}

		c := inst.Client(alice.Token)
		for _, q := range []string{"carol", "@carol", "carol@" + inst.Host(), "CAROL"} {
			res, err := c.Search(ctx, q, false)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if len(res.Accounts) == 0 || res.Accounts[0].Username != "carol" {
				t.Errorf("search %q: %d accounts, first %+v; want carol first", q, len(res.Accounts), res.Accounts)
			}
		}
		// Positive control of the index path: alice, indexed as she was made, is found by name.
		res, err := c.Search(ctx, "alice", false)
		if err != nil || len(res.Accounts) == 0 || res.Accounts[0].Username != "alice" {
			t.Errorf("search alice: %v %+v", err, res)
		}
	})
}
