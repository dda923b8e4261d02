package federation_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// remoteServer stands in for a server of other software (Mastodon, GoToSocial, Lemmy,
// Misskey, Pleroma): it serves the actor and object documents of its fixtures as that
// software shapes them, answers WebFinger, records what arrives in its inboxes, and
// delivers its fixtures signed with its actors' key, as the real server would.
type remoteServer struct {
	t        *testing.T
	software string // the fixtures' folder under testdata/interop
	srv      *httptest.Server
	key      *rsa.PrivateKey
	pubPEM   string
	vars     map[string]string

	mu        sync.Mutex
	docs      map[string][]byte // path → document
	usernames map[string]string // preferredUsername → actor id
	keyIDs    map[string]string // actor id → the key id its document names
	inboxes   map[string]bool   // paths that take deliveries: the actors' inboxes and shared inboxes
	received  []delivery
}

// delivery is an activity that arrived in one of the remote server's inboxes.
type delivery struct {
	Path     string
	Activity map[string]any
}

// startRemote starts a stand-in for software, serving the actors of the named fixtures.
func startRemote(t *testing.T, software string, actors ...string) *remoteServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	r := &remoteServer{t: t, software: software, key: key, docs: map[string][]byte{}, usernames: map[string]string{},
		keyIDs:  map[string]string{},
		inboxes: map[string]bool{}, pubPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	r.vars = map[string]string{"remote": r.srv.URL, "remote_host": r.host()}
	for _, name := range actors {
		r.serveFixture(name)
	}
	return r
}

func (r *remoteServer) host() string { return strings.TrimPrefix(r.srv.URL, "http://") }

// peerOf makes a Tacit instance federate with the remote server, as with a peer.
func (r *remoteServer) peerOf() instancetest.Options {
	return instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = append(c.Federation.Peers, r.host())
	}}
}

// set defines a placeholder used by the fixtures ({{name}}).
func (r *remoteServer) set(name, value string) { r.vars[name] = value }

// fixture reads one of the software's fixtures with its placeholders filled in.
func (r *remoteServer) fixture(name string) []byte {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "interop", r.software, name+".json"))
	if err != nil {
		r.t.Fatal(err)
	}
	keyJSON, _ := json.Marshal(r.pubPEM)
	s := strings.ReplaceAll(string(b), `"{{key}}"`, string(keyJSON))
	for k, v := range r.vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if i := strings.Index(s, "{{"); i >= 0 {
		r.t.Fatalf("fixture %s/%s: placeholder left unfilled near %q", r.software, name, s[i:min(len(s), i+30)])
	}
	if !json.Valid([]byte(s)) {
		r.t.Fatalf("fixture %s/%s is not valid JSON", r.software, name)
	}
	return []byte(s)
}

// fixtureMap is fixture decoded.
func (r *remoteServer) fixtureMap(name string) map[string]any {
	r.t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.fixture(name), &m); err != nil {
		r.t.Fatal(err)
	}
	return m
}

// serveFixture makes the server answer for a fixture document at the path of its id.
func (r *remoteServer) serveFixture(name string) string {
	r.t.Helper()
	doc := r.fixture(name)
	var head struct {
		ID                string `json:"id"`
		PreferredUsername string `json:"preferredUsername"`
		Inbox             string `json:"inbox"`
		Endpoints         struct {
			SharedInbox string `json:"sharedInbox"`
		} `json:"endpoints"`
		PublicKey struct {
			ID string `json:"id"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(doc, &head); err != nil || !strings.HasPrefix(head.ID, r.srv.URL) {
		r.t.Fatalf("fixture %s/%s: id %q is not on the remote server", r.software, name, head.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs[strings.TrimPrefix(head.ID, r.srv.URL)] = doc
	if head.PreferredUsername != "" {
		r.usernames[head.PreferredUsername] = head.ID
	}
	if keyID := head.PublicKey.ID; keyID != "" {
		r.keyIDs[head.ID] = keyID
		if path, _, hasFragment := strings.Cut(strings.TrimPrefix(keyID, r.srv.URL), "#"); !hasFragment {
			// A key id that is a document of its own (GoToSocial's …/main-key) answers
			// with a stub: the owner's id, and the key, but no inbox or anything else.
			stub, _ := json.Marshal(map[string]any{
				"@context": []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
				"id":       head.ID, "type": "Person",
				"publicKey": map[string]string{"id": keyID, "owner": head.ID, "publicKeyPem": r.pubPEM},
			})
			r.docs[path] = stub
		}
	}
	for _, inbox := range []string{head.Inbox, head.Endpoints.SharedInbox} {
		if inbox != "" {
			r.inboxes[strings.TrimPrefix(inbox, r.srv.URL)] = true
		}
	}
	return head.ID
}

func (r *remoteServer) serve(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.Method == http.MethodPost:
		r.mu.Lock()
		known := r.inboxes[req.URL.Path]
		r.mu.Unlock()
		if !known {
			// As GoToSocial answers a delivery to a shared inbox it does not have.
			http.NotFound(w, req)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(req.Body, federation.MaxBodyBytes))
		var act map[string]any
		if err := json.Unmarshal(body, &act); err != nil || req.Header.Get("Signature") == "" {
			http.Error(w, "bad delivery", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.received = append(r.received, delivery{Path: req.URL.Path, Activity: act})
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case req.URL.Path == "/.well-known/webfinger":
		user, _, _ := strings.Cut(strings.TrimPrefix(req.URL.Query().Get("resource"), "acct:"), "@")
		r.mu.Lock()
		id, ok := r.usernames[user]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/jrd+json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"subject": "acct:" + user + "@" + r.host(),
			"links":   []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": id}},
		})
	default:
		r.mu.Lock()
		doc, ok := r.docs[req.URL.Path]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(doc)
	}
}

// deliver posts a fixture to a Tacit inbox signed as actorID (whose key is the
// server's), and fails unless Tacit takes it.
func (r *remoteServer) deliver(inbox, actorID, name string) map[string]any {
	r.t.Helper()
	return r.deliverBody(inbox, actorID, name, r.fixture(name))
}

// deliverDoc posts a document made by the test, as deliver does a fixture.
func (r *remoteServer) deliverDoc(inbox, actorID string, doc map[string]any) {
	r.t.Helper()
	body, err := json.Marshal(doc)
	if err != nil {
		r.t.Fatal(err)
	}
	r.deliverBody(inbox, actorID, "a document", body)
}

func (r *remoteServer) deliverBody(inbox, actorID, name string, body []byte) map[string]any {
	r.t.Helper()
	client := federation.NewClient(federation.HostPolicy{Peer: func(string) bool { return true }}, r.software+"-fixture")
	if err := client.Post(context.Background(), inbox, body, r.signer(actorID)); err != nil {
		r.t.Fatalf("deliver %s/%s to %s: %v", r.software, name, inbox, err)
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	return m
}

// signer signs as an actor of the server, with the key id its actor document names, in
// the form of its software: Mastodon's #main-key, GoToSocial's …/main-key path (whose
// document is a key stub), Misskey's, Pleroma's, Lemmy's.
func (r *remoteServer) signer(actorID string) federation.Signer {
	r.mu.Lock()
	keyID, ok := r.keyIDs[actorID]
	r.mu.Unlock()
	if !ok {
		keyID = actorID + "#main-key"
	}
	return federation.Signer{KeyID: keyID, Key: r.key}
}

// get fetches a Tacit document signed as actorID, as the remote server would before
// showing it; it returns the status and the decoded body.
func (r *remoteServer) get(url, actorID string) (int, map[string]any) {
	r.t.Helper()
	client := federation.NewClient(federation.HostPolicy{Peer: func(string) bool { return true }}, r.software+"-fixture")
	body, err := client.Get(context.Background(), url, r.signer(actorID))
	if err != nil {
		var se *federation.StatusError
		if errors.As(err, &se) {
			return se.Code, nil
		}
		r.t.Errorf("GET %s: %v", url, err)
		return 0, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		r.t.Fatalf("GET %s: %v", url, err)
	}
	return http.StatusOK, m
}

// waitFor waits until an activity matching match arrives and returns it.
func (r *remoteServer) waitFor(what string, match func(d delivery) bool) delivery {
	r.t.Helper()
	var found delivery
	eventually.Holds(r.t, what, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, d := range r.received {
			if match(d) {
				found = d
				return true
			}
		}
		return false
	})
	return found
}

// all returns what arrived so far that matches.
func (r *remoteServer) all(match func(d delivery) bool) []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []delivery
	for _, d := range r.received {
		if match(d) {
			out = append(out, d)
		}
	}
	return out
}

// ofType matches activities of a type, optionally whose object (id or embedded
// object's id) is objectID.
func ofType(typ, objectID string) func(d delivery) bool {
	return func(d delivery) bool {
		if d.Activity["type"] != typ {
			return false
		}
		return objectID == "" || idOfValue(d.Activity["object"]) == objectID
	}
}

// idOfValue is a reference's id: the string itself, or an embedded object's id.
func idOfValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	}
	return ""
}

// settleQueue waits until a Tacit instance has nothing left to deliver or process.
func settleQueue(t *testing.T, inst *instancetest.Instance) {
	t.Helper()
	eventually.Holds(t, "the queue of "+inst.Host()+" to drain", func() bool { return queueIdle(t, inst) })
	time.Sleep(50 * time.Millisecond)
}
