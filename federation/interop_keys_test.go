package federation_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// fediShape is how one server software publishes its actors and keys and signs its
// requests (see testdata/fediverse/README.md for where each shape comes from).
type fediShape struct {
	name  string
	docs  map[string]string // path → fixture in testdata/fediverse
	actor string            // path of the actor
	keyID string            // path (and fragment) of the key id
	// algorithm is the Signature header's algorithm parameter.
	algorithm string
	// getHeaders and postHeaders are the headers signed, in the software's order.
	getHeaders, postHeaders []string
	followID                string // path of the Follow activity's id
}

var fediShapes = []fediShape{
	{
		name: "mastodon", docs: map[string]string{"/users/maud": "mastodon-actor.json"},
		actor: "/users/maud", keyID: "/users/maud#main-key", algorithm: "rsa-sha256",
		getHeaders:  []string{"(request-target)", "host", "date", "accept"},
		postHeaders: []string{"(request-target)", "host", "date", "digest", "content-type"},
		followID:    "/3f1c0a52-8e4b-4a55-9b9f-1d2e3f4a5b6c",
	},
	{
		name: "gotosocial", docs: map[string]string{"/users/gus": "gotosocial-actor.json", "/users/gus/main-key": "gotosocial-key.json"},
		actor: "/users/gus", keyID: "/users/gus/main-key", algorithm: "hs2019",
		getHeaders:  []string{"(request-target)", "host", "date"},
		postHeaders: []string{"(request-target)", "host", "date", "digest"},
		followID:    "/users/gus/follow/01HZX4M9Q2W8E6R5T3Y1U7I0OP",
	},
	{
		name: "pleroma", docs: map[string]string{"/users/pia": "pleroma-actor.json"},
		actor: "/users/pia", keyID: "/users/pia#main-key", algorithm: "rsa-sha256",
		getHeaders:  []string{"(request-target)", "date", "host"},
		postHeaders: []string{"(request-target)", "content-length", "date", "digest", "host"},
		followID:    "/activities/6e2b5f0c-7a1d-4c3e-8f9a-0b1c2d3e4f5a",
	},
	{
		name: "misskey", docs: map[string]string{"/users/9k2x7q1abc": "misskey-actor.json"},
		actor: "/users/9k2x7q1abc", keyID: "/users/9k2x7q1abc#main-key", algorithm: "rsa-sha256",
		getHeaders:  []string{"(request-target)", "date", "host", "accept"},
		postHeaders: []string{"(request-target)", "date", "host", "digest"},
		followID:    "/follows/9k2x7q1abc/9k3a0b2def",
	},
	{
		name: "lemmy", docs: map[string]string{"/u/lem": "lemmy-person.json"},
		actor: "/u/lem", keyID: "/u/lem#main-key", algorithm: "hs2019",
		getHeaders:  []string{"(request-target)", "host", "date"},
		postHeaders: []string{"(request-target)", "content-type", "date", "digest", "host"},
		followID:    "/activities/follow/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5e7a",
	},
}

// fediServer serves one shape's documents, with its own key, and records the
// activities delivered to it.
type fediServer struct {
	*httptest.Server
	shape fediShape
	key   *rsa.PrivateKey
	mu    sync.Mutex
	inbox [][]byte
}

func startFediServer(t *testing.T, shape fediShape) *fediServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey, err := signature.PublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	s := &fediServer{shape: shape, key: key}
	docs := map[string][]byte{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			body, _ := io.ReadAll(r.Body)
			s.mu.Lock()
			s.inbox = append(s.inbox, body)
			s.mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			return
		}
		if r.URL.Path == "/.well-known/webfinger" {
			s.finger(w, r)
			return
		}
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(s.Close)
	pemJSON, _ := json.Marshal(pemKey)
	for path, file := range shape.docs {
		raw, err := os.ReadFile(filepath.Join("testdata", "fediverse", file))
		if err != nil {
			t.Fatal(err)
		}
		doc := strings.ReplaceAll(string(raw), "{{BASE}}", s.URL)
		doc = strings.ReplaceAll(doc, `"{{PEM}}"`, string(pemJSON))
		if !json.Valid([]byte(doc)) {
			t.Fatalf("fixture %s is not JSON", file)
		}
		docs[path] = []byte(doc)
	}
	return s
}

// finger answers WebFinger for the shape's one account, as its software does. Like
// GoToSocial and Pleroma, it answers 406 to a request that does not accept JRD or
// plain JSON.
func (s *fediServer) finger(w http.ResponseWriter, r *http.Request) {
	accept := r.Header.Get("Accept")
	if !strings.Contains(accept, "application/jrd+json") && !strings.Contains(accept, "application/json") && !strings.Contains(accept, "*/*") {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return
	}
	actor := s.URL + s.shape.actor
	if want := "acct:" + s.username() + "@" + s.host(); r.URL.Query().Get("resource") != want {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/jrd+json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"subject": "acct:" + s.username() + "@" + s.host(),
		"aliases": []string{actor},
		"links": []map[string]string{
			{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": actor},
			{"rel": "self", "type": "application/activity+json", "href": actor},
		},
	})
}

// username is the preferredUsername of the shape's account.
func (s *fediServer) username() string {
	var doc struct {
		PreferredUsername string `json:"preferredUsername"`
	}
	raw, _ := os.ReadFile(filepath.Join("testdata", "fediverse", s.shape.docs[s.shape.actor]))
	_ = json.Unmarshal(raw, &doc)
	return doc.PreferredUsername
}

func (s *fediServer) host() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *fediServer) delivered() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.inbox...)
}

// sign signs r the way the shape's software does, building the draft-cavage signing
// string by hand.
func (s *fediServer) sign(t *testing.T, r *http.Request, body []byte) {
	t.Helper()
	headers := s.shape.getHeaders
	r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if r.Method == http.MethodPost {
		headers = s.shape.postHeaders
		sum := sha256.Sum256(body)
		r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	var lines []string
	for _, h := range headers {
		var v string
		switch h {
		case "(request-target)":
			v = strings.ToLower(r.Method) + " " + r.URL.RequestURI()
		case "host":
			v = r.URL.Host
		default:
			v = r.Header.Get(h)
		}
		lines = append(lines, h+": "+v)
	}
	hashed := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, hashed[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Signature", fmt.Sprintf(`keyId="%s",algorithm="%s",headers="%s",signature="%s"`,
		s.URL+s.shape.keyID, s.shape.algorithm, strings.Join(headers, " "), base64.StdEncoding.EncodeToString(sig)))
}

func (s *fediServer) do(t *testing.T, method, rawURL string, body []byte) int {
	t.Helper()
	r, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/activity+json")
	} else {
		r.Header.Set("Accept", "application/activity+json")
	}
	s.sign(t, r, body)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestKeyIDForms: Mastodon, GoToSocial, Pleroma, Misskey and Lemmy, each with its own
// actor shape, key id form and signed headers, read a Tacit account with a signed GET
// and follow it; the follow is accepted back to them.
func TestKeyIDForms(t *testing.T) {
	servers := make([]*fediServer, len(fediShapes))
	var hosts []string
	for i, shape := range fediShapes {
		servers[i] = startFediServer(t, shape)
		hosts = append(hosts, servers[i].host())
	}
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = hosts
	}})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	ctx := context.Background()

	for i, s := range servers {
		t.Run(s.shape.name, func(t *testing.T) {
			a, err := inst.Federator.ResolveAccount(ctx, s.username()+"@"+s.host())
			if err != nil || a.URI != s.URL+s.shape.actor {
				t.Fatalf("resolve %s@%s: %v", s.username(), s.host(), err)
			}
			if code := s.do(t, http.MethodGet, inst.URL+"/users/alice", nil); code != http.StatusOK {
				t.Fatalf("signed GET of alice = %d, want 200", code)
			}
			follow, _ := json.Marshal(map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams",
				"id":       s.URL + s.shape.followID, "type": "Follow",
				"actor": s.URL + s.shape.actor, "object": alice.Account.URI,
			})
			if code := s.do(t, http.MethodPost, inst.URL+"/users/alice/inbox", follow); code != http.StatusAccepted {
				t.Fatalf("Follow delivered to alice = %d, want 202", code)
			}
			eventually.Holds(t, "alice to be followed", func() bool {
				a, err := inst.Community.Unchecked().AccountByID(ctx, alice.Account.ID)
				return err == nil && a.FollowersCount == int64(i+1)
			})
			// (The Accept should echo the Follow's id; that is checked with the
			// activities' interop, not here.)
			eventually.Holds(t, "the Accept to arrive", func() bool {
				for _, b := range s.delivered() {
					if bytes.Contains(b, []byte(`"Accept"`)) && bytes.Contains(b, []byte(s.URL+s.shape.actor)) {
						return true
					}
				}
				return false
			})
		})
	}
}
