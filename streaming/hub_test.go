package streaming_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/streaming"
)

// idRenderer renders a status as its id: the hub's decisions are under test here, not
// the entities (the web tests check those against the Mastodon schema).
type idRenderer struct{}

func (idRenderer) Statuses(_ context.Context, st *community.Status, viewers []streaming.Viewer) (map[int64]string, error) {
	out := map[int64]string{}
	for _, v := range viewers {
		var id int64
		if v.Account != nil {
			id = v.Account.ID
		}
		out[id] = community.FormatID(st.ID)
	}
	return out, nil
}

func (idRenderer) Notification(_ context.Context, _ streaming.Viewer, item *community.NotificationItem) (string, error) {
	return community.FormatID(item.ID), nil
}

func (idRenderer) Conversation(_ context.Context, _ streaming.Viewer, item *community.ConversationItem) (string, error) {
	return community.FormatID(item.ID), nil
}

// startHub runs a hub of its own on a test instance's events.
func startHub(t *testing.T, inst *instancetest.Instance, opt streaming.Options) *streaming.Hub {
	t.Helper()
	opt.Community = inst.Community
	opt.Renderer = idRenderer{}
	h := streaming.New(opt)
	inst.Events.Subscribe(h.Handle)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return h
}

func publicStream(t *testing.T) streaming.Stream {
	t.Helper()
	s, err := streaming.ParseStream("public", "", "")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSlowClientIsDropped: a connection that does not read is dropped once its queue is
// full, and a connection that keeps up receives everything meanwhile.
func TestSlowClientIsDropped(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	author := inst.CreateUser(t, "author", instancetest.UserOptions{})
	h := startHub(t, inst, streaming.Options{Buffer: 4})
	ctx := context.Background()
	anonymous := streaming.ConnOptions{Statuses: true}
	slow, err := h.Connect(ctx, anonymous, publicStream(t))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, err := h.Connect(ctx, anonymous, publicStream(t))
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()

	// The fast client reads each post before the next is made. (A reader racing the
	// posts can itself fall 4 messages behind on a busy machine, and be dropped.)
	const posts = 12
	deadline := time.After(30 * time.Second)
	for i := range posts {
		want := inst.PostStatus(t, author.Token, url.Values{"status": {fmt.Sprint("post ", i)}, "scope": {"world"}}).ID
		select {
		case m := <-fast.Messages():
			if m.Event != streaming.EventUpdate || m.Payload != want || fmt.Sprint(m.Stream) != "[public]" {
				t.Fatalf("message %d = %+v, want update of %s on public", i, m, want)
			}
		case <-fast.Done():
			t.Fatalf("the fast client was dropped after %d of %d posts: %v", i, posts, fast.Err())
		case <-deadline:
			t.Fatalf("the fast client got %d of %d posts", i, posts)
		}
	}
	select {
	case <-slow.Done():
	case <-deadline:
		t.Fatal("the slow client was not dropped")
	}
	if !errors.Is(slow.Err(), streaming.ErrTooSlow) {
		t.Errorf("slow client's error = %v, want ErrTooSlow", slow.Err())
	}
	if got := len(slow.Messages()); got != 4 {
		t.Errorf("the slow client holds %d messages, want its buffer of 4 and no more", got)
	}
	if st := h.Stats(); st.DroppedConns != 1 || st.Connections != 2 {
		t.Errorf("stats = %+v, want one dropped of two connected", st)
	}
}

// TestHubNeverBlocksPublishers: when the hub falls behind, events are dropped rather
// than making whoever wrote wait.
func TestHubNeverBlocksPublishers(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	author := inst.CreateUser(t, "author", instancetest.UserOptions{})
	// Not running: nothing takes events off the queue of 2.
	h := streaming.New(streaming.Options{Community: inst.Community, Renderer: idRenderer{}, Queue: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	inst.Events.Subscribe(h.Handle)
	c, err := h.Connect(context.Background(), streaming.ConnOptions{Statuses: true}, publicStream(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 5 {
		inst.PostStatus(t, author.Token, url.Values{"status": {fmt.Sprint("post ", i)}})
	}
	if got := h.Stats().DroppedEvents; got != 3 {
		t.Errorf("dropped events = %d, want 3 (5 published, room for 2)", got)
	}
}

// TestHubSubscriptionRules: account streams need an account, lists must be one's own,
// scopes are enforced, and Close ends every connection and refuses new ones.
func TestHubSubscriptionRules(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
	ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
	ctx := context.Background()
	list, err := inst.Community.CreateList(ctx, ben.Account, community.ListInput{Title: new("ben's")})
	if err != nil {
		t.Fatal(err)
	}
	h := startHub(t, inst, streaming.Options{MaxStreams: 2})
	parse := func(kind, tag, list string) streaming.Stream {
		s, err := streaming.ParseStream(kind, tag, list)
		if err != nil {
			t.Fatalf("parse %s: %v", kind, err)
		}
		return s
	}
	user := parse("user", "", "")
	benList := parse("list", "", community.FormatID(list.ID))
	full := streaming.ConnOptions{Account: ana.Account, Statuses: true, Notifications: true}
	for _, tc := range []struct {
		name string
		opt  streaming.ConnOptions
		s    []streaming.Stream
		want error
	}{
		{"user stream logged out", streaming.ConnOptions{Statuses: true}, []streaming.Stream{user}, streaming.ErrNeedsLogin},
		{"someone else's list", full, []streaming.Stream{benList}, streaming.ErrNoSuchList},
		{"notifications without the scope", streaming.ConnOptions{Account: ana.Account, Statuses: true},
			[]streaming.Stream{parse("user:notification", "", "")}, streaming.ErrScope},
		{"statuses without the scope", streaming.ConnOptions{Account: ana.Account, Notifications: true},
			[]streaming.Stream{user}, streaming.ErrScope},
		{"too many streams", full, []streaming.Stream{user, parse("public", "", ""), parse("direct", "", "")}, streaming.ErrTooManyStreams},
	} {
		if _, err := h.Connect(ctx, tc.opt, tc.s...); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for _, bad := range [][3]string{{"nonsense", "", ""}, {"hashtag", " # ", ""}, {"list", "", "x"}} {
		if _, err := streaming.ParseStream(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("ParseStream%v accepted", bad)
		}
	}

	c, err := h.Connect(ctx, full, user)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Close left a connection open")
	}
	if !errors.Is(c.Err(), streaming.ErrClosed) {
		t.Errorf("error after Close = %v", c.Err())
	}
	if _, err := h.Connect(ctx, full, user); !errors.Is(err, streaming.ErrClosed) {
		t.Errorf("Connect after Close: %v", err)
	}
}

// FuzzParseStream: whatever a client sends as stream, tag and list, parsing does not
// panic, and a stream that parses is named in a way that parses back to itself.
func FuzzParseStream(f *testing.F) {
	for _, seed := range [][3]string{
		{"user", "", ""}, {"hashtag", "Go", ""}, {"hashtag:local", "#café", ""}, {"list", "", "123"},
		{"list", "", "-1"}, {"public:remote", "", ""}, {"direct", "x", "y"}, {"", "", ""}, {"hashtag", "\x00", ""}, {"hashtag", "##", ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, kind, tag, list string) {
		s, err := streaming.ParseStream(kind, tag, list)
		if err != nil {
			return
		}
		name := s.Name()
		again := streaming.Stream{}
		switch len(name) {
		case 1:
			again, err = streaming.ParseStream(name[0], "", "")
		case 2:
			if s.Kind == streaming.List {
				again, err = streaming.ParseStream(name[0], "", name[1])
			} else {
				again, err = streaming.ParseStream(name[0], name[1], "")
			}
		}
		if err != nil || again != s {
			t.Fatalf("%+v named %v parses back to %+v, %v", s, name, again, err)
		}
	})
}

// TestLoggedOutHashtagStream: with nobody logged in watching, a hashtag stream still
// gets world-scope posts with its tag, and nothing else.
func TestLoggedOutHashtagStream(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	author := inst.CreateUser(t, "author", instancetest.UserOptions{})
	h := startHub(t, inst, streaming.Options{})
	tag, err := streaming.ParseStream("hashtag", "#GoLang", "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.Connect(context.Background(), streaming.ConnOptions{Statuses: true}, tag)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	inst.PostStatus(t, author.Token, url.Values{"status": {"#golang inside the company"}, "scope": {"company"}})
	inst.PostStatus(t, author.Token, url.Values{"status": {"no tag here"}, "scope": {"world"}})
	want := inst.PostStatus(t, author.Token, url.Values{"status": {"#golang for everyone"}, "scope": {"world"}}).ID
	select {
	case m := <-c.Messages():
		if m.Payload != want || fmt.Sprint(m.Stream) != "[hashtag golang]" {
			t.Errorf("message = %+v, want update of %s on [hashtag golang]", m, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the logged-out hashtag stream got nothing")
	}
}
