package community

import (
	"context"
	"log/slog"
	"sync"
)

// Event is something that happened in the domain that adapters (federation, search,
// streaming) may react to. Events are published after the transaction that caused them
// commits, so a subscriber always finds the rows they name.
type Event interface{ eventName() string }

// StatusCreated: a status (post, reply or reblog) was stored.
type StatusCreated struct{ Status Status }

// StatusUpdated: a status was edited.
type StatusUpdated struct{ Status Status }

// StatusDeleted: a status was removed. Status holds the row as it was, Mentions the
// accounts it mentioned (its mention rows are gone with it). WithAccount is set when
// the status went with its author's account (an AccountDeleted event says so to peers
// once, for all of them).
type StatusDeleted struct {
	Status      Status
	Mentions    []int64
	WithAccount bool
}

// AccountCreated: a local or remote account was stored.
type AccountCreated struct{ Account Account }

// AccountUpdated: a profile changed.
type AccountUpdated struct{ Account Account }

// NotificationCreated: someone was notified.
type NotificationCreated struct{ Notification Notification }

// Followed: AccountID now follows TargetAccountID (or asked to, when Pending). Follow.URI
// is the ActivityPub id of the Follow activity when one side is remote. Repeated is set
// when a remote account asked again for a follow that already exists (its server lost
// track of the answer, or the follow was refreshed): the answer is due again.
type Followed struct {
	Follow   Follow
	Pending  bool
	Repeated bool
}

// Unfollowed: a follow or follow request ended. URI is the id of the Follow activity
// it ended ("" when none was known); ByTarget says the followed account ended it (a
// rejected request, a removed follower, a block) rather than the follower.
type Unfollowed struct {
	AccountID, TargetAccountID int64
	URI                        string
	ByTarget                   bool
}

// Favourited: a status was liked (Undone when the like was taken back).
type Favourited struct {
	Favourite Favourite
	Undone    bool
}

// PollVoted: votes were counted on a poll, local or remote. Poll holds the counts after
// them; Votes are the new votes, all by one account.
type PollVoted struct {
	Poll   Poll
	Status Status
	Votes  []PollVote
}

// PollEnded: a poll's time is up and its end was announced.
type PollEnded struct {
	Poll   Poll
	Status Status
}

// Blocked: an account blocked another (Undone when the block was lifted).
type Blocked struct {
	Block  Block
	Undone bool
}

func (Blocked) eventName() string             { return "block" }
func (PollVoted) eventName() string           { return "poll.voted" }
func (PollEnded) eventName() string           { return "poll.ended" }
func (StatusCreated) eventName() string       { return "status.created" }
func (StatusUpdated) eventName() string       { return "status.updated" }
func (StatusDeleted) eventName() string       { return "status.deleted" }
func (AccountCreated) eventName() string      { return "account.created" }
func (AccountUpdated) eventName() string      { return "account.updated" }
func (NotificationCreated) eventName() string { return "notification.created" }
func (Followed) eventName() string            { return "follow.created" }
func (Unfollowed) eventName() string          { return "follow.deleted" }
func (Favourited) eventName() string          { return "favourite" }

// Handler reacts to an event. It runs synchronously in the publisher's goroutine, so it
// must be quick: hand slow work (delivery, indexing) to a queue.
type Handler func(ctx context.Context, e Event)

// Bus fans domain events out to subscribers. Its zero value is ready to use.
type Bus struct {
	// Logger receives the panics of subscribers; nil means slog.Default().
	Logger *slog.Logger

	mu       sync.RWMutex
	handlers []Handler
}

// Subscribe registers h for every event published from now on.
func (b *Bus) Subscribe(h Handler) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers = append(b.handlers, h)
}

// Publish calls every subscriber. A panicking subscriber is logged and does not stop
// the others: the change it reacts to has already been committed.
func (b *Bus) Publish(ctx context.Context, events ...Event) {
	if b == nil {
		return
	}
	b.mu.RLock()
	handlers := b.handlers
	b.mu.RUnlock()
	for _, e := range events {
		for _, h := range handlers {
			b.callHandler(ctx, h, e)
		}
	}
}

func (b *Bus) callHandler(ctx context.Context, h Handler, e Event) {
	defer func() {
		if r := recover(); r != nil {
			log := b.Logger
			if log == nil {
				log = slog.Default()
			}
			log.ErrorContext(ctx, "event handler panicked", "event", e.eventName(), "panic", r)
		}
	}()
	h(ctx, e)
}
