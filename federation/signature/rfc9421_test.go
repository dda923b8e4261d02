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
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// msgSigner describes an RFC 9421 signature made by signMessage, which builds the
// signature base by hand from RFC 9421 §2.5, independently of the package's code.
type msgSigner struct {
	label      string // sig1 when empty
	components []string
	alg        string // the alg parameter; "" leaves it out
	key        any    // *rsa.PrivateKey (PKCS #1 v1.5 unless alg says PSS) or ed25519.PrivateKey; alice when nil
	pss        bool
	keyID      string    // aliceKeyID when empty
	created    time.Time // now when zero
	expires    time.Time
}

// signMessage signs a client-side request with an absolute URL and adds
// Signature-Input and Signature (appending to any already there).
func signMessage(t testing.TB, r *http.Request, m msgSigner) {
	t.Helper()
	if m.label == "" {
		m.label = "sig1"
	}
	if m.key == nil {
		m.key = testKeys().alice
	}
	if m.keyID == "" {
		m.keyID = aliceKeyID
	}
	if m.created.IsZero() {
		m.created = time.Now()
	}
	var quoted []string
	var lines []string
	for _, c := range m.components {
		var v string
		switch c {
		case "@method":
			v = r.Method
		case "@target-uri":
			v = r.URL.String()
		case "@authority":
			v = r.URL.Host
		case "@path":
			v = r.URL.EscapedPath()
		case "@query":
			v = "?" + r.URL.RawQuery
		default:
			v = r.Header.Get(c)
		}
		quoted = append(quoted, `"`+c+`"`)
		lines = append(lines, fmt.Sprintf("%q: %s", c, v))
	}
	params := fmt.Sprintf("(%s);created=%d", strings.Join(quoted, " "), m.created.Unix())
	if !m.expires.IsZero() {
		params += fmt.Sprintf(";expires=%d", m.expires.Unix())
	}
	params += fmt.Sprintf(";keyid=%q", m.keyID)
	if m.alg != "" {
		params += fmt.Sprintf(";alg=%q", m.alg)
	}
	base := strings.Join(append(lines, `"@signature-params": `+params), "\n")
	var sig []byte
	var err error
	switch k := m.key.(type) {
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, []byte(base))
	case *rsa.PrivateKey:
		if m.pss {
			h := sha512.Sum512([]byte(base))
			sig, err = rsa.SignPSS(rand.Reader, k, crypto.SHA512, h[:], &rsa.PSSOptions{SaltLength: 64})
		} else {
			h := sha256.Sum256([]byte(base))
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:])
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Add("Signature-Input", m.label+"="+params)
	r.Header.Add("Signature", m.label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
}

// asReceived turns a client-side request into what the server's handler gets.
func asReceived(r *http.Request, body []byte) *http.Request {
	in := httptest.NewRequest(r.Method, r.URL.RequestURI(), bytes.NewReader(body))
	in.Host = r.URL.Host
	in.Header = r.Header.Clone()
	return in
}

func contentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

func TestMessageSignatures(t *testing.T) {
	t.Parallel()
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(edKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	edPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	activity := []byte(`{"type":"Follow","actor":"https://remote.example/users/alice"}`)
	getParts := []string{"@method", "@target-uri"}
	postParts := []string{"@method", "@target-uri", "content-digest"}

	cases := []struct {
		name    string
		method  string
		url     string
		body    []byte
		signers []msgSigner
		mutate  func(r *http.Request)
		edKey   bool
		wantErr error
	}{
		{name: "GET rsa-v1_5-sha256", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, alg: algRSAv15SHA256}}},
		{name: "GET with query", method: "GET", url: "https://a.example/ap/search/experts?q=go&limit=5", signers: []msgSigner{{components: getParts, alg: algRSAv15SHA256}}},
		{name: "GET without alg", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts}}},
		{name: "GET rsa-pss-sha512", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, alg: algRSAPSSSHA512, pss: true}}},
		{name: "GET PSS without alg", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, pss: true}}},
		{name: "GET ed25519", method: "GET", url: "https://a.example/users/bob", edKey: true, signers: []msgSigner{{components: getParts, alg: algEd25519, key: edKey}}},
		{name: "GET authority and path", method: "GET", url: "https://a.example/users/bob?page=1", signers: []msgSigner{{components: []string{"@method", "@authority", "@path", "@query"}}}},
		{name: "POST with content-digest", method: "POST", url: "https://a.example/inbox", body: activity,
			mutate:  func(r *http.Request) { r.Header.Set("Content-Digest", contentDigest(activity)) },
			signers: []msgSigner{{components: postParts, alg: algRSAv15SHA256}}},
		{name: "second label verified after one for someone else", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{
			{label: "proxy", components: []string{"@method"}, keyID: "https://proxy.example/key"},
			{label: "sig2", components: getParts}}},

		{name: "signed for another host", method: "GET", url: "https://b.example/users/bob", signers: []msgSigner{{components: getParts}}, wantErr: ErrWrongHost},
		{name: "host rewritten", method: "GET", url: "https://b.example/users/bob", signers: []msgSigner{{components: getParts}},
			mutate: func(r *http.Request) { r.URL.Host = "a.example" }, wantErr: ErrBadSignature},
		{name: "no target", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: []string{"@method", "@authority"}}}, wantErr: ErrMissingHeaders},
		{name: "query not covered", method: "GET", url: "https://a.example/users/bob?page=1", signers: []msgSigner{{components: []string{"@method", "@authority", "@path"}}}, wantErr: ErrMissingHeaders},
		{name: "no method", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: []string{"@target-uri"}}}, wantErr: ErrMissingHeaders},
		{name: "POST digest not covered", method: "POST", url: "https://a.example/inbox", body: activity,
			mutate:  func(r *http.Request) { r.Header.Set("Content-Digest", contentDigest(activity)) },
			signers: []msgSigner{{components: getParts}}, wantErr: ErrMissingHeaders},
		{name: "POST body changed", method: "POST", url: "https://a.example/inbox", body: activity,
			mutate:  func(r *http.Request) { r.Header.Set("Content-Digest", contentDigest([]byte("{}"))) },
			signers: []msgSigner{{components: postParts}}, wantErr: ErrDigestMismatch},
		{name: "GET created ten minutes ago", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, created: time.Now().Add(-10 * time.Minute)}}, wantErr: ErrClockSkew},
		{name: "expired", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, expires: time.Now().Add(-time.Hour)}}, wantErr: ErrClockSkew},
		{name: "wrong key", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, key: testKeys().mallory}}, wantErr: ErrBadSignature},
		{name: "alg does not match the key", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, alg: algEd25519}}, wantErr: ErrBadSignature},
		{name: "unknown alg", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts, alg: "hmac-sha256"}}, wantErr: ErrUnsupportedAlgorithm},
		{name: "component with parameters", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts}},
			mutate: func(r *http.Request) {
				r.Header.Set("Signature-Input", strings.Replace(r.Header.Get("Signature-Input"), `"@method"`, `"@method";req`, 1))
			}, wantErr: ErrUnsupportedAlgorithm},
		{name: "label without signature", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts}},
			mutate: func(r *http.Request) { r.Header.Set("Signature", "other=:AAAA:") }, wantErr: ErrBadSignature},
		{name: "signature tampered", method: "GET", url: "https://a.example/users/bob", signers: []msgSigner{{components: getParts}},
			mutate: func(r *http.Request) {
				r.Header.Set("Signature", "sig1=:"+base64.StdEncoding.EncodeToString(make([]byte, 256))+":")
			}, wantErr: ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keys := aliceKeys(t)
			if tc.edKey {
				keys = &fakeKeys{keys: map[string]keyEntry{aliceKeyID: {edPEM, aliceID}}}
			}
			v := &Verifier{Keys: keys, Host: "a.example", Scheme: "https"}
			r := newRequest(t, tc.method, tc.url, tc.body)
			if tc.mutate != nil && tc.body != nil {
				tc.mutate(r) // headers signed over must be there first
			}
			for _, s := range tc.signers {
				signMessage(t, r, s)
			}
			if tc.mutate != nil && tc.body == nil {
				tc.mutate(r)
			}
			verified, body, err := v.Verify(context.Background(), asReceived(r, tc.body))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || verified != nil {
					t.Fatalf("err = %v (verified %+v), want %v", err, verified, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			want := Verified{KeyID: aliceKeyID, Owner: aliceID, Host: "remote.example"}
			if *verified != want {
				t.Errorf("verified = %+v, want %+v", *verified, want)
			}
			if !bytes.Equal(body, tc.body) && !(len(body) == 0 && len(tc.body) == 0) {
				t.Errorf("body = %q", body)
			}
		})
	}
}

// TestMessageSignatureReplay: RFC 9421 GETs are remembered like draft-cavage ones.
func TestMessageSignatureReplay(t *testing.T) {
	t.Parallel()
	v := &Verifier{Keys: aliceKeys(t), Host: "a.example"}
	r := newRequest(t, "GET", "https://a.example/users/bob", nil)
	signMessage(t, r, msgSigner{components: []string{"@method", "@target-uri"}})
	first := asReceived(r, nil)
	first.RemoteAddr = "192.0.2.1:1"
	if _, _, err := v.Verify(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	again := asReceived(r, nil)
	again.RemoteAddr = "198.51.100.2:1"
	if _, _, err := v.Verify(context.Background(), again); !errors.Is(err, ErrReplayed) {
		t.Fatalf("replay from another address: err = %v, want ErrReplayed", err)
	}
}

func TestStructuredFields(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		`sig1=("@method" "@target-uri");created=1618884473;keyid="test-key-rsa-pss"`: `("@method" "@target-uri");created=1618884473;keyid="test-key-rsa-pss"`,
		`sig1=();created=1`:                   `();created=1`,
		`sig1=( "a"  "b" );x;y=?0;z=1.50`:     `("a" "b");x;y=?0;z=1.5`,
		`sig1=("a\"b");k=tok/en:x`:            `("a\"b");k=tok/en:x`,
		`sig1=("@path");b=:AQID:, sig2=("x")`: `("@path");b=:AQID:`,
	}
	for in, want := range good {
		members, err := parseDictionary(in)
		if err != nil {
			t.Errorf("parse %q: %v", in, err)
			continue
		}
		if got := serializeInnerList(members[0].list, members[0].params); got != want {
			t.Errorf("serialize %q = %q, want %q", in, got, want)
		}
	}
	for _, in := range []string{
		`sig1=("a"`, `sig1=("a")x`, `sig1=("a"),`, `Sig1=("a")`, `sig1=("a"), sig1=("b")`, `sig1=("a");k;k`,
		`sig1=:AB$:`, `sig1=?2`, `sig1=1234567890123456`, `sig1="\x"`, `sig1=("a""b")`, `sig1=-`, `sig1=1.2345`,
		strings.Repeat("a=1,", 20) + "b=1",
	} {
		if _, err := parseDictionary(in); err == nil {
			t.Errorf("parse %q: no error", in)
		}
	}
}
