package federation_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestInboxRefusesOversizedSignedBody delivers, from a peer, an activity that is
// correctly signed and digested but larger than the documented 1 MiB limit: it must be
// refused with 413 and nothing queued. The same activity under the limit is taken, so
// the refusal is the size's and not the signature's.
func TestInboxRefusesOversizedSignedBody(t *testing.T) {
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, b := insts[0], insts[1]
	a.CreateUser(t, "alice", instancetest.UserOptions{})
	b.CreateUser(t, "bob", instancetest.UserOptions{})
	key, err := federation.LoadOrCreateInstanceKey(b.Config.KeysDir())
	if err != nil {
		t.Fatal(err)
	}
	keyID := b.Federator.InstanceActorURI() + "#main-key"

	// The documented limit, written out: a test that used the constant would follow it
	// wherever it was raised to.
	const limit = 1 << 20
	deliver := func(id string, padding int) int {
		t.Helper()
		body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"http://` + b.Host() + `/follows/` + id +
			`","type":"Follow","actor":"http://` + b.Host() + `/users/bob","object":"http://` + a.Host() +
			`/users/alice","summary":"` + strings.Repeat("x", padding) + `"}`)
		req, err := http.NewRequest(http.MethodPost, a.URL+"/users/alice/inbox", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/activity+json")
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		if err := signature.SignRequest(req, body, keyID, key); err != nil {
			t.Fatal(err)
		}
		resp, err := a.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	queued := func() int64 {
		t.Helper()
		var n int64
		if err := a.DB.Table("queue_jobs").Where("kind <> ?", "deliver").Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		var done int64
		if err := a.DB.Table("received_activities").Count(&done).Error; err != nil {
			t.Fatal(err)
		}
		return n + done
	}

	before := queued()
	if code := deliver("big", limit+1024); code != http.StatusRequestEntityTooLarge {
		t.Errorf("signed %d-byte delivery = %d, want 413", limit+1024, code)
	}
	if after := queued(); after != before {
		t.Errorf("the oversized delivery was queued or recorded (%d → %d)", before, after)
	}
	if code := deliver("small", 1024); code != http.StatusAccepted {
		t.Errorf("the same delivery under the limit = %d, want 202", code)
	}
}
