package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/web"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// streamDeadline bounds how long a test waits for a streamed event before failing; it
// is a failure deadline, not a speed expectation.
const streamDeadline = 30 * time.Second

// nextEvent returns the first event from ch that want accepts, failing the test at the
// deadline. Error events (go-mastodon reports reconnections as such) are skipped.
func nextEvent(t *testing.T, ch <-chan mastodon.Event, what string, want func(mastodon.Event) bool) mastodon.Event {
	t.Helper()
	timeout := time.After(streamDeadline)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				t.Fatalf("waiting for %s: stream closed", what)
			}
			if _, isErr := e.(*mastodon.ErrorEvent); isErr {
				continue
			}
			if want(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("waiting for %s: nothing after %s", what, streamDeadline)
		}
	}
}

func isUpdate(id mastodon.ID) func(mastodon.Event) bool {
	return func(e mastodon.Event) bool {
		u, ok := e.(*mastodon.UpdateEvent)
		return ok && u.Status.ID == id
	}
}

func isNotification(typ string, statusID mastodon.ID) func(mastodon.Event) bool {
	return func(e mastodon.Event) bool {
		n, ok := e.(*mastodon.NotificationEvent)
		return ok && n.Notification.Type == typ && n.Notification.Status != nil && n.Notification.Status.ID == statusID
	}
}

func isDelete(id mastodon.ID) func(mastodon.Event) bool {
	return func(e mastodon.Event) bool {
		d, ok := e.(*mastodon.DeleteEvent)
		return ok && d.ID == id
	}
}

// waitConnections waits until the instance serves at least n streaming connections, so
// that what a test publishes next cannot be missed by a client still connecting.
func waitConnections(t *testing.T, inst *instancetest.Instance, n int) {
	t.Helper()
	eventually.Holds(t, fmt.Sprintf("%d streaming connections", n), func() bool {
		return inst.Web.StreamingStats().Connections >= n
	})
}

// TestStreamingWebSocketClient receives a followed account's post, a mention
// notification, an edit and a deletion through go-mastodon's WebSocket client.
func TestStreamingWebSocketClient(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		anaClient, benClient := inst.Client(ana.Token), inst.Client(ben.Token)
		if _, err := anaClient.AccountFollow(ctx, mastodon.ID(fmt.Sprint(ben.Account.ID))); err != nil {
			t.Fatal(err)
		}

		ws := anaClient.NewWSClient()
		events, err := ws.StreamingWSUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waitConnections(t, inst, 1)

		post, err := benClient.PostStatus(ctx, &mastodon.Toot{Status: "Streaming to my followers", Visibility: "public"})
		if err != nil {
			t.Fatal(err)
		}
		u := nextEvent(t, events, "ben's post", isUpdate(post.ID)).(*mastodon.UpdateEvent)
		if u.Status.Content != post.Content || u.Status.Account.Username != "ben" {
			t.Errorf("streamed status = %q by %q, want %q by ben", u.Status.Content, u.Status.Account.Username, post.Content)
		}

		mention, err := benClient.PostStatus(ctx, &mastodon.Toot{Status: "@ana are you there?", Visibility: "public"})
		if err != nil {
			t.Fatal(err)
		}
		nextEvent(t, events, "the mention notification", isNotification("mention", mention.ID))

		if _, err := benClient.UpdateStatus(ctx, &mastodon.Toot{Status: "Streaming to my followers, edited"}, post.ID); err != nil {
			t.Fatal(err)
		}
		edit := nextEvent(t, events, "the edit", func(e mastodon.Event) bool {
			u, ok := e.(*mastodon.UpdateEditEvent)
			return ok && u.Status.ID == post.ID
		}).(*mastodon.UpdateEditEvent)
		if !strings.Contains(edit.Status.Content, "edited") {
			t.Errorf("streamed edit content = %q", edit.Status.Content)
		}

		if err := benClient.DeleteStatus(ctx, post.ID); err != nil {
			t.Fatal(err)
		}
		nextEvent(t, events, "the deletion", isDelete(post.ID))
	})
}

// TestStreamingServerSentEvents receives updates and notifications over every event
// stream go-mastodon has: user, public, public/local, hashtag, list and direct.
func TestStreamingServerSentEvents(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})
		anaClient, benClient := inst.Client(ana.Token), inst.Client(ben.Token)
		benID := mastodon.ID(fmt.Sprint(ben.Account.ID))
		if _, err := anaClient.AccountFollow(ctx, benID); err != nil {
			t.Fatal(err)
		}
		list, err := anaClient.CreateList(ctx, "Team")
		if err != nil {
			t.Fatal(err)
		}
		if err := anaClient.AddToList(ctx, list.ID, benID); err != nil {
			t.Fatal(err)
		}

		user, err := anaClient.StreamingUser(ctx)
		if err != nil {
			t.Fatal(err)
		}
		public, err := anaClient.StreamingPublic(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		local, err := inst.Client("").StreamingPublic(ctx, true) // logged out
		if err != nil {
			t.Fatal(err)
		}
		tag, err := anaClient.StreamingHashtag(ctx, "Kubernetes", false)
		if err != nil {
			t.Fatal(err)
		}
		listEvents, err := anaClient.StreamingList(ctx, list.ID)
		if err != nil {
			t.Fatal(err)
		}
		direct, err := anaClient.StreamingDirect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		waitConnections(t, inst, 6)

		post := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Rolling out #kubernetes today"}, "visibility": {"public"}, "scope": {"world"}}).ID
		id := mastodon.ID(post)
		nextEvent(t, user, "the post on the user stream", isUpdate(id))
		nextEvent(t, public, "the post on the public stream", isUpdate(id))
		nextEvent(t, local, "the post on the logged-out local stream", isUpdate(id))
		nextEvent(t, tag, "the post on the hashtag stream", isUpdate(id))
		nextEvent(t, listEvents, "the post on the list stream", isUpdate(id))

		dm, err := benClient.PostStatus(ctx, &mastodon.Toot{Status: "@ana a word in private", Visibility: "direct"})
		if err != nil {
			t.Fatal(err)
		}
		nextEvent(t, user, "the mention notification", isNotification("mention", dm.ID))
		conv := nextEvent(t, direct, "the conversation", func(e mastodon.Event) bool {
			c, ok := e.(*mastodon.ConversationEvent)
			return ok && c.Conversation.LastStatus != nil && c.Conversation.LastStatus.ID == dm.ID
		}).(*mastodon.ConversationEvent)
		if !conv.Conversation.Unread || len(conv.Conversation.Accounts) != 1 || conv.Conversation.Accounts[0].Username != "ben" {
			t.Errorf("streamed conversation = unread %v, accounts %+v; want unread, with ben", conv.Conversation.Unread, conv.Conversation.Accounts)
		}
	})
}

// rawStream is a WebSocket client speaking the protocol directly, for what go-mastodon
// does not do: the token as subprotocol, subscribe messages, checking raw frames.
type rawStream struct {
	t    *testing.T
	conn *websocket.Conn
}

type rawFrame struct {
	Stream  []string `json:"stream"`
	Event   string   `json:"event"`
	Payload string   `json:"payload"`
	Error   string   `json:"error"`
	Status  int      `json:"status"`
}

func dialStream(t *testing.T, inst *instancetest.Instance, query string, opts *websocket.DialOptions) (*rawStream, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), streamDeadline)
	defer cancel()
	u := "ws" + strings.TrimPrefix(inst.URL, "http") + "/api/v1/streaming" + query
	conn, resp, err := websocket.Dial(ctx, u, opts)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &rawStream{t: t, conn: conn}, resp, nil
}

func (s *rawStream) send(v any) {
	s.t.Helper()
	data, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), streamDeadline)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, data); err != nil {
		s.t.Fatal(err)
	}
}

// next returns the next frame accepted by want; every streamed entity is checked
// against the Mastodon schema on the way.
func (s *rawStream) next(what string, want func(rawFrame) bool) rawFrame {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), streamDeadline)
	defer cancel()
	for {
		_, data, err := s.conn.Read(ctx)
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", what, err)
		}
		var f rawFrame
		if err := json.Unmarshal(data, &f); err != nil {
			s.t.Fatalf("frame is not JSON: %v: %s", err, data)
		}
		entity := map[string]string{"update": "Status", "status.update": "Status", "notification": "Notification", "conversation": "Conversation"}[f.Event]
		if entity != "" {
			if err := mastoschema.Validate(entity, []byte(f.Payload)); err != nil {
				s.t.Errorf("streamed %s does not match the schema: %v", f.Event, err)
			}
		}
		if want(f) {
			return f
		}
	}
}

// TestStreamingWebSocketProtocol checks what masto.js and browser clients rely on: the
// token in Sec-WebSocket-Protocol is accepted and echoed, streams are added and removed
// with messages, bad requests get an error frame, and frames carry their stream.
func TestStreamingWebSocketProtocol(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
		ben := inst.CreateUser(t, "ben", instancetest.UserOptions{})

		s, resp, err := dialStream(t, inst, "", &websocket.DialOptions{Subprotocols: []string{ana.Token}})
		if err != nil {
			t.Fatalf("dial with the token as subprotocol: %v", err)
		}
		if got := s.conn.Subprotocol(); got != ana.Token {
			t.Errorf("negotiated subprotocol = %q, want the token echoed", got)
		}
		if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != ana.Token {
			t.Errorf("Sec-WebSocket-Protocol answer = %q, want the token", got)
		}

		s.send(map[string]string{"type": "subscribe", "stream": "nonsense"})
		f := s.next("the error frame", func(f rawFrame) bool { return f.Error != "" })
		if f.Status != http.StatusBadRequest {
			t.Errorf("error frame status = %d, want 400", f.Status)
		}
		s.send(map[string]string{"type": "subscribe", "stream": "list", "list": "12345"})
		if f := s.next("the missing list error", func(f rawFrame) bool { return f.Error != "" }); f.Status != http.StatusNotFound {
			t.Errorf("subscribing to someone else's or no list: status %d, want 404", f.Status)
		}

		s.send(map[string]string{"type": "subscribe", "stream": "hashtag", "tag": "Golang"})
		s.send(map[string]string{"type": "subscribe", "stream": "public:local"})
		// The subscriptions are in once a later request has been answered: requests are
		// handled in order.
		s.send(map[string]string{"type": "nonsense", "stream": "user"})
		s.next("the answer to the last request", func(f rawFrame) bool { return f.Error != "" })

		id := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"Generics in #golang"}, "visibility": {"public"}}).ID
		seen := map[string]bool{}
		for len(seen) < 2 {
			f := s.next("the post on both streams", func(f rawFrame) bool { return f.Event == "update" })
			var st struct{ ID string }
			if err := json.Unmarshal([]byte(f.Payload), &st); err != nil || st.ID != id {
				t.Fatalf("update payload %q, want status %s", f.Payload, id)
			}
			seen[strings.Join(f.Stream, "/")] = true
		}
		if !seen["hashtag/golang"] || !seen["public:local"] {
			t.Errorf("streams of the post = %v, want hashtag/golang and public:local", seen)
		}

		s.send(map[string]string{"type": "unsubscribe", "stream": "hashtag", "tag": "golang"})
		s.send(map[string]string{"type": "nonsense", "stream": "user"})
		s.next("the answer to the last request", func(f rawFrame) bool { return f.Error != "" })
		id2 := inst.PostStatusAsAsked(t, ben.Token, url.Values{"status": {"More #golang"}, "visibility": {"public"}}).ID
		f = s.next("the second post", func(f rawFrame) bool { return f.Event == "update" })
		if strings.Join(f.Stream, "/") != "public:local" || !strings.Contains(f.Payload, id2) {
			t.Errorf("after unsubscribing from the hashtag: frame on %v with %q", f.Stream, f.Payload)
		}

		// Requests beyond 20 a second are refused, not served.
		for range 60 {
			s.send(map[string]string{"type": "subscribe", "stream": "public"})
		}
		if f := s.next("the rate-limit answer", func(f rawFrame) bool { return f.Error != "" }); f.Status != http.StatusTooManyRequests {
			t.Errorf("flooding requests: %+v, want 429", f)
		}

		// A bad token is refused before the upgrade, a missing one for user streams too.
		if _, resp, err := dialStream(t, inst, "?stream=user", &websocket.DialOptions{Subprotocols: []string{"not-a-token"}}); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("bad token: err %v, response %v; want 401", err, resp)
		}
		if _, resp, err := dialStream(t, inst, "?stream=user", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("user stream without a token: err %v, response %v; want 401", err, resp)
		}
		// ?access_token= works too.
		if _, _, err := dialStream(t, inst, "?stream=user&access_token="+url.QueryEscape(ana.Token), nil); err != nil {
			t.Errorf("access_token parameter: %v", err)
		}
	})
}

func TestStreamingHealthAndErrors(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	ana := inst.CreateUser(t, "ana", instancetest.UserOptions{})
	if a := inst.Call(t, http.MethodGet, "/api/v1/streaming/health", "", nil); a.Code != http.StatusOK || string(a.Body) != "OK" {
		t.Errorf("health: %d %q", a.Code, a.Body)
	}
	for _, tc := range []struct {
		path, token string
		code        int
	}{
		{"/api/v1/streaming/user", "", http.StatusUnauthorized},
		{"/api/v1/streaming/direct", "", http.StatusUnauthorized},
		{"/api/v1/streaming/hashtag", ana.Token, http.StatusBadRequest},
		{"/api/v1/streaming/list", ana.Token, http.StatusBadRequest},
		{"/api/v1/streaming/list?list=999", ana.Token, http.StatusNotFound},
		{"/api/v1/streaming", ana.Token, http.StatusBadRequest}, // not a WebSocket handshake
	} {
		if a := inst.Call(t, http.MethodGet, tc.path, tc.token, nil); a.Code != tc.code {
			t.Errorf("GET %s: %d %s, want %d", tc.path, a.Code, a.Body, tc.code)
		}
	}
}

// TestStreamingEndsWhenTokenRevoked: streams check their token now and then, so that a
// login revoked (or a user disabled) stops receiving events, over both protocols.
func TestStreamingEndsWhenTokenRevoked(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	web.SetStreamRecheck(inst.Web, 50*time.Millisecond)
	inst.CreateUser(t, "ana", instancetest.UserOptions{})
	ctx := context.Background()
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: inst.URL, ClientName: "revoker", Scopes: "read write follow"})
	if err != nil {
		t.Fatal(err)
	}
	c := mastodon.NewClient(&mastodon.Config{Server: inst.URL, ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	if err := c.Authenticate(ctx, "ana", instancetest.Password("ana")); err != nil {
		t.Fatal(err)
	}
	token := c.Config.AccessToken

	ws, _, err := dialStream(t, inst, "?stream=user", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, inst.URL+"/api/v1/streaming/user", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	sse, err := http.DefaultClient.Do(req)
	if err != nil || sse.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %v %v", err, sse)
	}
	defer sse.Body.Close()
	waitConnections(t, inst, 2)

	if a := inst.Call(t, http.MethodPost, "/oauth/revoke", "", url.Values{
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "token": {token},
	}); a.Code != http.StatusOK {
		t.Fatalf("revoke: %d %s", a.Code, a.Body)
	}
	rctx, cancel := context.WithTimeout(ctx, streamDeadline)
	defer cancel()
	for {
		_, _, err := ws.conn.Read(rctx)
		if err == nil {
			continue
		}
		if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
			t.Errorf("WebSocket ended with %v, want a policy-violation close", err)
		}
		break
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, sse.Body)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("event stream ended with %v, want a clean end", err)
		}
	case <-time.After(streamDeadline):
		t.Fatal("the event stream of a revoked token is still open")
	}
	eventually.Holds(t, "the connections to be gone", func() bool { return inst.Web.StreamingStats().Connections == 0 })
}
