package activitystreams

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
)

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseActorSamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file string
		want ParsedActor
	}{
		{"mastodon_actor.json", ParsedActor{
			ID: "https://social.example.org/users/maria", Type: "Person", PreferredUsername: "maria",
			Name:    "María Example :party:",
			Summary: `<p>Platform team. Ask me about <a href="https://social.example.org/tags/kubernetes" class="mention hashtag" rel="tag">#<span>kubernetes</span></a></p>`,
			URL:     "https://social.example.org/@maria",
			Inbox:   "https://social.example.org/users/maria/inbox", SharedInbox: "https://social.example.org/inbox",
			Outbox:      "https://social.example.org/users/maria/outbox",
			Followers:   "https://social.example.org/users/maria/followers",
			Following:   "https://social.example.org/users/maria/following",
			Featured:    "https://social.example.org/users/maria/collections/featured",
			PublicKeyID: "https://social.example.org/users/maria#main-key", PublicKeyOwner: "https://social.example.org/users/maria",
			IconURL:                   "https://files.social.example.org/accounts/avatars/1/original/a.jpg",
			ImageURL:                  "https://files.social.example.org/accounts/headers/1/original/h.png",
			ManuallyApprovesFollowers: true, Discoverable: true,
			Fields: []community.Field{
				{Name: "Team", Value: "Platform"},
				{Name: "Blog", Value: `<a href="https://maria.example.net" target="_blank" rel="nofollow noopener me"><span class="invisible">https://</span><span class="">maria.example.net</span></a>`},
			},
			Published: time.Date(2022, 11, 7, 0, 0, 0, 0, time.UTC),
			Hashtags:  []string{}, // a tag property, even without hashtags
		}},
		{"gotosocial_actor.json", ParsedActor{
			ID: "https://gts.example.com/users/tom", Type: "Service", PreferredUsername: "tom", Name: "Tom",
			Summary: "<p>Bird watcher. Writes Go.</p>", URL: "https://gts.example.com/@tom",
			Inbox: "https://gts.example.com/users/tom/inbox", SharedInbox: "https://gts.example.com/sharedInbox",
			Outbox:      "https://gts.example.com/users/tom/outbox",
			Followers:   "https://gts.example.com/users/tom/followers",
			Following:   "https://gts.example.com/users/tom/following",
			Featured:    "https://gts.example.com/users/tom/collections/featured",
			PublicKeyID: "https://gts.example.com/users/tom/main-key", PublicKeyOwner: "https://gts.example.com/users/tom",
			IconURL: "https://gts.example.com/fileserver/01H/attachment/original/01J.webp",
			Fields:  []community.Field{{Name: "Pronouns", Value: "he/him"}},
			// A single attachment object, not a list, as go-fed-based servers write it.
			Published: time.Date(2023, 5, 14, 9, 12, 44, 0, time.UTC),
			Hashtags:  []string{}, // a tag property, even without hashtags
		}},
		{"pleroma_actor.json", ParsedActor{
			ID: "https://pleroma.example.net/users/lain", Type: "Person", PreferredUsername: "lain", Name: "lain",
			// Text that looks like "scheme: rest" comes back verbatim.
			Summary: "Re: everything", URL: "https://pleroma.example.net/users/lain",
			Inbox: "https://pleroma.example.net/users/lain/inbox", SharedInbox: "https://pleroma.example.net/inbox",
			Outbox:    "https://pleroma.example.net/users/lain/outbox",
			Followers: "https://pleroma.example.net/users/lain/followers",
			Following: "https://pleroma.example.net/users/lain/following",
			Featured:  "https://pleroma.example.net/users/lain/collections/featured",
			// Of two keys, the one the actor owns.
			PublicKeyID: "https://pleroma.example.net/users/lain#main-key", PublicKeyOwner: "https://pleroma.example.net/users/lain",
			IconURL:  "https://pleroma.example.net/media/avatar.png",
			ImageURL: "https://pleroma.example.net/media/banner.png",
			Fields:   []community.Field{{Name: "Site", Value: "https://lain.example.net"}},
			// Discoverable without the toot term in the document's own context.
			Discoverable: true,
			Hashtags:     []string{}, // a tag property, even without hashtags
		}},
		{"lemmy_group.json", ParsedActor{
			ID: "https://lemmy.example.com/c/ideas", Type: "Group", PreferredUsername: "ideas", Name: "Ideas",
			Summary: "<p>Post your ideas here.</p>",
			Inbox:   "https://lemmy.example.com/c/ideas/inbox", SharedInbox: "https://lemmy.example.com/inbox",
			Outbox:      "https://lemmy.example.com/c/ideas/outbox",
			Followers:   "https://lemmy.example.com/c/ideas/followers",
			Featured:    "https://lemmy.example.com/c/ideas/featured",
			PublicKeyID: "https://lemmy.example.com/c/ideas#main-key", PublicKeyOwner: "https://lemmy.example.com/c/ideas",
			Published: time.Date(2024, 2, 1, 12, 30, 0, 123456000, time.UTC),
			Board:     &ParsedBoard{},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			got, err := ParseActor(sample(t, c.file))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(got.PublicKeyPEM, "-----BEGIN PUBLIC KEY-----\n") || strings.Contains(got.PublicKeyPEM, "NOTTHISONE") {
				t.Errorf("publicKeyPem = %q", got.PublicKeyPEM)
			}
			got.PublicKeyPEM = ""
			if !reflect.DeepEqual(*got, c.want) {
				t.Errorf("\n got %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

func TestParseActorRejects(t *testing.T) {
	t.Parallel()
	base := func() map[string]any {
		return map[string]any{
			"@context":          "https://www.w3.org/ns/activitystreams",
			"id":                "https://x.example/users/a",
			"type":              "Person",
			"preferredUsername": "a",
			"inbox":             "https://x.example/users/a/inbox",
			"publicKey":         map[string]any{"id": "https://x.example/users/a#main-key", "owner": "https://x.example/users/a", "publicKeyPem": testPEM},
		}
	}
	if _, err := ParseActor(mustMarshal(t, base())); err != nil {
		t.Fatalf("minimal actor refused: %v", err)
	}
	cases := map[string]struct {
		mutate func(m map[string]any)
		want   error
	}{
		"note, not an actor":   {func(m map[string]any) { m["type"] = "Note" }, ErrUnsupported},
		"no id":                {func(m map[string]any) { delete(m, "id") }, ErrInvalid},
		"id with fragment":     {func(m map[string]any) { m["id"] = "https://x.example/users/a#me" }, ErrInvalid},
		"relative id":          {func(m map[string]any) { m["id"] = "/users/a" }, ErrInvalid},
		"no username":          {func(m map[string]any) { delete(m, "preferredUsername") }, ErrInvalid},
		"no inbox":             {func(m map[string]any) { delete(m, "inbox") }, ErrInvalid},
		"relative inbox":       {func(m map[string]any) { m["inbox"] = "inbox" }, ErrInvalid},
		"no key":               {func(m map[string]any) { delete(m, "publicKey") }, ErrInvalid},
		"key by id only":       {func(m map[string]any) { m["publicKey"] = "https://x.example/users/a#main-key" }, ErrInvalid},
		"someone else's key":   {func(m map[string]any) { m["publicKey"].(map[string]any)["owner"] = "https://evil.example/users/m" }, ErrInvalid},
		"unreadable key owner": {func(m map[string]any) { m["publicKey"].(map[string]any)["owner"] = 5 }, ErrInvalid},
		"key without owner":    {func(m map[string]any) { delete(m["publicKey"].(map[string]any), "owner") }, nil},
		"key without pem":      {func(m map[string]any) { delete(m["publicKey"].(map[string]any), "publicKeyPem") }, ErrInvalid},
		"key with relative id": {func(m map[string]any) { m["publicKey"].(map[string]any)["id"] = "#main-key" }, ErrInvalid},
	}
	for name, c := range cases {
		m := base()
		c.mutate(m)
		if _, err := ParseActor(mustMarshal(t, m)); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

func TestParseCreateNote(t *testing.T) {
	t.Parallel()
	a, err := ParseActivity(sample(t, "mastodon_create_note.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "Create" || a.ID != "https://social.example.org/users/maria/statuses/113001/activity" || a.Actor != "https://social.example.org/users/maria" {
		t.Errorf("activity = %+v", a)
	}
	if !a.Published.Equal(time.Date(2025, 3, 4, 10, 20, 30, 0, time.UTC)) {
		t.Errorf("published = %v", a.Published)
	}
	if a.ObjectID != "https://social.example.org/users/maria/statuses/113001" || a.ObjectType != "Note" || a.Object == nil {
		t.Fatalf("object = %q %q %+v", a.ObjectID, a.ObjectType, a.Object)
	}
	o := a.Object
	if o.Summary != "CW: politics" {
		t.Errorf("summary = %q (go-fed would read it as the IRI \"cw: politics\")", o.Summary)
	}
	if !o.Sensitive || o.InReplyTo != "https://tacit.example.com/users/alice/statuses/7001" || o.AttributedTo != a.Actor {
		t.Errorf("object = %+v", o)
	}
	if o.Language != "en" || !strings.HasPrefix(o.Content, `<p><span class="h-card"`) {
		t.Errorf("content %q in %q (the contentMap entry equal to content decides)", o.Content, o.Language)
	}
	if !reflect.DeepEqual(o.Mentions, []string{"https://tacit.example.com/users/alice"}) {
		t.Errorf("mentions = %v", o.Mentions)
	}
	if !reflect.DeepEqual(o.Hashtags, []string{"Kubernetes", "ops"}) {
		t.Errorf("hashtags = %v", o.Hashtags)
	}
	if !o.Updated.Equal(time.Date(2025, 3, 4, 11, 0, 0, 0, time.UTC)) || o.URL != "https://social.example.org/@maria/113001" {
		t.Errorf("updated %v url %q", o.Updated, o.URL)
	}
	if vis, scope := o.Audience("https://social.example.org/users/maria/followers", isPeerCompany); vis != community.VisibilityPublic || scope != community.ScopeWorld {
		t.Errorf("audience %s/%s", vis, scope)
	}
	if a.Raw["signature"] == nil {
		t.Error("Raw lost the signature")
	}
}

func TestParseGoToSocialNote(t *testing.T) {
	t.Parallel()
	// Single values where Mastodon sends lists, an empty summary, no contentMap.
	a, err := ParseActivity(sample(t, "gotosocial_create_note.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := a.Object
	if o == nil {
		t.Fatalf("no object: %+v", a)
	}
	if !reflect.DeepEqual(o.To, []string{PublicURI}) || !reflect.DeepEqual(o.Cc, []string{"https://gts.example.com/users/tom/followers"}) {
		t.Errorf("to %v cc %v", o.To, o.Cc)
	}
	if !reflect.DeepEqual(a.To, o.To) || !reflect.DeepEqual(a.Cc, o.Cc) {
		t.Errorf("activity to %v cc %v", a.To, a.Cc)
	}
	if !reflect.DeepEqual(o.Hashtags, []string{"birds"}) || o.Mentions != nil {
		t.Errorf("hashtags %v mentions %v", o.Hashtags, o.Mentions)
	}
	if o.Summary != "" || o.Language != "" || o.Sensitive {
		t.Errorf("object = %+v", o)
	}
}

func TestParseActivitySamples(t *testing.T) {
	t.Parallel()
	t.Run("undo follow", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "mastodon_undo_follow.json"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Type != "Undo" || a.ID != "https://social.example.org/users/maria#follows/4242/undo" {
			t.Errorf("activity = %+v", a)
		}
		in := a.ObjectActivity
		if in == nil || in.Type != "Follow" || in.Actor != "https://social.example.org/users/maria" || in.ObjectID != "https://tacit.example.com/users/alice" {
			t.Fatalf("embedded follow = %+v", in)
		}
		if a.ObjectID != in.ID || a.ObjectType != "Follow" || a.Object != nil {
			t.Errorf("object id %q type %q", a.ObjectID, a.ObjectType)
		}
		if in.Raw["object"] != "https://tacit.example.com/users/alice" {
			t.Errorf("embedded Raw = %v", in.Raw)
		}
	})
	t.Run("accept with object id", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "accept_follow_id.json"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Type != "Accept" || a.ObjectID != "https://tacit.example.com/users/alice/follows/7123" || a.ObjectActivity != nil || a.ObjectType != "" {
			t.Errorf("activity = %+v", a)
		}
		if !reflect.DeepEqual(a.To, []string{"https://tacit.example.com/users/alice"}) {
			t.Errorf("to = %v", a.To)
		}
	})
	t.Run("announce", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "announce.json"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Type != "Announce" || a.ObjectID != "https://tacit.example.com/users/alice/statuses/7001" || a.Object != nil {
			t.Errorf("activity = %+v", a)
		}
		if !reflect.DeepEqual(a.To, []string{PublicURI}) || len(a.Cc) != 2 {
			t.Errorf("to %v cc %v", a.To, a.Cc)
		}
	})
	t.Run("delete tombstone", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "delete_tombstone.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := &ParsedObject{ID: "https://social.example.org/users/maria/statuses/113001", Type: "Tombstone"}
		if a.Type != "Delete" || a.ObjectID != want.ID || !reflect.DeepEqual(a.Object, want) {
			t.Errorf("activity = %+v object %+v", a, a.Object)
		}
	})
	t.Run("like", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "like.json"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Type != "Like" || a.ID != "https://social.example.org/users/maria#likes/98765" || a.ObjectID != "https://tacit.example.com/users/alice/statuses/7001" {
			t.Errorf("activity = %+v", a)
		}
		if a.To == nil || len(a.To) != 0 {
			t.Errorf("missing to should read as an empty list, got %#v", a.To)
		}
	})
	t.Run("lemmy announce create page", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "lemmy_announce_create_page.json"))
		if err != nil {
			t.Fatal(err)
		}
		c := a.ObjectActivity
		if a.Type != "Announce" || c == nil || c.Type != "Create" || c.Object == nil {
			t.Fatalf("activity = %+v", a)
		}
		p := c.Object
		if p.Type != "Page" || p.Name != "Standing desks for the support floor" || p.AttributedTo != "https://lemmy.example.com/u/sam" {
			t.Errorf("page = %+v", p)
		}
		if !p.Published.Equal(time.Date(2025, 1, 10, 14, 0, 0, 500_000_000, time.UTC)) {
			t.Errorf("published = %v", p.Published)
		}
		if !reflect.DeepEqual(p.To, []string{"https://lemmy.example.com/c/ideas", PublicURI}) || len(p.Cc) != 0 {
			t.Errorf("to %v cc %v", p.To, p.Cc)
		}
	})
	t.Run("flag", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "flag.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"https://tacit.example.com/users/mallory", "https://tacit.example.com/users/mallory/statuses/1", "https://tacit.example.com/users/mallory/statuses/2"}
		if a.Type != "Flag" || a.ObjectID != want[0] || !reflect.DeepEqual(a.ObjectIDs, want) {
			t.Errorf("activity = %+v", a)
		}
	})
	t.Run("update person", func(t *testing.T) {
		a, err := ParseActivity(sample(t, "update_person.json"))
		if err != nil {
			t.Fatal(err)
		}
		if a.ObjectActor == nil || a.ObjectActor.Name != "María" || a.ObjectActor.PublicKeyID != "https://social.example.org/users/maria#main-key" {
			t.Errorf("actor = %+v", a.ObjectActor)
		}
	})
}

func TestParseActivityShapes(t *testing.T) {
	t.Parallel()
	const actor = "https://x.example/users/a"
	note := map[string]any{"id": "https://x.example/notes/1", "type": "Note", "attributedTo": actor, "content": "hi"}
	cases := []struct {
		name  string
		doc   map[string]any
		check func(t *testing.T, a *ParsedActivity)
	}{
		{"no @context", map[string]any{"id": "https://x.example/1", "type": "Like", "actor": actor, "object": "https://y.example/n/1"},
			func(t *testing.T, a *ParsedActivity) {
				if a.ObjectID != "https://y.example/n/1" {
					t.Errorf("object %q", a.ObjectID)
				}
			}},
		{"actor as object", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Follow",
			"actor": map[string]any{"id": actor, "type": "Person"}, "object": "https://y.example/u/b"},
			func(t *testing.T, a *ParsedActivity) {
				if a.Actor != actor {
					t.Errorf("actor %q", a.Actor)
				}
			}},
		{"type list", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": []any{"Like", "Foo"}, "actor": actor, "object": "https://y.example/n/1"},
			func(t *testing.T, a *ParsedActivity) {
				if a.Type != "Like" {
					t.Errorf("type %q", a.Type)
				}
			}},
		{"compact Public", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Create", "actor": actor,
			"to": []any{"as:Public"}, "cc": "Public", "object": note},
			func(t *testing.T, a *ParsedActivity) {
				if !reflect.DeepEqual(a.To, []string{PublicURI}) || !reflect.DeepEqual(a.Cc, []string{PublicURI}) {
					t.Errorf("to %v cc %v", a.To, a.Cc)
				}
			}},
		{"collection object in to", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Create", "actor": actor,
			"to": []any{map[string]any{"id": "https://x.example/ap/company", "type": "Collection"}}, "object": note},
			func(t *testing.T, a *ParsedActivity) {
				if !reflect.DeepEqual(a.To, []string{"https://x.example/ap/company"}) {
					t.Errorf("to %v", a.To)
				}
			}},
		{"contentMap only", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Create", "actor": actor,
			"object": map[string]any{"id": "https://x.example/notes/1", "type": "Note", "attributedTo": []any{actor, "https://x.example/groups/g"},
				"contentMap": map[string]any{"fr": "<p>salut</p>", "de": "<p>hallo</p>"}, "tacit:scope": "company", "summary": nil}},
			func(t *testing.T, a *ParsedActivity) {
				o := a.Object
				if o.Content != "<p>hallo</p>" || o.Language != "de" || o.Scope != "company" || o.AttributedTo != actor {
					t.Errorf("object %+v", o)
				}
			}},
		{"embedded video is reported, not read", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Create", "actor": actor,
			"object": map[string]any{"id": "https://x.example/videos/1", "type": "Video"}},
			func(t *testing.T, a *ParsedActivity) {
				if a.ObjectType != "Video" || a.ObjectID != "https://x.example/videos/1" || a.Object != nil {
					t.Errorf("activity %+v", a)
				}
			}},
		{"unknown embedded type", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Create", "actor": actor,
			"object": map[string]any{"id": "https://x.example/chat/1", "type": "ChatMessage"}},
			func(t *testing.T, a *ParsedActivity) {
				if a.ObjectType != "ChatMessage" || a.ObjectID != "https://x.example/chat/1" {
					t.Errorf("activity %+v", a)
				}
			}},
		{"add to featured", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/1", "type": "Add", "actor": actor,
			"object": "https://x.example/notes/1", "target": map[string]any{"id": "https://x.example/users/a/featured", "type": "OrderedCollection"}},
			func(t *testing.T, a *ParsedActivity) {
				if a.Target != "https://x.example/users/a/featured" {
					t.Errorf("target %q", a.Target)
				}
			}},
		{"three levels", map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": "https://x.example/3", "type": "Announce", "actor": actor,
			"object": map[string]any{"id": "https://x.example/2", "type": "Undo", "actor": actor,
				"object": map[string]any{"id": "https://x.example/1", "type": "Like", "actor": actor, "object": note}}},
			func(t *testing.T, a *ParsedActivity) {
				if a.ObjectActivity.ObjectActivity.Object.ID != "https://x.example/notes/1" {
					t.Errorf("activity %+v", a)
				}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := ParseActivity(mustMarshal(t, c.doc))
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, a)
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	const actor = `"actor":"https://x.example/users/a"`
	many := `"https://x.example/u"` + strings.Repeat(`,"https://x.example/u"`, MaxArrayLen)
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	nest := func(levels int) string {
		doc := `"https://x.example/users/b"`
		for i := range levels {
			doc = fmt.Sprintf(`{"id":"https://x.example/%d","type":"Undo",%s,"object":%s}`, i, actor, doc)
		}
		return doc
	}
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"not JSON", `{"id":`, ErrInvalid},
		{"empty", ``, ErrInvalid},
		{"array", `[{"type":"Like"}]`, ErrInvalid},
		{"string", `"Like"`, ErrInvalid},
		{"null", `null`, ErrInvalid},
		{"missing id", `{"type":"Like",` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"null id", `{"id":null,"type":"Like",` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"numeric id", `{"id":5,"type":"Like",` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"relative id", `{"id":"/likes/1","type":"Like",` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"non-http id", `{"id":"urn:uuid:1","type":"Like",` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"unknown type", `{"id":"https://x.example/1","type":"EmojiReact",` + actor + `,"object":"https://x.example/n"}`, ErrUnsupported},
		{"object type at top", `{"id":"https://x.example/1","type":"Note","attributedTo":"https://x.example/users/a"}`, ErrUnsupported},
		{"missing type", `{"id":"https://x.example/1",` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"numeric type", `{"id":"https://x.example/1","type":7,` + actor + `,"object":"https://x.example/n"}`, ErrInvalid},
		{"missing actor", `{"id":"https://x.example/1","type":"Like","object":"https://x.example/n"}`, ErrInvalid},
		{"relative actor", `{"id":"https://x.example/1","type":"Like","actor":"users/a","object":"https://x.example/n"}`, ErrInvalid},
		{"numeric actor", `{"id":"https://x.example/1","type":"Like","actor":3,"object":"https://x.example/n"}`, ErrInvalid},
		{"missing object", `{"id":"https://x.example/1","type":"Like",` + actor + `}`, ErrInvalid},
		{"numeric object", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":1}`, ErrInvalid},
		{"relative object", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":"n/1"}`, ErrInvalid},
		{"empty object list", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":[]}`, ErrInvalid},
		{"to as number", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":"https://x.example/n","to":5}`, ErrInvalid},
		{"to entry as number", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":"https://x.example/n","to":["https://x.example/u",5]}`, ErrInvalid},
		{"cc entry not a URL", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":"https://x.example/n","cc":["followers"]}`, ErrInvalid},
		{"too many to", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":"https://x.example/n","to":[` + many + `]}`, ErrInvalid},
		{"too deep JSON", `{"id":"https://x.example/1","type":"Like",` + actor + `,"object":"https://x.example/n","x":` + deep + `}`, ErrInvalid},
		{"four activities deep", nest(4), ErrInvalid},
		{"unreadable target", `{"id":"https://x.example/1","type":"Add",` + actor + `,"object":"https://x.example/n","target":"featured"}`, ErrInvalid},
		{"note without id", `{"id":"https://x.example/1","type":"Create",` + actor + `,"object":{"type":"Note","attributedTo":"https://x.example/users/a"}}`, ErrInvalid},
		{"note id with fragment", `{"id":"https://x.example/1","type":"Create",` + actor + `,"object":{"id":"https://x.example/n#1","type":"Note","attributedTo":"https://x.example/users/a"}}`, ErrInvalid},
		{"note without author", `{"id":"https://x.example/1","type":"Create",` + actor + `,"object":{"id":"https://x.example/n","type":"Note"}}`, ErrInvalid},
		{"note with bad parent", `{"id":"https://x.example/1","type":"Create",` + actor + `,"object":{"id":"https://x.example/n","type":"Note","attributedTo":"https://x.example/users/a","inReplyTo":"../n/0"}}`, ErrInvalid},
		{"note with bad to", `{"id":"https://x.example/1","type":"Create",` + actor + `,"object":{"id":"https://x.example/n","type":"Note","attributedTo":"https://x.example/users/a","to":{"type":"Collection"}}}`, ErrInvalid},
		{"embedded activity without id", `{"id":"https://x.example/1","type":"Undo",` + actor + `,"object":{"type":"Follow",` + actor + `,"object":"https://x.example/u"}}`, ErrInvalid},
		{"embedded actor without key", `{"id":"https://x.example/1","type":"Update",` + actor + `,"object":{"id":"https://x.example/users/a","type":"Person","preferredUsername":"a","inbox":"https://x.example/i"}}`, ErrInvalid},
	}
	if _, err := ParseActivity([]byte(nest(3))); err != nil {
		t.Fatalf("three activities deep refused: %v", err)
	}
	for _, c := range cases {
		a, err := ParseActivity([]byte(c.doc))
		if !errors.Is(err, c.want) || a != nil {
			t.Errorf("%s: got %+v, %v; want %v", c.name, a, err, c.want)
		}
	}
	for _, doc := range []string{`{`, `[]`, `{"id":"https://x.example/u","type":"Person"}`, `{"type":"Person","id":"https://x.example/u#x"}`} {
		if _, err := ParseActor([]byte(doc)); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseActor(%s) err = %v", doc, err)
		}
	}
	if _, err := ParseObject([]byte(`{"id":"https://x.example/1","type":"Like"}`)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ParseObject(Like) err = %v", err)
	}
}

func TestParseLongStringsInErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 5000)
	_, err := ParseActivity([]byte(`{"id":"` + long + `","type":"Like"}`))
	if err == nil || len(err.Error()) > 400 {
		t.Errorf("error carries the whole peer-supplied string: %d bytes", len(fmt.Sprint(err)))
	}
}
