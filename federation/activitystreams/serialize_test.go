package activitystreams

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
)

var created = time.Date(2025, 1, 2, 3, 4, 5, 600, time.UTC)

const testPEM = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtest\n-----END PUBLIC KEY-----\n"

func alice() *community.Account {
	return &community.Account{
		ID: 1, Username: "alice", DisplayName: "Alice Liddell",
		Note:           "<p>Support lead. Ask me about <a href=\"https://tacit.example.com/tags/billing\">#billing</a></p>",
		Fields:         community.Fields{{Name: "Team", Value: "Support"}, {Name: "Desk", Value: "<a href=\"https://wiki.example.com/desk\">3F-12</a>"}},
		Locked:         true,
		Discoverable:   true,
		AvatarURL:      "https://tacit.example.com/media/avatars/1.png",
		HeaderURL:      "https://tacit.example.com/media/headers/1",
		URI:            "https://tacit.example.com/users/alice",
		URL:            "https://tacit.example.com/@alice",
		InboxURL:       "https://tacit.example.com/users/alice/inbox",
		SharedInboxURL: "https://tacit.example.com/inbox",
		FollowersURL:   "https://tacit.example.com/users/alice/followers",
		PublicKeyPEM:   testPEM,
		CreatedAt:      created,
	}
}

func aliceActor() Actor {
	return Actor{
		Account:   alice(),
		Featured:  "https://tacit.example.com/users/alice/collections/featured",
		Following: "https://tacit.example.com/users/alice/following",
		Outbox:    "https://tacit.example.com/users/alice/outbox",
	}
}

func decodeMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, b)
	}
	return m
}

// checkContext asserts the @context Mastodon needs to read the extension terms.
func checkContext(t *testing.T, m map[string]any) {
	t.Helper()
	ctx, ok := m["@context"].([]any)
	if !ok || len(ctx) != 3 {
		t.Fatalf("@context = %#v, want a list of 3", m["@context"])
	}
	if ctx[0] != "https://www.w3.org/ns/activitystreams" || ctx[1] != "https://w3id.org/security/v1" {
		t.Errorf("@context starts %v %v", ctx[0], ctx[1])
	}
	terms, ok := ctx[2].(map[string]any)
	if !ok {
		t.Fatalf("@context[2] = %#v, want term definitions", ctx[2])
	}
	want := map[string]any{
		"toot":                      "http://joinmastodon.org/ns#",
		"manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
		"discoverable":              "toot:discoverable",
		"featured":                  map[string]any{"@id": "toot:featured", "@type": "@id"},
		"schema":                    "http://schema.org#",
		"PropertyValue":             "schema:PropertyValue",
		"value":                     "schema:value",
		"Hashtag":                   "as:Hashtag",
		"sensitive":                 "as:sensitive",
		"blurhash":                  "toot:blurhash",
		"focalPoint":                map[string]any{"@container": "@list", "@id": "toot:focalPoint"},
		"tacit":                     TacitNamespace,
		"scope":                     "tacit:scope",
	}
	for k, v := range want {
		if !reflect.DeepEqual(terms[k], v) {
			t.Errorf("@context term %q = %#v, want %#v", k, terms[k], v)
		}
	}
}

// field walks a decoded document along keys and list indexes.
func field(m map[string]any, path ...any) any {
	var cur any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := cur.(map[string]any)
			if !ok {
				return nil
			}
			cur = mm[k]
		case int:
			l, ok := cur.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			cur = l[k]
		}
	}
	return cur
}

func TestActorJSON(t *testing.T) {
	t.Parallel()
	b, err := ActorJSON(aliceActor())
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	checkContext(t, m)
	want := map[string]any{
		"id":                        "https://tacit.example.com/users/alice",
		"type":                      "Person",
		"preferredUsername":         "alice",
		"name":                      "Alice Liddell",
		"summary":                   alice().Note,
		"url":                       "https://tacit.example.com/@alice",
		"inbox":                     "https://tacit.example.com/users/alice/inbox",
		"outbox":                    "https://tacit.example.com/users/alice/outbox",
		"followers":                 "https://tacit.example.com/users/alice/followers",
		"following":                 "https://tacit.example.com/users/alice/following",
		"featured":                  "https://tacit.example.com/users/alice/collections/featured",
		"manuallyApprovesFollowers": true,
		"discoverable":              true,
		"published":                 "2025-01-02T03:04:05Z",
		"endpoints":                 map[string]any{"sharedInbox": "https://tacit.example.com/inbox"},
		"publicKey": map[string]any{
			"id":           "https://tacit.example.com/users/alice#main-key",
			"owner":        "https://tacit.example.com/users/alice",
			"publicKeyPem": testPEM,
		},
		"icon":  map[string]any{"type": "Image", "mediaType": "image/png", "url": "https://tacit.example.com/media/avatars/1.png"},
		"image": map[string]any{"type": "Image", "url": "https://tacit.example.com/media/headers/1"},
		"attachment": []any{
			map[string]any{"type": "PropertyValue", "name": "Team", "value": "Support"},
			map[string]any{"type": "PropertyValue", "name": "Desk", "value": "<a href=\"https://wiki.example.com/desk\">3F-12</a>"},
		},
		"tag": []any{},
	}
	for k, v := range want {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
	if !strings.Contains(string(b), `"summary":"<p>Support lead.`) {
		t.Errorf("HTML was escaped in the output: %s", b)
	}
}

func TestActorJSONTypesAndDefaults(t *testing.T) {
	t.Parallel()
	typeOfActor := func(a Actor) string {
		t.Helper()
		b, err := ActorJSON(a)
		if err != nil {
			t.Fatal(err)
		}
		return decodeMap(t, b)["type"].(string)
	}
	a := aliceActor()
	a.Account.Bot = true
	if got := typeOfActor(a); got != "Service" {
		t.Errorf("bot: type %q", got)
	}
	a.Account.Group = true
	if got := typeOfActor(a); got != "Group" {
		t.Errorf("group: type %q", got)
	}
	for _, typ := range []string{"Person", "Service", "Application", "Group"} {
		a := aliceActor()
		a.Type = typ
		if got := typeOfActor(a); got != typ {
			t.Errorf("type %q came out as %q", typ, got)
		}
	}

	// Optional parts are left out rather than emitted empty; the key falls back to
	// the account's own.
	a = aliceActor()
	a.Featured, a.Following, a.Outbox = "", "", ""
	a.Account.AvatarURL, a.Account.HeaderURL, a.Account.Fields = "", "", nil
	a.Account.SharedInboxURL = ""
	a.Account.Locked = false
	a.PublicKeyPEM = "-----BEGIN PUBLIC KEY-----\nOVERRIDE\n-----END PUBLIC KEY-----\n"
	b, err := ActorJSON(a)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	for _, k := range []string{"featured", "following", "outbox", "icon", "image", "endpoints"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present though unset: %v", k, m[k])
		}
	}
	if m["manuallyApprovesFollowers"] != false {
		t.Errorf("manuallyApprovesFollowers = %v, want false", m["manuallyApprovesFollowers"])
	}
	if !reflect.DeepEqual(m["attachment"], []any{}) {
		t.Errorf("attachment = %#v, want []", m["attachment"])
	}
	if got := field(m, "publicKey", "publicKeyPem"); got != a.PublicKeyPEM {
		t.Errorf("publicKeyPem = %v, want the override", got)
	}
}

func TestActorJSONErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]func(a *Actor){
		"no account":     func(a *Actor) { a.Account = nil },
		"no uri":         func(a *Actor) { a.Account.URI = "" },
		"relative uri":   func(a *Actor) { a.Account.URI = "/users/alice" },
		"uri fragment":   func(a *Actor) { a.Account.URI = "https://tacit.example.com/users/alice#me" },
		"no inbox":       func(a *Actor) { a.Account.InboxURL = "" },
		"no username":    func(a *Actor) { a.Account.Username = "" },
		"no key":         func(a *Actor) { a.Account.PublicKeyPEM = "" },
		"bad type":       func(a *Actor) { a.Type = "Organization" },
		"bad outbox":     func(a *Actor) { a.Outbox = "ftp://x/outbox" },
		"bad avatar":     func(a *Actor) { a.Account.AvatarURL = "avatar.png" },
		"bad sharedbox":  func(a *Actor) { a.Account.SharedInboxURL = "inbox" },
		"bad followers":  func(a *Actor) { a.Account.FollowersURL = "followers" },
		"bad featured":   func(a *Actor) { a.Featured = "::" },
		"bad profile":    func(a *Actor) { a.Account.URL = "@alice" },
		"bad following":  func(a *Actor) { a.Following = "https://" },
		"bad header url": func(a *Actor) { a.Account.HeaderURL = "javascript:alert(1)" },
	}
	for name, mutate := range cases {
		a := aliceActor()
		mutate(&a)
		if _, err := ActorJSON(a); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestActorJSONRoundTrip(t *testing.T) {
	t.Parallel()
	b, err := ActorJSON(aliceActor())
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseActor(b)
	if err != nil {
		t.Fatal(err)
	}
	a := alice()
	want := &ParsedActor{
		ID: a.URI, Type: "Person", PreferredUsername: "alice", Name: a.DisplayName, Summary: a.Note, URL: a.URL,
		Inbox: a.InboxURL, SharedInbox: a.SharedInboxURL, Outbox: "https://tacit.example.com/users/alice/outbox",
		Followers: a.FollowersURL, Following: "https://tacit.example.com/users/alice/following",
		Featured:    "https://tacit.example.com/users/alice/collections/featured",
		PublicKeyID: a.URI + "#main-key", PublicKeyOwner: a.URI, PublicKeyPEM: testPEM,
		IconURL: a.AvatarURL, ImageURL: a.HeaderURL,
		ManuallyApprovesFollowers: true, Discoverable: true,
		Fields:    []community.Field{{Name: "Team", Value: "Support"}, {Name: "Desk", Value: "<a href=\"https://wiki.example.com/desk\">3F-12</a>"}},
		Published: created.Truncate(time.Second),
		Hashtags:  []string{}, // the actor always has a (possibly empty) tag list
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func noteFixture() Note {
	edited := created.Add(time.Hour)
	return Note{
		Status: &community.Status{
			ID: 7001, AccountID: 1,
			URI:         "https://tacit.example.com/users/alice/statuses/7001",
			URL:         "https://tacit.example.com/@alice/7001",
			Content:     "<p>Hi <span class=\"h-card\"><a href=\"https://sales.example.com/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> #Billing &amp; more</p>",
			SpoilerText: "CW: numbers",
			Sensitive:   true,
			Visibility:  community.VisibilityPublic,
			Scope:       community.ScopeCompany,
			Language:    "en",
			CreatedAt:   created,
			EditedAt:    &edited,
		},
		Author:          alice(),
		InReplyToURI:    "https://sales.example.com/users/bob/statuses/55",
		Mentions:        []*community.Account{{Username: "bob", Domain: "sales.example.com", URI: bob}, {Username: "dave", URI: "https://tacit.example.com/users/dave"}},
		Tags:            []string{"Billing", "#q3"},
		TagURL:          func(name string) string { return "https://tacit.example.com/tags/" + strings.ToLower(name) },
		To:              []string{company},
		Cc:              []string{followers, bob, "https://tacit.example.com/users/dave"},
		ConversationURI: "https://tacit.example.com/contexts/7001",
	}
}

func TestNoteJSON(t *testing.T) {
	t.Parallel()
	n := noteFixture()
	b, err := NoteJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	checkContext(t, m)
	want := map[string]any{
		"id":           n.Status.URI,
		"type":         "Note",
		"attributedTo": "https://tacit.example.com/users/alice",
		"content":      n.Status.Content,
		"contentMap":   map[string]any{"en": n.Status.Content},
		"summary":      "CW: numbers",
		"sensitive":    true,
		"inReplyTo":    "https://sales.example.com/users/bob/statuses/55",
		"published":    "2025-01-02T03:04:05Z",
		"updated":      "2025-01-02T04:04:05Z",
		"url":          n.Status.URL,
		"to":           []any{company},
		"cc":           []any{followers, bob, "https://tacit.example.com/users/dave"},
		"scope":        "company",
		"conversation": "https://tacit.example.com/contexts/7001",
		"context":      "https://tacit.example.com/contexts/7001",
		"attachment":   []any{},
		"tag": []any{
			map[string]any{"type": "Mention", "href": bob, "name": "@bob@sales.example.com"},
			map[string]any{"type": "Mention", "href": "https://tacit.example.com/users/dave", "name": "@dave@tacit.example.com"},
			map[string]any{"type": "Hashtag", "href": "https://tacit.example.com/tags/billing", "name": "#Billing"},
			map[string]any{"type": "Hashtag", "href": "https://tacit.example.com/tags/q3", "name": "#q3"},
		},
	}
	for k, v := range want {
		if !reflect.DeepEqual(m[k], v) {
			t.Errorf("%s = %#v, want %#v", k, m[k], v)
		}
	}
}

func TestNoteJSONPlain(t *testing.T) {
	t.Parallel()
	// No spoiler, not a reply, never edited, no language, world scope: the nulls
	// Mastodon expects, no updated, no contentMap.
	n := noteFixture()
	n.Status.SpoilerText, n.Status.Sensitive, n.Status.EditedAt, n.Status.Language = "", false, nil, ""
	n.Status.Scope = community.ScopeWorld
	n.InReplyToURI, n.Mentions, n.Tags, n.ConversationURI, n.TagURL = "", nil, []string{"solo", ""}, "", nil
	n.To, n.Cc = []string{PublicURI}, []string{followers}
	b, err := NoteJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	for _, k := range []string{"summary", "inReplyTo"} {
		v, ok := m[k]
		if !ok || v != nil {
			t.Errorf("%s = %#v (present %v), want null", k, v, ok)
		}
	}
	for _, k := range []string{"updated", "contentMap", "conversation", "context"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s present: %#v", k, m[k])
		}
	}
	if m["sensitive"] != false || m["scope"] != "world" {
		t.Errorf("sensitive = %v, scope = %v", m["sensitive"], m["scope"])
	}
	// A hashtag without a TagURL has no href; an empty name is skipped.
	if want := []any{map[string]any{"type": "Hashtag", "name": "#solo"}}; !reflect.DeepEqual(m["tag"], want) {
		t.Errorf("tag = %#v, want %#v", m["tag"], want)
	}
	if want := []any{PublicURI}; !reflect.DeepEqual(m["to"], want) {
		t.Errorf("to = %#v, want %#v (a one-element list stays a list)", m["to"], want)
	}
}

func TestNoteJSONErrors(t *testing.T) {
	t.Parallel()
	reblogOf := int64(5)
	cases := map[string]func(n *Note){
		"no status":      func(n *Note) { n.Status = nil },
		"no author":      func(n *Note) { n.Author = nil },
		"reblog":         func(n *Note) { n.Status.ReblogOfID = &reblogOf },
		"no uri":         func(n *Note) { n.Status.URI = "" },
		"author no uri":  func(n *Note) { n.Author.URI = "" },
		"bad reply":      func(n *Note) { n.InReplyToURI = "statuses/55" },
		"bad to":         func(n *Note) { n.To = []string{"followers"} },
		"bad cc":         func(n *Note) { n.Cc = []string{""} },
		"mention no uri": func(n *Note) { n.Mentions = []*community.Account{{Username: "x"}} },
		"nil mention":    func(n *Note) { n.Mentions = []*community.Account{nil} },
		"bad tag url":    func(n *Note) { n.TagURL = func(string) string { return "/tags/x" } },
		"bad url":        func(n *Note) { n.Status.URL = "mailto:x@y" },
		"bad context":    func(n *Note) { n.ConversationURI = "tag:example.com,2025:1" },
	}
	for name, mutate := range cases {
		n := noteFixture()
		mutate(&n)
		if _, err := NoteJSON(n); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestNoteRoundTrip(t *testing.T) {
	t.Parallel()
	n := noteFixture()
	note, err := NoteJSON(n)
	if err != nil {
		t.Fatal(err)
	}
	want := &ParsedObject{
		ID: n.Status.URI, Type: "Note", AttributedTo: n.Author.URI, Content: n.Status.Content,
		Summary: "CW: numbers", URL: n.Status.URL, InReplyTo: n.InReplyToURI, Language: "en",
		Sensitive: true, Published: created.Truncate(time.Second), Updated: n.Status.EditedAt.Truncate(time.Second),
		To: n.To, Cc: n.Cc, Mentions: []string{bob, "https://tacit.example.com/users/dave"},
		Hashtags: []string{"Billing", "q3"}, Scope: "company",
	}
	got, err := ParseObject(note)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("object round trip:\n got %+v\nwant %+v", got, want)
	}

	create, err := Activity("Create", n.Status.URI+"/activity", n.Author.URI, note, n.To, n.Cc)
	if err != nil {
		t.Fatal(err)
	}
	act, err := ParseActivity(create)
	if err != nil {
		t.Fatal(err)
	}
	if act.Type != "Create" || act.Actor != n.Author.URI || act.ObjectID != n.Status.URI || act.ObjectType != "Note" {
		t.Errorf("activity = %+v", act)
	}
	if !act.Published.Equal(created.Truncate(time.Second)) {
		t.Errorf("Create published = %v, want the note's", act.Published)
	}
	if !reflect.DeepEqual(act.Object, want) {
		t.Errorf("embedded round trip:\n got %+v\nwant %+v", act.Object, want)
	}
	vis, scope := act.Object.Audience(followers, isPeerCompany)
	if vis != community.VisibilityPublic || scope != community.ScopeCompany {
		t.Errorf("audience read back as %s/%s", vis, scope)
	}
}

func TestActivity(t *testing.T) {
	t.Parallel()
	const actor = "https://tacit.example.com/users/alice"
	for _, typ := range []string{"Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Like", "Announce", "Block", "Flag", "Add", "Remove", "Move"} {
		id := "https://tacit.example.com/activities/" + strings.ToLower(typ) + "/1"
		b, err := Activity(typ, id, actor, bob, nil, nil)
		if err != nil {
			t.Errorf("%s: %v", typ, err)
			continue
		}
		m := decodeMap(t, b)
		checkContext(t, m)
		if m["type"] != typ || m["id"] != id || m["actor"] != actor || m["object"] != bob {
			t.Errorf("%s: %s", typ, b)
		}
		for _, k := range []string{"to", "cc", "published"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s: %s present without being given", typ, k)
			}
		}
		if _, err := ParseActivity(b); err != nil {
			t.Errorf("%s: own output does not parse: %v", typ, err)
		}
	}

	// Undo{Follow}: the embedded activity loses its @context, keeps the rest.
	follow, err := Activity("Follow", "https://tacit.example.com/users/alice#follows/9", actor, bob, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	undo, err := Activity("Undo", "https://tacit.example.com/users/alice#follows/9/undo", actor, follow, []string{bob}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, undo)
	if _, ok := field(m, "object").(map[string]any)["@context"]; ok {
		t.Error("embedded object kept its @context")
	}
	if field(m, "object", "type") != "Follow" || field(m, "object", "object") != bob {
		t.Errorf("embedded follow = %#v", m["object"])
	}
	if !reflect.DeepEqual(m["to"], []any{bob}) {
		t.Errorf("to = %#v", m["to"])
	}
	if _, ok := m["cc"]; ok {
		t.Errorf("empty cc emitted: %#v", m["cc"])
	}
	parsed, err := ParseActivity(undo)
	if err != nil {
		t.Fatal(err)
	}
	if parsed.ObjectActivity == nil || parsed.ObjectActivity.Type != "Follow" || parsed.ObjectActivity.ObjectID != bob {
		t.Errorf("Undo{Follow} parsed as %+v", parsed)
	}

	// The other ways to pass an object.
	tomb, err := Tombstone("https://tacit.example.com/users/alice/statuses/7001")
	if err != nil {
		t.Fatal(err)
	}
	for name, obj := range map[string]any{
		"raw message": json.RawMessage(tomb),
		"map":         map[string]any{"id": "https://tacit.example.com/users/alice/statuses/7001", "type": "Tombstone", "@context": "x"},
	} {
		b, err := Activity("Delete", "https://tacit.example.com/users/alice/statuses/7001#delete", actor, obj, []string{PublicURI}, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m := decodeMap(t, b)
		if want := map[string]any{"id": "https://tacit.example.com/users/alice/statuses/7001", "type": "Tombstone"}; !reflect.DeepEqual(m["object"], want) {
			t.Errorf("%s: object = %#v, want %#v", name, m["object"], want)
		}
	}
	if obj := map[string]any{"id": "https://x.example/1", "type": "Tombstone"}; true {
		if _, err := Activity("Delete", "https://tacit.example.com/d/1", actor, obj, nil, nil); err != nil || len(obj) != 2 {
			t.Errorf("the caller's map was modified or refused: %v %v", obj, err)
		}
	}

	bad := map[string]struct {
		typ, id, actor string
		object         any
		to             []string
	}{
		"unknown type":        {"EmojiReact", "https://t.example/1", actor, bob, nil},
		"relative id":         {"Like", "/1", actor, bob, nil},
		"actor fragment":      {"Like", "https://t.example/1", actor + "#x", bob, nil},
		"relative object":     {"Like", "https://t.example/1", actor, "statuses/1", nil},
		"number object":       {"Like", "https://t.example/1", actor, 42, nil},
		"nil object":          {"Like", "https://t.example/1", actor, nil, nil},
		"bytes not an object": {"Create", "https://t.example/1", actor, []byte(`["x"]`), nil},
		"bytes not json":      {"Create", "https://t.example/1", actor, []byte(`{`), nil},
		"embedded without id": {"Create", "https://t.example/1", actor, map[string]any{"type": "Note"}, nil},
		"embedded no type":    {"Create", "https://t.example/1", actor, map[string]any{"id": "https://t.example/n"}, nil},
		"bad to":              {"Like", "https://t.example/1", actor, bob, []string{"nobody"}},
	}
	for name, c := range bad {
		if _, err := Activity(c.typ, c.id, c.actor, c.object, c.to, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestTombstone(t *testing.T) {
	t.Parallel()
	b, err := Tombstone("https://tacit.example.com/users/alice/statuses/7001")
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	checkContext(t, m)
	if m["type"] != "Tombstone" || m["id"] != "https://tacit.example.com/users/alice/statuses/7001" {
		t.Errorf("tombstone = %s", b)
	}
	if _, err := Tombstone("statuses/7001"); err == nil {
		t.Error("relative tombstone id accepted")
	}
	o, err := ParseObject(b)
	if err != nil || o.Type != "Tombstone" || o.ID != m["id"] {
		t.Errorf("ParseObject(tombstone) = %+v, %v", o, err)
	}
}

func TestContextIsFresh(t *testing.T) {
	t.Parallel()
	c := Context()
	c[2].(map[string]any)["scope"] = "changed"
	if Context()[2].(map[string]any)["scope"] != "tacit:scope" {
		t.Error("Context shares its term map between calls")
	}
	if !slices.Contains(Context(), any("https://w3id.org/security/v1")) {
		t.Error("security context missing")
	}
}

// TestActorExpertise: Tacit's expertise list and the featured hashtags travel in the
// actor document and come back from it; a profile may come without a key.
func TestActorExpertise(t *testing.T) {
	t.Parallel()
	a := aliceActor()
	a.Account.Expertise = community.Topics{"Kubernetes", "Billing disputes"}
	a.FeaturedTags = []string{"kubernetes", "#sre"}
	a.TagURL = func(name string) string { return "https://tacit.example.com/tags/" + name }
	b, err := ActorJSON(a)
	if err != nil {
		t.Fatal(err)
	}
	m := decodeMap(t, b)
	if terms := m["@context"].([]any)[2].(map[string]any); terms["expertise"] != "tacit:expertise" {
		t.Errorf("@context has no expertise term: %v", terms["expertise"])
	}
	if want := []any{
		map[string]any{"type": "Hashtag", "name": "#kubernetes", "href": "https://tacit.example.com/tags/kubernetes"},
		map[string]any{"type": "Hashtag", "name": "#sre", "href": "https://tacit.example.com/tags/sre"},
	}; !reflect.DeepEqual(m["tag"], want) {
		t.Errorf("tag = %#v", m["tag"])
	}
	got, err := ParseActor(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Expertise, []string{"Kubernetes", "Billing disputes"}) ||
		!reflect.DeepEqual(got.Hashtags, []string{"kubernetes", "sre"}) {
		t.Errorf("parsed expertise %q, hashtags %q", got.Expertise, got.Hashtags)
	}

	// Without a key: only as a profile.
	a.PublicKeyPEM, a.Account.PublicKeyPEM = "", ""
	if _, err := ActorJSON(a); err == nil {
		t.Error("an actor without a key was rendered")
	}
	a.KeyOptional = true
	b, err = ActorJSON(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeMap(t, b)["publicKey"]; ok {
		t.Error("a keyless profile has a publicKey")
	}
	if _, err := ParseActor(b); err == nil {
		t.Error("ParseActor accepted an actor without a key")
	}
	p, err := ParseProfile(b)
	if err != nil || p.PublicKeyPEM != "" || p.PreferredUsername != "alice" || len(p.Expertise) != 2 {
		t.Errorf("ParseProfile: %+v %v", p, err)
	}
}
