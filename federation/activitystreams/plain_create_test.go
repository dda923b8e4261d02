package activitystreams

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
)

// parseWithGoFed is ParseActivity without the plain-Create reader: the full parser.
func parseWithGoFed(b []byte) (*ParsedActivity, error) {
	m, err := decode(b)
	if err != nil {
		return nil, err
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

// checkPlainAgrees fails when the plain-Create reader reads b and the full parser
// refuses it or reads anything else. It reports whether the plain reader read it.
func checkPlainAgrees(t *testing.T, b []byte) bool {
	t.Helper()
	m, err := decode(b)
	if err != nil {
		return false
	}
	plain := readPlainCreate(m)
	if plain == nil {
		return false
	}
	full, err := parseWithGoFed(b)
	if err != nil {
		t.Fatalf("the plain reader read what the full parser refuses (%v):\n%s", err, b)
	}
	if !reflect.DeepEqual(plain, full) {
		t.Fatalf("the plain reader and the full parser differ on\n%s\nplain: %s\nfull:  %s", b, dump(plain), dump(full))
	}
	return true
}

func dump(a *ParsedActivity) string {
	c := *a
	c.Raw = nil
	b, _ := json.Marshal(c)
	return string(b)
}

// wireSamples are the documents of testdata (the wire fixtures of Mastodon,
// GoToSocial, Pleroma, Lemmy and Tacit, and the golden documents).
func wireSamples(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, pattern := range []string{"testdata/*.json", "testdata/golden/*.json"} {
		paths, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = b
		}
	}
	return out
}

// tacitCreates are Creates as Tacit itself sends them, in the shapes that matter:
// a public post, a reply with mentions and hashtags, a followers-only company post,
// a post with a content warning and media.
func tacitCreates(t testing.TB) [][]byte {
	t.Helper()
	author := &community.Account{ID: 1, Username: "ann", Domain: "a.example", URI: "https://a.example/users/ann",
		URL: "https://a.example/@ann", FollowersURL: "https://a.example/users/ann/followers"}
	bob := &community.Account{ID: 2, Username: "bob", Domain: "b.example", URI: "https://b.example/users/bob",
		URL: "https://b.example/@bob"}
	now := time.Date(2026, 12, 7, 20, 0, 0, 123456789, time.UTC)
	notes := []Note{
		{Status: &community.Status{URI: "https://a.example/users/ann/statuses/1", URL: "https://a.example/@ann/1",
			Content: "<p>Hello</p>", Visibility: community.VisibilityPublic, Scope: community.ScopeWorld, CreatedAt: now},
			To: []string{PublicURI}, Cc: []string{author.FollowersURL}},
		{Status: &community.Status{URI: "https://a.example/users/ann/statuses/2", URL: "https://a.example/@ann/2",
			Content: "<p>@bob #go</p>", Language: "en", Visibility: community.VisibilityUnlisted, Scope: community.ScopeCompany,
			CreatedAt: now, EditedAt: &now},
			InReplyToURI: "https://b.example/users/bob/statuses/9", Mentions: []*community.Account{bob}, Tags: []string{"go", "#Tacit"},
			TagURL: func(s string) string { return "https://a.example/tags/" + s },
			To:     []string{"https://a.example/ap/company"}, Cc: []string{bob.URI}, ConversationURI: "https://a.example/contexts/1"},
		{Status: &community.Status{URI: "https://a.example/users/ann/statuses/3", URL: "https://a.example/@ann/3",
			Content: "<p>Followers</p>", Visibility: community.VisibilityPrivate, Scope: community.ScopeCompany, CreatedAt: now},
			To: []string{author.FollowersURL}},
		{Status: &community.Status{URI: "https://a.example/users/ann/statuses/4", URL: "https://a.example/@ann/4",
			Content: "<p>Look</p>", SpoilerText: "CW: food", Sensitive: true, Visibility: community.VisibilityPublic,
			Scope: community.ScopeWorld, CreatedAt: now},
			Attachments: []Attachment{{URL: "https://a.example/media/1.png", MediaType: "image/png", Name: "a plate"}},
			To:          []string{PublicURI}},
	}
	var out [][]byte
	for _, n := range notes {
		n.Author = author
		note, err := NoteJSON(n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Activity("Create", n.Status.URI+"/activity", author.URI, json.RawMessage(note), n.To, n.Cc)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestPlainCreateAgrees: on every wire fixture and on Tacit's own Creates, what the
// plain-Create reader reads is exactly what the full parser reads; and it does read
// the Creates of Mastodon, GoToSocial and Tacit, or it would save nothing.
func TestPlainCreateAgrees(t *testing.T) {
	for name, b := range wireSamples(t) {
		read := checkPlainAgrees(t, b)
		t.Logf("%s: read by the plain reader: %v", name, read)
		switch filepath.Base(name) {
		case "mastodon_create_note.json", "gotosocial_create_note.json":
			if !read {
				t.Errorf("%s: not read by the plain reader", name)
			}
		}
	}
	for i, b := range tacitCreates(t) {
		if !checkPlainAgrees(t, b) {
			t.Errorf("Tacit's Create %d: not read by the plain reader:\n%s", i, b)
		}
	}
}

// oddValues are the values the generated documents put in place of a property:
// every JSON kind, and strings go-fed and this package read in different ways.
var oddValues = []any{
	nil, true, false, 0.0, 42.0, "", "x", "#go", "@bob",
	"https://c.example/users/carol", "https://c.example/users/carol#main-key", "http://c.example/x?y=1",
	"HTTPS://C.EXAMPLE/a", "https://c.example/a%20b", "https://c.example/a b", "https://c.example/%zz",
	"https://user@c.example/a", "mailto:carol@c.example", "c.example/a", "//c.example/a", "https:",
	"as:Public", "Public", "https://www.w3.org/ns/activitystreams#Public",
	"2026-12-07T20:00:00Z", "2026-12-07T20:00:00.5+02:00", "2026-12-07T20:00+02:00", "2026-12-07",
	"Note", "Create", "Mention", "Hashtag",
	[]any{}, []any{"https://c.example/users/carol"}, []any{"https://c.example/a", "https://c.example/b"},
	[]any{nil}, []any{42.0},
	map[string]any{}, map[string]any{"id": "https://c.example/users/carol"},
	map[string]any{"type": "Link", "href": "https://c.example/a"},
	map[string]any{"type": "Mention", "href": "https://c.example/users/carol", "name": "@carol"},
	map[string]any{"type": "Mention", "href": "c.example"},
	map[string]any{"type": []any{"Mention"}, "href": "https://c.example/users/carol"},
	map[string]any{"type": "Mention", "href": "https://c.example/users/carol", "id": "https://c.example/m"},
	map[string]any{"type": "Hashtag", "name": "#tacit", "href": "https://c.example/tags/tacit"},
	map[string]any{"type": "Emoji", "name": ":x:", "icon": map[string]any{"type": "Image", "url": "https://c.example/x.png"}},
	[]any{map[string]any{"type": "Mention", "href": "https://c.example/users/carol"}, "https://c.example/x",
		map[string]any{"type": "Hashtag", "name": "go"}},
	map[string]any{"type": "Note", "id": "https://c.example/n", "attributedTo": "https://c.example/users/carol"},
	map[string]any{"en": "<p>hi</p>", "de": "<p>hallo</p>"},
}

// activityKeys and noteKeys are the properties the generated documents change.
var (
	activityKeys = []string{"id", "type", "actor", "object", "published", "to", "cc", "target", "updated",
		"attributedTo", "url", "tag", "sensitive", "inbox", "icon", "summary", "@context"}
	noteKeys = []string{"id", "type", "attributedTo", "inReplyTo", "url", "published", "updated", "tag", "sensitive",
		"scope", "tacit:scope", "to", "cc", "content", "contentMap", "summary", "name", "audience", "idea",
		"attachment", "actor", "object", "target", "icon", "image", "inbox", "followers", "endpoints",
		"manuallyApprovesFollowers", "discoverable", "publicKey", "featured", "replies", "conversation"}
)

// mutate changes, removes or sets one to three properties of a decoded Create or of
// its object (a copy).
func mutate(r *rand.Rand, doc map[string]any) map[string]any {
	raw, _ := json.Marshal(doc)
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	for range 1 + r.IntN(3) {
		target, keys := c, activityKeys
		if o, ok := c["object"].(map[string]any); ok && r.IntN(3) > 0 {
			target, keys = o, noteKeys
		}
		k := keys[r.IntN(len(keys))]
		if r.IntN(8) == 0 {
			delete(target, k)
			continue
		}
		// A copy: the same value may be changed later in this document.
		var v any
		raw, _ := json.Marshal(oddValues[r.IntN(len(oddValues))])
		_ = json.Unmarshal(raw, &v)
		target[k] = v
	}
	return c
}

// TestPlainCreateAgreesOnGeneratedDocuments: documents made from the Creates of
// Mastodon, GoToSocial and Tacit by changing one to three properties, in every shape
// of oddValues; whatever the plain reader reads, the full parser reads the same.
func TestPlainCreateAgreesOnGeneratedDocuments(t *testing.T) {
	bases := tacitCreates(t)
	for name, b := range wireSamples(t) {
		if filepath.Base(name) == "mastodon_create_note.json" || filepath.Base(name) == "gotosocial_create_note.json" {
			bases = append(bases, b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	read, n := 0, 8000
	for i := range n {
		var doc map[string]any
		if err := json.Unmarshal(bases[i%len(bases)], &doc); err != nil {
			t.Fatal(err)
		}
		b := mustMarshal(t, mutate(r, doc))
		if checkPlainAgrees(t, b) {
			read++
		}
	}
	t.Logf("%d of %d generated documents read by the plain reader", read, n)
	if read == 0 || read == n {
		t.Errorf("%d of %d generated documents read by the plain reader: the test tries nothing", read, n)
	}
}

// FuzzPlainCreateAgrees: the same property on whatever the fuzzer makes of the
// fixtures and of Tacit's Creates.
func FuzzPlainCreateAgrees(f *testing.F) {
	addSamples(f)
	for _, b := range tacitCreates(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkPlainAgrees(t, b)
	})
}

// BenchmarkParsePlainCreate compares ParseActivity on a Mastodon Create{Note} with
// the full parser.
func BenchmarkParsePlainCreate(b *testing.B) {
	doc, err := os.ReadFile(filepath.Join("testdata", "mastodon_create_note.json"))
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		parse func([]byte) (*ParsedActivity, error)
	}{{"plain", ParseActivity}, {"go-fed", parseWithGoFed}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.parse(doc); err != nil {
					b.Fatal(fmt.Errorf("%s: %w", c.name, err))
				}
			}
		})
	}
}
