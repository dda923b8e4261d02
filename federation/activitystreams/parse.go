package activitystreams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"

	"github.com/tacit-social/tacit/community"
)

// Parse errors. Every error from ParseActor, ParseObject and ParseActivity wraps one
// of them, so an inbox can answer 400 for ErrInvalid and accept-and-ignore (202, as
// Mastodon does) for ErrUnsupported.
var (
	// ErrInvalid: not a well-formed document (bad JSON, missing or malformed id,
	// actor or object, addressing of the wrong shape, absurd size or nesting).
	ErrInvalid = errors.New("activitystreams: invalid document")
	// ErrUnsupported: a well-formed document of a type Tacit does not handle.
	ErrUnsupported = errors.New("activitystreams: unsupported type")
)

// Limits on what a peer may send. The caller caps the body size; these keep a small
// body from being expensive or from nesting without end.
const (
	// MaxActivityDepth is how many activities may nest: Undo{Follow} is 2,
	// Announce{Undo{Like}} (Lemmy relaying a vote withdrawal) is 3.
	MaxActivityDepth = 3
	// MaxArrayLen bounds every JSON array (to, cc, tag, …).
	MaxArrayLen = 10_000
	// maxJSONDepth bounds the nesting of JSON values of any kind; Mastodon's deepest
	// documents (context term definitions, a Create's Note's tags) reach about 5.
	maxJSONDepth = 32
)

// The types Tacit understands. Question, Article and Page are read as notes: Tacit
// shows them as statuses (a Page is an idea on an idea board).
var (
	activityTypes = []string{"Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Like", "Announce", "Block", "Flag", "Add", "Remove", "Move", "Lock"}
	// extensionTypes are activity types outside ActivityStreams (Lemmy's Lock): go-fed
	// reads them as a plain Activity.
	extensionTypes = []string{"Lock"}
	noteTypes      = []string{"Note", "Article", "Page", "Question"}
	actorTypes     = []string{"Person", "Service", "Application", "Group", "Organization"}
)

// ParsedActor is a peer's actor document, reduced to what Tacit keeps.
type ParsedActor struct {
	ID, Type, PreferredUsername, Name, Summary, URL            string
	Inbox, SharedInbox, Outbox, Followers, Following, Featured string
	PublicKeyID, PublicKeyOwner, PublicKeyPEM                  string
	IconURL, ImageURL                                          string
	ManuallyApprovesFollowers, Discoverable                    bool
	// Fields are the profile's PropertyValue attachments; values are unsanitized HTML.
	Fields    []community.Field
	Published time.Time
	// Expertise is Tacit's "tacit:expertise" list; nil when the actor has none (other
	// software), empty when a Tacit actor declares nothing.
	Expertise []string
	// Hashtags are the names (without "#") of the actor's Hashtag tags: the hashtags
	// its profile features. Nil when the actor has no tag property.
	Hashtags []string
	// Board is set when the actor is an idea board (a Group with Tacit's board
	// properties, or a Lemmy community).
	Board *ParsedBoard
}

// ParsedBoard is what a board's group actor says about the board.
type ParsedBoard struct {
	Moderators []string
	Rules      string
	Scope      string
}

// ParsedObject is a Note (or an Article, Page or Question read as one, or the
// Tombstone of a deleted object). Content, Summary, Name and field values are HTML or
// text exactly as the peer sent them: NOT sanitized here; the domain runs them
// through markup.Sanitize before storing or showing them.
type ParsedObject struct {
	ID, Type, AttributedTo, Content, Summary, URL, InReplyTo, Language string
	Sensitive                                                          bool
	Published, Updated                                                 time.Time
	// To and Cc are the addressing, with "as:Public" and "Public" spelled as PublicURI.
	To, Cc []string
	// Mentions are the hrefs of the Mention tags.
	Mentions []string
	// Hashtags are the names of the Hashtag tags, without "#".
	Hashtags []string
	// Scope is the "tacit:scope" a Tacit peer stated ("" from other software); see
	// ParsedObject.Audience for how it is applied.
	Scope string
	// Name is the title (Article, Page), or the chosen option of a vote.
	Name string
	// Group is the group the object was posted to (its "audience", FEP-1b12), "" when
	// none.
	Group string
	// Idea is the board-owned state of an idea, when its board's home published it.
	Idea *IdeaProps
	// Attachments are the Document (Image, Video, Audio) attachments with a URL.
	Attachments []ParsedAttachment
	// Poll is set for a Question with options.
	Poll *ParsedPoll
}

// ParsedAttachment is a media attachment of a remote object; Name is its description.
type ParsedAttachment struct {
	URL, MediaType, Name, Blurhash string
	Width, Height                  int
	Focus                          *[2]float64
}

// ParsedPoll is a Question's poll: options with their counts (replies.totalItems), the
// end (endTime, or closed when earlier) and the number of voters (votersCount).
type ParsedPoll struct {
	Options     []community.PollOption
	Multiple    bool
	EndTime     time.Time
	VotersCount int64
	// HideTotals is Tacit's flag: the counts stay hidden until the poll ends.
	HideTotals bool
}

// IsVote reports whether the object is a vote on a poll as Mastodon sends it: a Note
// with a name (the option) and no content, answering the poll.
func (o *ParsedObject) IsVote() bool {
	return o.Type == "Note" && o.Name != "" && o.Content == "" && o.InReplyTo != ""
}

// ParsedActivity is an incoming activity.
type ParsedActivity struct {
	ID, Type, Actor string
	// ObjectID is the id of the object, embedded or not; ObjectIDs lists every object
	// when there are several (a Flag reports an account and some of its statuses).
	ObjectID  string
	ObjectIDs []string
	// ObjectType is the type of an embedded object ("" when the object is an id).
	ObjectType string
	// Object is set when the object is embedded and is a note type or a Tombstone.
	Object *ParsedObject
	// ObjectActivity is set when the object is an embedded activity (Undo{Follow},
	// Accept{Follow}, Lemmy's Announce{Create{Page}}).
	ObjectActivity *ParsedActivity
	// ObjectActor is set when the object is an embedded actor (Update{Person}).
	ObjectActor *ParsedActor
	// Target is the target's id (Add/Remove: a collection; Move: the new account).
	Target    string
	To, Cc    []string
	Published time.Time
	// Raw is the decoded document, for what this package does not model.
	Raw map[string]any
}

// How parsing divides the work with go-fed: go-fed resolves the types and reads the
// references (ids of actors, objects, collections; urls, mention hrefs, keys),
// booleans and dates. Natural-language text (content, summary, name,
// preferredUsername) is read from the decoded JSON instead: go-fed tries to read
// every string as an IRI first, so a summary of "CW: politics" comes back as the
// "IRI" "cw: politics". Addressing is read from the JSON too, because go-fed keeps
// the compact "Public" spelling only as an opaque value. What go-fed does not model
// (Hashtag and PropertyValue, whose types it lacks; contentMap beside content;
// sensitive, manuallyApprovesFollowers, endpoints, tacit:scope) comes from the JSON
// or from go-fed's unknown properties.

// ParseActor reads an actor document. It requires an absolute http(s) id without a
// fragment, an actor type, a preferredUsername, an inbox, and a public key owned by
// the actor (its key id may have a fragment); everything else is optional and
// tolerated in any of the shapes Mastodon, GoToSocial, Pleroma and Lemmy use.
func ParseActor(b []byte) (*ParsedActor, error) { return decodeActor(b, true) }

// ParseProfile reads an actor document listed by a peer (its directory, its answers to
// searches) as a profile: the same as ParseActor except that the public key is
// optional, since a peer creates its accounts' keys only when they first federate. A
// profile read this way says who someone is; it is never trusted to verify signatures.
func ParseProfile(b []byte) (*ParsedActor, error) { return decodeActor(b, false) }

func decodeActor(b []byte, requireKey bool) (*ParsedActor, error) {
	m, err := decode(b)
	if err != nil {
		return nil, err
	}
	t, err := toType(m)
	if err != nil {
		return nil, err
	}
	return parseActor(m, t, requireKey)
}

// ParseObject reads a single object document (a Note fetched by id, say).
func ParseObject(b []byte) (*ParsedObject, error) {
	m, err := decode(b)
	if err != nil {
		return nil, err
	}
	typ, err := typeOf(m, noteTypes, []string{"Tombstone"})
	if err != nil {
		return nil, err
	}
	t, err := toType(m)
	if err != nil {
		return nil, err
	}
	return parseObject(m, t, typ)
}

// ParseActivity reads an incoming activity of a known type, with its object embedded
// or as an id. Embedded activities nest at most MaxActivityDepth deep; an embedded
// object of a type Tacit does not read (Video, Event…) is reported by ObjectType and
// ObjectID only.
func ParseActivity(b []byte) (*ParsedActivity, error) {
	m, err := decode(b)
	if err != nil {
		return nil, err
	}
	if p := readPlainCreate(m); p != nil {
		return p, nil // the common case, read without go-fed (plain_create.go)
	}
	if _, err := typeOf(m, activityTypes); err != nil {
		return nil, err
	}
	t, err := toType(m)
	if err != nil {
		return nil, err
	}
	return parseActivity(m, t, 1)
}

// activityReader is what go-fed's activity types share that parsing reads.
type activityReader interface {
	vocab.Type
	GetActivityStreamsActor() vocab.ActivityStreamsActorProperty
	GetActivityStreamsObject() vocab.ActivityStreamsObjectProperty
	GetActivityStreamsTarget() vocab.ActivityStreamsTargetProperty
	GetActivityStreamsPublished() vocab.ActivityStreamsPublishedProperty
}

func parseActivity(m map[string]any, t vocab.Type, depth int) (*ParsedActivity, error) {
	if depth > MaxActivityDepth {
		return nil, fmt.Errorf("%w: activities nested more than %d deep", ErrInvalid, MaxActivityDepth)
	}
	typ, err := typeOf(m, activityTypes)
	if err != nil {
		return nil, err
	}
	// Activity ids may have fragments: Mastodon mints "…/users/a#likes/12" and the
	// like for Likes, Accepts, Undos and profile Updates.
	id, err := idOf(m, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	act, ok := t.(activityReader)
	if !ok {
		return nil, fmt.Errorf("%w: %s %s: not an activity", ErrInvalid, typ, id)
	}
	p := &ParsedActivity{ID: id, Type: typ, Raw: m}

	actors := propRefs(act.GetActivityStreamsActor())
	if len(actors) == 0 {
		return nil, fmt.Errorf("%w: %s %s: no actor", ErrInvalid, typ, id)
	}
	if _, err := absURL(actors[0], false); err != nil {
		return nil, fmt.Errorf("%w: %s %s: actor: %v", ErrInvalid, typ, id, err)
	}
	p.Actor = actors[0]

	if p.To, err = audience(m["to"]); err != nil {
		return nil, fmt.Errorf("%s %s: to: %w", typ, id, err)
	}
	if p.Cc, err = audience(m["cc"]); err != nil {
		return nil, fmt.Errorf("%s %s: cc: %w", typ, id, err)
	}
	if targets := propRefs(act.GetActivityStreamsTarget()); len(targets) > 0 {
		if _, err := absURL(targets[0], true); err != nil {
			return nil, fmt.Errorf("%w: %s %s: target: %v", ErrInvalid, typ, id, err)
		}
		p.Target = targets[0]
	} else if m["target"] != nil {
		return nil, fmt.Errorf("%w: %s %s: unreadable target", ErrInvalid, typ, id)
	}
	p.Published = dateOf(act.GetActivityStreamsPublished())

	if err := p.readObjects(m["object"], act.GetActivityStreamsObject(), depth); err != nil {
		return nil, fmt.Errorf("%s %s: %w", typ, id, err)
	}
	return p, nil
}

// readObjects reads the object property. The JSON and go-fed's view of it are walked
// side by side: go-fed keeps one entry per JSON entry (unknown shapes included), so
// entry i of one is entry i of the other.
func (p *ParsedActivity) readObjects(raw any, prop vocab.ActivityStreamsObjectProperty, depth int) error {
	entries := asList(raw)
	if len(entries) == 0 {
		return fmt.Errorf("%w: no object", ErrInvalid)
	}
	aligned := prop != nil && prop.Len() == len(entries)
	for i, e := range entries {
		switch v := e.(type) {
		case string:
			// A reference may name an activity (Accept of a Follow by id), whose
			// id may carry a fragment.
			if _, err := absURL(v, true); err != nil {
				return fmt.Errorf("%w: object: %v", ErrInvalid, err)
			}
			p.ObjectIDs = append(p.ObjectIDs, v)
		case map[string]any:
			if i > 0 {
				// Only the first object is read in full; the others (a Flag's
				// reported statuses) matter by id.
				id, err := idOf(v, true)
				if err != nil {
					return fmt.Errorf("object: %w", err)
				}
				p.ObjectIDs = append(p.ObjectIDs, id)
				continue
			}
			var t vocab.Type
			if aligned {
				t = prop.At(i).GetType()
			}
			if err := p.readEmbedded(v, t, depth); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%w: object is a JSON %s", ErrInvalid, jsonKind(e))
		}
	}
	p.ObjectID = p.ObjectIDs[0]
	return nil
}

// readEmbedded reads an embedded object; t is go-fed's value for it, nil when go-fed
// does not know the type.
func (p *ParsedActivity) readEmbedded(m map[string]any, t vocab.Type, depth int) error {
	typ, err := typeOf(m, activityTypes, noteTypes, actorTypes, []string{"Tombstone"})
	if err != nil {
		typ = firstType(m)
	}
	switch {
	case slices.Contains(activityTypes, typ):
		if t == nil {
			return fmt.Errorf("%w: embedded %s not understood", ErrInvalid, typ)
		}
		inner, err := parseActivity(m, t, depth+1)
		if err != nil {
			return fmt.Errorf("embedded %w", err)
		}
		p.ObjectActivity = inner
		p.ObjectIDs = append(p.ObjectIDs, inner.ID)
	case slices.Contains(noteTypes, typ) || typ == "Tombstone":
		if t == nil {
			return fmt.Errorf("%w: embedded %s not understood", ErrInvalid, typ)
		}
		o, err := parseObject(m, t, typ)
		if err != nil {
			return fmt.Errorf("embedded %w", err)
		}
		p.Object = o
		p.ObjectIDs = append(p.ObjectIDs, o.ID)
	case slices.Contains(actorTypes, typ):
		if t == nil {
			return fmt.Errorf("%w: embedded %s not understood", ErrInvalid, typ)
		}
		a, err := parseActor(m, t, true)
		if err != nil {
			return fmt.Errorf("embedded %w", err)
		}
		p.ObjectActor = a
		p.ObjectIDs = append(p.ObjectIDs, a.ID)
	default:
		// Something Tacit does not read (a Video, an Event): keep its id so the
		// caller can ignore it knowingly.
		id, err := idOf(m, true)
		if err != nil {
			return fmt.Errorf("object: %w", err)
		}
		p.ObjectIDs = append(p.ObjectIDs, id)
	}
	p.ObjectType = typ
	return nil
}

// objectReader is what go-fed's Note, Article, Page, Question and Tombstone share that
// parsing reads.
type objectReader interface {
	vocab.Type
	GetActivityStreamsAttributedTo() vocab.ActivityStreamsAttributedToProperty
	GetActivityStreamsInReplyTo() vocab.ActivityStreamsInReplyToProperty
	GetActivityStreamsUrl() vocab.ActivityStreamsUrlProperty
	GetActivityStreamsPublished() vocab.ActivityStreamsPublishedProperty
	GetActivityStreamsUpdated() vocab.ActivityStreamsUpdatedProperty
	GetActivityStreamsTag() vocab.ActivityStreamsTagProperty
	GetUnknownProperties() map[string]any
}

func parseObject(m map[string]any, t vocab.Type, typ string) (*ParsedObject, error) {
	// A vote's id has a fragment where Mastodon mints one ("…/users/a#votes/12").
	vote := typ == "Note" && text(m["name"]) != "" && text(m["content"]) == "" && m["inReplyTo"] != nil
	id, err := idOf(m, vote)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	o := &ParsedObject{ID: id, Type: typ}
	if typ == "Tombstone" {
		return o, nil
	}
	r, ok := t.(objectReader)
	if !ok {
		return nil, fmt.Errorf("%w: %s %s: not an object", ErrInvalid, typ, id)
	}
	authors := propRefs(r.GetActivityStreamsAttributedTo())
	if len(authors) == 0 {
		return nil, fmt.Errorf("%w: %s %s: no attributedTo", ErrInvalid, typ, id)
	}
	if _, err := absURL(authors[0], false); err != nil {
		return nil, fmt.Errorf("%w: %s %s: attributedTo: %v", ErrInvalid, typ, id, err)
	}
	o.AttributedTo = authors[0]
	// The parent decides whether a reply may be shown at all, so a malformed one is
	// an error rather than a silently top-level post. go-fed drops a value it cannot
	// read as a reference, hence the look at the JSON.
	if parents := propRefs(r.GetActivityStreamsInReplyTo()); len(parents) > 0 {
		if _, err := absURL(parents[0], false); err != nil {
			return nil, fmt.Errorf("%w: %s %s: inReplyTo: %v", ErrInvalid, typ, id, err)
		}
		o.InReplyTo = parents[0]
	} else if m["inReplyTo"] != nil {
		return nil, fmt.Errorf("%w: %s %s: unreadable inReplyTo", ErrInvalid, typ, id)
	}
	if o.To, err = audience(m["to"]); err != nil {
		return nil, fmt.Errorf("%s %s: to: %w", typ, id, err)
	}
	if o.Cc, err = audience(m["cc"]); err != nil {
		return nil, fmt.Errorf("%s %s: cc: %w", typ, id, err)
	}
	o.URL = firstWebURL(propRefs(r.GetActivityStreamsUrl()))
	o.Published = dateOf(r.GetActivityStreamsPublished())
	o.Updated = dateOf(r.GetActivityStreamsUpdated())
	readPlainFields(o, m)

	extra := r.GetUnknownProperties()
	o.Sensitive, _ = extra["sensitive"].(bool)
	if s, ok := extra["scope"].(string); ok {
		o.Scope = s
	} else if s, ok := extra["tacit:scope"].(string); ok {
		o.Scope = s
	}

	if tags := r.GetActivityStreamsTag(); tags != nil {
		for it := tags.Begin(); it != nil; it = it.Next() {
			if !it.IsActivityStreamsMention() {
				continue
			}
			if href := hrefOf(it.GetActivityStreamsMention()); href != "" {
				if _, err := absURL(href, true); err == nil {
					o.Mentions = append(o.Mentions, href)
				}
			}
		}
	}
	for _, e := range asList(m["tag"]) {
		tag, ok := e.(map[string]any)
		if !ok || firstType(tag) != "Hashtag" {
			continue
		}
		if name := strings.TrimPrefix(text(tag["name"]), "#"); name != "" {
			o.Hashtags = append(o.Hashtags, name)
		}
	}
	o.Attachments = attachmentsOf(m["attachment"])
	if typ == "Question" {
		o.Poll = pollOf(m)
	}
	return o, nil
}

// attachmentsOf reads the media attachments: Documents (Mastodon), Images, Videos and
// Audio, whose url is a string, a Link or a list of either.
func attachmentsOf(v any) []ParsedAttachment {
	var out []ParsedAttachment
	for _, e := range asList(v) {
		a, ok := e.(map[string]any)
		if !ok {
			continue
		}
		switch firstType(a) {
		case "Document", "Image", "Video", "Audio":
		default:
			continue // a PropertyValue, a Link…
		}
		p := ParsedAttachment{MediaType: text(a["mediaType"]), Name: text(a["name"]), Blurhash: text(a["blurhash"])}
		for _, u := range asList(a["url"]) {
			switch x := u.(type) {
			case string:
				p.URL = validOrEmpty(x)
			case map[string]any:
				p.URL = validOrEmpty(text(x["href"]))
				if p.MediaType == "" {
					p.MediaType = text(x["mediaType"])
				}
			}
			if p.URL != "" {
				break
			}
		}
		if p.URL == "" {
			continue
		}
		p.Width, p.Height = intOf(a["width"]), intOf(a["height"])
		if fp, ok := a["focalPoint"].([]any); ok && len(fp) == 2 {
			x, xok := fp[0].(float64)
			y, yok := fp[1].(float64)
			if xok && yok && x >= -1 && x <= 1 && y >= -1 && y <= 1 {
				p.Focus = &[2]float64{x, y}
			}
		}
		out = append(out, p)
	}
	return out
}

// pollOf reads a Question's options (oneOf, or anyOf for multiple choice), with the
// counts its origin reports.
func pollOf(m map[string]any) *ParsedPoll {
	p := &ParsedPoll{}
	options := asList(m["oneOf"])
	if len(options) == 0 {
		options, p.Multiple = asList(m["anyOf"]), true
	}
	for _, e := range options {
		o, ok := e.(map[string]any)
		if !ok || text(o["name"]) == "" {
			continue
		}
		var votes int64
		if r, ok := o["replies"].(map[string]any); ok {
			votes = int64(intOf(r["totalItems"]))
		}
		p.Options = append(p.Options, community.PollOption{Title: text(o["name"]), VotesCount: votes})
	}
	if len(p.Options) == 0 {
		return nil
	}
	if end, err := time.Parse(time.RFC3339, text(m["endTime"])); err == nil {
		p.EndTime = end.UTC()
	}
	// closed is the time the poll ended (or true); an earlier end than endTime wins.
	if closed, err := time.Parse(time.RFC3339, text(m["closed"])); err == nil && (p.EndTime.IsZero() || closed.Before(p.EndTime)) {
		p.EndTime = closed.UTC()
	} else if b, _ := m["closed"].(bool); b && p.EndTime.IsZero() {
		p.EndTime = time.Unix(0, 0).UTC()
	}
	p.VotersCount = int64(intOf(m["votersCount"]))
	p.HideTotals, _ = m["hideTotals"].(bool)
	return p
}

// intOf reads a non-negative JSON number that fits an int; 0 for anything else.
func intOf(v any) int {
	f, ok := v.(float64)
	if !ok || f < 0 || f > 1<<40 {
		return 0
	}
	return int(f)
}

// contentOf returns the content and its language. Mastodon sends content and a
// contentMap with the same text under the status language; others send only one of
// them. With several languages the one matching content wins, then the first in
// sorted order, so the result does not depend on map order.
func contentOf(m map[string]any) (content, lang string) {
	content = text(m["content"])
	cmap, _ := m["contentMap"].(map[string]any)
	langs := make([]string, 0, len(cmap))
	for k, v := range cmap {
		if _, ok := v.(string); ok && k != "" {
			langs = append(langs, k)
		}
	}
	slices.Sort(langs)
	if len(langs) == 0 {
		return content, ""
	}
	if content == "" {
		return cmap[langs[0]].(string), langs[0]
	}
	for _, k := range langs {
		if cmap[k] == content {
			return content, k
		}
	}
	return content, langs[0]
}

// actorReader is what go-fed's five actor types share that parsing reads.
type actorReader interface {
	vocab.Type
	GetActivityStreamsUrl() vocab.ActivityStreamsUrlProperty
	GetActivityStreamsInbox() vocab.ActivityStreamsInboxProperty
	GetActivityStreamsOutbox() vocab.ActivityStreamsOutboxProperty
	GetActivityStreamsFollowers() vocab.ActivityStreamsFollowersProperty
	GetActivityStreamsFollowing() vocab.ActivityStreamsFollowingProperty
	GetActivityStreamsIcon() vocab.ActivityStreamsIconProperty
	GetActivityStreamsImage() vocab.ActivityStreamsImageProperty
	GetActivityStreamsPublished() vocab.ActivityStreamsPublishedProperty
	GetTootFeatured() vocab.TootFeaturedProperty
	GetTootDiscoverable() vocab.TootDiscoverableProperty
	GetW3IDSecurityV1PublicKey() vocab.W3IDSecurityV1PublicKeyProperty
	GetUnknownProperties() map[string]any
}

func parseActor(m map[string]any, t vocab.Type, requireKey bool) (*ParsedActor, error) {
	typ, err := typeOf(m, actorTypes)
	if err != nil {
		return nil, err
	}
	id, err := idOf(m, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", typ, err)
	}
	r, ok := t.(actorReader)
	if !ok {
		return nil, fmt.Errorf("%w: %s %s: not an actor", ErrInvalid, typ, id)
	}
	a := &ParsedActor{ID: id, Type: typ}
	a.PreferredUsername = text(m["preferredUsername"])
	if a.PreferredUsername == "" {
		return nil, fmt.Errorf("%w: %s %s: no preferredUsername", ErrInvalid, typ, id)
	}
	a.Name = text(m["name"])
	a.Summary = text(m["summary"])
	a.URL = firstWebURL(propRefs(r.GetActivityStreamsUrl()))

	a.Inbox = refOf(r.GetActivityStreamsInbox())
	if _, err := absURL(a.Inbox, false); err != nil {
		return nil, fmt.Errorf("%w: %s %s: inbox: %v", ErrInvalid, typ, id, err)
	}
	// The other collections are optional; a malformed one is dropped rather than
	// failing the whole actor.
	a.Outbox = validOrEmpty(refOf(r.GetActivityStreamsOutbox()))
	a.Followers = validOrEmpty(refOf(r.GetActivityStreamsFollowers()))
	a.Following = validOrEmpty(refOf(r.GetActivityStreamsFollowing()))
	a.Featured = validOrEmpty(refOf(r.GetTootFeatured()))
	a.IconURL = imageURL(r.GetActivityStreamsIcon())
	a.ImageURL = imageURL(r.GetActivityStreamsImage())
	a.Published = dateOf(r.GetActivityStreamsPublished())
	if d := r.GetTootDiscoverable(); d != nil && d.IsXMLSchemaBoolean() {
		a.Discoverable = d.Get()
	}

	extra := r.GetUnknownProperties()
	a.ManuallyApprovesFollowers, _ = extra["manuallyApprovesFollowers"].(bool)
	if ep, ok := extra["endpoints"].(map[string]any); ok {
		a.SharedInbox = validOrEmpty(text(ep["sharedInbox"]))
	}

	if typ == "Group" {
		_, tacitBoard := m["moderators"]
		_, lemmy := m["postingRestrictedToMods"]
		if tacitBoard || lemmy {
			a.Board = &ParsedBoard{Rules: text(m["rules"]), Scope: text(m["scope"])}
			for _, e := range asList(m["moderators"]) {
				if uri, ok := e.(string); ok {
					if _, err := absURL(uri, false); err == nil {
						a.Board.Moderators = append(a.Board.Moderators, uri)
					}
				}
			}
		}
	}
	if keys := r.GetW3IDSecurityV1PublicKey(); requireKey || (keys != nil && keys.Len() > 0) {
		if err := a.readKey(keys); err != nil {
			return nil, fmt.Errorf("%s %s: %w", typ, id, err)
		}
	}
	for _, e := range asList(m["attachment"]) {
		pv, ok := e.(map[string]any)
		if !ok || firstType(pv) != "PropertyValue" {
			continue
		}
		name := text(pv["name"])
		if name == "" {
			continue
		}
		a.Fields = append(a.Fields, community.Field{Name: name, Value: text(pv["value"])})
	}
	for _, key := range []string{"expertise", "tacit:expertise", TacitNamespace + "expertise"} {
		v, ok := m[key]
		if !ok {
			continue
		}
		a.Expertise = []string{}
		for _, e := range asList(v) {
			if s := text(e); s != "" {
				a.Expertise = append(a.Expertise, s)
			}
		}
		break
	}
	if tags, ok := m["tag"]; ok {
		a.Hashtags = []string{}
		for _, e := range asList(tags) {
			tag, ok := e.(map[string]any)
			if !ok || firstType(tag) != "Hashtag" {
				continue
			}
			if name := strings.TrimPrefix(text(tag["name"]), "#"); name != "" {
				a.Hashtags = append(a.Hashtags, name)
			}
		}
	}
	return a, nil
}

// readKey takes the actor's key: the first one it owns (some servers list several).
// A key owned by another actor is an error, since signature checks trust the owner.
func (a *ParsedActor) readKey(keys vocab.W3IDSecurityV1PublicKeyProperty) error {
	if keys == nil || keys.Len() == 0 {
		return fmt.Errorf("%w: no publicKey", ErrInvalid)
	}
	var owned []vocab.W3IDSecurityV1PublicKey
	for it := keys.Begin(); it != nil; it = it.Next() {
		k := it.Get()
		if k == nil {
			continue
		}
		// A key without an owner is taken as the actor's own; one whose owner is
		// unreadable or someone else is not.
		if o := k.GetW3IDSecurityV1Owner(); o != nil && (o.Get() == nil || o.Get().String() != a.ID) {
			continue
		}
		owned = append(owned, k)
	}
	if len(owned) == 0 {
		return fmt.Errorf("%w: publicKey: no key owned by the actor", ErrInvalid)
	}
	k := owned[0]
	if idp := k.GetJSONLDId(); idp != nil && idp.Get() != nil {
		a.PublicKeyID = idp.Get().String()
	}
	if _, err := absURL(a.PublicKeyID, true); err != nil {
		return fmt.Errorf("%w: publicKey id: %v", ErrInvalid, err)
	}
	a.PublicKeyOwner = a.ID
	if pem := k.GetW3IDSecurityV1PublicKeyPem(); pem != nil && pem.IsXMLSchemaString() {
		a.PublicKeyPEM = pem.Get()
	}
	if a.PublicKeyPEM == "" {
		return fmt.Errorf("%w: publicKey %s: no publicKeyPem", ErrInvalid, a.PublicKeyID)
	}
	return nil
}

// decode parses JSON that must be an object, and refuses documents nested deeper
// than maxJSONDepth or with an array longer than MaxArrayLen.
func decode(b []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: a JSON %s, not an object", ErrInvalid, jsonKind(v))
	}
	if err := checkShape(m, 1); err != nil {
		return nil, err
	}
	return m, nil
}

func checkShape(v any, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("%w: nested more than %d deep", ErrInvalid, maxJSONDepth)
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			if err := checkShape(e, depth+1); err != nil {
				return err
			}
		}
	case []any:
		if len(x) > MaxArrayLen {
			return fmt.Errorf("%w: an array of %d entries (at most %d)", ErrInvalid, len(x), MaxArrayLen)
		}
		for _, e := range x {
			if err := checkShape(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// toType hands a decoded document to go-fed. Tacit reads documents as compacted
// against the well-known contexts, as every fediverse server does, rather than doing
// JSON-LD processing; so go-fed is given a plain ActivityStreams @context (also when
// the document has none), which makes it look properties up by their bare names.
// go-fed is generated code that no longer gets fixes, and its input here comes from
// other servers: a panic inside it is turned into ErrInvalid rather than taking the
// inbox worker down.
func toType(m map[string]any) (t vocab.Type, err error) {
	c := forGoFed(m)
	c["@context"] = "https://www.w3.org/ns/activitystreams"
	defer func() {
		if r := recover(); r != nil {
			t, err = nil, fmt.Errorf("%w: unreadable document: %v", ErrInvalid, r)
		}
	}()
	t, err = streams.ToType(context.Background(), c)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return t, nil
}

// goFedKeys are the properties parsing reads through go-fed, directly or as its
// unknown properties.
var goFedKeys = []string{
	"id", "type", "actor", "object", "target", "published", "updated", "attributedTo",
	"inReplyTo", "url", "tag", "inbox", "outbox", "followers", "following", "featured",
	"discoverable", "publicKey", "icon", "image", "manuallyApprovesFollowers",
	"endpoints", "sensitive", "scope", "tacit:scope",
}

// forGoFed copies the part of a document go-fed is asked about. go-fed deserializes
// every property it knows, trying each of its ~70 types on every embedded value (a
// failed try costs an error allocation), so a Mastodon Create's replies collection,
// attachments and Hashtag tags (read from the JSON here) would cost more than the
// rest of the parse. Embedded objects are pruned the same way; only Mention tags are
// kept, the one kind of tag read through go-fed.
func forGoFed(m map[string]any) map[string]any {
	c := make(map[string]any, len(goFedKeys)+1)
	for _, k := range goFedKeys {
		if v, ok := m[k]; ok {
			c[k] = v
		}
	}
	if slices.Contains(extensionTypes, firstType(m)) {
		c["type"] = "Activity"
	}
	switch o := m["object"].(type) {
	case map[string]any:
		c["object"] = forGoFed(o)
	case []any:
		list := make([]any, len(o))
		for i, e := range o {
			if em, ok := e.(map[string]any); ok {
				e = forGoFed(em)
			}
			list[i] = e
		}
		c["object"] = list
	}
	if tags, ok := m["tag"]; ok {
		var mentions []any
		for _, e := range asList(tags) {
			if tm, ok := e.(map[string]any); ok && firstType(tm) == "Mention" {
				mentions = append(mentions, tm)
			}
		}
		c["tag"] = mentions
		if mentions == nil {
			delete(c, "tag")
		}
	}
	return c
}

// typeOf returns the document's type, which must be in one of the allowed lists. A
// "type" may be a list (JSON-LD allows several); the first allowed one is taken.
func typeOf(m map[string]any, allowed ...[]string) (string, error) {
	var names []string
	switch v := m["type"].(type) {
	case string:
		names = []string{v}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				names = append(names, s)
			}
		}
	case nil:
		return "", fmt.Errorf("%w: no type", ErrInvalid)
	default:
		return "", fmt.Errorf("%w: type is a JSON %s", ErrInvalid, jsonKind(v))
	}
	for _, n := range names {
		for _, list := range allowed {
			if slices.Contains(list, n) {
				return n, nil
			}
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%w: no type", ErrInvalid)
	}
	return "", fmt.Errorf("%w: %q", ErrUnsupported, truncate(names[0]))
}

// firstType is the first type name of an embedded value, "" when it has none.
func firstType(m map[string]any) string {
	switch v := m["type"].(type) {
	case string:
		return v
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				return s
			}
		}
	}
	return ""
}

// idOf returns the document's id, an absolute http(s) URL; fragments only where
// allowed.
func idOf(m map[string]any, allowFragment bool) (string, error) {
	raw, ok := m["id"]
	if !ok || raw == nil {
		return "", fmt.Errorf("%w: no id", ErrInvalid)
	}
	id, ok := raw.(string)
	if !ok {
		return "", fmt.Errorf("%w: id is a JSON %s", ErrInvalid, jsonKind(raw))
	}
	if _, err := absURL(id, allowFragment); err != nil {
		return "", fmt.Errorf("%w: id: %v", ErrInvalid, err)
	}
	return id, nil
}

// audience reads a to or cc value: one entry or a list, each an IRI or an object with
// an id (a collection written out). The compact spellings of Public become PublicURI.
func audience(v any) ([]string, error) {
	entries := asList(v)
	if v != nil && entries == nil {
		return nil, fmt.Errorf("%w: addressing is a JSON %s", ErrInvalid, jsonKind(v))
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		var s string
		switch x := e.(type) {
		case string:
			s = x
		case map[string]any:
			s, _ = x["id"].(string)
		default:
			return nil, fmt.Errorf("%w: addressing entry is a JSON %s", ErrInvalid, jsonKind(e))
		}
		if IsPublic(s) {
			out = append(out, PublicURI)
			continue
		}
		if _, err := absURL(s, true); err != nil {
			return nil, fmt.Errorf("%w: addressing entry: %v", ErrInvalid, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// asList returns a JSON value as a list: a list as is, a string or object as a list of
// one, nothing for null; nil for numbers and booleans.
func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case string, map[string]any:
		return []any{x}
	}
	return nil
}

// text is a JSON string, "" for anything else (null included).
func text(v any) string {
	s, _ := v.(string)
	return s
}

// ref is one value of a go-fed property that points at something: an IRI, or a
// value with an id (an object) or an href (a Link, a Mention).
type ref interface {
	IsIRI() bool
	GetIRI() *url.URL
	GetType() vocab.Type
}

// refOf returns the id a go-fed property value points at, "" if none.
func refOf(r ref) string {
	if r == nil {
		return ""
	}
	if r.IsIRI() {
		if u := r.GetIRI(); u != nil {
			return u.String()
		}
		return ""
	}
	t := r.GetType()
	if t == nil {
		return ""
	}
	if href := hrefOf(t); href != "" {
		return href
	}
	if idp := t.GetJSONLDId(); idp != nil && idp.Get() != nil {
		return idp.Get().String()
	}
	return ""
}

// hrefOf returns a Link's (or Mention's) href, "" for other values.
func hrefOf(t any) string {
	l, ok := t.(interface {
		GetActivityStreamsHref() vocab.ActivityStreamsHrefProperty
	})
	if !ok || l == nil {
		return ""
	}
	h := l.GetActivityStreamsHref()
	if h == nil || h.Get() == nil {
		return ""
	}
	return h.Get().String()
}

// refIter is an entry of a go-fed property that can hold several values.
type refIter[I any] interface {
	ref
	Next() I
}

// propRefs lists what a multi-valued go-fed property points at, in order.
func propRefs[I refIter[I], P interface{ Begin() I }](p P) []string {
	if any(p) == nil {
		return nil
	}
	var out []string
	for it := p.Begin(); any(it) != nil; it = it.Next() {
		if s := refOf(it); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// imageIter is an entry of an icon or image property.
type imageIter[I any] interface {
	refIter[I]
	IsActivityStreamsImage() bool
	GetActivityStreamsImage() vocab.ActivityStreamsImage
}

// imageURL is the URL of an icon or image: the first entry's url when it is an Image,
// its href when a Link, itself when an IRI.
func imageURL[I imageIter[I], P interface{ Begin() I }](p P) string {
	if any(p) == nil {
		return ""
	}
	for it := p.Begin(); any(it) != nil; it = it.Next() {
		u := refOf(it)
		if it.IsActivityStreamsImage() {
			u = firstWebURL(propRefs(it.GetActivityStreamsImage().GetActivityStreamsUrl()))
		}
		if u = validOrEmpty(u); u != "" {
			return u
		}
	}
	return ""
}

// firstWebURL is the first absolute http(s) URL of a list.
func firstWebURL(list []string) string {
	for _, s := range list {
		if _, err := absURL(s, true); err == nil {
			return s
		}
	}
	return ""
}

// validOrEmpty keeps an absolute http(s) URL and drops anything else.
func validOrEmpty(s string) string {
	if _, err := absURL(s, true); err != nil {
		return ""
	}
	return s
}

// dateOf reads a published or updated property; a missing or unparseable date is
// the zero time.
func dateOf(p interface {
	IsXMLSchemaDateTime() bool
	Get() time.Time
}) time.Time {
	if p == nil || !p.IsXMLSchemaDateTime() {
		return time.Time{}
	}
	return p.Get().UTC()
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// truncate keeps error messages about peer-supplied strings short.
func truncate(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// ideaProps reads an idea's board-owned state; anything malformed is no state.
func ideaProps(v any) *IdeaProps {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	p := &IdeaProps{Status: text(m["status"]), Comment: text(m["comment"]), MergedInto: text(m["mergedInto"])}
	if p.Status == "" {
		return nil
	}
	p.Locked, _ = m["locked"].(bool)
	for key, dst := range map[string]*int64{"votes": &p.Votes, "version": &p.Version} {
		if f, ok := m[key].(float64); ok && f >= 0 && f < 1<<53 {
			*dst = int64(f)
		}
	}
	for key, dst := range map[string]*time.Time{"statusChanged": &p.StatusChanged, "pinned": &p.Pinned} {
		if t, err := time.Parse(time.RFC3339Nano, text(m[key])); err == nil {
			*dst = t.UTC()
		}
	}
	if p.MergedInto != "" {
		if _, err := absURL(p.MergedInto, false); err != nil {
			p.MergedInto = ""
		}
	}
	return p
}

// readPlainFields reads the properties that both readers take from the JSON as it is,
// whatever go-fed made of them: the content and its language, summary, name, the
// audience's group (FEP-1b12) and Tacit's idea properties.
func readPlainFields(o *ParsedObject, m map[string]any) {
	o.Content, o.Language = contentOf(m)
	o.Summary = text(m["summary"])
	o.Name = text(m["name"])
	if aud := asList(m["audience"]); len(aud) > 0 {
		switch x := aud[0].(type) {
		case string:
			o.Group = x
		case map[string]any:
			o.Group = text(x["id"])
		}
		if _, err := absURL(o.Group, false); err != nil {
			o.Group = ""
		}
	}
	o.Idea = ideaProps(m["idea"])
}
