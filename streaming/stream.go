// Package streaming delivers what happens in the community to connected clients as it
// happens (Mastodon's streaming API). A Hub receives the domain's events from its bus,
// decides for every connection which of its streams an event belongs to, by the
// domain's own audience and timeline rules (community.LiveAudience), has each message
// rendered for its viewer, and queues it on the connection. The protocols (WebSocket
// and Server-Sent Events) live in the web package; this package knows nothing of HTTP.
//
// Memory is bounded per connection: a connection holds a fixed-size queue of messages
// shared between connections, and one whose client does not keep up is dropped rather
// than allowed to slow the others down or to grow.
package streaming

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tacit-social/tacit/community"
)

// Kind is a stream's type, named as in Mastodon.
type Kind string

// The streams Tacit serves.
const (
	User             Kind = "user"              // the home feed, notifications, filter changes
	UserNotification Kind = "user:notification" // notifications only
	Public           Kind = "public"
	PublicLocal      Kind = "public:local"
	PublicRemote     Kind = "public:remote"
	Hashtag          Kind = "hashtag"
	HashtagLocal     Kind = "hashtag:local"
	List             Kind = "list"
	Direct           Kind = "direct" // conversations
)

// Errors a subscription can meet; their text is what clients are told.
var (
	ErrUnknownStream  = errors.New("Unknown stream type")
	ErrMissingTag     = errors.New("No tag for stream provided")
	ErrMissingList    = errors.New("No list for stream provided")
	ErrNeedsLogin     = errors.New("Missing access token")
	ErrNoSuchList     = errors.New("List not found")
	ErrTooManyStreams = errors.New("Too many streams on one connection")
	ErrScope          = errors.New("Access token does not have the required scopes")
)

// maxTagRunes bounds a hashtag stream's tag, as hashtags are bounded in posts.
const maxTagRunes = community.MaxTagLength

// Stream is one subscription: a kind and, for hashtag and list streams, which one.
type Stream struct {
	Kind Kind
	Tag  string // hashtag streams: the tag, lowercased
	List int64  // list streams
}

// ParseStream reads a stream as clients name it: the kind, with tag for hashtag
// streams and list for list streams.
func ParseStream(kind, tag, list string) (Stream, error) {
	s := Stream{Kind: Kind(kind)}
	switch s.Kind {
	case User, UserNotification, Public, PublicLocal, PublicRemote, Direct:
	case Hashtag, HashtagLocal:
		// A hashtag has no spaces: "# go" is "go", and anything with spaces or a
		// second "#" inside names no hashtag at all.
		s.Tag = strings.TrimSpace(community.NormalizeTag(tag))
		if s.Tag == "" || strings.ContainsFunc(s.Tag, unicode.IsSpace) || strings.ContainsRune(s.Tag, '#') ||
			utf8.RuneCountInString(s.Tag) > maxTagRunes {
			return s, ErrMissingTag
		}
	case List:
		id, ok := community.ParseID(strings.TrimSpace(list))
		if !ok {
			return s, ErrMissingList
		}
		s.List = id
	default:
		return s, ErrUnknownStream
	}
	return s, nil
}

// Name is the stream as frames name it: ["user"], ["hashtag", "go"], ["list", "42"].
func (s Stream) Name() []string {
	switch s.Kind {
	case Hashtag, HashtagLocal:
		return []string{string(s.Kind), s.Tag}
	case List:
		return []string{string(s.Kind), strconv.FormatInt(s.List, 10)}
	}
	return []string{string(s.Kind)}
}

// needsAccount reports whether only a logged-in account may follow the stream.
func (s Stream) needsAccount() bool {
	switch s.Kind {
	case User, UserNotification, List, Direct:
		return true
	}
	return false
}

// carriesStatuses reports whether statuses (updates, edits, deletions) flow on it.
func (s Stream) carriesStatuses() bool {
	switch s.Kind {
	case User, Public, PublicLocal, PublicRemote, Hashtag, HashtagLocal, List:
		return true
	}
	return false
}

// filterContext is where the viewer's filters apply on this stream.
func (s Stream) filterContext() community.FilterContext {
	switch s.Kind {
	case User, List:
		return community.FilterHome
	case UserNotification:
		return community.FilterNotifications
	}
	return community.FilterPublic
}

// Message is one event on one stream, ready for a protocol to frame. One message goes
// to every connection that gets the same thing (all logged-out clients of the public
// stream share one), so that it is framed once, not once per connection.
type Message struct {
	Stream []string
	// Event is update, status.update, delete, notification, conversation or
	// filters_changed.
	Event string
	// Payload is the event's JSON entity, the id for delete, "" for none.
	Payload string

	frames [maxFrameSlots]frameCache
}

// maxFrameSlots is how many encodings of a message can be cached: one per protocol.
const maxFrameSlots = 2

type frameCache struct {
	once sync.Once
	data []byte
}

// Frame returns the message encoded by encode, computing it once per slot (0 or 1, one
// per protocol) however many connections send it.
func (m *Message) Frame(slot int, encode func(*Message) []byte) []byte {
	f := &m.frames[slot]
	f.once.Do(func() { f.data = encode(m) })
	return f.data
}

// The events.
const (
	EventUpdate         = "update"
	EventStatusUpdate   = "status.update"
	EventDelete         = "delete"
	EventNotification   = "notification"
	EventConversation   = "conversation"
	EventFiltersChanged = "filters_changed"
)
