package federation_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// inboxSeeds are activities as a peer sends them; {A} is the receiving instance's
// host, {B} the sender's.
var inboxSeeds = []string{
	`{"@context":["https://www.w3.org/ns/activitystreams",{"Hashtag":"as:Hashtag","sensitive":"as:sensitive"}],"id":"http://{B}/users/bob/statuses/1/activity","type":"Create","actor":"http://{B}/users/bob","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["http://{B}/users/bob/followers","http://{A}/users/alice"],"object":{"id":"http://{B}/users/bob/statuses/1","type":"Note","attributedTo":"http://{B}/users/bob","content":"<p>Hello <a href=\"http://{A}/@alice\">@alice</a> #go</p>","published":"2026-11-22T10:00:00Z","to":["https://www.w3.org/ns/activitystreams#Public"],"cc":["http://{A}/users/alice"],"inReplyTo":"http://{A}/users/alice/statuses/1","tag":[{"type":"Mention","href":"http://{A}/users/alice"},{"type":"Hashtag","name":"#go"}],"sensitive":false}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/follows/1","type":"Follow","actor":"http://{B}/users/bob","object":"http://{A}/users/alice"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob#likes/1","type":"Like","actor":"http://{B}/users/bob","object":"http://{A}/users/alice/statuses/1"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob/statuses/2/activity","type":"Announce","actor":"http://{B}/users/bob","object":"http://{A}/users/alice/statuses/1","to":["http://{B}/ap/company"]}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob#undo/1","type":"Undo","actor":"http://{B}/users/bob","object":{"id":"http://{B}/follows/1","type":"Follow","actor":"http://{B}/users/bob","object":"http://{A}/users/alice"}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob/statuses/1#delete","type":"Delete","actor":"http://{B}/users/bob","object":{"id":"http://{B}/users/bob/statuses/1","type":"Tombstone"}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob#delete","type":"Delete","actor":"http://{B}/users/bob","object":"http://{B}/users/bob"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob#updates/1","type":"Update","actor":"http://{B}/users/bob","object":{"id":"http://{B}/users/bob","type":"Person","preferredUsername":"bob","inbox":"http://{B}/users/bob/inbox","name":"Bob"}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/blocks/1","type":"Block","actor":"http://{B}/users/bob","object":"http://{A}/users/alice"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/accepts/1","type":"Accept","actor":"http://{B}/users/bob","object":{"id":"http://{A}/follows/1","type":"Follow","actor":"http://{A}/users/alice","object":"http://{B}/users/bob"}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/flags/1","type":"Flag","actor":"http://{B}/actor","object":["http://{A}/users/alice"],"content":"spam"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/bob/statuses/3/activity","type":"Create","actor":"http://{B}/users/bob","to":["http://{B}/ap/company"],"object":{"id":"http://{B}/users/bob/statuses/3","type":"Page","attributedTo":"http://{B}/users/bob","name":"An idea","content":"<p>Details</p>","audience":"http://{A}/users/ideas","to":["http://{B}/ap/company"],"cc":["http://{A}/users/ideas"]}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/moderation/1","type":"Lock","actor":"http://{B}/users/bob","object":"http://{A}/users/alice/statuses/1","audience":"http://{A}/users/ideas"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/moderation/2","type":"Remove","actor":"http://{B}/users/bob","object":"http://{A}/users/alice/statuses/1","target":"http://{A}/users/ideas","summary":"spam"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/moderation/3","type":"Block","actor":"http://{B}/users/bob","object":"http://{A}/users/alice","target":"http://{A}/users/ideas"}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/ideas#ideas/1/state/2","type":"Update","actor":"http://{B}/users/ideas","object":{"id":"http://{A}/users/alice/statuses/1","type":"Page","attributedTo":"http://{A}/users/alice","audience":"http://{B}/users/ideas","idea":{"status":"done","votes":3,"version":2}}}`,
	`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://{B}/users/ideas/announces/1","type":"Announce","actor":"http://{B}/users/ideas","object":{"id":"http://{B}/moderation/4","type":"Undo","actor":"http://{B}/users/bob","object":{"id":"http://{B}/moderation/4#lock","type":"Lock","actor":"http://{B}/users/bob","object":"http://{A}/users/alice/statuses/1"}}}`,
	`{"type":"Create","object":{"type":"Note"}}`,
	`[]`,
	`{"id":"http://{B}/x","type":"Create","actor":"http://{B}/users/bob","object":"http://{B}/users/bob/statuses/9"}`,
}

// FuzzInbox posts arbitrary activities to a real instance's shared inbox, signed by a
// real peer so that they pass verification and reach processing. Whatever the body,
// the inbox answers without a server error, and the instance's workers, which apply
// what was accepted in the background, must not crash the process.
func FuzzInbox(f *testing.F) {
	insts := instancetest.StartCompany(f, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	a.CreateUser(f, "alice", instancetest.UserOptions{})
	b.CreateUser(f, "bob", instancetest.UserOptions{})
	key, err := federation.LoadOrCreateInstanceKey(b.Config.KeysDir())
	if err != nil {
		f.Fatal(err)
	}
	keyID := b.Federator.InstanceActorURI() + "#main-key"
	expand := strings.NewReplacer("{A}", a.Host(), "{B}", b.Host())
	for _, s := range inboxSeeds {
		f.Add([]byte(s))
	}
	handler := a.Handler()
	f.Fuzz(func(t *testing.T, body []byte) {
		body = []byte(expand.Replace(string(body)))
		req := httptest.NewRequest(http.MethodPost, a.URL+"/inbox", bytes.NewReader(body))
		req.Host = a.Host()
		req.Header.Set("Content-Type", "application/activity+json")
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		if err := signature.SignRequest(req, body, keyID, key); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("inbox answered %d to %s", rec.Code, body)
		}
		if len(body) > federation.MaxBodyBytes && rec.Code == http.StatusAccepted {
			t.Fatalf("inbox accepted a %d-byte body", len(body))
		}
		if rec.Code == http.StatusAccepted {
			waitProcessed(t, a)
		}
	})
}

// waitProcessed waits until the instance's workers have tried every received activity
// once, so that a crash in processing is blamed on the input that caused it. Outgoing
// deliveries the activities caused are not waited for: they may wait their turn behind
// a busy or paused peer, and applying the activity is what is fuzzed.
func waitProcessed(t *testing.T, inst *instancetest.Instance) {
	t.Helper()
	eventually.Holds(t, "the queued activity is processed", func() bool {
		var n int64
		if err := inst.DB.Table("queue_jobs").Where("kind = ? AND attempts = 0", "inbox").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n == 0
	})
	failIfPanicked(t, inst)
}

// failIfPanicked fails t when a job of inst panicked. The queue turns a handler's panic
// into the job's error, so that one bad activity cannot take a server down; a fuzzer
// must still see it as the crash it is.
func failIfPanicked(t *testing.T, inst *instancetest.Instance) {
	t.Helper()
	for _, table := range []string{"queue_jobs", "queue_dead_letters"} {
		var errs []string
		if err := inst.DB.Table(table).Where("last_error LIKE ?", "panic:%").Pluck("last_error", &errs).Error; err != nil {
			t.Fatal(err)
		}
		if len(errs) > 0 {
			t.Fatalf("applying the activity panicked: %s", errs[0])
		}
	}
}
