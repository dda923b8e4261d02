package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// The streaming audience tests post every visibility × scope and check, for every kind
// of viewer and every stream, that what arrives live is exactly what the matching
// timeline then lists and exactly what DESIGN.md §2 allows, stated independently here.

// matrixPost is one post of the matrix.
type matrixPost struct {
	vis, scope, uri string
}

// watcher is a viewer's WebSocket with the streams it follows, and what it received:
// "stream event" → URIs of the statuses that came on it.
type watcher struct {
	name     string
	token    string
	streams  []map[string]string // subscribe messages
	s        *rawStream
	received map[string]map[string]bool
}

func streamKey(name []string) string { return strings.Join(name, "/") }

// subscribe opens the viewer's WebSocket and subscribes to its streams; the reply to a
// last, invalid request shows that every subscription before it is in place.
func (w *watcher) subscribe(t *testing.T, inst *instancetest.Instance) {
	t.Helper()
	var opts *websocket.DialOptions
	if w.token != "" {
		opts = &websocket.DialOptions{Subprotocols: []string{w.token}}
	}
	s, _, err := dialStream(t, inst, "", opts)
	if err != nil {
		t.Fatalf("%s: dial: %v", w.name, err)
	}
	w.s = s
	for _, sub := range w.streams {
		msg := map[string]string{"type": "subscribe"}
		maps.Copy(msg, sub)
		s.send(msg)
	}
	s.send(map[string]string{"type": "nonsense", "stream": "public"})
	if f := s.next(w.name+"'s subscriptions", func(f rawFrame) bool { return f.Error != "" }); f.Error != "Unknown message type" {
		t.Fatalf("%s: a subscription was refused: %+v", w.name, f)
	}
	w.received = map[string]map[string]bool{}
}

// payloadURI is the status a frame is about.
func payloadURI(t *testing.T, f rawFrame) string {
	t.Helper()
	var p struct {
		URI    string `json:"uri"`
		Status *struct {
			URI string `json:"uri"`
		} `json:"status"`
		LastStatus *struct {
			URI string `json:"uri"`
		} `json:"last_status"`
	}
	if err := json.Unmarshal([]byte(f.Payload), &p); err != nil {
		t.Fatalf("%s payload: %v", f.Event, err)
	}
	switch {
	case p.Status != nil:
		return p.Status.URI
	case p.LastStatus != nil:
		return p.LastStatus.URI
	}
	return p.URI
}

// collect reads frames until every stream named in sentinels has delivered its
// sentinel status. The hub handles events in order and each connection's queue is
// first in, first out, so by then everything published before the sentinels has been
// decided for this viewer.
func (w *watcher) collect(t *testing.T, sentinels map[string]string) {
	t.Helper()
	pending := maps.Clone(sentinels)
	for len(pending) > 0 {
		f := w.s.next(fmt.Sprintf("%s's sentinels %v", w.name, pending), func(rawFrame) bool { return true })
		if f.Event == "delete" || f.Event == "filters_changed" || f.Error != "" {
			continue
		}
		key := streamKey(f.Stream)
		uri := payloadURI(t, f)
		if w.received[key+" "+f.Event] == nil {
			w.received[key+" "+f.Event] = map[string]bool{}
		}
		w.received[key+" "+f.Event][uri] = true
		if pending[key] == uri {
			delete(pending, key)
		}
	}
}

// got returns the matrix posts received on a stream, sorted: statuses (updates), or
// for the notification and direct streams the statuses of notifications and
// conversations.
func (w *watcher) got(stream string, posts []matrixPost) []string {
	event := "update"
	switch stream {
	case "user:notification":
		event = "notification"
	case "direct":
		event = "conversation"
	}
	var out []string
	for _, p := range posts {
		if w.received[stream+" "+event][p.uri] {
			out = append(out, p.vis+"/"+p.scope)
		}
	}
	sort.Strings(out)
	return out
}

// listed returns the matrix posts a REST list shows, sorted. The list is of statuses,
// or of notifications or conversations (their status).
func listed(t *testing.T, inst *instancetest.Instance, token, path string, posts []matrixPost) []string {
	t.Helper()
	a := inst.Call(t, http.MethodGet, path, token, url.Values{"limit": {"40"}})
	if a.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, a.Code, a.Body)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(a.Body, &items); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, it := range items {
		seen[payloadURI(t, rawFrame{Event: path, Payload: string(it)})] = true
	}
	var out []string
	for _, p := range posts {
		if seen[p.uri] {
			out = append(out, p.vis+"/"+p.scope)
		}
	}
	sort.Strings(out)
	return out
}

// expected lists the matrix posts rule accepts, sorted.
func expected(posts []matrixPost, rule func(p matrixPost) bool) []string {
	var out []string
	for _, p := range posts {
		if rule(p) {
			out = append(out, p.vis+"/"+p.scope)
		}
	}
	sort.Strings(out)
	return out
}

func checkStream(t *testing.T, who, stream string, got, timeline, rule []string) {
	t.Helper()
	if !slices.Equal(got, rule) {
		t.Errorf("%s on %s received %v, the audience rule says %v", who, stream, got, rule)
	}
	if timeline != nil && !slices.Equal(got, timeline) {
		t.Errorf("%s on %s received %v, the timeline lists %v", who, stream, got, timeline)
	}
}

// postMatrix posts every visibility × scope, mentioning @mention, with #audience.
func postMatrix(t *testing.T, inst *instancetest.Instance, token, mention string) []matrixPost {
	t.Helper()
	var posts []matrixPost
	for _, vis := range []string{"public", "unlisted", "private", "direct"} {
		for _, scope := range []string{"world", "company", "department"} {
			st := inst.PostStatus(t, token, url.Values{
				"status": {fmt.Sprintf("@%s %s %s #audience", mention, vis, scope)}, "visibility": {vis}, "scope": {scope},
			})
			posts = append(posts, matrixPost{vis, scope, st.URI})
		}
	}
	return posts
}

// sentinel posts, as a viewer, what comes back on each of its own streams: a public
// post with the hashtag (user, public, hashtag streams) and a note to self (direct).
func sentinel(t *testing.T, inst *instancetest.Instance, w *watcher) map[string]string {
	t.Helper()
	out := map[string]string{}
	if w.token == "" {
		return out
	}
	pub := inst.PostStatus(t, w.token, url.Values{"status": {"sentinel #audience"}, "visibility": {"public"}, "scope": {"world"}})
	note := inst.PostStatus(t, w.token, url.Values{"status": {"note to self"}, "visibility": {"direct"}})
	for _, sub := range w.streams {
		switch sub["stream"] {
		case "user", "public", "public:local", "public:remote":
			out[sub["stream"]] = pub.URI
		case "hashtag":
			out["hashtag/audience"] = pub.URI
		case "direct":
			out["direct"] = note.URI
		}
	}
	return out
}

// TestStreamingAudience: on one instance, every stream of every kind of viewer gets
// exactly what the viewer's timelines list and the audience rule allows: followers-only
// posts only to followers and the mentioned, direct posts only to the mentioned,
// nothing to those the author blocks, nothing from a muted author, world scope only for
// logged-out visitors, and the list's and hashtag's own rules.
func TestStreamingAudience(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		author := inst.CreateUser(t, "author", instancetest.UserOptions{})
		users := map[string]*instancetest.User{}
		for _, name := range []string{"follower", "mentioned", "other", "blocked", "muter", "listowner", "tagfollower"} {
			users[name] = inst.CreateUser(t, name, instancetest.UserOptions{})
		}
		// tagfollower follows #audience but not the author; so does blocked, whom the
		// author blocks: a followed hashtag brings public posts only, and only what
		// the follower may read.
		for _, name := range []string{"tagfollower", "blocked"} {
			if _, err := inst.Client(users[name].Token).TagFollow(ctx, "Audience"); err != nil {
				t.Fatal(err)
			}
		}
		authorID := mastodon.ID(fmt.Sprint(author.Account.ID))
		for _, name := range []string{"follower", "muter", "listowner", "blocked"} {
			if _, err := inst.Client(users[name].Token).AccountFollow(ctx, authorID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := inst.Client(users["muter"].Token).AccountMute(ctx, authorID); err != nil {
			t.Fatal(err)
		}
		if _, err := inst.Client(author.Token).AccountBlock(ctx, mastodon.ID(fmt.Sprint(users["blocked"].Account.ID))); err != nil {
			t.Fatal(err)
		}
		list, err := inst.Client(users["listowner"].Token).CreateList(ctx, "Author")
		if err != nil {
			t.Fatal(err)
		}
		if err := inst.Client(users["listowner"].Token).AddToList(ctx, list.ID, authorID); err != nil {
			t.Fatal(err)
		}

		all := []map[string]string{
			{"stream": "user"}, {"stream": "user:notification"}, {"stream": "public:local"},
			{"stream": "hashtag", "tag": "Audience"}, {"stream": "direct"},
		}
		var watchers []*watcher
		for _, name := range []string{"follower", "mentioned", "other", "blocked", "muter", "listowner", "tagfollower"} {
			streams := all
			if name == "listowner" {
				streams = append(slices.Clone(all), map[string]string{"stream": "list", "list": string(list.ID)})
			}
			watchers = append(watchers, &watcher{name: name, token: users[name].Token, streams: streams})
		}
		watchers = append(watchers, &watcher{name: "logged-out", streams: []map[string]string{
			{"stream": "public:local"}, {"stream": "hashtag", "tag": "audience"},
		}})
		for _, w := range watchers {
			w.subscribe(t, inst)
		}

		posts := postMatrix(t, inst, author.Token, "mentioned")
		// The author's last post closes the list stream and the logged-out streams.
		last := inst.PostStatus(t, author.Token, url.Values{"status": {"last #audience"}, "visibility": {"public"}, "scope": {"world"}})
		for _, w := range watchers {
			s := sentinel(t, inst, w)
			if w.name == "listowner" {
				s["list/"+string(list.ID)] = last.URI
			}
			if w.token == "" {
				s["public:local"], s["hashtag/audience"] = last.URI, last.URI
			}
			w.collect(t, s)
		}

		// The rule, independently of the code.
		follows := map[string]bool{"follower": true, "muter": true, "listowner": true}
		mayRead := func(viewer string, p matrixPost) bool {
			switch {
			case viewer == "blocked":
				return false
			case viewer == "logged-out":
				return p.scope == "world" && (p.vis == "public" || p.vis == "unlisted")
			case p.vis == "public" || p.vis == "unlisted":
				return true
			case p.vis == "private":
				return follows[viewer] || viewer == "mentioned"
			}
			return viewer == "mentioned"
		}
		for _, w := range watchers {
			v := w.name
			token := "" // logged out
			if u := users[v]; u != nil {
				token = u.Token
			}
			silenced := v == "muter"
			public := expected(posts, func(p matrixPost) bool { return p.vis == "public" && mayRead(v, p) && !silenced })
			checkStream(t, v, "public:local", w.got("public:local", posts),
				listed(t, inst, token, "/api/v1/timelines/public?local=true", posts), public)
			checkStream(t, v, "hashtag", w.got("hashtag/audience", posts),
				listed(t, inst, token, "/api/v1/timelines/tag/audience", posts), public)
			if token == "" {
				continue
			}
			home := expected(posts, func(p matrixPost) bool {
				return mayRead(v, p) && !silenced && (follows[v] || (p.vis == "direct" && v == "mentioned") ||
					(p.vis == "public" && (v == "tagfollower" || v == "blocked")))
			})
			checkStream(t, v, "user", w.got("user", posts), listed(t, inst, token, "/api/v1/timelines/home", posts), home)
			mentions := expected(posts, func(p matrixPost) bool { return v == "mentioned" && mayRead(v, p) })
			notifications := listed(t, inst, token, "/api/v1/notifications", posts)
			checkStream(t, v, "user:notification", w.got("user:notification", posts), notifications, mentions)
			if got := w.received["user notification"]; !maps.Equal(got, w.received["user:notification notification"]) {
				t.Errorf("%s: notifications on the user stream %v differ from the notification stream's", v, got)
			}
			direct := expected(posts, func(p matrixPost) bool { return p.vis == "direct" && v == "mentioned" })
			checkStream(t, v, "direct", w.got("direct", posts), nil, direct)
			if v == "listowner" {
				inList := expected(posts, func(p matrixPost) bool { return p.vis != "direct" && mayRead(v, p) })
				checkStream(t, v, "list", w.got("list/"+string(list.ID), posts),
					listed(t, inst, token, "/api/v1/timelines/list/"+string(list.ID), posts), inList)
			}
		}
	})
}

// TestStreamingAudienceFederated: the author lives on instance B; viewers on A stream
// what arrives by federation. Each gets exactly what A's timelines list and the rule
// allows: department posts never arrive, company posts only for logged-in viewers,
// followers-only posts only for followers, direct posts only for the mentioned, nothing
// from a muted author.
func TestStreamingAudienceFederated(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	author := b.CreateUser(t, "author", instancetest.UserOptions{})
	users := map[string]*instancetest.User{}
	for _, name := range []string{"follower", "mentioned", "other", "muter", "tagfollower"} {
		users[name] = a.CreateUser(t, name, instancetest.UserOptions{})
	}
	if _, err := a.Client(users["tagfollower"].Token).TagFollow(ctx, "audience"); err != nil {
		t.Fatal(err)
	}
	authorOnA, err := a.Federator.ResolveAccount(ctx, "author@"+b.Host())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Federator.ResolveAccount(ctx, "mentioned@"+a.Host()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"follower", "muter"} {
		if err := a.Community.Follow(ctx, users[name].Account, authorOnA.ID, community.FollowOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually.Holds(t, name+"'s follow to be accepted", func() bool {
			rel, err := a.Community.Relationship(ctx, users[name].Account.ID, authorOnA.ID)
			return err == nil && rel.Following
		})
	}
	if err := a.Community.Mute(ctx, users["muter"].Account, authorOnA.ID, true, 0); err != nil {
		t.Fatal(err)
	}

	streams := []map[string]string{
		{"stream": "user"}, {"stream": "user:notification"}, {"stream": "public"},
		{"stream": "public:remote"}, {"stream": "hashtag", "tag": "audience"}, {"stream": "direct"},
	}
	var watchers []*watcher
	for _, name := range []string{"follower", "mentioned", "other", "muter", "tagfollower"} {
		watchers = append(watchers, &watcher{name: name, token: users[name].Token, streams: streams})
	}
	anon := &watcher{name: "logged-out", streams: []map[string]string{{"stream": "public"}, {"stream": "hashtag", "tag": "audience"}}}
	watchers = append(watchers, anon)
	for _, w := range watchers {
		w.subscribe(t, a)
	}

	posts := postMatrix(t, b, author.Token, "mentioned@"+a.Host())
	// Everything sent is applied on A before the sentinels are written there.
	eventually.Holds(t, "the queues to drain", func() bool {
		for _, inst := range insts {
			var n int64
			if err := inst.DB.Table("queue_jobs").Count(&n).Error; err != nil || n > 0 {
				return false
			}
		}
		return true
	})
	closer := a.CreateUser(t, "closer", instancetest.UserOptions{})
	last := a.PostStatus(t, closer.Token, url.Values{"status": {"last #audience"}, "visibility": {"public"}, "scope": {"world"}})
	for _, w := range watchers {
		s := sentinel(t, a, w)
		if w.token != "" {
			// Remote streams never carry the viewer's own posts: the author's last
			// federated post closes them, once it has arrived.
			delete(s, "public:remote")
		} else {
			s["public"], s["hashtag/audience"] = last.URI, last.URI
		}
		w.collect(t, s)
	}

	follows := map[string]bool{"follower": true, "muter": true}
	mayRead := func(viewer string, p matrixPost) bool {
		switch {
		case p.scope == "department":
			return false // never left B
		case viewer == "logged-out":
			return p.scope == "world" && (p.vis == "public" || p.vis == "unlisted")
		case p.vis == "public" || p.vis == "unlisted":
			return true
		case p.vis == "private":
			return follows[viewer] || viewer == "mentioned"
		}
		return viewer == "mentioned"
	}
	for _, w := range watchers {
		v := w.name
		token := ""
		if u := users[v]; u != nil {
			token = u.Token
		}
		silenced := v == "muter"
		public := expected(posts, func(p matrixPost) bool { return p.vis == "public" && mayRead(v, p) && !silenced })
		checkStream(t, v, "public", w.got("public", posts), listed(t, a, token, "/api/v1/timelines/public", posts), public)
		checkStream(t, v, "hashtag", w.got("hashtag/audience", posts), listed(t, a, token, "/api/v1/timelines/tag/audience", posts), public)
		if token == "" {
			continue
		}
		checkStream(t, v, "public:remote", w.got("public:remote", posts),
			listed(t, a, token, "/api/v1/timelines/public?remote=true", posts), public)
		home := expected(posts, func(p matrixPost) bool {
			return mayRead(v, p) && !silenced && (follows[v] || (p.vis == "direct" && v == "mentioned") ||
				(p.vis == "public" && v == "tagfollower"))
		})
		checkStream(t, v, "user", w.got("user", posts), listed(t, a, token, "/api/v1/timelines/home", posts), home)
		mentions := expected(posts, func(p matrixPost) bool { return v == "mentioned" && mayRead(v, p) })
		checkStream(t, v, "user:notification", w.got("user:notification", posts), listed(t, a, token, "/api/v1/notifications", posts), mentions)
		direct := expected(posts, func(p matrixPost) bool { return p.vis == "direct" && mayRead(v, p) })
		checkStream(t, v, "direct", w.got("direct", posts), nil, direct)
	}
}
