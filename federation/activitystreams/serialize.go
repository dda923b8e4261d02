package activitystreams

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/go-fed/activity/streams"
	"github.com/go-fed/activity/streams/vocab"

	"github.com/tacit-social/tacit/community"
)

// TacitNamespace is the JSON-LD namespace of Tacit's own vocabulary ("tacit:scope").
const TacitNamespace = "https://tacit.dev/ns#"

// Context returns the @context of every document Tacit emits: ActivityStreams, the
// security vocabulary (publicKey), and the term definitions Mastodon and GoToSocial use
// for their extensions plus Tacit's own. It is built fresh on each call so callers may
// embed it in their own documents (collections, WebFinger-adjacent JSON) and modify
// their copy freely.
//
// go-fed computes a @context from the vocabularies a value uses, but it names the
// Mastodon namespace without its trailing "#" and knows nothing of the schema.org,
// ostatus and Tacit terms, so every serialized document gets this one instead.
func Context() []any {
	return []any{
		"https://www.w3.org/ns/activitystreams",
		"https://w3id.org/security/v1",
		map[string]any{
			"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
			"sensitive":                 "as:sensitive",
			"Hashtag":                   "as:Hashtag",
			"toot":                      "http://joinmastodon.org/ns#",
			"featured":                  map[string]any{"@id": "toot:featured", "@type": "@id"},
			"discoverable":              "toot:discoverable",
			"indexable":                 "toot:indexable",
			"blurhash":                  "toot:blurhash",
			"focalPoint":                map[string]any{"@container": "@list", "@id": "toot:focalPoint"},
			"votersCount":               "toot:votersCount",
			"schema":                    "http://schema.org#",
			"PropertyValue":             "schema:PropertyValue",
			"value":                     "schema:value",
			"ostatus":                   "http://ostatus.org#",
			"conversation":              "ostatus:conversation",
			"tacit":                     TacitNamespace,
			"scope":                     "tacit:scope",
			"hideTotals":                "tacit:hideTotals",
			"expertise":                 "tacit:expertise",
			"idea":                      "tacit:idea",
			"rules":                     "tacit:rules",
			"moderators":                map[string]any{"@id": "tacit:moderators", "@type": "@id"},
			// The board-owned state of an idea, inside "idea" (IdeaProps).
			"status":        "tacit:status",
			"comment":       "tacit:comment",
			"statusChanged": map[string]any{"@id": "tacit:statusChanged", "@type": "xsd:dateTime"},
			"locked":        "tacit:locked",
			"pinned":        map[string]any{"@id": "tacit:pinned", "@type": "xsd:dateTime"},
			"mergedInto":    map[string]any{"@id": "tacit:mergedInto", "@type": "@id"},
			"votes":         "tacit:votes",
			"version":       "tacit:version",
			// Lemmy's vocabulary, for boards as Lemmy communities.
			"lemmy":                   "https://join-lemmy.org/ns#",
			"postingRestrictedToMods": "lemmy:postingRestrictedToMods",
			"Lock":                    "lemmy:Lock",
		},
	}
}

// Actor is what ActorJSON needs to describe a local account as an ActivityPub actor.
type Actor struct {
	Account *community.Account
	// PublicKeyPEM is the actor's public key; empty means Account.PublicKeyPEM.
	PublicKeyPEM string
	// Featured (pinned statuses), Following and Outbox are collection URLs; each is
	// omitted when empty.
	Featured, Following, Outbox string
	// Type is "Person", "Service", "Application" or "Group"; empty means Service for
	// bots, Group for group accounts, Person otherwise.
	Type string
	// KeyOptional lets an account without a key yet be described (a profile in a peer
	// directory); the document then has no publicKey.
	KeyOptional bool
	// FeaturedTags are the hashtags the profile features, emitted as Hashtag tags of the
	// actor; TagURL gives a hashtag's page (nil omits hrefs).
	FeaturedTags []string
	TagURL       func(string) string
	// Board, for an idea board's group, publishes what other instances keep of it.
	Board *BoardActor
}

// BoardActor is what a board's group actor says about the board beyond its profile.
type BoardActor struct {
	// Moderators are the moderators' actor ids; ModeratorsURL is the collection that
	// lists them too (Lemmy reads a community's moderators from attributedTo).
	Moderators    []string
	ModeratorsURL string
	Rules         string
	Scope         community.Scope
}

// actorType is the part of go-fed's Person, Service, Application and Group that
// ActorJSON fills in; the four generated types share these setters but no interface.
type actorType interface {
	vocab.Type
	SetActivityStreamsPreferredUsername(vocab.ActivityStreamsPreferredUsernameProperty)
	SetActivityStreamsName(vocab.ActivityStreamsNameProperty)
	SetActivityStreamsSummary(vocab.ActivityStreamsSummaryProperty)
	SetActivityStreamsUrl(vocab.ActivityStreamsUrlProperty)
	SetActivityStreamsInbox(vocab.ActivityStreamsInboxProperty)
	SetActivityStreamsOutbox(vocab.ActivityStreamsOutboxProperty)
	SetActivityStreamsFollowers(vocab.ActivityStreamsFollowersProperty)
	SetActivityStreamsFollowing(vocab.ActivityStreamsFollowingProperty)
	SetActivityStreamsPublished(vocab.ActivityStreamsPublishedProperty)
	SetActivityStreamsIcon(vocab.ActivityStreamsIconProperty)
	SetActivityStreamsImage(vocab.ActivityStreamsImageProperty)
	SetActivityStreamsAttachment(vocab.ActivityStreamsAttachmentProperty)
	SetActivityStreamsTag(vocab.ActivityStreamsTagProperty)
	SetTootFeatured(vocab.TootFeaturedProperty)
	SetTootDiscoverable(vocab.TootDiscoverableProperty)
	SetW3IDSecurityV1PublicKey(vocab.W3IDSecurityV1PublicKeyProperty)
	GetUnknownProperties() map[string]any
}

// ActorJSON renders a local account as a Mastodon-shaped actor document: the standard
// vocabulary through go-fed, and through its unknown properties what it does not model
// (manuallyApprovesFollowers, endpoints.sharedInbox, the value of profile fields).
// The key id is the actor id with "#main-key", as Mastodon does.
func ActorJSON(a Actor) ([]byte, error) {
	acct := a.Account
	if acct == nil {
		return nil, fmt.Errorf("activitystreams: actor: no account")
	}
	id, inbox, err := actorIdentity(acct)
	if err != nil {
		return nil, err
	}
	pemText := cmp.Or(a.PublicKeyPEM, acct.PublicKeyPEM)
	if pemText == "" && !a.KeyOptional {
		return nil, fmt.Errorf("activitystreams: actor %s: no public key", acct.URI)
	}
	p, err := newActor(a.Type, acct)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: actor %s: %w", acct.URI, err)
	}

	p.SetJSONLDId(idProperty(id))
	setActorProfile(p, acct)
	if pemText != "" {
		p.SetW3IDSecurityV1PublicKey(publicKeyProperty(id, pemText))
	}
	// The steps that can fail run in the order their errors have always been reported.
	if err := setActorLinks(p, a, inbox); err != nil {
		return nil, fmt.Errorf("activitystreams: actor %s: %w", acct.URI, err)
	}
	if err := setActorImages(p, acct); err != nil {
		return nil, fmt.Errorf("activitystreams: actor %s: %w", acct.URI, err)
	}
	if len(acct.Fields) > 0 {
		p.SetActivityStreamsAttachment(fieldsProperty(acct.Fields))
	}
	if len(a.FeaturedTags) > 0 {
		tags, err := featuredTagsProperty(a.FeaturedTags, a.TagURL)
		if err != nil {
			return nil, fmt.Errorf("activitystreams: actor %s: %w", acct.URI, err)
		}
		p.SetActivityStreamsTag(tags)
	}
	if err := setActorExtensions(p, acct); err != nil {
		return nil, fmt.Errorf("activitystreams: actor %s: %w", acct.URI, err)
	}
	return render(p, func(m map[string]any) {
		// Mastodon always sends these as arrays; some peers index into them blindly.
		forceArray(m, "attachment", "tag")
		if a.Board != nil {
			boardActorJSON(m, a.Board)
		}
	})
}

// actorIdentity parses what every actor must have: its id and inbox, and a username.
func actorIdentity(acct *community.Account) (id, inbox *url.URL, err error) {
	id, err = absURL(acct.URI, false)
	if err != nil {
		return nil, nil, fmt.Errorf("activitystreams: actor %q: id: %w", acct.Username, err)
	}
	inbox, err = absURL(acct.InboxURL, false)
	if err != nil {
		return nil, nil, fmt.Errorf("activitystreams: actor %q: inbox: %w", acct.Username, err)
	}
	if acct.Username == "" {
		return nil, nil, fmt.Errorf("activitystreams: actor %s: no username", acct.URI)
	}
	return id, inbox, nil
}

// newActor returns an empty go-fed actor of type typ; an empty typ is Group for a group
// account, Service for a bot and Person otherwise.
func newActor(typ string, acct *community.Account) (actorType, error) {
	if typ == "" {
		switch {
		case acct.Group:
			typ = "Group"
		case acct.Bot:
			typ = "Service"
		default:
			typ = "Person"
		}
	}
	switch typ {
	case "Person":
		return streams.NewActivityStreamsPerson(), nil
	case "Service":
		return streams.NewActivityStreamsService(), nil
	case "Application":
		return streams.NewActivityStreamsApplication(), nil
	case "Group":
		return streams.NewActivityStreamsGroup(), nil
	}
	return nil, fmt.Errorf("unsupported type %q", typ)
}

// setActorProfile sets what the profile says in words: handle, display name, bio, the
// date the account was created and whether it may be discovered.
func setActorProfile(p actorType, acct *community.Account) {
	username := streams.NewActivityStreamsPreferredUsernameProperty()
	username.SetXMLSchemaString(acct.Username)
	p.SetActivityStreamsPreferredUsername(username)
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString(acct.DisplayName)
	p.SetActivityStreamsName(name)
	summary := streams.NewActivityStreamsSummaryProperty()
	summary.AppendXMLSchemaString(acct.Note)
	p.SetActivityStreamsSummary(summary)
	if !acct.CreatedAt.IsZero() {
		p.SetActivityStreamsPublished(publishedProperty(acct.CreatedAt))
	}
	discoverable := streams.NewTootDiscoverableProperty()
	discoverable.Set(acct.Discoverable)
	p.SetTootDiscoverable(discoverable)
	// Mastodon indexes an account's public posts for full-text search only when it
	// says it is indexable; a discoverable Tacit account is.
	p.GetUnknownProperties()["indexable"] = acct.Discoverable
}

// publicKeyProperty is the actor's key as Mastodon publishes it: id "#main-key" on the
// actor id, owned by the actor.
func publicKeyProperty(id *url.URL, pemText string) vocab.W3IDSecurityV1PublicKeyProperty {
	key := streams.NewW3IDSecurityV1PublicKey()
	keyID := *id
	keyID.Fragment = "main-key"
	key.SetJSONLDId(idProperty(&keyID))
	owner := streams.NewW3IDSecurityV1OwnerProperty()
	owner.Set(id)
	key.SetW3IDSecurityV1Owner(owner)
	keyPem := streams.NewW3IDSecurityV1PublicKeyPemProperty()
	keyPem.Set(pemText)
	key.SetW3IDSecurityV1PublicKeyPem(keyPem)
	keys := streams.NewW3IDSecurityV1PublicKeyProperty()
	keys.AppendW3IDSecurityV1PublicKey(key)
	return keys
}

// setActorLinks sets the actor's profile page, its inbox and its collections; the
// optional ones are left out when empty.
func setActorLinks(p actorType, a Actor, inbox *url.URL) error {
	acct := a.Account
	if err := appendIRI("url", acct.URL, true, streams.NewActivityStreamsUrlProperty, p.SetActivityStreamsUrl); err != nil {
		return err
	}
	inboxProp := streams.NewActivityStreamsInboxProperty()
	inboxProp.SetIRI(inbox)
	p.SetActivityStreamsInbox(inboxProp)
	if err := setIRI("outbox", a.Outbox, false, streams.NewActivityStreamsOutboxProperty, p.SetActivityStreamsOutbox); err != nil {
		return err
	}
	if err := setIRI("followers", acct.FollowersURL, false, streams.NewActivityStreamsFollowersProperty, p.SetActivityStreamsFollowers); err != nil {
		return err
	}
	if err := setIRI("following", a.Following, false, streams.NewActivityStreamsFollowingProperty, p.SetActivityStreamsFollowing); err != nil {
		return err
	}
	return setIRI("featured", a.Featured, false, streams.NewTootFeaturedProperty, p.SetTootFeatured)
}

// setActorImages sets the avatar (icon) and the header (image) when the account has them.
func setActorImages(p actorType, acct *community.Account) error {
	if acct.AvatarURL != "" {
		img, err := imageOf(acct.AvatarURL)
		if err != nil {
			return fmt.Errorf("icon: %w", err)
		}
		prop := streams.NewActivityStreamsIconProperty()
		prop.AppendActivityStreamsImage(img)
		p.SetActivityStreamsIcon(prop)
	}
	if acct.HeaderURL != "" {
		img, err := imageOf(acct.HeaderURL)
		if err != nil {
			return fmt.Errorf("image: %w", err)
		}
		prop := streams.NewActivityStreamsImageProperty()
		prop.AppendActivityStreamsImage(img)
		p.SetActivityStreamsImage(prop)
	}
	return nil
}

// fieldsProperty is the profile fields as the actor's attachments.
func fieldsProperty(fields community.Fields) vocab.ActivityStreamsAttachmentProperty {
	prop := streams.NewActivityStreamsAttachmentProperty()
	for _, f := range fields {
		prop.AppendActivityStreamsObject(propertyValue(f))
	}
	return prop
}

// featuredTagsProperty is the featured hashtags as the actor's tags; empty names are
// skipped.
func featuredTagsProperty(names []string, tagURL func(string) string) (vocab.ActivityStreamsTagProperty, error) {
	prop := streams.NewActivityStreamsTagProperty()
	for _, name := range names {
		h, err := hashtagOf(name, tagURL)
		if err != nil {
			return nil, err
		}
		if h != nil {
			prop.AppendActivityStreamsLink(h)
		}
	}
	return prop, nil
}

// setActorExtensions adds what go-fed does not model: manuallyApprovesFollowers,
// Tacit's expertise list and the shared inbox endpoint.
func setActorExtensions(p actorType, acct *community.Account) error {
	extra := p.GetUnknownProperties()
	extra["manuallyApprovesFollowers"] = acct.Locked
	if acct.Expertise != nil {
		// Tacit's expertise list: what the person says they know about.
		extra["expertise"] = []string(acct.Expertise)
	}
	if acct.SharedInboxURL != "" {
		if _, err := absURL(acct.SharedInboxURL, false); err != nil {
			return fmt.Errorf("shared inbox: %w", err)
		}
		extra["endpoints"] = map[string]any{"sharedInbox": acct.SharedInboxURL}
	}
	return nil
}

// boardActorJSON adds to a board's group what other instances keep of the board.
func boardActorJSON(m map[string]any, b *BoardActor) {
	mods := make([]any, 0, len(b.Moderators))
	for _, uri := range b.Moderators {
		mods = append(mods, uri)
	}
	m["moderators"] = mods
	if b.ModeratorsURL != "" {
		m["attributedTo"] = b.ModeratorsURL
	}
	m["rules"] = b.Rules
	m["scope"] = string(b.Scope)
	m["postingRestrictedToMods"] = false
}

// propertyValue is a profile field as Mastodon federates it: a schema.org
// PropertyValue. go-fed has no such type, so it is a plain Object whose type is
// renamed, with "value" as an unknown property.
func propertyValue(f community.Field) vocab.ActivityStreamsObject {
	o := streams.NewActivityStreamsObject()
	typ := streams.NewJSONLDTypeProperty()
	typ.AppendXMLSchemaString("PropertyValue")
	o.SetJSONLDType(typ)
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString(f.Name)
	o.SetActivityStreamsName(name)
	o.GetUnknownProperties()["value"] = f.Value
	return o
}

// imageOf is an Image pointing at a media URL, with its media type when the file
// extension tells it (Mastodon shows avatars without one, but some peers need it).
func imageOf(raw string) (vocab.ActivityStreamsImage, error) {
	u, err := absURL(raw, true)
	if err != nil {
		return nil, err
	}
	img := streams.NewActivityStreamsImage()
	prop := streams.NewActivityStreamsUrlProperty()
	prop.AppendIRI(u)
	img.SetActivityStreamsUrl(prop)
	if mt := mime.TypeByExtension(strings.ToLower(path.Ext(u.Path))); strings.HasPrefix(mt, "image/") {
		media := streams.NewActivityStreamsMediaTypeProperty()
		media.Set(mt)
		img.SetActivityStreamsMediaType(media)
	}
	return img, nil
}

// Note is what NoteJSON needs to render a status as an ActivityPub Note.
type Note struct {
	Status *community.Status
	Author *community.Account
	// InReplyToURI is the ActivityPub id of the status replied to, if any.
	InReplyToURI string
	// Mentions are the accounts the status mentions; each needs its URI.
	Mentions []*community.Account
	// Tags are the status's hashtag names, with or without "#".
	Tags []string
	// TagURL gives the page of a hashtag (the name without "#"); nil omits hrefs.
	TagURL func(string) string
	// To and Cc are the addressing, computed by the caller with Address.
	To, Cc []string
	// ConversationURI groups a thread; emitted as "conversation" (Mastodon) and
	// "context" (ActivityStreams) when set.
	ConversationURI string
	// Attachments are the status's media, emitted as Documents.
	Attachments []Attachment
	// Poll, when set, makes the object a Question.
	Poll *Poll
	// Idea, when set, renders the status as a Page: an idea posted to a board.
	Idea *IdeaPage
	// Audience is the group a post belongs to (FEP-1b12): the board of an idea or of
	// the discussion a reply is part of.
	Audience string
}

// Attachment is a media attachment as Mastodon federates it: a Document with its
// URL, media type, description (name), BlurHash, size and focal point.
type Attachment struct {
	URL, MediaType, Name, Blurhash string
	Width, Height                  int
	// Focus is the focal point (x, y from -1 to 1); nil when none was set.
	Focus *[2]float64
}

// Poll is what turns a Note into a Question: the options (oneOf, or anyOf for a
// multiple-choice poll) with their vote counts as replies.totalItems, when it ends, and
// how many accounts voted.
type Poll struct {
	Options     []community.PollOption
	Multiple    bool
	EndTime     *time.Time
	Closed      bool
	VotersCount int64
	// HideTotals keeps the per-option counts to the author until the poll ends: they
	// are sent as 0, with Tacit's hideTotals, so that no peer can show them.
	HideTotals bool
}

// IdeaPage is what makes a Note a Page: an idea, with its title as name, its body as
// content and its board as audience (FEP-1b12).
type IdeaPage struct {
	Title, BodyHTML, BoardURI string
	// State is the board-owned state; only the board's home instance sets it.
	State *IdeaProps
}

// IdeaProps is an idea's board-owned state, as "idea" on a Page (Tacit's vocabulary).
type IdeaProps struct {
	Status        string    `json:"status"`
	Comment       string    `json:"comment,omitempty"`
	StatusChanged time.Time `json:"statusChanged,omitzero"`
	Locked        bool      `json:"locked"`
	Pinned        time.Time `json:"pinned,omitzero"`
	MergedInto    string    `json:"mergedInto,omitempty"`
	Votes         int64     `json:"votes"`
	Version       int64     `json:"version"`
}

// NoteJSON renders a status as a Mastodon-shaped Note: summary is the spoiler text or
// null, inReplyTo the parent or null, tag holds Mention and Hashtag entries,
// contentMap repeats the content under the status language, and "scope" states
// Tacit's audience scope (world, company or department) for Tacit peers.
func NoteJSON(n Note) ([]byte, error) {
	id, authorID, err := noteIdentity(n)
	if err != nil {
		return nil, err
	}
	st := n.Status
	note := streams.NewActivityStreamsNote()
	note.SetJSONLDId(idProperty(id))
	attributed := streams.NewActivityStreamsAttributedToProperty()
	attributed.AppendIRI(authorID)
	note.SetActivityStreamsAttributedTo(attributed)
	setNoteText(note, st)
	// The steps that can fail run in the order their errors have always been reported.
	if err := setNoteLinks(note, n); err != nil {
		return nil, fmt.Errorf("activitystreams: note %s: %w", st.URI, err)
	}
	if err := setNoteAddressing(note, n); err != nil {
		return nil, fmt.Errorf("activitystreams: note %s: %w", st.URI, err)
	}
	tags, err := noteTagsProperty(n)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: note %s: %w", st.URI, err)
	}
	note.SetActivityStreamsTag(tags)
	if err := setNoteConversation(note, n.ConversationURI); err != nil {
		return nil, fmt.Errorf("activitystreams: note %s: %w", st.URI, err)
	}
	setNoteExtensions(note, st)
	return render(note, func(m map[string]any) { fixNoteJSON(m, n) })
}

// noteIdentity checks that n is a status of its own (not a reblog) and parses its id
// and its author's.
func noteIdentity(n Note) (id, authorID *url.URL, err error) {
	st, author := n.Status, n.Author
	if st == nil || author == nil {
		return nil, nil, fmt.Errorf("activitystreams: note: status and author are required")
	}
	if st.IsReblog() {
		return nil, nil, fmt.Errorf("activitystreams: note %s: a reblog is an Announce, not a Note", st.URI)
	}
	id, err = absURL(st.URI, false)
	if err != nil {
		return nil, nil, fmt.Errorf("activitystreams: note: id: %w", err)
	}
	authorID, err = absURL(author.URI, false)
	if err != nil {
		return nil, nil, fmt.Errorf("activitystreams: note %s: author: %w", st.URI, err)
	}
	return id, authorID, nil
}

// setNoteText sets the content, the spoiler text and the publication and edit dates.
func setNoteText(note vocab.ActivityStreamsNote, st *community.Status) {
	content := streams.NewActivityStreamsContentProperty()
	content.AppendXMLSchemaString(st.Content)
	note.SetActivityStreamsContent(content)
	if st.SpoilerText != "" {
		summary := streams.NewActivityStreamsSummaryProperty()
		summary.AppendXMLSchemaString(st.SpoilerText)
		note.SetActivityStreamsSummary(summary)
	}
	note.SetActivityStreamsPublished(publishedProperty(st.CreatedAt))
	if st.EditedAt != nil {
		updated := streams.NewActivityStreamsUpdatedProperty()
		updated.Set(st.EditedAt.UTC().Truncate(time.Second))
		note.SetActivityStreamsUpdated(updated)
	}
}

// setNoteLinks sets the status replied to and the status's page, when there are.
func setNoteLinks(note vocab.ActivityStreamsNote, n Note) error {
	if err := appendIRI("inReplyTo", n.InReplyToURI, false, streams.NewActivityStreamsInReplyToProperty, note.SetActivityStreamsInReplyTo); err != nil {
		return err
	}
	return appendIRI("url", n.Status.URL, true, streams.NewActivityStreamsUrlProperty, note.SetActivityStreamsUrl)
}

// setNoteAddressing sets to and cc, both always present (possibly empty).
func setNoteAddressing(note vocab.ActivityStreamsNote, n Note) error {
	to, err := audienceProperty(streams.NewActivityStreamsToProperty, n.To)
	if err != nil {
		return fmt.Errorf("to: %w", err)
	}
	note.SetActivityStreamsTo(to)
	cc, err := audienceProperty(streams.NewActivityStreamsCcProperty, n.Cc)
	if err != nil {
		return fmt.Errorf("cc: %w", err)
	}
	note.SetActivityStreamsCc(cc)
	return nil
}

// noteTagsProperty is the status's tags: its mentions, then its hashtags.
func noteTagsProperty(n Note) (vocab.ActivityStreamsTagProperty, error) {
	tags := streams.NewActivityStreamsTagProperty()
	for _, acct := range n.Mentions {
		m, err := mentionOf(acct)
		if err != nil {
			return nil, err
		}
		tags.AppendActivityStreamsMention(m)
	}
	for _, t := range n.Tags {
		h, err := hashtagOf(t, n.TagURL)
		if err != nil {
			return nil, err
		}
		if h != nil {
			tags.AppendActivityStreamsLink(h)
		}
	}
	return tags, nil
}

// setNoteConversation names the thread twice: "context" for ActivityStreams and
// "conversation" for Mastodon.
func setNoteConversation(note vocab.ActivityStreamsNote, uri string) error {
	if err := appendIRI("conversation", uri, true, streams.NewActivityStreamsContextProperty, note.SetActivityStreamsContext); err != nil {
		return err
	}
	if uri != "" {
		note.GetUnknownProperties()["conversation"] = uri
	}
	return nil
}

// setNoteExtensions adds what go-fed does not model: sensitive, Tacit's scope and the
// contentMap.
func setNoteExtensions(note vocab.ActivityStreamsNote, st *community.Status) {
	extra := note.GetUnknownProperties()
	extra["sensitive"] = st.Sensitive
	if st.Scope != "" {
		extra["scope"] = string(st.Scope)
	}
	if st.Language != "" {
		// go-fed holds content and contentMap in one property and writes it as a
		// mixed array when both are set, which Mastodon cannot read; the map goes
		// alongside as an unknown property instead.
		extra["contentMap"] = map[string]any{st.Language: st.Content}
	}
}

// fixNoteJSON completes a rendered Note with what go-fed cannot write: explicit nulls,
// the replies collection, Mastodon's attachments, and the shapes of a poll (Question)
// and of an idea (Page).
func fixNoteJSON(m map[string]any, n Note) {
	// Mastodon states "no spoiler" and "not a reply" as explicit nulls; go-fed
	// cannot serialize a null, so they are added here.
	if _, ok := m["summary"]; !ok {
		m["summary"] = nil
	}
	if _, ok := m["inReplyTo"]; !ok {
		m["inReplyTo"] = nil
	}
	// The replies collection, through which Mastodon fetches a thread's replies.
	m["replies"] = n.Status.URI + "/replies"
	if len(n.Attachments) > 0 {
		m["attachment"] = attachmentsJSON(n.Attachments)
	}
	if n.Poll != nil {
		questionJSON(m, n.Poll)
	}
	forceArray(m, "to", "cc", "tag", "attachment")
	if n.Audience != "" {
		m["audience"] = n.Audience
	}
	if n.Idea != nil {
		ideaPageJSON(m, n.Idea)
	}
}

// ideaPageJSON turns a rendered Note into an idea's Page: the title as name, the body
// as content, the board as audience and, from the board's home, its state and votes.
func ideaPageJSON(m map[string]any, i *IdeaPage) {
	m["type"] = "Page"
	m["name"] = i.Title
	m["content"] = i.BodyHTML
	if cm, ok := m["contentMap"].(map[string]any); ok {
		for k := range cm {
			cm[k] = i.BodyHTML
		}
	}
	m["audience"] = i.BoardURI
	if i.State != nil {
		m["idea"] = i.State
		m["likes"] = map[string]any{"type": "Collection", "totalItems": i.State.Votes}
	}
}

// attachmentsJSON renders attachments as Mastodon's Documents. go-fed's Document would
// do for url and mediaType, but BlurHash, focal point and size are extensions; a map
// states them all in one place.
func attachmentsJSON(list []Attachment) []any {
	out := make([]any, 0, len(list))
	for _, a := range list {
		doc := map[string]any{"type": "Document", "mediaType": a.MediaType, "url": a.URL, "name": nil}
		if a.Name != "" {
			doc["name"] = a.Name
		}
		if a.Blurhash != "" {
			doc["blurhash"] = a.Blurhash
		}
		if a.Width > 0 && a.Height > 0 {
			doc["width"], doc["height"] = a.Width, a.Height
		}
		if a.Focus != nil {
			doc["focalPoint"] = []float64{a.Focus[0], a.Focus[1]}
		}
		out = append(out, doc)
	}
	return out
}

// questionJSON turns a rendered Note into a Question, as Mastodon writes polls.
func questionJSON(m map[string]any, p *Poll) {
	m["type"] = "Question"
	hidden := p.HideTotals && !p.Closed
	if hidden {
		m["hideTotals"] = true
	}
	options := make([]any, 0, len(p.Options))
	for _, o := range p.Options {
		n := o.VotesCount
		if hidden {
			n = 0
		}
		options = append(options, map[string]any{
			"type": "Note", "name": o.Title,
			"replies": map[string]any{"type": "Collection", "totalItems": n},
		})
	}
	if p.Multiple {
		m["anyOf"] = options
	} else {
		m["oneOf"] = options
	}
	m["votersCount"] = p.VotersCount
	if p.EndTime != nil {
		end := p.EndTime.UTC().Truncate(time.Second).Format(time.RFC3339)
		m["endTime"] = end
		if p.Closed {
			m["closed"] = end
		}
	}
}

// VoteJSON renders a vote on a poll as Mastodon sends it: a Note by the voter whose
// name is the chosen option, answering the poll (questionURI) and addressed to the
// poll's author only. id is the vote's id.
func VoteJSON(id, voterURI, questionURI, authorURI, option string) ([]byte, error) {
	idURL, err := absURL(id, true)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: vote: id: %w", err)
	}
	voter, err := absURL(voterURI, false)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: vote %s: voter: %w", id, err)
	}
	question, err := absURL(questionURI, false)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: vote %s: question: %w", id, err)
	}
	note := streams.NewActivityStreamsNote()
	note.SetJSONLDId(idProperty(idURL))
	attributed := streams.NewActivityStreamsAttributedToProperty()
	attributed.AppendIRI(voter)
	note.SetActivityStreamsAttributedTo(attributed)
	reply := streams.NewActivityStreamsInReplyToProperty()
	reply.AppendIRI(question)
	note.SetActivityStreamsInReplyTo(reply)
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString(option)
	note.SetActivityStreamsName(name)
	to, err := audienceProperty(streams.NewActivityStreamsToProperty, []string{authorURI})
	if err != nil {
		return nil, fmt.Errorf("activitystreams: vote %s: to: %w", id, err)
	}
	note.SetActivityStreamsTo(to)
	return render(note, func(m map[string]any) { forceArray(m, "to") })
}

// mentionOf is the Mention tag of an account: href is its actor id, name its full
// handle "@user@host" (the host of its id for local accounts, which have no domain).
func mentionOf(acct *community.Account) (vocab.ActivityStreamsMention, error) {
	if acct == nil {
		return nil, fmt.Errorf("mention: nil account")
	}
	href, err := absURL(acct.URI, false)
	if err != nil {
		return nil, fmt.Errorf("mention of %q: %w", acct.Username, err)
	}
	host := acct.Domain
	if host == "" {
		host = href.Host
	}
	m := streams.NewActivityStreamsMention()
	hrefProp := streams.NewActivityStreamsHrefProperty()
	hrefProp.Set(href)
	m.SetActivityStreamsHref(hrefProp)
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString("@" + acct.Username + "@" + host)
	m.SetActivityStreamsName(name)
	return m, nil
}

// hashtagOf is the Hashtag tag of a hashtag name. go-fed has no Hashtag type (it is
// a Mastodon extension of Link), so it is a Link whose type is renamed.
func hashtagOf(tag string, tagURL func(string) string) (vocab.ActivityStreamsLink, error) {
	tag = strings.TrimPrefix(tag, "#")
	if tag == "" {
		return nil, nil
	}
	l := streams.NewActivityStreamsLink()
	typ := streams.NewJSONLDTypeProperty()
	typ.AppendXMLSchemaString("Hashtag")
	l.SetJSONLDType(typ)
	if tagURL != nil {
		href, err := absURL(tagURL(tag), true)
		if err != nil {
			return nil, fmt.Errorf("hashtag %q: %w", tag, err)
		}
		hrefProp := streams.NewActivityStreamsHrefProperty()
		hrefProp.Set(href)
		l.SetActivityStreamsHref(hrefProp)
	}
	name := streams.NewActivityStreamsNameProperty()
	name.AppendXMLSchemaString("#" + tag)
	l.SetActivityStreamsName(name)
	return l, nil
}

// activityType is what go-fed's activity types share that Activity fills in.
type activityType interface {
	vocab.Type
	SetActivityStreamsActor(vocab.ActivityStreamsActorProperty)
	SetActivityStreamsObject(vocab.ActivityStreamsObjectProperty)
	SetActivityStreamsTo(vocab.ActivityStreamsToProperty)
	SetActivityStreamsCc(vocab.ActivityStreamsCcProperty)
}

// newActivity returns an empty go-fed activity of a type Tacit sends or receives.
func newActivity(typ string) activityType {
	switch typ {
	case "Create":
		return streams.NewActivityStreamsCreate()
	case "Update":
		return streams.NewActivityStreamsUpdate()
	case "Delete":
		return streams.NewActivityStreamsDelete()
	case "Follow":
		return streams.NewActivityStreamsFollow()
	case "Accept":
		return streams.NewActivityStreamsAccept()
	case "Reject":
		return streams.NewActivityStreamsReject()
	case "Undo":
		return streams.NewActivityStreamsUndo()
	case "Like":
		return streams.NewActivityStreamsLike()
	case "Announce":
		return streams.NewActivityStreamsAnnounce()
	case "Block":
		return streams.NewActivityStreamsBlock()
	case "Flag":
		return streams.NewActivityStreamsFlag()
	case "Add":
		return streams.NewActivityStreamsAdd()
	case "Remove":
		return streams.NewActivityStreamsRemove()
	case "Move":
		return streams.NewActivityStreamsMove()
	}
	return nil
}

// Activity renders an activity of type typ (Create, Update, Delete, Follow, Accept,
// Reject, Undo, Like, Announce, Block, Flag, Add, Remove or Move) by actor, with the
// given addressing (either list may be empty; empty lists are omitted, as Mastodon
// does for Follow and friends).
//
// object is either the id of the object (a string or *url.URL), or the object itself:
// JSON bytes (as returned by NoteJSON, Tombstone or Activity — an embedded activity
// such as the Follow inside Undo or Accept), a json.RawMessage, or a map. An embedded
// object loses its own @context, since the activity's covers it. A Create or Update
// takes its published time from the embedded object's published or updated time.
func Activity(typ, id, actor string, object any, to, cc []string) ([]byte, error) {
	return ActivityWith(typ, id, actor, object, to, cc, nil)
}

// ActivityWith is Activity with more properties: a target, a summary (a moderator's
// reason), an origin, an audience, a Flag's content. It also renders Lemmy's Lock,
// which ActivityStreams (and go-fed) lack.
func ActivityWith(typ, id, actor string, object any, to, cc []string, extra map[string]any) ([]byte, error) {
	act := newActivity(typ)
	if typ == "Lock" {
		act = streams.NewActivityStreamsActivity()
	}
	if act == nil {
		return nil, fmt.Errorf("activitystreams: activity: unsupported type %q", typ)
	}
	idURL, err := absURL(id, true)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: %s: id: %w", typ, err)
	}
	actorURL, err := absURL(actor, false)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: %s %s: actor: %w", typ, id, err)
	}
	act.SetJSONLDId(idProperty(idURL))
	actorProp := streams.NewActivityStreamsActorProperty()
	actorProp.AppendIRI(actorURL)
	act.SetActivityStreamsActor(actorProp)

	objectIRI, embedded, err := activityObject(object)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: %s %s: %w", typ, id, err)
	}
	if objectIRI != nil {
		prop := streams.NewActivityStreamsObjectProperty()
		prop.AppendIRI(objectIRI)
		act.SetActivityStreamsObject(prop)
	}
	if err := setActivityAddressing(act, to, cc); err != nil {
		return nil, fmt.Errorf("activitystreams: %s %s: %w", typ, id, err)
	}
	return render(act, func(m map[string]any) {
		m["type"] = typ
		for k, v := range extra {
			m[k] = v
		}
		if embedded != nil {
			spliceObject(m, typ, embedded)
		}
		if len(to) > 0 {
			forceArray(m, "to")
		}
		if len(cc) > 0 {
			forceArray(m, "cc")
		}
	})
}

// activityObject reads an activity's object (see Activity): either the IRI of an
// object given by its id, or a copy of an embedded object without its @context.
//
// An embedded object is spliced into the serialized map rather than turned back into
// a go-fed value: re-reading our own JSON through go-fed would drop what it does not
// model (Hashtag tags keep their type, but a Mention's or an embedded activity's
// extensions would be reordered or lost), and costs a second parse.
func activityObject(object any) (*url.URL, map[string]any, error) {
	var embedded map[string]any
	switch o := object.(type) {
	case string:
		u, err := absURL(o, true)
		if err != nil {
			return nil, nil, fmt.Errorf("object: %w", err)
		}
		return u, nil, nil
	case *url.URL:
		if o == nil {
			return nil, nil, errors.New("nil object")
		}
		return activityObject(o.String())
	case []byte:
		if err := json.Unmarshal(o, &embedded); err != nil || embedded == nil {
			return nil, nil, fmt.Errorf("object is not a JSON object: %v", err)
		}
	case json.RawMessage:
		return activityObject([]byte(o))
	case map[string]any:
		if o == nil {
			return nil, nil, errors.New("nil object")
		}
		embedded = maps.Clone(o)
	default:
		return nil, nil, fmt.Errorf("unsupported object %T", object)
	}
	delete(embedded, "@context")
	if _, ok := embedded["type"].(string); !ok {
		return nil, nil, errors.New("embedded object has no type")
	}
	if _, ok := embedded["id"].(string); !ok {
		return nil, nil, errors.New("embedded object has no id")
	}
	return nil, embedded, nil
}

// setActivityAddressing sets to and cc, each only when it lists someone.
func setActivityAddressing(act activityType, to, cc []string) error {
	if len(to) > 0 {
		prop, err := audienceProperty(streams.NewActivityStreamsToProperty, to)
		if err != nil {
			return fmt.Errorf("to: %w", err)
		}
		act.SetActivityStreamsTo(prop)
	}
	if len(cc) > 0 {
		prop, err := audienceProperty(streams.NewActivityStreamsCcProperty, cc)
		if err != nil {
			return fmt.Errorf("cc: %w", err)
		}
		act.SetActivityStreamsCc(prop)
	}
	return nil
}

// spliceObject puts an embedded object into a rendered activity. A Create or Update
// is published when its object was, or, for an Update, when the object was edited.
func spliceObject(m map[string]any, typ string, embedded map[string]any) {
	m["object"] = embedded
	when := embedded["published"]
	if typ == "Update" {
		if u, ok := embedded["updated"]; ok {
			when = u
		}
	}
	if s, ok := when.(string); ok && (typ == "Create" || typ == "Update") {
		m["published"] = s
	}
}

// Tombstone renders what remains of a deleted object: the body of a Delete and of a
// 410 answer to a fetch of the object.
func Tombstone(id string) ([]byte, error) {
	u, err := absURL(id, false)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: tombstone: %w", err)
	}
	t := streams.NewActivityStreamsTombstone()
	t.SetJSONLDId(idProperty(u))
	return render(t, nil)
}

// render serializes a go-fed value, replaces its @context with Tacit's, lets fix
// adjust the map, and encodes it without HTML escaping (content is HTML; escaping
// "<" as \u003c is legal but triples the size of every tag).
func render(t vocab.Type, fix func(map[string]any)) ([]byte, error) {
	m, err := streams.Serialize(t)
	if err != nil {
		return nil, fmt.Errorf("activitystreams: serialize %s: %w", t.GetTypeName(), err)
	}
	m["@context"] = Context()
	if fix != nil {
		fix(m)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("activitystreams: encode %s: %w", t.GetTypeName(), err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// forceArray makes each key's value a JSON array, [] when absent: go-fed writes a
// single value where a list has one element, which the spec allows but Mastodon never
// emits and some implementations do not expect.
func forceArray(m map[string]any, keys ...string) {
	for _, k := range keys {
		switch v := m[k].(type) {
		case []any:
		case nil:
			m[k] = []any{}
		default:
			m[k] = []any{v}
		}
	}
}

func idProperty(u *url.URL) vocab.JSONLDIdProperty {
	p := streams.NewJSONLDIdProperty()
	p.Set(u)
	return p
}

func publishedProperty(t time.Time) vocab.ActivityStreamsPublishedProperty {
	p := streams.NewActivityStreamsPublishedProperty()
	p.Set(t.UTC().Truncate(time.Second))
	return p
}

// audienceProperty is a to or cc property listing the addressing entries; newProp is
// go-fed's constructor of the one wanted.
func audienceProperty[P interface{ AppendIRI(*url.URL) }](newProp func() P, list []string) (P, error) {
	p := newProp()
	for _, s := range list {
		u, err := audienceURL(s)
		if err != nil {
			var none P
			return none, err
		}
		p.AppendIRI(u)
	}
	return p, nil
}

// audienceURL parses an addressing entry; Tacit always writes Public in full.
func audienceURL(s string) (*url.URL, error) {
	if IsPublic(s) {
		s = PublicURI
	}
	return absURL(s, true)
}

// setIRI sets an optional single-valued property (outbox, followers…) to the URL raw,
// leaving it out when raw is empty; an invalid URL is an error naming the property.
// newProp and set are go-fed's constructor and setter of that property.
func setIRI[P interface{ SetIRI(*url.URL) }](name, raw string, allowFragment bool, newProp func() P, set func(P)) error {
	if raw == "" {
		return nil
	}
	u, err := absURL(raw, allowFragment)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	prop := newProp()
	prop.SetIRI(u)
	set(prop)
	return nil
}

// appendIRI is setIRI for a property go-fed models as a list (url, inReplyTo, context).
func appendIRI[P interface{ AppendIRI(*url.URL) }](name, raw string, allowFragment bool, newProp func() P, set func(P)) error {
	if raw == "" {
		return nil
	}
	u, err := absURL(raw, allowFragment)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	prop := newProp()
	prop.AppendIRI(u)
	set(prop)
	return nil
}

// absURL parses an absolute http(s) URL with a host, refusing a fragment unless
// allowed (object and actor ids have none; key ids and activity ids may).
func absURL(s string, allowFragment bool) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("empty URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid URL %q", truncate(s))
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, fmt.Errorf("URL %q is not absolute http(s)", truncate(s))
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil {
		return nil, fmt.Errorf("URL %q has no plain host", truncate(s))
	}
	if !allowFragment && (u.Fragment != "" || strings.HasSuffix(s, "#")) {
		return nil, fmt.Errorf("URL %q has a fragment", truncate(s))
	}
	return u, nil
}
