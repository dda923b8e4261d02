package activitystreams

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseAttachments(t *testing.T) {
	act, err := ParseActivity(readSample(t, "mastodon_create_note.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := act.Object.Attachments
	if len(got) != 1 {
		t.Fatalf("attachments: %+v", got)
	}
	a := got[0]
	if a.URL != "https://files.social.example.org/media_attachments/files/1/original/x.png" || a.MediaType != "image/png" ||
		a.Name != "A diagram" || a.Width != 800 || a.Height != 600 || a.Blurhash == "" || a.Focus == nil {
		t.Errorf("attachment: %+v", a)
	}
	// Other shapes: url as a Link or a list, an Image, junk that is skipped.
	m := map[string]any{"attachment": []any{
		map[string]any{"type": "Image", "url": map[string]any{"type": "Link", "href": "https://x.example/a.jpg", "mediaType": "image/jpeg"}},
		map[string]any{"type": "Document", "url": []any{"not a url", "https://x.example/b.mp4"}, "mediaType": "video/mp4", "focalPoint": []any{5.0, 0.0}},
		map[string]any{"type": "PropertyValue", "name": "x", "value": "y"},
		map[string]any{"type": "Document", "url": "javascript:alert(1)"},
		"https://x.example/bare",
	}}
	list := attachmentsOf(m["attachment"])
	if len(list) != 2 || list[0].URL != "https://x.example/a.jpg" || list[0].MediaType != "image/jpeg" ||
		list[1].URL != "https://x.example/b.mp4" || list[1].Focus != nil {
		t.Errorf("other shapes: %+v", list)
	}
}

func TestParseQuestion(t *testing.T) {
	act, err := ParseActivity(readSample(t, "mastodon_update_question.json"))
	if err != nil {
		t.Fatal(err)
	}
	p := act.Object.Poll
	if act.Object.Type != "Question" || p == nil {
		t.Fatalf("no poll: %+v", act.Object)
	}
	want := []community.PollOption{{Title: "Lisbon", VotesCount: 4}, {Title: "Berlin", VotesCount: 3}}
	if len(p.Options) != 2 || p.Options[0] != want[0] || p.Options[1] != want[1] || p.Multiple || p.VotersCount != 7 {
		t.Errorf("poll: %+v", p)
	}
	// Closed before its end time: it ended when it was closed.
	if !p.EndTime.Equal(time.Date(2025, 3, 4, 11, 15, 0, 0, time.UTC)) {
		t.Errorf("end %v", p.EndTime)
	}
}

func TestParseVote(t *testing.T) {
	act, err := ParseActivity(readSample(t, "mastodon_create_vote.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := act.Object
	if !o.IsVote() || o.Name != "Tea" || o.ID != "https://social.example.org/users/maria#votes/58" ||
		o.InReplyTo != "https://tacit.example.com/users/alice/statuses/7002" {
		t.Errorf("vote: %+v", o)
	}
	// A post with a fragment in its id is still refused: only votes may have one.
	var m map[string]any
	_ = json.Unmarshal(readSample(t, "mastodon_create_vote.json"), &m)
	m["object"].(map[string]any)["content"] = "<p>not a vote</p>"
	b, _ := json.Marshal(m)
	if _, err := ParseActivity(b); err == nil {
		t.Error("a Note with content and a fragment in its id was accepted")
	}
}

func TestQuestionRoundTrip(t *testing.T) {
	end := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	st := &community.Status{URI: "https://a.example/users/al/statuses/1", Content: "<p>Q?</p>", Visibility: community.VisibilityPublic,
		Scope: community.ScopeCompany, CreatedAt: end.Add(-time.Hour)}
	author := &community.Account{Username: "al", URI: "https://a.example/users/al"}
	b, err := NoteJSON(Note{Status: st, Author: author, To: []string{PublicURI},
		Attachments: []Attachment{{URL: "https://a.example/media/t/original.jpg", MediaType: "image/jpeg", Name: "desc",
			Blurhash: "LKO2?U%2Tw=w]~RBVZRi};RPxuwH", Width: 10, Height: 20, Focus: &[2]float64{0.5, -0.5}}},
		Poll: &Poll{Options: []community.PollOption{{Title: "Yes", VotesCount: 3}, {Title: "No", VotesCount: 1}}, EndTime: &end, VotersCount: 4}})
	if err != nil {
		t.Fatal(err)
	}
	o, err := ParseObject(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if o.Type != "Question" || o.Poll == nil || len(o.Poll.Options) != 2 || o.Poll.Options[0].VotesCount != 3 ||
		!o.Poll.EndTime.Equal(end) || o.Poll.VotersCount != 4 || o.Poll.Multiple {
		t.Errorf("poll back: %+v", o.Poll)
	}
	if len(o.Attachments) != 1 || o.Attachments[0].Name != "desc" || o.Attachments[0].Width != 10 ||
		o.Attachments[0].Focus == nil || o.Attachments[0].Focus[1] != -0.5 {
		t.Errorf("attachment back: %+v", o.Attachments)
	}

	// Hidden totals travel as zeros with the flag until the poll is closed.
	poll := &Poll{Options: []community.PollOption{{Title: "Yes", VotesCount: 3}, {Title: "No", VotesCount: 1}}, EndTime: &end, VotersCount: 4, HideTotals: true}
	b, err = NoteJSON(Note{Status: st, Author: author, To: []string{PublicURI}, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	if o, err = ParseObject(b); err != nil || !o.Poll.HideTotals || o.Poll.Options[0].VotesCount != 0 || o.Poll.VotersCount != 4 {
		t.Errorf("hidden totals: %v %+v", err, o.Poll)
	}
	poll.Closed = true
	b, _ = NoteJSON(Note{Status: st, Author: author, To: []string{PublicURI}, Poll: poll})
	if o, err = ParseObject(b); err != nil || o.Poll.HideTotals || o.Poll.Options[0].VotesCount != 3 {
		t.Errorf("closed poll with hidden totals: %v %+v", err, o.Poll)
	}
}
