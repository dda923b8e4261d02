package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestAudienceMatrix checks DESIGN.md §2 on one instance: every visibility × scope ×
// kind of viewer × read endpoint, asserting exactly who sees which post. (Scopes differ
// between company and department only across instances; on one instance both admit
// every logged-in local account, and only world admits logged-out visitors.) It runs in
// both federation modes: in company mode a profile's posts are not shown to logged-out
// visitors at all (they would list who works here), in open mode its world posts are.
func TestAudienceMatrix(t *testing.T) {
	for _, mode := range []string{config.FederationCompany, config.FederationOpen} {
		t.Run(mode, func(t *testing.T) { audienceMatrix(t, mode) })
	}
}

func audienceMatrix(t *testing.T, mode string) {
	opt := instancetest.Options{Configure: func(c *config.Config) { c.Federation.Mode = mode }}
	companyMode := mode == config.FederationCompany
	instancetest.Each(t, opt, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		author := inst.CreateUser(t, "author", instancetest.UserOptions{})
		follower := inst.CreateUser(t, "follower", instancetest.UserOptions{})
		mentioned := inst.CreateUser(t, "mentioned", instancetest.UserOptions{})
		other := inst.CreateUser(t, "other", instancetest.UserOptions{})

		if _, err := inst.Client(follower.Token).AccountFollow(ctx, mastodon.ID(fmt.Sprint(author.Account.ID))); err != nil {
			t.Fatalf("follow: %v", err)
		}

		// A world-public root, so that every post of the matrix is a reply in one thread
		// (and shows up in context) while staying a self-thread (and so in public timelines).
		root := inst.PostStatusAsAsked(t, author.Token, url.Values{
			"status": {"Root of the audience thread #audience"}, "visibility": {"public"}, "scope": {"world"},
		}).ID

		posts := amPostMatrix(t, inst, author, root)

		type viewerKind struct {
			name   string
			client *mastodon.Client
		}
		viewers := []viewerKind{
			{"author", inst.Client(author.Token)},
			{"follower", inst.Client(follower.Token)},
			{"mentioned", inst.Client(mentioned.Token)},
			{"other", inst.Client(other.Token)},
			{"logged-out", inst.Client("")},
		}

		authorID := mastodon.ID(fmt.Sprint(author.Account.ID))
		endpoints := amEndpoints(ctx, root, authorID, posts, companyMode)

		for _, ep := range endpoints {
			for _, v := range viewers {
				if ep.loggedIn && v.name == "logged-out" {
					continue
				}
				got, err := ep.fetch(v.client)
				if err != nil {
					t.Errorf("%s as %s: %v", ep.name, v.name, err)
					continue
				}
				for _, p := range posts {
					want := amMayRead(v.name, p.vis, p.scope) && ep.lists(v.name, p.vis)
					if got[p.id] != want {
						t.Errorf("%s as %s: %s/%s post visible=%v, want %v", ep.name, v.name, p.vis, p.scope, got[p.id], want)
					}
				}
			}
		}

		// Logged out, the home timeline is refused rather than empty, and so, in company
		// mode, is a profile's.
		if _, err := inst.Client("").GetTimelineHome(ctx, nil); !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("home timeline logged out: err = %v, want 401", err)
		}
		_, err := inst.Client("").GetAccountStatuses(ctx, authorID, amPage())
		if companyMode && !isStatus(err, http.StatusUnauthorized) {
			t.Errorf("account statuses logged out in company mode: err = %v, want 401", err)
		}
	})
}

// amPost is one post of the matrix: its visibility, scope and id.
type amPost struct{ vis, scope, id string }

// amPostMatrix posts, as author, a reply to root for every visibility and scope, each
// mentioning @mentioned.
func amPostMatrix(t *testing.T, inst *instancetest.Instance, author *instancetest.User, root string) []amPost {
	t.Helper()
	var posts []amPost
	for _, vis := range []string{"public", "unlisted", "private", "direct"} {
		for _, scope := range []string{"world", "company", "department"} {
			id := inst.PostStatusAsAsked(t, author.Token, url.Values{
				"status":         {fmt.Sprintf("@mentioned %s %s #audience", vis, scope)},
				"visibility":     {vis},
				"scope":          {scope},
				"in_reply_to_id": {root},
			}).ID
			posts = append(posts, amPost{vis, scope, id})
		}
	}
	return posts
}

// amMayRead is the rule as DESIGN.md states it, written independently of the code.
func amMayRead(viewer, vis, scope string) bool {
	if viewer == "logged-out" {
		return scope == "world" && (vis == "public" || vis == "unlisted")
	}
	switch vis {
	case "public", "unlisted":
		return true
	case "private":
		return viewer == "author" || viewer == "follower" || viewer == "mentioned"
	default:
		return viewer == "author" || viewer == "mentioned"
	}
}

// amEndpoint is one way to read the matrix posts.
type amEndpoint struct {
	name     string
	loggedIn bool // the endpoint needs a login
	fetch    func(c *mastodon.Client) (map[string]bool, error)
	lists    func(viewer, vis string) bool // which readable posts it lists
}

func amPage() *mastodon.Pagination { return &mastodon.Pagination{Limit: 40} }

// amIDs is the set of a status list's ids.
func amIDs(list []*mastodon.Status, err error) (map[string]bool, error) {
	out := map[string]bool{}
	for _, s := range list {
		out[string(s.ID)] = true
	}
	return out, err
}

// amEndpoints are the endpoints that show the matrix posts. Each returns the matrix
// post ids a viewer gets from it, and says which of the readable posts it is expected
// to list.
func amEndpoints(ctx context.Context, root string, authorID mastodon.ID, posts []amPost, companyMode bool) []amEndpoint {
	return []amEndpoint{
		{
			name: "GET /statuses/:id",
			fetch: func(c *mastodon.Client) (map[string]bool, error) {
				out := map[string]bool{}
				for _, p := range posts {
					st, err := c.GetStatus(ctx, mastodon.ID(p.id))
					if err == nil {
						out[string(st.ID)] = true
					} else if !isStatus(err, http.StatusNotFound) {
						return nil, err
					}
				}
				return out, nil
			},
			lists: func(string, string) bool { return true },
		},
		{
			name: "GET /statuses/:id/context",
			fetch: func(c *mastodon.Client) (map[string]bool, error) {
				cx, err := c.GetStatusContext(ctx, mastodon.ID(root))
				if err != nil {
					return nil, err
				}
				return amIDs(cx.Descendants, nil)
			},
			lists: func(string, string) bool { return true },
		},
		{
			name:     "GET /accounts/:id/statuses",
			loggedIn: companyMode,
			fetch: func(c *mastodon.Client) (map[string]bool, error) {
				return amIDs(c.GetAccountStatuses(ctx, authorID, amPage()))
			},
			lists: func(string, string) bool { return true },
		},
		{
			name:     "GET /timelines/home",
			loggedIn: true,
			fetch: func(c *mastodon.Client) (map[string]bool, error) {
				return amIDs(c.GetTimelineHome(ctx, amPage()))
			},
			// Home holds one's own posts, followed accounts' posts, and direct
			// messages that mention one.
			lists: func(viewer, vis string) bool {
				return viewer == "author" || viewer == "follower" || (viewer == "mentioned" && vis == "direct")
			},
		},
		{
			name: "GET /timelines/public?local=true",
			fetch: func(c *mastodon.Client) (map[string]bool, error) {
				return amIDs(c.GetTimelinePublic(ctx, true, amPage()))
			},
			lists: func(_, vis string) bool { return vis == "public" },
		},
		{
			name: "GET /timelines/tag/audience",
			fetch: func(c *mastodon.Client) (map[string]bool, error) {
				return amIDs(c.GetTimelineHashtag(ctx, "audience", false, amPage()))
			},
			lists: func(_, vis string) bool { return vis == "public" },
		},
	}
}

// isStatus reports whether a go-mastodon error carries the HTTP status code.
func isStatus(err error, code int) bool {
	var apiErr *mastodon.APIError
	if err == nil {
		return false
	}
	if e, ok := err.(*mastodon.APIError); ok {
		apiErr = e
		return apiErr.StatusCode == code
	}
	return false
}
