package federation_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// settle waits until no instance has queued work left: every delivery sent and every
// received activity applied, so that an absence is an absence and not a delay.
func settle(t *testing.T, insts ...*instancetest.Instance) {
	t.Helper()
	eventually.Holds(t, "the queues to drain", func() bool {
		for _, inst := range insts {
			var n int64
			if err := inst.DB.Table("queue_jobs").Count(&n).Error; err != nil || n > 0 {
				return false
			}
		}
		return true
	})
}

// TestLeakMatrix posts every visibility × scope on instance A and checks, on every other
// instance and for every kind of viewer, every read path: exactly the audience of each
// post sees it, everywhere (DESIGN.md §2).
func TestLeakMatrix(t *testing.T) {
	m := startLeakMatrix(t)
	for _, v := range m.viewers {
		checkViewerReads(t, v, m.posts)
	}
	checkServerReads(t, m)
}

// leakPost is one post of the matrix.
type leakPost struct{ vis, scope, uri string }

// leakViewer is a kind of viewer of A's author's posts.
type leakViewer struct {
	name     string
	inst     *instancetest.Instance
	token    string
	follow   bool // follows the author
	ment     bool // is mentioned
	local    bool // on the author's instance
	outsider bool // on the server outside the company
}

// mayRead is the rule, stated independently: who may read a post of A's author.
func (v leakViewer) mayRead(p leakPost) bool {
	if v.name == "author@A" {
		return true
	}
	if v.outsider {
		return false
	}
	if v.token == "" {
		return p.scope == "world" && (p.vis == "public" || p.vis == "unlisted")
	}
	if p.scope == "department" && !v.local {
		return false
	}
	switch p.vis {
	case "public", "unlisted":
		return true
	case "private":
		return v.follow || v.ment
	}
	return v.ment
}

// leakMatrix is three company instances and an outsider that lists them as peers; the
// author on A, followed from B and mentioned on C, has posted every visibility × scope.
type leakMatrix struct {
	a, b, c, outsider *instancetest.Instance
	viewers           []leakViewer
	posts             []leakPost
}

func startLeakMatrix(t *testing.T) leakMatrix {
	t.Helper()
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 3, instancetest.Options{})
	a, b, c := insts[0], insts[1], insts[2]
	outsider := instancetest.Start(t, instancetest.Options{Configure: func(cfg *config.Config) {
		cfg.Federation.Peers = []string{a.Host(), b.Host(), c.Host()}
	}})

	author := a.CreateUser(t, "author", instancetest.UserOptions{})
	colleague := a.CreateUser(t, "colleague", instancetest.UserOptions{})
	follower := b.CreateUser(t, "follower", instancetest.UserOptions{})
	strangerB := b.CreateUser(t, "stranger", instancetest.UserOptions{})
	mentioned := c.CreateUser(t, "mentioned", instancetest.UserOptions{})
	strangerC := c.CreateUser(t, "bystander", instancetest.UserOptions{})

	authorOnB, err := b.Federator.ResolveAccount(ctx, "author@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Community.Follow(ctx, follower.Account, authorOnB.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Federator.ResolveAccount(ctx, "mentioned@"+c.Host()); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "the follow to be accepted", func() bool {
		rel, err := b.Community.Relationship(ctx, follower.Account.ID, authorOnB.ID)
		return err == nil && rel.Following
	})

	m := leakMatrix{a: a, b: b, c: c, outsider: outsider}
	for _, vis := range []string{"public", "unlisted", "private", "direct"} {
		for _, scope := range []string{"world", "company", "department"} {
			uri := a.PostStatus(t, author.Token, url.Values{
				"status":     {fmt.Sprintf("@mentioned@%s %s %s #leakmatrix", c.Host(), vis, scope)},
				"visibility": {vis}, "scope": {scope},
			}).URI
			m.posts = append(m.posts, leakPost{vis, scope, uri})
		}
	}
	settle(t, a, b, c, outsider)

	m.viewers = []leakViewer{
		{"author@A", a, author.Token, false, false, true, false},
		{"colleague@A", a, colleague.Token, false, false, true, false},
		{"follower@B", b, follower.Token, true, false, false, false},
		{"stranger@B", b, strangerB.Token, false, false, false, false},
		{"mentioned@C", c, mentioned.Token, false, true, false, false},
		{"bystander@C", c, strangerC.Token, false, false, false, false},
		{"logged-out@A", a, "", false, false, true, false},
		{"logged-out@B", b, "", false, false, false, false},
		{"logged-out@C", c, "", false, false, false, false},
		{"outsider", outsider, "", false, false, false, true},
	}
	return m
}

// checkViewerReads reads, as v, every post by id and the home, public, tag and
// mention lists: exactly what v may read shows.
func checkViewerReads(t *testing.T, v leakViewer, posts []leakPost) {
	t.Helper()
	ctx := context.Background()
	cl := v.inst.Client(v.token)
	var home, public, tagged map[string]bool
	collect := func(list []*mastodon.Status, err error) map[string]bool {
		out := map[string]bool{}
		if err != nil {
			return out
		}
		for _, s := range list {
			out[s.URI] = true
		}
		return out
	}
	if v.token != "" {
		home = collect(cl.GetTimelineHome(ctx, &mastodon.Pagination{Limit: 40}))
	}
	public = collect(cl.GetTimelinePublic(ctx, false, &mastodon.Pagination{Limit: 40}))
	tagged = collect(cl.GetTimelineHashtag(ctx, "leakmatrix", false, &mastodon.Pagination{Limit: 40}))
	var mentions map[string]bool
	if v.token != "" {
		mentions = map[string]bool{}
		notes, _ := cl.GetNotifications(ctx, &mastodon.Pagination{Limit: 40})
		for _, n := range notes {
			if n.Type == "mention" && n.Status != nil {
				mentions[n.Status.URI] = true
			}
		}
	}
	for _, p := range posts {
		want := v.mayRead(p)
		// Direct fetch by id, where the instance stores the post at all.
		stored, err := v.inst.Community.Unchecked().StatusByURI(ctx, p.uri)
		gotStatus := false
		if err == nil {
			_, gerr := cl.GetStatus(ctx, mastodon.ID(community.FormatID(stored.ID)))
			gotStatus = gerr == nil
		}
		if gotStatus != want {
			t.Errorf("GET status %s/%s as %s: visible=%v, want %v", p.vis, p.scope, v.name, gotStatus, want)
		}
		if !want {
			for path, seen := range map[string]map[string]bool{"home": home, "public": public, "tag": tagged, "mentions": mentions} {
				if seen[p.uri] {
					t.Errorf("%s of %s shows the %s/%s post", path, v.name, p.vis, p.scope)
				}
			}
		}
		if want && v.follow && p.vis != "direct" && !home[p.uri] {
			t.Errorf("home of %s misses the %s/%s post", v.name, p.vis, p.scope)
		}
		if want && v.ment && v.name != "author@A" && !mentions[p.uri] {
			t.Errorf("%s was not notified of the %s/%s post", v.name, p.vis, p.scope)
		}
	}
}

// checkServerReads: department posts never leave A; nothing at all reaches the
// outsider; servers fetch only what their audience admits.
func checkServerReads(t *testing.T, m leakMatrix) {
	t.Helper()
	ctx := context.Background()
	for _, p := range m.posts {
		for _, inst := range []*instancetest.Instance{m.b, m.c, m.outsider} {
			if _, err := inst.Community.Unchecked().StatusByURI(ctx, p.uri); err == nil && (p.scope == "department" || inst == m.outsider) {
				t.Errorf("the %s/%s post is stored on %s", p.vis, p.scope, inst.Host())
			}
		}
		// Object fetch: a peer reads what its server-level audience admits; the outsider
		// and unsigned requests read nothing.
		_, err := m.b.Federator.Fetch(ctx, p.uri)
		wantFetch := p.scope != "department" && (p.vis == "public" || p.vis == "unlisted")
		if (err == nil) != wantFetch {
			t.Errorf("peer fetch of the %s/%s post: err = %v, want success %v", p.vis, p.scope, err, wantFetch)
		}
		if _, err := m.outsider.Federator.Fetch(ctx, p.uri); err == nil {
			t.Errorf("the outsider fetched the %s/%s post", p.vis, p.scope)
		}
		resp, err := http.Get(p.uri)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("unsigned fetch of the %s/%s post = %d, want 401", p.vis, p.scope, resp.StatusCode)
			}
		}
	}
}
