package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-fed/httpsig"
)

const (
	aliceID    = "https://remote.example/users/alice"
	aliceKeyID = aliceID + "#main-key"
)

// testKeys are made once: RSA key generation is slow.
var testKeys = sync.OnceValue(func() struct{ alice, old, mallory *rsa.PrivateKey } {
	gen := func() *rsa.PrivateKey {
		k, err := GenerateKey()
		if err != nil {
			panic(err)
		}
		return k
	}
	return struct{ alice, old, mallory *rsa.PrivateKey }{gen(), gen(), gen()}
})

func mustPEM(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	s, err := PublicKeyPEM(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type keyEntry struct{ pem, owner string }

// fakeKeys is a KeyFetcher with a "cache" (keys) and what a fresh fetch finds
// (fresh, falling back to keys); it counts its calls.
type fakeKeys struct {
	mu        sync.Mutex
	keys      map[string]keyEntry
	fresh     map[string]keyEntry
	err       error
	calls     int
	refreshes int
}

func (f *fakeKeys) PublicKey(_ context.Context, keyID string, refresh bool) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return "", "", f.err
	}
	if refresh {
		f.refreshes++
		if e, ok := f.fresh[keyID]; ok {
			f.keys[keyID] = e
			return e.pem, e.owner, nil
		}
	}
	e, ok := f.keys[keyID]
	if !ok {
		return "", "", errors.New("no such key")
	}
	return e.pem, e.owner, nil
}

func (f *fakeKeys) counts() (calls, refreshes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.refreshes
}

func aliceKeys(t testing.TB) *fakeKeys {
	return &fakeKeys{keys: map[string]keyEntry{aliceKeyID: {mustPEM(t, testKeys().alice), aliceID}}}
}

type result struct {
	verified *Verified
	body     []byte
	err      error
	status   int // what the server answered
}

// loopback is a real HTTP server whose handler verifies each request, so requests
// arrive as net/http delivers them (Host moved out of the header map, and so on).
type loopback struct {
	srv     *httptest.Server
	results chan result
}

func startLoopback(t *testing.T, v RequestVerifier) *loopback {
	t.Helper()
	lb := &loopback{results: make(chan result, 1)}
	lb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verified, body, err := v.Verify(r.Context(), r)
		lb.results <- result{verified: verified, body: body, err: err}
		w.WriteHeader(StatusCode(err))
	}))
	t.Cleanup(lb.srv.Close)
	return lb
}

func (lb *loopback) do(t *testing.T, r *http.Request) result {
	t.Helper()
	resp, err := lb.srv.Client().Do(r)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	res := <-lb.results
	res.status = resp.StatusCode
	return res
}

func newRequest(t testing.TB, method, url string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func b64sha256(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// manual describes a signature made by handSign, independently of the package's
// signing-string code.
type manual struct {
	key       *rsa.PrivateKey // alice when nil
	keyID     string          // aliceKeyID when empty
	algorithm string          // rsa-sha256 when empty; "-" leaves the parameter out
	headers   []string
	created   string
	expires   string
	noQuery   bool // sign (request-target) without the query, as old Mastodon did
}

// handSign signs a client-side request per draft-cavage §2.3. It sets Date to now
// unless already set, and the Digest of body unless already set.
func handSign(t testing.TB, r *http.Request, body []byte, m manual) {
	t.Helper()
	if m.key == nil {
		m.key = testKeys().alice
	}
	if m.keyID == "" {
		m.keyID = aliceKeyID
	}
	if r.Header.Get("Date") == "" {
		r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if body != nil && r.Header.Get("Digest") == "" {
		r.Header.Set("Digest", "SHA-256="+b64sha256(body))
	}
	var lines []string
	for _, h := range m.headers {
		var v string
		switch h {
		case "(request-target)":
			v = strings.ToLower(r.Method) + " " + r.URL.EscapedPath()
			if r.URL.RawQuery != "" && !m.noQuery {
				v += "?" + r.URL.RawQuery
			}
		case "host":
			v = r.URL.Host
		case "(created)":
			v = m.created
		case "(expires)":
			v = m.expires
		default:
			v = r.Header.Get(h)
		}
		lines = append(lines, h+": "+v)
	}
	hashed := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	sig, err := rsa.SignPKCS1v15(rand.Reader, m.key, crypto.SHA256, hashed[:])
	if err != nil {
		t.Fatal(err)
	}
	h := fmt.Sprintf(`keyId="%s"`, m.keyID)
	switch m.algorithm {
	case "":
		h += `,algorithm="rsa-sha256"`
	case "-":
	default:
		h += fmt.Sprintf(`,algorithm="%s"`, m.algorithm)
	}
	if m.created != "" {
		h += ",created=" + m.created
	}
	if m.expires != "" {
		h += ",expires=" + m.expires
	}
	h += fmt.Sprintf(`,headers="%s",signature="%s"`, strings.Join(m.headers, " "), base64.StdEncoding.EncodeToString(sig))
	r.Header.Set("Signature", h)
}

var (
	getHeaders  = []string{"(request-target)", "host", "date"}
	postHeaders = []string{"(request-target)", "host", "date", "digest"}
)

// verifyCase is a request signed (by default with alice's key through SignRequest),
// perhaps changed afterwards, and what Verify must make of it.
type verifyCase struct {
	name   string
	method string
	path   string
	body   []byte
	// sign signs r (default: SignRequest with alice's key).
	sign func(t *testing.T, r *http.Request, body []byte)
	// mutate changes the request after signing.
	mutate func(r *http.Request)
	// keys replaces alice's key set.
	keys    func(t *testing.T) *fakeKeys
	clock   time.Duration // the verifier's clock minus the signer's
	maxBody int64
	wantErr error
}

var (
	verifyActivity = []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow","actor":"https://remote.example/users/alice","object":"https://tacit.example/users/bob"}`)
	verifyBig      = bytes.Repeat([]byte("x"), 2048)
)

// manually signs with handSign.
func manually(m manual) func(t *testing.T, r *http.Request, body []byte) {
	return func(t *testing.T, r *http.Request, body []byte) { handSign(t, r, body, m) }
}

// replaceBody replaces the body of a signed request.
func replaceBody(b []byte) func(r *http.Request) {
	return func(r *http.Request) {
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		r.GetBody = nil
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	var cases []verifyCase
	cases = append(cases, verifyAccepted()...)
	cases = append(cases, verifyRefusedMalformed()...)
	cases = append(cases, verifyRefusedTampered()...)
	cases = append(cases, verifyRefusedUnsignedOrStale()...)
	cases = append(cases, verifyRefusedAlgorithmsAndKeys()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkVerify(t, tc)
		})
	}
}

// verifyAccepted are the signatures of real servers that Verify accepts.
func verifyAccepted() []verifyCase {
	return []verifyCase{
		{name: "GET round trip", method: "GET", path: "/users/bob"},
		{name: "POST round trip", method: "POST", path: "/users/bob/inbox", body: verifyActivity},
		{name: "POST with empty body", method: "POST", path: "/inbox", body: []byte{}},
		{name: "GET with query", method: "GET", path: "/users/bob/outbox?page=true&max_id=5"},
		{name: "percent-encoded path", method: "GET", path: "/users/j%C3%B6rg/followers"},
		{name: "Authorization header", method: "POST", path: "/inbox", body: verifyActivity, mutate: func(r *http.Request) {
			r.Header.Set("Authorization", "Signature "+r.Header.Get("Signature"))
			r.Header.Del("Signature")
		}},
		{name: "Mastodon-style extra signed header", method: "POST", path: "/inbox", body: verifyActivity,
			sign: func(t *testing.T, r *http.Request, body []byte) {
				r.Header.Set("Content-Type", "application/activity+json")
				handSign(t, r, body, manual{headers: append(postHeaders, "content-type")})
			}},
		{name: "hs2019", method: "POST", path: "/inbox", body: verifyActivity, sign: manually(manual{algorithm: "hs2019", headers: postHeaders})},
		{name: "no algorithm parameter", method: "GET", path: "/users/bob", sign: manually(manual{algorithm: "-", headers: getHeaders})},
		{name: "hs2019 with (created) instead of date", method: "GET", path: "/users/bob", sign: manually(manual{
			algorithm: "hs2019", headers: []string{"(request-target)", "host", "(created)", "(expires)"},
			created: fmt.Sprint(time.Now().Unix()), expires: fmt.Sprint(time.Now().Add(time.Hour).Unix()),
		})},
		{name: "lowercase sha-256 digest", method: "POST", path: "/inbox", body: verifyActivity,
			sign: func(t *testing.T, r *http.Request, body []byte) {
				r.Header.Set("Digest", "sha-256="+b64sha256(body))
				handSign(t, r, body, manual{headers: postHeaders})
			}},
		{name: "digest list with SHA-512 too", method: "POST", path: "/inbox", body: verifyActivity,
			sign: func(t *testing.T, r *http.Request, body []byte) {
				sum := sha512.Sum512(body)
				r.Header.Set("Digest", "SHA-512="+base64.StdEncoding.EncodeToString(sum[:])+", SHA-256="+b64sha256(body))
				handSign(t, r, body, manual{headers: postHeaders})
			}},
		{name: "query left out of signature (old Mastodon)", method: "GET", path: "/users/bob/outbox?page=true",
			sign: manually(manual{headers: getHeaders, noQuery: true})},
		{name: "POST Date 59 minutes old", method: "POST", path: "/inbox", body: verifyActivity, clock: 59 * time.Minute},
		{name: "GET Date 4 minutes old", method: "GET", path: "/users/bob", clock: 4 * time.Minute},
		{name: "Date 4 minutes ahead", method: "GET", path: "/users/bob", clock: -4 * time.Minute},
	}
}

// verifyRefusedMalformed: no signature, or one that does not parse.
func verifyRefusedMalformed() []verifyCase {
	return []verifyCase{
		{name: "no signature", method: "POST", path: "/inbox", body: verifyActivity,
			mutate: func(r *http.Request) { r.Header.Del("Signature") }, wantErr: ErrNoSignature},
		{name: "bearer token only", method: "GET", path: "/users/bob",
			mutate: func(r *http.Request) { r.Header.Del("Signature"); r.Header.Set("Authorization", "Bearer abc") }, wantErr: ErrNoSignature},
		{name: "malformed header", method: "GET", path: "/users/bob",
			mutate: func(r *http.Request) { r.Header.Set("Signature", `keyId="`+aliceKeyID+`,signature="abc`) }, wantErr: ErrBadSignature},
		{name: "repeated parameter", method: "GET", path: "/users/bob",
			mutate: func(r *http.Request) {
				r.Header.Set("Signature", r.Header.Get("Signature")+`,keyId="https://evil.example/k"`)
			}, wantErr: ErrBadSignature},
		{name: "two Signature headers", method: "GET", path: "/users/bob",
			mutate: func(r *http.Request) { r.Header.Add("Signature", r.Header.Get("Signature")) }, wantErr: ErrBadSignature},
		{name: "keyId not a URL", method: "GET", path: "/users/bob", sign: manually(manual{keyID: "alice", headers: getHeaders}), wantErr: ErrBadSignature},
	}
}

// verifyRefusedTampered: a signed request changed on the way, or signed by another key.
func verifyRefusedTampered() []verifyCase {
	return []verifyCase{
		{name: "tampered body, same length", method: "POST", path: "/inbox", body: verifyActivity,
			mutate: replaceBody(bytes.Replace(verifyActivity, []byte("Follow"), []byte("Delete"), 1)), wantErr: ErrDigestMismatch},
		{name: "tampered body, longer", method: "POST", path: "/inbox", body: verifyActivity,
			mutate: replaceBody(append(append([]byte{}, verifyActivity...), ' ')), wantErr: ErrDigestMismatch},
		{name: "tampered body and digest", method: "POST", path: "/inbox", body: verifyActivity, mutate: func(r *http.Request) {
			b := bytes.Replace(verifyActivity, []byte("Follow"), []byte("Delete"), 1)
			replaceBody(b)(r)
			r.Header.Set("Digest", "SHA-256="+b64sha256(b))
		}, wantErr: ErrBadSignature},
		{name: "digest without SHA-256", method: "POST", path: "/inbox", body: verifyActivity,
			sign: func(t *testing.T, r *http.Request, body []byte) {
				sum := sha512.Sum512(body)
				r.Header.Set("Digest", "SHA-512="+base64.StdEncoding.EncodeToString(sum[:]))
				handSign(t, r, body, manual{headers: postHeaders})
			}, wantErr: ErrDigestMismatch},
		{name: "tampered Date", method: "GET", path: "/users/bob", mutate: func(r *http.Request) {
			r.Header.Set("Date", time.Now().Add(-time.Minute).UTC().Format(http.TimeFormat))
		}, wantErr: ErrBadSignature},
		{name: "tampered path", method: "GET", path: "/users/bob", mutate: func(r *http.Request) { r.URL.Path = "/users/carol" }, wantErr: ErrBadSignature},
		{name: "tampered query", method: "GET", path: "/users/bob/outbox?page=1", mutate: func(r *http.Request) { r.URL.RawQuery = "page=2" }, wantErr: ErrBadSignature},
		{name: "tampered method", method: "POST", path: "/inbox", body: verifyActivity, mutate: func(r *http.Request) { r.Method = "PUT" }, wantErr: ErrBadSignature},
		{name: "tampered host", method: "GET", path: "/users/bob", mutate: func(r *http.Request) { r.Host = "other.example" }, wantErr: ErrBadSignature},
		{name: "tampered signed extra header", method: "POST", path: "/inbox", body: verifyActivity,
			sign: func(t *testing.T, r *http.Request, body []byte) {
				r.Header.Set("Content-Type", "application/activity+json")
				handSign(t, r, body, manual{headers: append(postHeaders, "content-type")})
			},
			mutate: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, wantErr: ErrBadSignature},
		{name: "signed by another key", method: "GET", path: "/users/bob", sign: manually(manual{key: testKeys().mallory, headers: getHeaders}), wantErr: ErrBadSignature},
		{name: "signature not base64", method: "GET", path: "/users/bob", mutate: func(r *http.Request) {
			r.Header.Set("Signature", `keyId="`+aliceKeyID+`",algorithm="rsa-sha256",headers="(request-target) host date",signature="!!"`)
		}, wantErr: ErrBadSignature},
		{name: "(created) with rsa-sha256", method: "GET", path: "/users/bob", sign: manually(manual{
			headers: []string{"(request-target)", "host", "date", "(created)"}, created: fmt.Sprint(time.Now().Unix()),
		}), wantErr: ErrBadSignature},
	}
}

// verifyRefusedUnsignedOrStale: a required header left out of the signature, or a
// signature too old or too new.
func verifyRefusedUnsignedOrStale() []verifyCase {
	return []verifyCase{
		{name: "date not signed", method: "GET", path: "/users/bob", sign: manually(manual{headers: []string{"(request-target)", "host"}}), wantErr: ErrMissingHeaders},
		{name: "host not signed", method: "GET", path: "/users/bob", sign: manually(manual{headers: []string{"(request-target)", "date"}}), wantErr: ErrMissingHeaders},
		{name: "request-target not signed", method: "GET", path: "/users/bob", sign: manually(manual{headers: []string{"host", "date"}}), wantErr: ErrMissingHeaders},
		{name: "no headers parameter", method: "GET", path: "/users/bob", mutate: func(r *http.Request) {
			r.Header.Set("Signature", `keyId="`+aliceKeyID+`",algorithm="rsa-sha256",signature="AAAA"`)
		}, wantErr: ErrMissingHeaders},
		{name: "digest not signed on POST", method: "POST", path: "/inbox", body: verifyActivity, sign: manually(manual{headers: getHeaders}), wantErr: ErrMissingHeaders},
		{name: "digest not signed on GET with a body", method: "GET", path: "/users/bob", body: verifyActivity, sign: manually(manual{headers: getHeaders}), wantErr: ErrMissingHeaders},
		{name: "signed header absent", method: "GET", path: "/users/bob", sign: func(t *testing.T, r *http.Request, body []byte) {
			r.Header.Set("Accept", "application/activity+json")
			handSign(t, r, body, manual{headers: append(getHeaders, "accept")})
		}, mutate: func(r *http.Request) { r.Header.Del("Accept") }, wantErr: ErrMissingHeaders},
		{name: "Date two hours old", method: "POST", path: "/inbox", body: verifyActivity, clock: 2 * time.Hour, wantErr: ErrClockSkew},
		{name: "GET Date six minutes old", method: "GET", path: "/users/bob", clock: 6 * time.Minute, wantErr: ErrClockSkew},
		{name: "Date ten minutes ahead", method: "GET", path: "/users/bob", clock: -10 * time.Minute, wantErr: ErrClockSkew},
		{name: "unreadable Date", method: "GET", path: "/users/bob", sign: func(t *testing.T, r *http.Request, body []byte) {
			r.Header.Set("Date", "yesterday")
			handSign(t, r, body, manual{headers: getHeaders})
		}, wantErr: ErrClockSkew},
		{name: "expired", method: "GET", path: "/users/bob", sign: manually(manual{
			algorithm: "hs2019", headers: append(getHeaders, "(expires)"), expires: fmt.Sprint(time.Now().Add(-time.Hour).Unix()),
		}), wantErr: ErrClockSkew},
		{name: "created two hours ago", method: "GET", path: "/users/bob", sign: manually(manual{
			algorithm: "hs2019", headers: []string{"(request-target)", "host", "(created)"}, created: fmt.Sprint(time.Now().Add(-2 * time.Hour).Unix()),
		}), wantErr: ErrClockSkew},
	}
}

// verifyRefusedAlgorithmsAndKeys: algorithms and keys Verify does not trust, and bodies
// over the limit.
func verifyRefusedAlgorithmsAndKeys() []verifyCase {
	return []verifyCase{
		{name: "rsa-sha512", method: "GET", path: "/users/bob", sign: manually(manual{algorithm: "rsa-sha512", headers: getHeaders}), wantErr: ErrUnsupportedAlgorithm},
		{name: "hmac-sha256", method: "GET", path: "/users/bob", sign: manually(manual{algorithm: "hmac-sha256", headers: getHeaders}), wantErr: ErrUnsupportedAlgorithm},
		{name: "ed25519", method: "GET", path: "/users/bob", sign: manually(manual{algorithm: "ed25519", headers: getHeaders}), wantErr: ErrUnsupportedAlgorithm},
		{name: "RFC 9421 with an unknown algorithm", method: "GET", path: "/users/bob", mutate: func(r *http.Request) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri");created=1;keyid="`+aliceKeyID+`";alg="hmac-sha256"`)
			r.Header.Set("Signature", "sig1=:AAAA:")
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "RFC 9421 without created", method: "GET", path: "/users/bob", mutate: func(r *http.Request) {
			r.Header.Set("Signature-Input", `sig1=("@method" "@target-uri");keyid="`+aliceKeyID+`"`)
			r.Header.Set("Signature", "sig1=:AAAA:")
		}, wantErr: ErrMissingHeaders},
		{name: "1024-bit key", method: "GET", path: "/users/bob", sign: func(t *testing.T, r *http.Request, body []byte) {
			handSign(t, r, body, manual{key: weakKey(t), headers: getHeaders})
		}, keys: func(t *testing.T) *fakeKeys {
			return &fakeKeys{keys: map[string]keyEntry{aliceKeyID: {mustPEM(t, weakKey(t)), aliceID}}}
		}, wantErr: ErrUnsupportedAlgorithm},
		{name: "body over the limit", method: "POST", path: "/inbox", body: verifyBig, maxBody: 1024, wantErr: ErrTooLarge},
		{name: "chunked body over the limit", method: "POST", path: "/inbox", body: verifyBig, maxBody: 1024,
			mutate: func(r *http.Request) { r.ContentLength = -1 }, wantErr: ErrTooLarge},
		{name: "unknown key", method: "GET", path: "/users/bob", sign: manually(manual{keyID: "https://remote.example/users/nobody#main-key", headers: getHeaders}), wantErr: ErrKeyFetch},
		{name: "fetch fails", method: "GET", path: "/users/bob", keys: func(t *testing.T) *fakeKeys {
			return &fakeKeys{err: errors.New("connection refused")}
		}, wantErr: ErrKeyFetch},
		{name: "key owned by an actor on another host", method: "GET", path: "/users/bob", keys: func(t *testing.T) *fakeKeys {
			return &fakeKeys{keys: map[string]keyEntry{aliceKeyID: {mustPEM(t, testKeys().alice), "https://evil.example/users/alice"}}}
		}, wantErr: ErrKeyFetch},
		{name: "unparseable key", method: "GET", path: "/users/bob", keys: func(t *testing.T) *fakeKeys {
			return &fakeKeys{keys: map[string]keyEntry{aliceKeyID: {"not a key", aliceID}}}
		}, wantErr: ErrKeyFetch},
	}
}

// checkVerify signs tc's request, sends it to a loopback server that verifies it, and
// checks the verdict, the status code and the body the handler reads.
func checkVerify(t *testing.T, tc verifyCase) {
	keys := aliceKeys(t)
	if tc.keys != nil {
		keys = tc.keys(t)
	}
	v := &Verifier{Keys: keys, MaxBodyBytes: tc.maxBody, Now: func() time.Time { return time.Now().Add(tc.clock) }}
	lb := startLoopback(t, v)
	r := newRequest(t, tc.method, lb.srv.URL+tc.path, tc.body)
	if tc.sign != nil {
		tc.sign(t, r, tc.body)
	} else if err := SignRequest(r, tc.body, aliceKeyID, testKeys().alice); err != nil {
		t.Fatal(err)
	}
	if tc.mutate != nil {
		tc.mutate(r)
	}
	res := lb.do(t, r)
	if res.status != StatusCode(res.err) {
		t.Errorf("server answered %d, StatusCode says %d", res.status, StatusCode(res.err))
	}
	if tc.wantErr != nil {
		if !errors.Is(res.err, tc.wantErr) {
			t.Fatalf("err = %v, want %v", res.err, tc.wantErr)
		}
		if res.verified != nil {
			t.Fatalf("failed verification returned %+v", res.verified)
		}
		if res.status < 400 {
			t.Fatalf("status %d for %v", res.status, res.err)
		}
		return
	}
	if res.err != nil {
		t.Fatalf("verify: %v", res.err)
	}
	want := Verified{KeyID: aliceKeyID, Owner: aliceID, Host: "remote.example"}
	if *res.verified != want {
		t.Errorf("verified = %+v, want %+v", *res.verified, want)
	}
	if !bytes.Equal(res.body, tc.body) {
		t.Errorf("body = %q, want %q", res.body, tc.body)
	}
}

// weakKey is a 1024-bit key, made once.
var weakKeyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 1024) })

func weakKey(t *testing.T) *rsa.PrivateKey {
	k, err := weakKeyOnce()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSignRequestHeaders(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"Create"}`)
	for _, tc := range []struct {
		method      string
		body        []byte
		wantHeaders string
		wantDigest  bool
	}{
		{"GET", nil, "(request-target) host date", false},
		{"POST", body, "(request-target) host date digest", true},
		{"POST", nil, "(request-target) host date digest", true},
	} {
		t.Run(tc.method, func(t *testing.T) {
			r := newRequest(t, tc.method, "https://tacit.example/users/bob/inbox", nil)
			if err := SignRequest(r, tc.body, aliceKeyID, testKeys().alice); err != nil {
				t.Fatal(err)
			}
			params, err := parseParams(r.Header.Get("Signature"))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range params {
				got[p.name] = p.value
			}
			if got["keyId"] != aliceKeyID || got["algorithm"] != "rsa-sha256" || got["headers"] != tc.wantHeaders {
				t.Errorf("Signature = %q", r.Header.Get("Signature"))
			}
			if _, err := time.Parse(http.TimeFormat, r.Header.Get("Date")); err != nil || !strings.HasSuffix(r.Header.Get("Date"), " GMT") {
				t.Errorf("Date = %q (%v)", r.Header.Get("Date"), err)
			}
			if d := r.Header.Get("Digest"); tc.wantDigest != (d != "") || (tc.wantDigest && d != "SHA-256="+b64sha256(tc.body)) {
				t.Errorf("Digest = %q", d)
			}
			if tc.wantDigest {
				got, err := io.ReadAll(r.Body)
				if err != nil || !bytes.Equal(got, tc.body) || r.ContentLength != int64(len(tc.body)) {
					t.Errorf("body after signing = %q, length %d (%v)", got, r.ContentLength, err)
				}
			}
		})
	}

	r := newRequest(t, "GET", "https://tacit.example/", nil)
	for _, bad := range []string{"", "alice", "ftp://remote.example/k", `https://remote.example/a"b`} {
		if err := SignRequest(r, nil, bad, testKeys().alice); err == nil {
			t.Errorf("SignRequest accepted keyId %q", bad)
		}
	}
	if err := SignRequest(r, nil, aliceKeyID, nil); err == nil {
		t.Error("SignRequest accepted a nil key")
	}
}

// TestMastodonShapedRequest checks both directions against signing strings written
// out by hand, the way Mastodon builds them, with crypto/rsa alone.
func TestMastodonShapedRequest(t *testing.T) {
	t.Parallel()
	key := testKeys().alice
	body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://mastodon.example/users/alice#follows/1","type":"Follow","actor":"https://mastodon.example/users/alice","object":"https://tacit.example/users/bob"}`)
	digest := "SHA-256=" + b64sha256(body)
	const date = "Tue, 07 Jun 2022 20:51:35 GMT"
	signed := "(request-target): post /users/bob/inbox\n" +
		"host: tacit.example\n" +
		"date: " + date + "\n" +
		"digest: " + digest + "\n" +
		"content-type: application/activity+json"
	hashed := sha256.Sum256([]byte(signed))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, hashed[:])
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Mastodon to Tacit", func(t *testing.T) {
		r := httptest.NewRequest("POST", "https://tacit.example/users/bob/inbox", bytes.NewReader(body))
		r.Header.Set("Date", date)
		r.Header.Set("Digest", digest)
		r.Header.Set("Content-Type", "application/activity+json")
		r.Header.Set("Signature", `keyId="https://mastodon.example/users/alice#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
		keys := &fakeKeys{keys: map[string]keyEntry{
			"https://mastodon.example/users/alice#main-key": {mustPEM(t, key), "https://mastodon.example/users/alice"},
		}}
		sent, _ := http.ParseTime(date)
		v := &Verifier{Keys: keys, Now: func() time.Time { return sent.Add(30 * time.Second) }}
		got, gotBody, err := v.Verify(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		want := Verified{KeyID: "https://mastodon.example/users/alice#main-key", Owner: "https://mastodon.example/users/alice", Host: "mastodon.example"}
		if *got != want || !bytes.Equal(gotBody, body) {
			t.Errorf("got %+v, body %q", *got, gotBody)
		}
		again, _ := io.ReadAll(r.Body)
		if !bytes.Equal(again, body) {
			t.Errorf("r.Body not restored: %q", again)
		}
	})

	t.Run("Tacit to Mastodon", func(t *testing.T) {
		r := newRequest(t, "POST", "https://tacit.example/users/bob/inbox?x=1", nil)
		if err := SignRequest(r, body, aliceKeyID, key); err != nil {
			t.Fatal(err)
		}
		want := "(request-target): post /users/bob/inbox?x=1\n" +
			"host: tacit.example\n" +
			"date: " + r.Header.Get("Date") + "\n" +
			"digest: " + digest
		params, err := parseParams(r.Header.Get("Signature"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(params[len(params)-1].value)
		if err != nil {
			t.Fatal(err)
		}
		hashed := sha256.Sum256([]byte(want))
		if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, hashed[:], raw); err != nil {
			t.Errorf("signature does not cover %q: %v", want, err)
		}
		wantHeader := `keyId="` + aliceKeyID + `",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="`
		if h := r.Header.Get("Signature"); !strings.HasPrefix(h, wantHeader) || !strings.HasSuffix(h, `"`) {
			t.Errorf("Signature = %q, want prefix %q", h, wantHeader)
		}
	})
}

// TestHTTPSigInterop checks against github.com/go-fed/httpsig, an independent
// implementation of the same draft: each side verifies what the other signed.
func TestHTTPSigInterop(t *testing.T) {
	t.Parallel()
	key := testKeys().alice
	body := []byte(`{"type":"Like"}`)

	t.Run("httpsig verifies ours", func(t *testing.T) {
		for _, method := range []string{"GET", "POST"} {
			var reqBody []byte
			if method == "POST" {
				reqBody = body
			}
			errs := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hv, err := httpsig.NewVerifier(r)
				if err == nil && hv.KeyId() != aliceKeyID {
					err = fmt.Errorf("keyId %q", hv.KeyId())
				}
				if err == nil {
					err = hv.Verify(&key.PublicKey, httpsig.RSA_SHA256)
				}
				errs <- err
			}))
			r := newRequest(t, method, srv.URL+"/users/bob/inbox?page=2", nil)
			if err := SignRequest(r, reqBody, aliceKeyID, key); err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if err := <-errs; err != nil {
				t.Errorf("%s: httpsig: %v", method, err)
			}
			srv.Close()
		}
	})

	t.Run("we verify httpsig's", func(t *testing.T) {
		v := &Verifier{Keys: aliceKeys(t)}
		lb := startLoopback(t, v)
		signer, _, err := httpsig.NewSigner([]httpsig.Algorithm{httpsig.RSA_SHA256}, httpsig.DigestSha256,
			[]string{httpsig.RequestTarget, "host", "date", "digest"}, httpsig.Signature, 0)
		if err != nil {
			t.Fatal(err)
		}
		r := newRequest(t, "POST", lb.srv.URL+"/users/bob/inbox", body)
		r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		r.Header.Set("Host", r.URL.Host) // httpsig reads the host from the header map
		if err := signer.SignRequest(key, aliceKeyID, r, body); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Header.Get("Signature"), `algorithm="hs2019"`) {
			t.Fatalf("httpsig header: %q", r.Header.Get("Signature"))
		}
		res := lb.do(t, r)
		if res.err != nil {
			t.Fatal(res.err)
		}
	})
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	k := testKeys()
	keys := &fakeKeys{
		keys:  map[string]keyEntry{aliceKeyID: {mustPEM(t, k.old), aliceID}},
		fresh: map[string]keyEntry{aliceKeyID: {mustPEM(t, k.alice), aliceID}},
	}
	v := &Verifier{Keys: keys}
	lb := startLoopback(t, v)
	for i := range 2 {
		r := newRequest(t, "POST", lb.srv.URL+"/inbox", []byte(`{}`))
		if err := SignRequest(r, []byte(`{}`), aliceKeyID, k.alice); err != nil {
			t.Fatal(err)
		}
		if res := lb.do(t, r); res.err != nil {
			t.Fatalf("request %d: %v", i, res.err)
		}
	}
	// The first request found the old key, re-fetched once and succeeded; the second
	// found the new key in the cache.
	if calls, refreshes := keys.counts(); calls != 3 || refreshes != 1 {
		t.Errorf("fetcher called %d times, %d refreshes; want 3 and 1", calls, refreshes)
	}
}

func TestRefreshCooldown(t *testing.T) {
	t.Parallel()
	k := testKeys()
	const otherKeyID = "https://remote.example/users/bob#main-key"
	stale := keyEntry{mustPEM(t, k.old), aliceID}
	keys := &fakeKeys{keys: map[string]keyEntry{aliceKeyID: stale, otherKeyID: {stale.pem, "https://remote.example/users/bob"}}}
	var mu sync.Mutex
	now := time.Now()
	v := &Verifier{Keys: keys, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }

	steps := []struct {
		name          string
		keyID         string
		advance       time.Duration
		wantRefreshes int
	}{
		{"first mismatch re-fetches", aliceKeyID, 0, 1},
		{"second mismatch within the cool-down does not", aliceKeyID, 10 * time.Second, 1},
		{"third one neither", aliceKeyID, 40 * time.Second, 1},
		{"another key has its own cool-down", otherKeyID, 0, 2},
		{"after the cool-down it re-fetches again", aliceKeyID, 15 * time.Second, 3},
		{"and then waits again", aliceKeyID, time.Second, 3},
	}
	for _, st := range steps {
		advance(st.advance)
		r := newRequest(t, "GET", "https://tacit.example/users/bob", nil)
		r.Header.Set("Date", v.Now().UTC().Format(http.TimeFormat))
		handSign(t, r, nil, manual{keyID: st.keyID, headers: getHeaders})
		_, _, err := v.Verify(context.Background(), r)
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("%s: err = %v, want ErrBadSignature", st.name, err)
		}
		if _, refreshes := keys.counts(); refreshes != st.wantRefreshes {
			t.Fatalf("%s: %d refreshes, want %d", st.name, refreshes, st.wantRefreshes)
		}
	}
}

func TestConcurrentVerify(t *testing.T) {
	t.Parallel()
	k := testKeys()
	keys := &fakeKeys{
		keys:  map[string]keyEntry{aliceKeyID: {mustPEM(t, k.old), aliceID}},
		fresh: map[string]keyEntry{aliceKeyID: {mustPEM(t, k.alice), aliceID}},
	}
	v := &Verifier{Keys: keys}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			r, err := http.NewRequest("POST", "https://tacit.example/inbox", nil)
			if err != nil {
				errs <- err
				return
			}
			if err := SignRequest(r, []byte(`{"a":1}`), aliceKeyID, k.alice); err != nil {
				errs <- err
				return
			}
			_, _, err = v.Verify(context.Background(), r)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	ok := 0
	for err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, ErrBadSignature) {
			t.Errorf("unexpected error: %v", err)
		}
	}
	// Requests racing the first re-fetch may fail within the cool-down; at least the
	// one that re-fetched succeeds, and there is exactly one re-fetch.
	if _, refreshes := keys.counts(); ok == 0 || refreshes != 1 {
		t.Errorf("%d verified, %d refreshes", ok, refreshes)
	}
}

func TestParseParams(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want []param
	}{
		{`keyId="a",signature="b"`, []param{{"keyId", "a"}, {"signature", "b"}}},
		{` keyId = "a" ,	signature="b==" `, []param{{"keyId", "a"}, {"signature", "b=="}}},
		{`keyId="a,b",headers="(request-target) host"`, []param{{"keyId", "a,b"}, {"headers", "(request-target) host"}}},
		{`keyId="a\"b\\c",created=1402170695`, []param{{"keyId", `a"b\c`}, {"created", "1402170695"}}},
		{`keyId="a",,signature="b",`, []param{{"keyId", "a"}, {"signature", "b"}}},
		{`keyId=""`, []param{{"keyId", ""}}},
	} {
		got, err := parseParams(tc.in)
		if err != nil {
			t.Errorf("parseParams(%q): %v", tc.in, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("parseParams(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{
		``, `,`, `keyId`, `keyId=`, `keyId="a`, `keyId="a\`, `="a"`, `keyId="a" signature="b"`,
		`keyId="a",keyId="b"`, "keyId=\"a\nb\"", "keyId=\"a\x00\"", `keyId=a"b`, `key Id="a"`,
		`keyId="a";signature="b"`, strings.Repeat("a", maxSignatureHeader+1),
		manyParams(maxParams + 1),
	} {
		if got, err := parseParams(in); err == nil {
			t.Errorf("parseParams(%q) = %v, want an error", in, got)
		}
	}
	if _, err := parseParams(manyParams(maxParams)); err != nil {
		t.Errorf("parseParams with %d parameters: %v", maxParams, err)
	}
}

// manyParams is a header with n distinct parameters.
func manyParams(n int) string {
	var parts []string
	for i := range n {
		parts = append(parts, fmt.Sprintf(`p%d="v"`, i))
	}
	return strings.Join(parts, ",")
}

func TestKeyHost(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"https://Mastodon.Example/users/alice#main-key", "mastodon.example"},
		{"https://mastodon.example:443/users/alice", "mastodon.example"},
		{"http://tacit.local:8080/users/a#main-key", "tacit.local:8080"},
		{"http://tacit.local:80/users/a", "tacit.local"},
		{"https://tacit.local:80/users/a", "tacit.local:80"},
		{"http://127.0.0.1:3000/actor", "127.0.0.1:3000"},
		{"http://[::1]:3000/actor", "[::1]:3000"},
		{"https://[::1]/actor", "[::1]"},
	} {
		got, err := KeyHost(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("KeyHost(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "alice", "/users/alice", "mailto:a@b", "ftp://h/k", "https:///k", "https://user@host/k", "https:host", "https://h:x/k"} {
		if got, err := KeyHost(in); err == nil {
			t.Errorf("KeyHost(%q) = %q, want an error", in, got)
		}
	}
}

func TestKeysPEM(t *testing.T) {
	t.Parallel()
	key := testKeys().alice
	pub, err := PublicKeyPEM(&key.PublicKey)
	if err != nil || !strings.HasPrefix(pub, "-----BEGIN PUBLIC KEY-----\n") {
		t.Fatalf("PublicKeyPEM = %q, %v", pub, err)
	}
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}))
	mislabelled := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)}))
	for name, in := range map[string]string{"PKIX": pub, "PKCS1": pkcs1, "PKIX label on PKCS1": mislabelled, "surrounded by blanks": "\n  " + pub + "\n\n"} {
		got, err := ParsePublicKeyPEM(in)
		if err != nil || !got.Equal(&key.PublicKey) {
			t.Errorf("%s: ParsePublicKeyPEM = %v", name, err)
		}
	}
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKIXPublicKey(edPub)
	ed := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER}))
	if _, err := ParsePublicKeyPEM(ed); !errors.Is(err, ErrUnsupportedAlgorithm) {
		t.Errorf("Ed25519 key: err = %v, want ErrUnsupportedAlgorithm", err)
	}
	for _, bad := range []string{"", "garbage", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"} {
		if _, err := ParsePublicKeyPEM(bad); err == nil {
			t.Errorf("ParsePublicKeyPEM(%q) succeeded", bad)
		}
	}
	if _, err := PublicKeyPEM(nil); err == nil {
		t.Error("PublicKeyPEM(nil) succeeded")
	}

	priv, err := PrivateKeyPEM(key)
	if err != nil || !strings.HasPrefix(priv, "-----BEGIN PRIVATE KEY-----\n") {
		t.Fatalf("PrivateKeyPEM = %v", err)
	}
	pkcs1Priv := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	for name, in := range map[string]string{"PKCS8": priv, "PKCS1": pkcs1Priv} {
		got, err := ParsePrivateKeyPEM(in)
		if err != nil || !got.Equal(key) {
			t.Errorf("%s: ParsePrivateKeyPEM = %v", name, err)
		}
	}
	if _, err := ParsePrivateKeyPEM(pub); err == nil {
		t.Error("ParsePrivateKeyPEM accepted a public key")
	}
	if key.N.BitLen() != KeyBits {
		t.Errorf("GenerateKey made %d bits", key.N.BitLen())
	}
}

func TestStatusCode(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]int{
		nil:                                    200,
		fmt.Errorf("x: %w", ErrTooLarge):       413,
		fmt.Errorf("x: %w", ErrDigestMismatch): 400,
		fmt.Errorf("x: %w", ErrNoSignature):    401,
		fmt.Errorf("x: %w", ErrKeyFetch):       401,
		fmt.Errorf("x: %w", ErrClockSkew):      401,
		errors.New("read body: EOF"):           400,
	} {
		if got := StatusCode(err); got != want {
			t.Errorf("StatusCode(%v) = %d, want %d", err, got, want)
		}
	}
}

// BenchmarkVerify measures verifications of a signed POST with a cached key.
func BenchmarkVerify(b *testing.B) {
	body := bytes.Repeat([]byte(`{"type":"Note","content":"hello"}`), 30) // about 1 KiB
	v := &Verifier{Keys: aliceKeys(b)}
	r := httptest.NewRequest("POST", "https://tacit.example/users/bob/inbox", nil)
	if err := SignRequest(r, body, aliceKeyID, testKeys().alice); err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/activity+json")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, _, err := v.Verify(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}
