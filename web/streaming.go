package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/streaming"
)

// Mastodon's streaming API: one WebSocket carrying any number of streams, or one
// Server-Sent Events response per stream. What flows on each stream is decided by the
// hub (package streaming) with the domain's audience rules; this file speaks the
// protocols.

// Keep-alives: Mastodon sends a comment every 15 seconds on event streams, and proxies
// commonly close connections silent for a minute.
const (
	sseHeartbeat     = 15 * time.Second
	wsPingInterval   = 30 * time.Second
	wsWriteTimeout   = 10 * time.Second
	wsReadLimit      = 4096 // subscribe messages are tiny
	wsPendingReplies = 8
	// wsRequestsPerSecond bounds a client's subscribe/unsubscribe messages: each may
	// cost a query, and the REST rate limit does not see them.
	wsRequestsPerSecond = 20
	// defaultStreamRecheck is how often a stream checks that its token is still valid
	// and its user not disabled. Revocations and sanctions made by this process end
	// streams at once (see watchRevocations), and revocations made by another one
	// (the admin commands, another replica) within revocationSweep; the recheck is the
	// backstop for the rest.
	defaultStreamRecheck = 5 * time.Minute
	// revocationSweep is how often the database is asked for tokens revoked by
	// another process, while streams are open: one query, whatever their number.
	revocationSweep = 5 * time.Second
)

func (s *Server) mountStreaming(r *gin.RouterGroup) {
	ws := optionalUser("read", "read:statuses", "read:notifications")
	r.GET("/v1/streaming", ws, s.streamWebSocket)
	r.GET("/v1/streaming/", ws, s.streamWebSocket)
	r.GET("/v1/streaming/health", func(c *gin.Context) { c.String(http.StatusOK, "OK") })
	for path, kind := range map[string]streaming.Kind{
		"user":              streaming.User,
		"user/notification": streaming.UserNotification,
		"public":            streaming.Public,
		"public/local":      streaming.PublicLocal,
		"public/remote":     streaming.PublicRemote,
		"hashtag":           streaming.Hashtag,
		"hashtag/local":     streaming.HashtagLocal,
		"list":              streaming.List,
		"direct":            streaming.Direct,
	} {
		scope := "read:statuses"
		if kind == streaming.UserNotification {
			scope = "read:notifications"
		}
		r.GET("/v1/streaming/"+path, optionalUser(scope), s.streamEvents(kind))
	}
}

// RunStreaming delivers domain events to streaming clients until ctx ends, and ends
// the streams of tokens revoked by other processes.
func (s *Server) RunStreaming(ctx context.Context) error {
	go s.sweepRevocations(ctx)
	return s.hub.Run(ctx)
}

// watchRevocations ends streams as soon as this process revokes their token or
// suspends, disables or deletes their account.
func (s *Server) watchRevocations(bus *community.Bus) {
	if s.auth != nil {
		s.auth.OnRevoke(func(ids []int64) { s.hub.DropTokens(ids...) })
	}
	if bus == nil {
		return
	}
	bus.Subscribe(func(ctx context.Context, e community.Event) {
		switch e := e.(type) {
		case community.AccountDeleted:
			s.hub.DropAccount(e.Account.ID)
		case community.AccountSanctioned:
			if e.Sanction.Suspended {
				s.hub.DropAccount(e.Account.ID)
				return
			}
			// A disabled login is not in the event; look it up off the publisher's
			// goroutine, which must not wait for the database.
			id := e.Account.ID
			go func() {
				u, err := s.community.UserByAccountID(context.WithoutCancel(ctx), id)
				if err == nil && u.Disabled {
					s.hub.DropAccount(id)
				}
			}()
		}
	})
}

// sweepRevocations asks the database, while streams are open, for tokens revoked and
// logins disabled since the last look, and ends their streams: changes made by the
// admin commands or another replica do not pass through this process's hooks.
func (s *Server) sweepRevocations(ctx context.Context) {
	if s.auth == nil {
		return
	}
	tick := time.NewTicker(revocationSweep)
	defer tick.Stop()
	since := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.hub.Stats().Connections == 0 {
			since = time.Now()
			continue
		}
		// Look back a little further than the last sweep: clocks of replicas differ,
		// and ending a stream twice is harmless.
		next := time.Now()
		ids, err := s.auth.RevokedSince(ctx, since.Add(-time.Minute))
		if err != nil {
			s.log.WarnContext(ctx, "streaming: cannot list revoked tokens", "err", err)
			continue
		}
		s.hub.DropTokens(ids...)
		accounts, err := s.auth.DisabledSince(ctx, since.Add(-time.Minute))
		if err != nil {
			s.log.WarnContext(ctx, "streaming: cannot list disabled logins", "err", err)
			continue
		}
		for _, id := range accounts {
			s.hub.DropAccount(id)
		}
		since = next
	}
}

// CloseStreams ends every streaming connection, so that a graceful shutdown need not
// wait for clients that never hang up.
func (s *Server) CloseStreams() { s.hub.Close() }

// StreamingStats reports the streaming hub's figures.
func (s *Server) StreamingStats() streaming.Stats { return s.hub.Stats() }

// sseHeartbeat is how often event streams send a keep-alive comment.
func (s *Server) sseHeartbeat() time.Duration {
	if d := time.Duration(s.heartbeat.Load()); d > 0 {
		return d
	}
	return sseHeartbeat
}

// streamRecheck is how often streams check their token (see defaultStreamRecheck).
func (s *Server) streamRecheck() time.Duration {
	if d := time.Duration(s.recheck.Load()); d > 0 {
		return d
	}
	return defaultStreamRecheck
}

// stillAuthorized reports whether the token a stream was opened with is still valid and
// its user still enabled. A database that does not answer is not a revocation.
func (s *Server) stillAuthorized(ctx context.Context, raw string) bool {
	if raw == "" {
		return true // logged out: public streams only
	}
	tok, err := s.auth.LookupToken(ctx, raw)
	if errors.Is(err, auth.ErrInvalidToken) {
		return false
	}
	if err != nil || tok.UserID == nil {
		return true
	}
	user, _, err := s.community.Unchecked().UserByID(ctx, *tok.UserID)
	if community.KindOf(err) == community.KindNotFound {
		return false
	}
	return err != nil || !user.Disabled
}

// streamOptions says who is connecting and what their token lets them read.
func streamOptions(c *gin.Context) streaming.ConnOptions {
	tok := currentToken(c)
	if tok == nil {
		return streaming.ConnOptions{Statuses: true} // logged out: public streams
	}
	return streaming.ConnOptions{
		Account:       currentAccount(c),
		Statuses:      grantsAny(tok, []string{"read:statuses"}),
		Notifications: grantsAny(tok, []string{"read:notifications"}),
		TokenID:       tok.ID,
	}
}

// keepOpen lifts the server's read deadline: it bounds reading a request, and a stream
// is a request that lasts.
func (s *Server) keepOpen(c *gin.Context) {
	if err := http.NewResponseController(c.Writer).SetReadDeadline(time.Time{}); err != nil {
		s.log.WarnContext(c.Request.Context(), "streaming: cannot lift the read deadline; the server may cut the stream", "err", err)
	}
}

// streamEvents serves one stream as Server-Sent Events.
func (s *Server) streamEvents(kind streaming.Kind) gin.HandlerFunc {
	return func(c *gin.Context) {
		stream, err := streaming.ParseStream(string(kind), c.Query("tag"), c.Query("list"))
		if err != nil {
			s.fail(c, err)
			return
		}
		ctx := c.Request.Context()
		conn, err := s.hub.Connect(ctx, streamOptions(c), stream)
		if err != nil {
			s.fail(c, err)
			return
		}
		defer conn.Close()
		s.keepOpen(c)
		w := c.Writer
		h := w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Accel-Buffering", "no") // tell nginx not to hold events back
		w.WriteHeader(http.StatusOK)
		// Comments end with a single newline, as Mastodon sends them: a blank line after
		// a comment dispatches an empty event, and some clients (Mastodon.py) abort the
		// stream on it.
		if _, err := fmt.Fprint(w, ":)\n"); err != nil {
			return
		}
		w.Flush()
		raw := bearerToken(c)
		heartbeat := time.NewTicker(s.sseHeartbeat())
		defer heartbeat.Stop()
		recheck := time.NewTicker(s.streamRecheck())
		defer recheck.Stop()
		for {
			var err error
			select {
			case m := <-conn.Messages():
				_, err = w.Write(m.Frame(sseSlot, sseFrame))
			case <-heartbeat.C:
				_, err = fmt.Fprint(w, ":thump\n")
			case <-recheck.C:
				if !s.stillAuthorized(ctx, raw) {
					return
				}
				continue
			case <-conn.Done():
				return
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
			w.Flush()
		}
	}
}

// Each protocol caches its encoding of a message in its own slot.
const (
	sseSlot = 0
	wsSlot  = 1
)

// sseFrame encodes a message as a server-sent event.
func sseFrame(m *streaming.Message) []byte {
	payload := m.Payload
	if payload == "" {
		payload = "{}" // an event needs a data line to be dispatched
	}
	return []byte("event: " + m.Event + "\ndata: " + payload + "\n\n")
}

// wsFrameOf encodes a message as a WebSocket text frame's content.
func wsFrameOf(m *streaming.Message) []byte {
	data, err := json.Marshal(wsFrame{Stream: m.Stream, Event: m.Event, Payload: m.Payload})
	if err != nil {
		// Strings and string slices always encode.
		panic("encode streaming frame: " + err.Error())
	}
	return data
}

// wsFrame is what a WebSocket message carries: the stream, the event and its payload
// as a JSON string (the entity encoded once more, as Mastodon does).
type wsFrame struct {
	Stream  []string `json:"stream"`
	Event   string   `json:"event"`
	Payload string   `json:"payload,omitempty"`
}

// wsRequest is a message from the client.
type wsRequest struct {
	Type   string `json:"type"`
	Stream string `json:"stream"`
	Tag    string `json:"tag"`
	List   string `json:"list"`
}

// wsError is what the client is told about a refused request.
type wsError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// streamWebSocket serves the multiplexed WebSocket. The token may come as a bearer
// header, ?access_token= or the Sec-WebSocket-Protocol header (browsers cannot set
// headers on WebSockets; masto.js sends it there and needs it echoed back). Streams are
// named by ?stream= (with tag or list) and by subscribe / unsubscribe messages.
func (s *Server) streamWebSocket(c *gin.Context) {
	if !isWebSocket(c.Request) {
		// A plain GET here speaks the wrong protocol: HTTP's business, before any
		// parameter is read.
		abort(c, http.StatusBadRequest, "This endpoint speaks WebSocket; event streams are at /api/v1/streaming/<stream>")
		return
	}
	var streams []streaming.Stream
	if kind := c.Query("stream"); kind != "" {
		st, err := streaming.ParseStream(kind, c.Query("tag"), c.Query("list"))
		if err != nil {
			s.fail(c, err)
			return
		}
		streams = append(streams, st)
	}
	conn, err := s.hub.Connect(c.Request.Context(), streamOptions(c), streams...)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.keepOpen(c)
	opts := &websocket.AcceptOptions{
		// Browser clients (Elk, Phanpy…) connect from their own origin; the token, never
		// a cookie, authorizes, so any origin is safe, as for the REST API's CORS.
		InsecureSkipVerify: true,
	}
	if proto := websocketProtocol(c.Request); proto != "" {
		opts.Subprotocols = []string{proto}
	}
	ws, err := websocket.Accept(c.Writer, c.Request, opts)
	if err != nil {
		conn.Close()
		return // Accept has answered the client
	}
	ws.SetReadLimit(wsReadLimit)
	// The connection is ours now (hijacked): serve it from fresh goroutines and let the
	// request's goroutine, with the stack and state the request needed, go.
	go s.serveWebSocket(ws, conn, bearerToken(c))
}

// serveWebSocket writes a connection's messages, pings and answers until the client
// leaves, its token stops being valid or the hub ends the connection; a second
// goroutine reads its requests.
func (s *Server) serveWebSocket(ws *websocket.Conn, conn *streaming.Conn, token string) {
	defer conn.Close()
	defer ws.CloseNow()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	replies := make(chan wsError, wsPendingReplies)
	go s.readSubscriptions(ctx, cancel, ws, conn, replies)

	ping := time.NewTicker(wsPingInterval)
	defer ping.Stop()
	recheck := time.NewTicker(s.streamRecheck())
	defer recheck.Stop()
	for {
		var data []byte
		select {
		case m := <-conn.Messages():
			data = m.Frame(wsSlot, wsFrameOf)
		case e := <-replies:
			data, _ = json.Marshal(e) // a string and an int always encode
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, wsWriteTimeout)
			err := ws.Ping(pctx)
			pcancel()
			if err != nil {
				return
			}
			continue
		case <-recheck.C:
			if !s.stillAuthorized(ctx, token) {
				ws.Close(websocket.StatusPolicyViolation, "The access token is invalid")
				return
			}
			continue
		case <-conn.Done():
			switch {
			case errors.Is(conn.Err(), streaming.ErrTooSlow):
				ws.Close(websocket.StatusPolicyViolation, "too slow")
			case errors.Is(conn.Err(), streaming.ErrRevoked):
				ws.Close(websocket.StatusPolicyViolation, "The access token is invalid")
			default:
				ws.Close(websocket.StatusGoingAway, "server shutting down")
			}
			return
		case <-ctx.Done():
			return
		}
		wctx, wcancel := context.WithTimeout(ctx, wsWriteTimeout)
		err := ws.Write(wctx, websocket.MessageText, data)
		wcancel()
		if err != nil {
			return
		}
	}
}

// websocketProtocol returns the first subprotocol the client offered: the token, for
// clients that send it there.
func websocketProtocol(r *http.Request) string {
	raw := r.Header.Get("Sec-WebSocket-Protocol")
	first, _, _ := strings.Cut(raw, ",")
	return strings.TrimSpace(first)
}

// readSubscriptions handles subscribe and unsubscribe messages until the client goes
// away, then cancels the connection.
func (s *Server) readSubscriptions(ctx context.Context, cancel context.CancelFunc, ws *websocket.Conn, conn *streaming.Conn, replies chan<- wsError) {
	defer cancel()
	reply := func(e wsError) {
		select {
		case replies <- e:
		default: // a client flooding bad requests does not get every answer
		}
	}
	var window time.Time
	requests := 0
	for {
		typ, data, err := ws.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue
		}
		if now := time.Now(); now.Sub(window) >= time.Second {
			window, requests = now, 0
		}
		if requests++; requests > wsRequestsPerSecond {
			reply(wsError{Error: "Too many requests", Status: http.StatusTooManyRequests})
			continue
		}
		var req wsRequest
		if err := json.Unmarshal(data, &req); err != nil {
			reply(wsError{Error: "Invalid JSON", Status: http.StatusBadRequest})
			continue
		}
		if !utf8.Valid(data) || !validText(req.Type) || !validText(req.Stream) || !validText(req.Tag) || !validText(req.List) {
			reply(wsError{Error: errInvalidText.Error(), Status: http.StatusUnprocessableEntity})
			continue
		}
		st, err := streaming.ParseStream(req.Stream, req.Tag, req.List)
		if err != nil {
			reply(wsError{Error: err.Error(), Status: http.StatusBadRequest})
			continue
		}
		switch req.Type {
		case "subscribe":
			if err := conn.Subscribe(ctx, st); err != nil {
				status := http.StatusBadRequest
				switch {
				case errors.Is(err, streaming.ErrNeedsLogin):
					status = http.StatusUnauthorized
				case errors.Is(err, streaming.ErrScope):
					status = http.StatusForbidden
				case errors.Is(err, streaming.ErrNoSuchList):
					status = http.StatusNotFound
				case !errors.Is(err, streaming.ErrTooManyStreams):
					s.log.Error("streaming subscribe", "err", err)
					status = http.StatusInternalServerError
					err = errors.New("Internal server error")
				}
				reply(wsError{Error: err.Error(), Status: status})
			}
		case "unsubscribe":
			conn.Unsubscribe(st)
		default:
			reply(wsError{Error: "Unknown message type", Status: http.StatusBadRequest})
		}
	}
}

// streamRenderer renders streamed entities with the REST API's presenters.
type streamRenderer struct{ s *Server }

// Statuses renders st for many viewers: the details every viewer shares are loaded
// once, each viewer's own relation to it (favourited, bookmarked, poll votes…) for all
// of them in one batch, and filter matches come from each viewer's filters.
func (r streamRenderer) Statuses(ctx context.Context, st *community.Status, viewers []streaming.Viewer) (map[int64]string, error) {
	s := r.s
	list := []community.Status{*st}
	d, err := s.community.LoadStatusDetails(ctx, community.Anonymous, list)
	if err != nil {
		return nil, err
	}
	apps, err := s.statusApps(ctx, list, d)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, v := range viewers {
		if v.Account != nil {
			ids = append(ids, v.Account.ID)
		}
	}
	subjects := []int64{st.ID}
	if st.ReblogOfID != nil {
		subjects = append(subjects, *st.ReblogOfID)
	}
	var pollIDs []int64
	for _, p := range d.Polls {
		pollIDs = append(pollIDs, p.ID)
	}
	relations, err := s.community.RelationsOf(ctx, ids, subjects, pollIDs)
	if err != nil {
		return nil, err
	}
	// Most viewers of a new status are logged-in people other than its author with
	// no relation to it yet and no filter it matches: they all get the same JSON,
	// rendered once.
	proper := st
	if st.ReblogOfID != nil && d.Statuses[*st.ReblogOfID] != nil {
		proper = d.Statuses[*st.ReblogOfID]
	}
	target := community.NewFilterTarget(proper)
	now := time.Now()
	var plain string
	out := make(map[int64]string, len(viewers))
	for _, v := range viewers {
		dv := *d
		var id int64
		isPlain := false
		if v.Account != nil {
			id = v.Account.ID
			rel := relations[id]
			dv.Favourited, dv.Reblogged, dv.Bookmarked, dv.Pinned = rel.Favourited, rel.Reblogged, rel.Bookmarked, rel.Pinned
			dv.OwnVotes = rel.OwnVotes
			isPlain = id != st.AccountID && id != proper.AccountID && len(rel.Favourited) == 0 &&
				len(rel.Reblogged) == 0 && len(rel.Bookmarked) == 0 && len(rel.Pinned) == 0 &&
				len(rel.OwnVotes) == 0 && len(v.Filters.Match(target, now)) == 0
			if isPlain && plain != "" {
				out[id] = plain
				continue
			}
		}
		entity, ok := s.statusWith(community.AsAccount(v.Account), st, &dv, apps, v.Filters)
		if !ok {
			continue
		}
		data, err := json.Marshal(entity)
		if err != nil {
			return nil, fmt.Errorf("encode streamed status: %w", err)
		}
		out[id] = string(data)
		if isPlain {
			plain = out[id]
		}
	}
	return out, nil
}

// Notification renders a notification as the notifications list shows it.
func (r streamRenderer) Notification(ctx context.Context, v streaming.Viewer, item *community.NotificationItem) (string, error) {
	out, err := r.s.notifications(ctx, community.AsAccount(v.Account), []community.NotificationItem{*item})
	if err != nil {
		return "", err
	}
	if len(out) == 0 {
		return "", community.ErrNotFound
	}
	data, err := json.Marshal(out[0])
	if err != nil {
		return "", fmt.Errorf("encode streamed notification: %w", err)
	}
	return string(data), nil
}

// Conversation renders a conversation as the conversations list shows it.
func (r streamRenderer) Conversation(ctx context.Context, v streaming.Viewer, item *community.ConversationItem) (string, error) {
	out, err := r.s.conversations(ctx, v.Account, []community.ConversationItem{*item})
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(out[0])
	if err != nil {
		return "", fmt.Errorf("encode streamed conversation: %w", err)
	}
	return string(data), nil
}
