package federation_test

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// signMessage signs r with RFC 9421 as the server s would: rsa-v1_5-sha256 over
// @method, @target-uri and, with a body, content-digest. The signature base is built
// by hand from RFC 9421 §2.5. alg overrides the algorithm announced.
func (s *fediServer) signMessage(t *testing.T, r *http.Request, body []byte, alg string) {
	t.Helper()
	components := []string{"@method", "@target-uri"}
	values := []string{r.Method, r.URL.String()}
	if r.Method == http.MethodPost {
		sum := sha256.Sum256(body)
		r.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
		components = append(components, "content-digest")
		values = append(values, r.Header.Get("Content-Digest"))
	}
	var quoted, lines []string
	for i, c := range components {
		quoted = append(quoted, `"`+c+`"`)
		lines = append(lines, fmt.Sprintf("%q: %s", c, values[i]))
	}
	params := fmt.Sprintf(`(%s);created=%d;keyid="%s";alg="%s"`, strings.Join(quoted, " "), time.Now().Unix(), s.URL+s.shape.keyID, alg)
	base := strings.Join(append(lines, `"@signature-params": `+params), "\n")
	h := sha256.Sum256([]byte(base))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Signature-Input", "sig1="+params)
	r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(sig)+":")
}

func (s *fediServer) doMessage(t *testing.T, method, rawURL string, body []byte, alg string) int {
	t.Helper()
	r, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Accept", "application/activity+json")
	r.Header.Set("Content-Type", "application/activity+json")
	s.signMessage(t, r, body, alg)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestMessageSignaturesAcrossHTTP: a server signing with RFC 9421 reads accounts and
// delivers activities; a signature Tacit cannot verify makes a GET unsigned rather
// than refused, so public documents stay readable in open mode.
func TestMessageSignaturesAcrossHTTP(t *testing.T) {
	mastodon := fediShapes[0]
	s := startFediServer(t, mastodon)
	company := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = []string{s.host()}
	}})
	alice := company.CreateUser(t, "alice", instancetest.UserOptions{})

	if code := s.doMessage(t, http.MethodGet, company.URL+"/users/alice", nil, "rsa-v1_5-sha256"); code != http.StatusOK {
		t.Fatalf("RFC 9421 signed GET = %d, want 200", code)
	}
	follow, _ := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       s.URL + "/follows/9421", "type": "Follow",
		"actor": s.URL + mastodon.actor, "object": alice.Account.URI,
	})
	if code := s.doMessage(t, http.MethodPost, company.URL+"/users/alice/inbox", follow, "rsa-v1_5-sha256"); code != http.StatusAccepted {
		t.Fatalf("RFC 9421 signed Follow = %d, want 202", code)
	}
	// Draft-cavage signatures must cover the request target, and the digest on POSTs.
	shape := s.shape
	s.shape.getHeaders = []string{"host", "date", "accept"}
	if code := s.do(t, http.MethodGet, company.URL+"/users/alice", nil); code != http.StatusUnauthorized {
		t.Errorf("GET signed without (request-target) = %d, want 401", code)
	}
	s.shape.postHeaders = []string{"(request-target)", "host", "date", "content-type"}
	if code := s.do(t, http.MethodPost, company.URL+"/users/alice/inbox", follow); code != http.StatusUnauthorized {
		t.Errorf("POST signed without its digest = %d, want 401", code)
	}
	s.shape = shape
	if code := s.doMessage(t, http.MethodGet, company.URL+"/users/alice", nil, "hmac-sha256"); code != http.StatusUnauthorized {
		t.Errorf("company mode, unverifiable signature = %d, want 401 as unsigned", code)
	}

	open := instancetest.Start(t, openMode(true))
	open.CreateUser(t, "olga", instancetest.UserOptions{})
	if code := s.doMessage(t, http.MethodGet, open.URL+"/users/olga", nil, "hmac-sha256"); code != http.StatusOK {
		t.Errorf("open mode, public actor with an unverifiable signature = %d, want 200 as unsigned", code)
	}
	if code := s.doMessage(t, http.MethodGet, open.URL+"/users/olga", nil, "rsa-v1_5-sha256"); code != http.StatusOK {
		t.Errorf("open mode, public actor with an RFC 9421 signature = %d, want 200", code)
	}
}
