package federation_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// TestMentionOfSomeoneNotMetYet mentions, in a direct message, a person of a peer
// instance whom nobody on the author's instance has met: the handle is resolved through
// WebFinger when the post is made, so the mention links to her and the message reaches
// her. A handle on a server outside the company stays plain text, and the post is made
// anyway.
func TestMentionOfSomeoneNotMetYet(t *testing.T) {
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	carol := b.CreateUser(t, "carol", instancetest.UserOptions{})

	ctx := context.Background()
	st, err := a.Client(alice.Token).PostStatus(ctx, &mastodon.Toot{
		Status:     "@carol@" + b.Host() + " and @nobody@outside.example, a word in private?",
		Visibility: "direct",
	})
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	if len(st.Mentions) != 1 || st.Mentions[0].Acct != "carol@"+b.Host() {
		t.Errorf("mentions = %+v, want carol@%s only", st.Mentions, b.Host())
	}
	if !strings.Contains(st.Content, `href="http://`+b.Host()+`/@carol"`) {
		t.Errorf("the mention of carol is not a link: %s", st.Content)
	}
	if strings.Contains(st.Content, `outside.example/`) {
		t.Errorf("the handle outside the company was resolved: %s", st.Content)
	}

	eventually.Holds(t, "carol to be notified of the direct message", func() bool {
		ns, err := b.Client(carol.Token).GetNotifications(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			if n.Type == "mention" && n.Status != nil && strings.Contains(n.Status.Content, "a word in private") {
				return true
			}
		}
		return false
	})
}
