package streaming

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tacit-social/tacit/community"
)

// Viewer is who a message is rendered for: an account with its active filters, or
// nobody (logged out).
type Viewer struct {
	Account *community.Account
	Filters *community.FilterSet
}

// Renderer turns domain values into the client API's JSON. The web package implements
// it with the same presenters as the REST API, so that a streamed entity is exactly
// what a timeline would show.
type Renderer interface {
	// Statuses renders st once for each viewer, keyed by account id (0: logged out).
	Statuses(ctx context.Context, st *community.Status, viewers []Viewer) (map[int64]string, error)
	// Notification renders a notification for its recipient.
	Notification(ctx context.Context, v Viewer, item *community.NotificationItem) (string, error)
	// Conversation renders a conversation for its owner.
	Conversation(ctx context.Context, v Viewer, item *community.ConversationItem) (string, error)
}

// Options configure a Hub.
type Options struct {
	Community *community.Service
	Renderer  Renderer
	Logger    *slog.Logger
	// Buffer is how many messages a connection may have waiting before it is dropped
	// as too slow (default 256).
	Buffer int
	// Queue is how many domain events may wait for the hub (default 4096); beyond it
	// events are dropped, and clients catch up through the REST API as after any gap.
	Queue int
	// MaxStreams bounds the subscriptions of one connection (default 32).
	MaxStreams int
}

// Hub fans domain events out to connections. Its methods are safe for concurrent use;
// events are processed one at a time, in order, by Run.
type Hub struct {
	community  *community.Service
	render     Renderer
	log        *slog.Logger
	buffer     int
	maxStreams int
	in         chan community.Event

	mu     sync.RWMutex
	conns  map[*Conn]struct{}
	closed bool
	count  atomic.Int64

	droppedConns  atomic.Uint64
	droppedEvents atomic.Uint64

	// filters caches the active filters of connected accounts; only Run's goroutine
	// touches it. A FiltersChanged event clears an account's entry.
	filters map[int64]*community.FilterSet
}

// New returns a hub. Subscribe Handle to the domain's bus and call Run.
func New(opt Options) *Hub {
	h := &Hub{
		community:  opt.Community,
		render:     opt.Renderer,
		log:        opt.Logger,
		buffer:     opt.Buffer,
		maxStreams: opt.MaxStreams,
		conns:      map[*Conn]struct{}{},
		filters:    map[int64]*community.FilterSet{},
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.buffer <= 0 {
		h.buffer = 256
	}
	if h.maxStreams <= 0 {
		h.maxStreams = 32
	}
	queue := opt.Queue
	if queue <= 0 {
		queue = 4096
	}
	h.in = make(chan community.Event, queue)
	return h
}

// Stats are figures about the hub, for tests, benchmarks and logs.
type Stats struct {
	Connections   int
	DroppedConns  uint64 // dropped because their client fell behind
	DroppedEvents uint64 // not delivered because the hub fell behind
}

// Stats returns the current figures.
func (h *Hub) Stats() Stats {
	return Stats{Connections: int(h.count.Load()), DroppedConns: h.droppedConns.Load(), DroppedEvents: h.droppedEvents.Load()}
}

// Handle is the bus handler. It runs in the publisher's goroutine, after the publisher's
// transaction committed, so it only queues the event: a full queue drops it rather than
// slow down whoever wrote.
func (h *Hub) Handle(_ context.Context, e community.Event) {
	switch e.(type) {
	case community.StatusCreated, community.StatusUpdated, community.StatusDeleted,
		community.NotificationCreated, community.ConversationUpdated, community.FiltersChanged:
	default:
		return
	}
	if h.count.Load() == 0 {
		if _, ok := e.(community.FiltersChanged); !ok {
			return // nobody is listening
		}
	}
	select {
	case h.in <- e:
	default:
		if n := h.droppedEvents.Add(1); n == 1 || n%1000 == 0 {
			h.log.Warn("streaming hub is behind; events dropped", "dropped_total", n)
		}
	}
}

// Run processes events until ctx ends, then closes every connection.
func (h *Hub) Run(ctx context.Context) error {
	defer h.Close()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-h.in:
			h.process(ctx, e)
		}
	}
}

// Close ends every connection and refuses new ones (server shutdown).
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.stop(ErrClosed)
	}
}

// Errors that end a connection.
var (
	ErrTooSlow = errors.New("client too slow: messages were not read in time")
	ErrClosed  = errors.New("server shutting down")
	// ErrRevoked: the connection's token was revoked, or its account suspended,
	// disabled or deleted.
	ErrRevoked = errors.New("The access token is invalid")
)

// DropTokens ends at once the connections opened with any of the tokens ids: a token
// that was revoked must not keep reading.
func (h *Hub) DropTokens(ids ...int64) {
	if len(ids) == 0 {
		return
	}
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	h.drop(func(c *Conn) bool { return c.tokenID != 0 && set[c.tokenID] })
}

// DropAccount ends at once every connection of an account (suspended, disabled or
// deleted).
func (h *Hub) DropAccount(accountID int64) {
	h.drop(func(c *Conn) bool { return c.account != nil && c.account.ID == accountID })
}

func (h *Hub) drop(match func(*Conn) bool) {
	h.mu.RLock()
	var victims []*Conn
	for c := range h.conns {
		if match(c) {
			victims = append(victims, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range victims {
		c.stop(ErrRevoked)
	}
}

// ConnOptions describe who connects.
type ConnOptions struct {
	// Account is the logged-in account, nil for a logged-out client (public streams
	// only).
	Account *community.Account
	// Statuses says the token may read statuses (every stream but
	// user:notification); Notifications that it may read notifications.
	Statuses      bool
	Notifications bool
	// TokenID is the access token's id (0 when logged out), so that revoking the
	// token ends the connection (DropTokens).
	TokenID int64
}

// Connect registers a connection already subscribed to streams, so that nothing
// published after Connect returns can be missed. The caller must Close it.
func (h *Hub) Connect(ctx context.Context, opt ConnOptions, streams ...Stream) (*Conn, error) {
	c := &Conn{hub: h, account: opt.Account, statuses: opt.Statuses, notifications: opt.Notifications,
		tokenID: opt.TokenID, out: make(chan *Message, h.buffer), done: make(chan struct{})}
	for _, s := range streams {
		if err := c.Subscribe(ctx, s); err != nil {
			return nil, err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	h.conns[c] = struct{}{}
	h.count.Add(1)
	return c, nil
}

func (h *Hub) unregister(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.count.Add(-1)
	}
}

// Conn is one client connection: its subscriptions and its queue of messages.
type Conn struct {
	hub           *Hub
	account       *community.Account
	statuses      bool
	notifications bool
	tokenID       int64
	out           chan *Message
	done          chan struct{}
	once          sync.Once
	err           error

	mu      sync.Mutex
	streams []Stream
}

// Account is the connection's account (nil when logged out).
func (c *Conn) Account() *community.Account { return c.account }

// Messages is the queue the protocol reads and writes out.
func (c *Conn) Messages() <-chan *Message { return c.out }

// Done is closed when the hub ends the connection: its client fell behind, or the
// server is shutting down. Err then says which.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the hub ended the connection, once Done is closed.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.err
	default:
		return nil
	}
}

// Close unregisters the connection.
func (c *Conn) Close() {
	c.hub.unregister(c)
	c.stop(ErrClosed)
}

func (c *Conn) stop(err error) {
	c.once.Do(func() {
		c.err = err
		close(c.done)
	})
}

// Subscribe adds a stream. Streams of an account need one; a list must be the
// account's own.
func (c *Conn) Subscribe(ctx context.Context, s Stream) error {
	if s.needsAccount() && c.account == nil {
		return ErrNeedsLogin
	}
	if (s.Kind == UserNotification && !c.notifications) || (s.Kind != UserNotification && !c.statuses) {
		return ErrScope
	}
	if s.Kind == List {
		if _, err := c.hub.community.GetList(ctx, c.account, s.List); err != nil {
			if community.KindOf(err) == community.KindNotFound {
				return ErrNoSuchList
			}
			return err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, have := range c.streams {
		if have == s {
			return nil
		}
	}
	if len(c.streams) >= c.hub.maxStreams {
		return ErrTooManyStreams
	}
	c.streams = append(c.streams, s)
	return nil
}

// Unsubscribe removes a stream.
func (c *Conn) Unsubscribe(s Stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, have := range c.streams {
		if have == s {
			c.streams = append(c.streams[:i:i], c.streams[i+1:]...)
			return
		}
	}
}

// send queues m, or drops the connection when its queue is full: one slow client must
// neither hold the hub up nor make it buffer without bound.
func (c *Conn) send(m *Message) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- m:
	default:
		c.hub.droppedConns.Add(1)
		c.stop(ErrTooSlow)
	}
}

// watcher is a connection and its streams, copied for one event.
type watcher struct {
	conn    *Conn
	streams []Stream
}

// snapshot copies the live connections and their streams.
func (h *Hub) snapshot() []watcher {
	h.mu.RLock()
	out := make([]watcher, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, watcher{conn: c})
	}
	h.mu.RUnlock()
	for i := range out {
		c := out[i].conn
		c.mu.Lock()
		out[i].streams = append([]Stream(nil), c.streams...)
		c.mu.Unlock()
	}
	return out
}

// process handles one event. Errors are logged: a missed live event is repaired by the
// client's next REST fetch, and must not stop the hub.
func (h *Hub) process(ctx context.Context, e community.Event) {
	var err error
	switch e := e.(type) {
	case community.StatusCreated:
		err = h.statusEvent(ctx, &e.Status, EventUpdate)
	case community.StatusUpdated:
		err = h.statusEvent(ctx, &e.Status, EventStatusUpdate)
	case community.StatusDeleted:
		err = h.deleteEvent(ctx, e)
	case community.NotificationCreated:
		err = h.notificationEvent(ctx, e.Notification)
	case community.ConversationUpdated:
		err = h.conversationEvent(ctx, e)
	case community.FiltersChanged:
		h.filtersChanged(e.AccountID)
	}
	// Not found: what the event names is gone or hidden by now; nothing to say.
	if err != nil && ctx.Err() == nil && community.KindOf(err) != community.KindNotFound {
		h.log.ErrorContext(ctx, "streaming: event not delivered", "err", err)
	}
}

// filtersFor returns the cached active filters of accounts, loading the missing ones
// in one go.
func (h *Hub) filtersFor(ctx context.Context, ids []int64) error {
	var missing []int64
	for _, id := range ids {
		if _, ok := h.filters[id]; !ok && id != 0 {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sets, err := h.community.ActiveFiltersOf(ctx, missing)
	if err != nil {
		return err
	}
	for id, fs := range sets {
		h.filters[id] = fs
	}
	return nil
}

// pruneFilters forgets the filters of accounts no longer connected.
func (h *Hub) pruneFilters(ws []watcher) {
	if len(h.filters) <= 2*len(ws)+64 {
		return
	}
	keep := make(map[int64]*community.FilterSet, len(ws))
	for _, w := range ws {
		if a := w.conn.account; a != nil {
			if fs, ok := h.filters[a.ID]; ok {
				keep[a.ID] = fs
			}
		}
	}
	h.filters = keep
}

// delivery is one message to send once rendered.
type delivery struct {
	conn   *Conn
	stream Stream
	viewer int64
}

// statusEvent delivers a new or edited status to every stream it belongs in.
func (h *Hub) statusEvent(ctx context.Context, st *community.Status, event string) error {
	ws := h.snapshot()
	h.pruneFilters(ws)
	seen := map[int64]bool{}
	var accounts []*community.Account
	var accountIDs, lists []int64
	anyone := false
	for _, w := range ws {
		for _, s := range w.streams {
			if !s.carriesStatuses() {
				continue
			}
			anyone = true
			if s.Kind == List {
				lists = append(lists, s.List)
			}
			if a := w.conn.account; a != nil && !seen[a.ID] {
				seen[a.ID] = true
				accounts = append(accounts, a)
				accountIDs = append(accountIDs, a.ID)
			}
		}
	}
	if !anyone {
		return nil
	}
	aud, err := h.community.LiveAudience(ctx, st, community.LiveQuery{Accounts: accounts, Lists: lists})
	if err != nil {
		return err
	}
	proper := aud.Proper()
	if proper == nil {
		return nil
	}
	if err := h.filtersFor(ctx, accountIDs); err != nil {
		return err
	}
	target := community.NewFilterTarget(proper)
	now := time.Now()
	matches := map[int64][]community.FilterMatch{}
	var deliveries []delivery
	viewers := map[int64]Viewer{}
	for _, w := range ws {
		acct := w.conn.account
		var me int64
		if acct != nil {
			me = acct.ID
			if _, ok := matches[me]; !ok {
				matches[me] = h.filters[me].Match(target, now)
			}
		}
		for _, s := range w.streams {
			var in bool
			switch s.Kind {
			case User:
				in = aud.InHome(me)
			case Public, PublicLocal, PublicRemote:
				in = aud.InPublic(acct, s.Kind == PublicLocal, s.Kind == PublicRemote)
			case Hashtag, HashtagLocal:
				in = aud.InTag(acct, s.Tag, s.Kind == HashtagLocal, false)
			case List:
				in = aud.InList(s.List)
			}
			if !in || community.Hides(matches[me], s.filterContext()) {
				continue
			}
			deliveries = append(deliveries, delivery{conn: w.conn, stream: s, viewer: me})
			if _, ok := viewers[me]; !ok {
				viewers[me] = Viewer{Account: acct, Filters: h.filters[me]}
			}
		}
	}
	if len(deliveries) == 0 {
		return nil
	}
	list := make([]Viewer, 0, len(viewers))
	for _, v := range viewers {
		list = append(list, v)
	}
	payloads, err := h.render.Statuses(ctx, st, list)
	if err != nil {
		return err
	}
	h.deliver(deliveries, event, payloads)
	return nil
}

// deliver sends one message per delivery. Deliveries on one stream with the same
// payload share their message, whoever the viewer: most viewers of a new status get
// the same JSON, and a shared message is framed once for all their connections
// instead of once per viewer.
func (h *Hub) deliver(deliveries []delivery, event string, payloads map[int64]string) {
	type key struct {
		stream  Stream
		payload string
	}
	shared := map[key]*Message{}
	for _, d := range deliveries {
		payload, ok := payloads[d.viewer]
		if !ok {
			continue
		}
		k := key{d.stream, payload}
		m := shared[k]
		if m == nil {
			m = &Message{Stream: d.stream.Name(), Event: event, Payload: payload}
			shared[k] = m
		}
		d.conn.send(m)
	}
}

// deleteEvent tells everyone who may have been shown a status that it is gone, on
// each of their streams that carry statuses.
func (h *Hub) deleteEvent(ctx context.Context, e community.StatusDeleted) error {
	ws := h.snapshot()
	seen := map[int64]bool{}
	var accounts []*community.Account
	anyone := false
	for _, w := range ws {
		for _, s := range w.streams {
			if !s.carriesStatuses() {
				continue
			}
			anyone = true
			if a := w.conn.account; a != nil && !seen[a.ID] {
				seen[a.ID] = true
				accounts = append(accounts, a)
			}
		}
	}
	if !anyone {
		return nil
	}
	aud, err := h.community.LiveAudience(ctx, &e.Status, community.LiveQuery{Accounts: accounts, Deleted: true, Mentions: e.Mentions})
	if err != nil {
		return err
	}
	id := community.FormatID(e.Status.ID)
	for _, w := range ws {
		if !aud.MayRead(w.conn.account) {
			continue
		}
		for _, s := range w.streams {
			if s.carriesStatuses() {
				w.conn.send(&Message{Stream: s.Name(), Event: EventDelete, Payload: id})
			}
		}
	}
	return nil
}

// notificationEvent sends a notification to its recipient's user and notification
// streams, as the recipient would read it in the list (nothing if the list would not
// show it).
func (h *Hub) notificationEvent(ctx context.Context, n community.Notification) error {
	var targets []delivery
	var acct *community.Account
	for _, w := range h.snapshot() {
		a := w.conn.account
		if a == nil || a.ID != n.AccountID || !w.conn.notifications {
			continue
		}
		for _, s := range w.streams {
			if s.Kind == User || s.Kind == UserNotification {
				targets = append(targets, delivery{conn: w.conn, stream: s})
				acct = a
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	item, err := h.community.Notification(ctx, acct, n.ID)
	if community.KindOf(err) == community.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if err := h.filtersFor(ctx, []int64{acct.ID}); err != nil {
		return err
	}
	payload, err := h.render.Notification(ctx, Viewer{Account: acct, Filters: h.filters[acct.ID]}, item)
	if err != nil {
		return err
	}
	h.deliver(targets, EventNotification, map[int64]string{0: payload})
	return nil
}

// conversationEvent sends an updated conversation to its owner's direct streams.
func (h *Hub) conversationEvent(ctx context.Context, e community.ConversationUpdated) error {
	var targets []delivery
	var acct *community.Account
	for _, w := range h.snapshot() {
		a := w.conn.account
		if a == nil || a.ID != e.AccountID {
			continue
		}
		for _, s := range w.streams {
			if s.Kind == Direct {
				targets = append(targets, delivery{conn: w.conn, stream: s})
				acct = a
			}
		}
	}
	if len(targets) == 0 {
		return nil
	}
	item, err := h.community.GetConversation(ctx, acct, e.ConversationID)
	if community.KindOf(err) == community.KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	// The event is about the status that joined the conversation, even if a newer one
	// has joined since: that one has its own event.
	st, err := h.community.GetStatus(ctx, community.AsAccount(acct), e.StatusID)
	if err != nil {
		return err // not found (deleted since): nothing to say
	}
	item.LastStatus = st
	if err := h.filtersFor(ctx, []int64{acct.ID}); err != nil {
		return err
	}
	payload, err := h.render.Conversation(ctx, Viewer{Account: acct, Filters: h.filters[acct.ID]}, item)
	if err != nil {
		return err
	}
	h.deliver(targets, EventConversation, map[int64]string{0: payload})
	return nil
}

// filtersChanged forgets an account's cached filters and tells its user streams, whose
// clients then fetch their filters again.
func (h *Hub) filtersChanged(accountID int64) {
	delete(h.filters, accountID)
	for _, w := range h.snapshot() {
		if a := w.conn.account; a == nil || a.ID != accountID {
			continue
		}
		for _, s := range w.streams {
			if s.Kind == User {
				w.conn.send(&Message{Stream: s.Name(), Event: EventFiltersChanged})
			}
		}
	}
}
