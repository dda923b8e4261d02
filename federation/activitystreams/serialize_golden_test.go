package activitystreams

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
)

// updateGolden rewrites the files under testdata/golden from the current output:
// go test ./federation/activitystreams/ -run TestSerializeGolden -update
var updateGolden = flag.Bool("update", false, "rewrite the golden files of TestSerializeGolden")

// TestSerializeGolden pins the exact bytes ActorJSON, NoteJSON and the activity
// renderers emit for representative inputs, and the exact text of their errors: peers
// cache and compare these documents, so a change in the output must be deliberate.
func TestSerializeGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.render()
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			// The renderers write compact JSON, so the indented golden file pins every
			// byte of it while a change still shows as a readable diff.
			var compact, indented bytes.Buffer
			if err := json.Compact(&compact, got); err != nil || !bytes.Equal(compact.Bytes(), got) {
				t.Fatalf("output is not compact JSON (%v):\n%s", err, got)
			}
			if err := json.Indent(&indented, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			checkGolden(t, c.name+".json", indented.Bytes())
		})
	}
	t.Run("errors", func(t *testing.T) {
		var b strings.Builder
		for _, c := range goldenErrorCases() {
			_, err := c.render()
			if err == nil {
				t.Errorf("%s: no error", c.name)
				continue
			}
			b.WriteString(c.name + ": " + err.Error() + "\n")
		}
		checkGolden(t, "errors.txt", []byte(b.String()))
	})
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	file := filepath.Join("testdata", "golden", name)
	if *updateGolden {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

type goldenCase struct {
	name   string
	render func() ([]byte, error)
}

// goldenCases are the documents whose JSON the golden files fix: actors, notes and
// the activities that carry them.
func goldenCases() []goldenCase {
	return slices.Concat(goldenActorCases(), goldenNoteCases(), goldenActivityCases())
}

func goldenActorCases() []goldenCase {
	tagURL := func(name string) string { return "https://tacit.example.com/tags/" + strings.ToLower(name) }
	return []goldenCase{
		{"actor_person", func() ([]byte, error) {
			a := aliceActor()
			a.Account.Expertise = community.Topics{"billing", "invoices"}
			a.FeaturedTags = []string{"Billing", "#q3", ""}
			a.TagURL = tagURL
			return ActorJSON(a)
		}},
		{"actor_minimal_service", func() ([]byte, error) {
			return ActorJSON(Actor{Account: &community.Account{
				Username: "robot", Bot: true,
				URI:          "http://hr.example.com:8080/users/robot",
				InboxURL:     "http://hr.example.com:8080/users/robot/inbox",
				PublicKeyPEM: testPEM,
			}})
		}},
		{"actor_application_override_key", func() ([]byte, error) {
			a := aliceActor()
			a.Type = "Application"
			a.PublicKeyPEM = "-----BEGIN PUBLIC KEY-----\nother\n-----END PUBLIC KEY-----\n"
			a.Account.Fields = nil
			a.Account.Locked = false
			a.Account.Discoverable = false
			a.FeaturedTags = []string{"solo"}
			return ActorJSON(a)
		}},
		{"actor_board_group", func() ([]byte, error) {
			return ActorJSON(Actor{
				Account: &community.Account{
					Username: "ideas", DisplayName: "Ideas", Group: true, Discoverable: true,
					Note:           "<p>Ideas for the support team</p>",
					URI:            "https://tacit.example.com/users/ideas",
					URL:            "https://tacit.example.com/boards/ideas",
					InboxURL:       "https://tacit.example.com/users/ideas/inbox",
					SharedInboxURL: "https://tacit.example.com/inbox",
					FollowersURL:   "https://tacit.example.com/users/ideas/followers",
					AvatarURL:      "https://tacit.example.com/media/boards/ideas.webp",
					CreatedAt:      created,
				},
				KeyOptional: true,
				Outbox:      "https://tacit.example.com/users/ideas/outbox",
				Board: &BoardActor{
					Moderators:    []string{"https://tacit.example.com/users/alice", "https://sales.example.com/users/bob"},
					ModeratorsURL: "https://tacit.example.com/users/ideas/moderators",
					Rules:         "Be kind.",
					Scope:         community.ScopeCompany,
				},
			})
		}},
		{"actor_board_no_moderators", func() ([]byte, error) {
			return ActorJSON(Actor{
				Account: &community.Account{
					Username: "lobby", Group: true,
					URI:          "https://tacit.example.com/users/lobby",
					InboxURL:     "https://tacit.example.com/users/lobby/inbox",
					PublicKeyPEM: testPEM,
				},
				Board: &BoardActor{Scope: community.ScopeWorld},
			})
		}},
	}
}

func goldenNoteCases() []goldenCase {
	closes := created.Add(48 * time.Hour)
	return []goldenCase{
		{"note_full", func() ([]byte, error) { return NoteJSON(noteFixture()) }},
		{"note_world_plain", func() ([]byte, error) {
			return NoteJSON(Note{
				Status: &community.Status{
					URI: "https://tacit.example.com/users/alice/statuses/7002", Content: "<p>Hello world</p>",
					Visibility: community.VisibilityPublic, Scope: community.ScopeWorld, CreatedAt: created,
				},
				Author: alice(),
				To:     []string{"as:Public"},
				Cc:     []string{followers},
			})
		}},
		{"note_unscoped_direct", func() ([]byte, error) {
			return NoteJSON(Note{
				Status: &community.Status{
					URI: "https://tacit.example.com/users/alice/statuses/7003", Content: "<p>psst</p>",
					Visibility: community.VisibilityDirect, CreatedAt: created, Language: "fr",
				},
				Author:   alice(),
				Mentions: []*community.Account{{Username: "bob", Domain: "sales.example.com", URI: bob}},
				To:       []string{bob},
			})
		}},
		{"note_poll_hidden_multiple", func() ([]byte, error) {
			n := noteFixture()
			n.Poll = &Poll{
				Options:  []community.PollOption{{Title: "Yes", VotesCount: 3}, {Title: "No", VotesCount: 1}},
				Multiple: true, EndTime: &closes, VotersCount: 4, HideTotals: true,
			}
			return NoteJSON(n)
		}},
		{"note_poll_closed", func() ([]byte, error) {
			n := noteFixture()
			n.Poll = &Poll{
				Options: []community.PollOption{{Title: "Tea", VotesCount: 2}, {Title: "Coffee", VotesCount: 5}},
				EndTime: &closes, Closed: true, VotersCount: 7, HideTotals: true,
			}
			return NoteJSON(n)
		}},
		{"note_attachments", func() ([]byte, error) {
			n := noteFixture()
			n.Tags = nil
			n.Mentions = nil
			n.Attachments = []Attachment{
				{URL: "https://tacit.example.com/media/1.png", MediaType: "image/png", Name: "a chart", Blurhash: "LEHV6nWB2yk8", Width: 640, Height: 480, Focus: &[2]float64{0.5, -0.25}},
				{URL: "https://tacit.example.com/media/2.mp4", MediaType: "video/mp4"},
			}
			return NoteJSON(n)
		}},
		{"note_idea_page", func() ([]byte, error) {
			n := noteFixture()
			n.Audience = "https://tacit.example.com/users/other-board"
			n.Idea = &IdeaPage{
				Title: "Dark mode", BodyHTML: "<p>Please add a dark mode.</p>",
				BoardURI: "https://tacit.example.com/users/ideas",
				State: &IdeaProps{
					Status: "planned", Comment: "Next quarter", StatusChanged: created, Locked: true,
					Pinned: created.Add(time.Hour), MergedInto: "https://tacit.example.com/users/alice/statuses/1", Votes: 12, Version: 3,
				},
			}
			return NoteJSON(n)
		}},
		{"note_reply_in_thread", func() ([]byte, error) {
			n := noteFixture()
			n.Audience = "https://tacit.example.com/users/ideas"
			n.Status.Scope = community.ScopeDepartment
			n.Status.SpoilerText = ""
			n.Status.EditedAt = nil
			return NoteJSON(n)
		}},
	}
}

func goldenActivityCases() []goldenCase {
	return []goldenCase{
		{"create_note", func() ([]byte, error) {
			note, err := NoteJSON(noteFixture())
			if err != nil {
				return nil, err
			}
			return Activity("Create", "https://tacit.example.com/users/alice/statuses/7001/activity", "https://tacit.example.com/users/alice", note, []string{company}, []string{followers})
		}},
		{"update_note_edited", func() ([]byte, error) {
			note, err := NoteJSON(noteFixture())
			if err != nil {
				return nil, err
			}
			return Activity("Update", "https://tacit.example.com/users/alice/statuses/7001#updates/1", "https://tacit.example.com/users/alice", json.RawMessage(note), []string{company}, nil)
		}},
		{"undo_follow_embedded", func() ([]byte, error) {
			follow, err := Activity("Follow", "https://tacit.example.com/users/alice#follows/9", "https://tacit.example.com/users/alice", bob, nil, nil)
			if err != nil {
				return nil, err
			}
			return Activity("Undo", "https://tacit.example.com/users/alice#follows/9/undo", "https://tacit.example.com/users/alice", follow, []string{bob}, nil)
		}},
		{"delete_map_object", func() ([]byte, error) {
			obj := map[string]any{"id": "https://tacit.example.com/users/alice/statuses/7001", "type": "Tombstone", "@context": "x"}
			return Activity("Delete", "https://tacit.example.com/users/alice/statuses/7001#delete", "https://tacit.example.com/users/alice", obj, []string{"Public"}, []string{followers})
		}},
		{"like_url_object", func() ([]byte, error) {
			u, _ := url.Parse("https://sales.example.com/users/bob/statuses/9")
			return Activity("Like", "https://tacit.example.com/users/alice#likes/1", "https://tacit.example.com/users/alice", u, nil, nil)
		}},
		{"lock_with_extras", func() ([]byte, error) {
			return ActivityWith("Lock", "https://tacit.example.com/users/ideas#lock/1", "https://tacit.example.com/users/ideas",
				"https://tacit.example.com/users/alice/statuses/7001", []string{PublicURI}, []string{"https://tacit.example.com/users/ideas/followers"},
				map[string]any{"audience": "https://tacit.example.com/users/ideas", "summary": "off topic"})
		}},
		{"vote", func() ([]byte, error) {
			return VoteJSON("https://tacit.example.com/users/alice#votes/1", "https://tacit.example.com/users/alice", "https://sales.example.com/users/bob/statuses/9", bob, "Yes")
		}},
		{"tombstone", func() ([]byte, error) { return Tombstone("https://tacit.example.com/users/alice/statuses/7001") }},
	}
}

func goldenErrorCases() []goldenCase {
	actor := func(change func(*Actor)) func() ([]byte, error) {
		return func() ([]byte, error) {
			a := aliceActor()
			change(&a)
			return ActorJSON(a)
		}
	}
	note := func(change func(*Note)) func() ([]byte, error) {
		return func() ([]byte, error) {
			n := noteFixture()
			change(&n)
			return NoteJSON(n)
		}
	}
	reblog := int64(1)
	return []goldenCase{
		{"actor no account", actor(func(a *Actor) { a.Account = nil })},
		{"actor bad id", actor(func(a *Actor) { a.Account.URI = "/users/alice" })},
		{"actor bad inbox", actor(func(a *Actor) { a.Account.InboxURL = "" })},
		{"actor no username", actor(func(a *Actor) { a.Account.Username = "" })},
		{"actor no key", actor(func(a *Actor) { a.Account.PublicKeyPEM = "" })},
		{"actor bad type", actor(func(a *Actor) { a.Type = "Robot" })},
		{"actor bad url", actor(func(a *Actor) { a.Account.URL = "ftp://x/y" })},
		{"actor bad outbox", actor(func(a *Actor) { a.Outbox = "https://tacit.example.com/outbox#x" })},
		{"actor bad followers", actor(func(a *Actor) { a.Account.FollowersURL = "followers" })},
		{"actor bad following", actor(func(a *Actor) { a.Following = "https://u:p@tacit.example.com/following" })},
		{"actor bad featured", actor(func(a *Actor) { a.Featured = "mailto:x@y" })},
		{"actor bad icon", actor(func(a *Actor) { a.Account.AvatarURL = "avatar.png" })},
		{"actor bad image", actor(func(a *Actor) { a.Account.HeaderURL = "header.png" })},
		{"actor bad tag url", actor(func(a *Actor) {
			a.FeaturedTags = []string{"x"}
			a.TagURL = func(string) string { return "/tags/x" }
		})},
		{"actor bad shared inbox", actor(func(a *Actor) { a.Account.SharedInboxURL = "inbox" })},
		{"note no status", note(func(n *Note) { n.Status = nil })},
		{"note reblog", note(func(n *Note) { n.Status.ReblogOfID = &reblog })},
		{"note bad id", note(func(n *Note) { n.Status.URI = "7001" })},
		{"note bad author", note(func(n *Note) { n.Author.URI = "" })},
		{"note bad reply", note(func(n *Note) { n.InReplyToURI = "55" })},
		{"note bad url", note(func(n *Note) { n.Status.URL = "/@alice/7001" })},
		{"note bad to", note(func(n *Note) { n.To = []string{"alice"} })},
		{"note bad cc", note(func(n *Note) { n.Cc = []string{"alice"} })},
		{"note bad mention", note(func(n *Note) { n.Mentions = []*community.Account{{Username: "x", URI: "x"}} })},
		{"note nil mention", note(func(n *Note) { n.Mentions = []*community.Account{nil} })},
		{"note bad tag url", note(func(n *Note) { n.TagURL = func(string) string { return "" } })},
		{"activity unknown type", func() ([]byte, error) { return Activity("EmojiReact", "https://t.example/1", bob, bob, nil, nil) }},
		{"activity relative id", func() ([]byte, error) { return Activity("Like", "/1", bob, bob, nil, nil) }},
		{"activity actor fragment", func() ([]byte, error) { return Activity("Like", "https://t.example/1", bob+"#x", bob, nil, nil) }},
		{"activity relative object", func() ([]byte, error) { return Activity("Like", "https://t.example/1", bob, "statuses/1", nil, nil) }},
		{"activity number object", func() ([]byte, error) { return Activity("Like", "https://t.example/1", bob, 42, nil, nil) }},
		{"activity nil object", func() ([]byte, error) { return Activity("Like", "https://t.example/1", bob, nil, nil, nil) }},
		{"activity nil url object", func() ([]byte, error) { return Activity("Like", "https://t.example/1", bob, (*url.URL)(nil), nil, nil) }},
		{"activity nil map object", func() ([]byte, error) {
			return Activity("Like", "https://t.example/1", bob, map[string]any(nil), nil, nil)
		}},
		{"activity bytes not an object", func() ([]byte, error) {
			return Activity("Create", "https://t.example/1", bob, []byte(`["x"]`), nil, nil)
		}},
		{"activity bytes not json", func() ([]byte, error) { return Activity("Create", "https://t.example/1", bob, []byte(`{`), nil, nil) }},
		{"activity raw null", func() ([]byte, error) {
			return Activity("Create", "https://t.example/1", bob, json.RawMessage(`null`), nil, nil)
		}},
		{"activity embedded without id", func() ([]byte, error) {
			return Activity("Create", "https://t.example/1", bob, map[string]any{"type": "Note"}, nil, nil)
		}},
		{"activity embedded no type", func() ([]byte, error) {
			return Activity("Create", "https://t.example/1", bob, map[string]any{"id": "https://t.example/n"}, nil, nil)
		}},
		{"activity bad to", func() ([]byte, error) {
			return Activity("Like", "https://t.example/1", bob, bob, []string{"nobody"}, nil)
		}},
		{"activity bad cc", func() ([]byte, error) {
			return Activity("Like", "https://t.example/1", bob, bob, nil, []string{"nobody"})
		}},
		{"note bad conversation", note(func(n *Note) { n.ConversationURI = "tag:x" })},
	}
}
