package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// fakePeer is a minimal ActivityPub server that serves fixed documents and counts the
// requests each path receives. Its documents may name other hosts, to test how far
// the resolving instance trusts them.
type fakePeer struct {
	*httptest.Server
	mu   sync.Mutex
	hits map[string]int
	docs map[string]map[string]any // path -> document
}

func newFakePeer(t *testing.T) *fakePeer {
	p := &fakePeer{hits: map[string]int{}, docs: map[string]map[string]any{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.hits[r.URL.Path]++
		doc, ok := p.docs[r.URL.Path]
		p.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *fakePeer) host() string { return strings.TrimPrefix(p.URL, "http://") }

func (p *fakePeer) serve(path string, doc map[string]any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.docs[path] = doc
}

// total counts every request the server received.
func (p *fakePeer) total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.hits {
		n += c
	}
	return n
}

func (p *fakePeer) hitsOf(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hits[path]
}

func actorDoc(t *testing.T, base, username string) map[string]any {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	id := base + "/users/" + username
	return map[string]any{
		"@context":          []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                id,
		"type":              "Person",
		"preferredUsername": username,
		"inbox":             id + "/inbox",
		"followers":         id + "/followers",
		"publicKey": map[string]any{
			"id": id + "#main-key", "owner": id,
			"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
		},
	}
}

func noteDoc(id, author, content string) map[string]any {
	return map[string]any{
		"@context":     "https://www.w3.org/ns/activitystreams",
		"id":           id,
		"type":         "Note",
		"attributedTo": author,
		"content":      "<p>" + content + "</p>",
		"to":           []any{"https://www.w3.org/ns/activitystreams#Public"},
		"published":    "2025-01-31T10:00:00Z",
	}
}

// TestResolveStatusHostChecks: a peer is trusted only for objects of its own host,
// written by its own accounts; hosts outside the company are never asked.
func TestResolveStatusHostChecks(t *testing.T) {
	peer := newFakePeer(t)  // a company instance that misbehaves
	other := newFakePeer(t) // another company instance, which the first names
	stranger := newFakePeer(t)
	peer.serve("/users/eve", actorDoc(t, peer.URL, "eve"))
	other.serve("/users/mallory", actorDoc(t, other.URL, "mallory"))
	other.serve("/notes/x", noteDoc(other.URL+"/notes/x", other.URL+"/users/mallory", "from other"))
	stranger.serve("/notes/s", noteDoc(stranger.URL+"/notes/s", stranger.URL+"/users/sam", "from a stranger"))
	peer.serve("/notes/ok", noteDoc(peer.URL+"/notes/ok", peer.URL+"/users/eve", "A fair note"))
	// Served by peer, but claiming to be other's object.
	peer.serve("/notes/foreign-id", noteDoc(other.URL+"/notes/x", other.URL+"/users/mallory", "forged"))
	// Peer's object, but attributed to an account of other.
	peer.serve("/notes/foreign-author", noteDoc(peer.URL+"/notes/foreign-author", other.URL+"/users/mallory", "forged author"))
	peer.serve("/notes/tomb", map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": peer.URL + "/notes/tomb", "type": "Tombstone"})

	opt := instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = append(c.Federation.Peers, peer.host(), other.host())
	}}
	instancetest.Each(t, opt, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		viewer := community.AsAccount(inst.CreateUser(t, "vera", instancetest.UserOptions{}).Account)
		otherBefore, strangerBefore, okBefore := other.total(), stranger.total(), peer.hitsOf("/notes/ok")

		st, err := inst.Federator.ResolveStatus(ctx, peer.URL+"/notes/ok", viewer)
		if err != nil {
			t.Fatalf("resolve a peer's own note: %v", err)
		}
		author, _ := inst.Community.Unchecked().AccountByID(ctx, st.AccountID)
		if st.URI != peer.URL+"/notes/ok" || st.Local || author == nil || author.Acct() != "eve@"+peer.host() ||
			!strings.Contains(st.Content, "A fair note") {
			t.Errorf("resolved %+v by %+v", st, author)
		}
		// Known now: found again without asking the peer.
		again, err := inst.Federator.ResolveStatus(ctx, peer.URL+"/notes/ok", viewer)
		if err != nil || again.ID != st.ID {
			t.Errorf("resolving a known note: %v, %v", again, err)
		}
		if n := peer.hitsOf("/notes/ok") - okBefore; n != 1 {
			t.Errorf("the peer was asked %d times for the note, want 1", n)
		}

		for _, tc := range []struct{ name, path, storedURI string }{
			{"object id on another host", "/notes/foreign-id", other.URL + "/notes/x"},
			{"attributedTo on another host", "/notes/foreign-author", peer.URL + "/notes/foreign-author"},
		} {
			_, err := inst.Federator.ResolveStatus(ctx, peer.URL+tc.path, viewer)
			if community.KindOf(err) != community.KindForbidden {
				t.Errorf("%s: err %v, want a refusal", tc.name, err)
			}
			if _, err := inst.Community.Unchecked().StatusByURI(ctx, tc.storedURI); err == nil {
				t.Errorf("%s: the object was stored", tc.name)
			}
		}
		if _, err := inst.Community.LookupAccount(ctx, "mallory@"+other.host()); err == nil {
			t.Error("the account another host's object names was fetched and stored")
		}
		if n := other.total() - otherBefore; n != 0 {
			t.Errorf("the host named by a forged object was asked %d times", n)
		}

		// Nothing there, a deleted object, an unknown path: not found, and no error that
		// would tell more.
		for _, u := range []string{peer.URL + "/notes/missing", peer.URL + "/notes/tomb"} {
			if _, err := inst.Federator.ResolveStatus(ctx, u, viewer); community.KindOf(err) != community.KindNotFound {
				t.Errorf("resolve %s: %v, want not found", u, err)
			}
		}

		// A host outside the company: not found, never contacted.
		if _, err := inst.Federator.ResolveStatus(ctx, stranger.URL+"/notes/s", viewer); community.KindOf(err) != community.KindNotFound {
			t.Errorf("resolve on a non-peer: %v, want not found", err)
		}
		if n := stranger.total() - strangerBefore; n != 0 {
			t.Errorf("a host outside the company was asked %d times", n)
		}

		// Not a URL at all.
		if _, err := inst.Federator.ResolveStatus(ctx, "ftp://"+peer.host()+"/x", viewer); community.KindOf(err) != community.KindInvalid {
			t.Errorf("resolve a non-http URL: %v, want invalid", err)
		}
	})
}
