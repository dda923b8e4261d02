package signature

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// fuzzNow is the fuzz targets' clock: seeds carry Dates near it, so they stay valid
// however long after they were written the fuzzer runs.
var fuzzNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

type fuzzEnvironment struct {
	signer, other *rsa.PrivateKey // fixed keys from testdata, the same in every worker
	signerPEM     string
	otherPEM      string
}

var fuzzEnv = sync.OnceValues(func() (*fuzzEnvironment, error) {
	data, err := os.ReadFile("testdata/fuzz-keys.pem")
	if err != nil {
		return nil, err
	}
	var keys []*rsa.PrivateKey
	for _, block := range strings.SplitAfter(string(data), "-----END PRIVATE KEY-----") {
		if !strings.Contains(block, "BEGIN") {
			continue
		}
		k, err := ParsePrivateKeyPEM(block[strings.Index(block, "-----BEGIN"):])
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) != 2 {
		return nil, fmt.Errorf("want 2 keys in testdata/fuzz-keys.pem, found %d", len(keys))
	}
	env := &fuzzEnvironment{signer: keys[0], other: keys[1]}
	if env.signerPEM, err = PublicKeyPEM(&keys[0].PublicKey); err != nil {
		return nil, err
	}
	if env.otherPEM, err = PublicKeyPEM(&keys[1].PublicKey); err != nil {
		return nil, err
	}
	return env, nil
})

// anyKey answers every keyId with one key, owned by an actor on the keyId's host.
type anyKey string

func (k anyKey) PublicKey(_ context.Context, keyID string, _ bool) (string, string, error) {
	u, err := url.Parse(keyID)
	if err != nil {
		return "", "", err
	}
	return string(k), u.Scheme + "://" + u.Host + "/actor", nil
}

var sentinels = []error{ErrNoSignature, ErrBadSignature, ErrClockSkew, ErrDigestMismatch,
	ErrUnsupportedAlgorithm, ErrMissingHeaders, ErrTooLarge, ErrKeyFetch, ErrWrongHost, ErrReplayed}

// wrapsSentinel reports whether err wraps one of the package's errors.
func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// fuzzSeed is a request signed by the fuzz signer at fuzzNow.
func fuzzSeed(f *testing.F, method, target string, body []byte, m manual) (sig, date, digest string) {
	env, err := fuzzEnv()
	if err != nil {
		f.Fatal(err)
	}
	r := newRequest(f, method, "https://tacit.example"+target, body)
	r.Header.Set("Date", fuzzNow.Format(http.TimeFormat))
	m.key = env.signer
	handSign(f, r, body, m)
	return r.Header.Get("Signature"), r.Header.Get("Date"), r.Header.Get("Digest")
}

// FuzzVerify feeds arbitrary Signature, Date and Digest headers, methods, targets and
// bodies to Verify. It must never panic, must fail with one of the package's errors,
// must never accept a request when the key it is given is not the signer's, and with
// the signer's key may only accept signatures the signer actually made.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"type":"Create","object":{"type":"Note","content":"hi"}}`)
	var genuine []string
	add := func(method, target string, body []byte, inAuth bool, m manual) {
		sig, date, digest := fuzzSeed(f, method, target, body, m)
		p, err := parseSignature(sig)
		if err != nil {
			f.Fatal(err)
		}
		genuine = append(genuine, base64.StdEncoding.EncodeToString(p.signature))
		f.Add(method, target, sig, inAuth, date, digest, body)
	}
	add("GET", "/users/bob", nil, false, manual{headers: getHeaders})
	add("GET", "/users/bob/outbox?page=true", nil, true, manual{headers: getHeaders})
	add("POST", "/users/bob/inbox", body, false, manual{headers: postHeaders})
	add("POST", "/inbox", body, true, manual{algorithm: "hs2019", headers: append(postHeaders, "(created)"), created: fmt.Sprint(fuzzNow.Unix())})
	f.Add("POST", "/inbox", `keyId="https://remote.example/k",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"`, false, fuzzNow.Format(http.TimeFormat), "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", []byte{})
	f.Add("GET", "/", "", false, "", "", []byte(nil))

	f.Fuzz(func(t *testing.T, method, target, sig string, inAuth bool, date, digest string, body []byte) {
		env, err := fuzzEnv()
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		build := func() *http.Request {
			r := &http.Request{
				Method: method, URL: u, RequestURI: target, Host: "tacit.example", Header: http.Header{},
				Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
			}
			if sig != "" {
				if inAuth {
					r.Header.Set("Authorization", "Signature "+sig)
				} else {
					r.Header.Set("Signature", sig)
				}
			}
			if date != "" {
				r.Header.Set("Date", date)
			}
			if digest != "" {
				r.Header.Set("Digest", digest)
			}
			return r
		}
		clock := func() time.Time { return fuzzNow.Add(time.Minute) }

		wrong := &Verifier{Keys: anyKey(env.otherPEM), Host: "tacit.example", Now: clock, MaxBodyBytes: 4096}
		if v, _, err := wrong.Verify(context.Background(), build()); err == nil {
			t.Fatalf("verified %+v with a key that did not sign", v)
		}

		right := &Verifier{Keys: anyKey(env.signerPEM), Host: "tacit.example", Now: clock, MaxBodyBytes: 4096}
		r := build()
		v, got, err := right.Verify(context.Background(), r)
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("error wraps none of the package's errors: %v", err)
			}
			return
		}
		p, perr := parseSignature(sig)
		if perr != nil {
			t.Fatalf("verified a header that does not parse: %v", perr)
		}
		found := false
		for _, g := range genuine {
			found = found || g == base64.StdEncoding.EncodeToString(p.signature)
		}
		if !found {
			t.Fatalf("verified a signature the signer never made: %q", sig)
		}
		if v.KeyID != p.keyID || !bytes.Equal(got, body) {
			t.Fatalf("verified %+v, body %q", v, got)
		}
		if len(body) > 0 {
			if err := checkDigest(r.Header.Values("Digest"), body); err != nil {
				t.Fatalf("verified a body that does not match its digest: %v", err)
			}
		}
	})
}

// FuzzParseSignatureHeader checks the header parser never panics and that what it
// reads, written back by formatParams, reads the same.
func FuzzParseSignatureHeader(f *testing.F) {
	for _, s := range []string{
		`keyId="https://mastodon.example/users/alice#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest content-type",signature="c2lnbmF0dXJl"`,
		`keyId="k", created=1402170695, expires=1402170699.5, headers="(created)",signature="AA=="`,
		`keyId="a\"b\\c",,signature="x"`,
		` keyId = "a" ,	signature="b" `,
		`keyId="a",keyId="b"`,
		`keyId=`,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = parseSignature(s)
		params, err := parseParams(s)
		if err != nil {
			return
		}
		out := formatParams(params)
		if len(out) > maxSignatureHeader {
			return
		}
		again, err := parseParams(out)
		if err != nil {
			t.Fatalf("parseParams(%q) = %v; formatted as %q it fails: %v", s, params, out, err)
		}
		if len(again) != len(params) {
			t.Fatalf("round trip changed %v into %v", params, again)
		}
		for i := range params {
			if params[i] != again[i] {
				t.Fatalf("round trip changed %v into %v", params, again)
			}
		}
	})
}

// fuzzMessageSeed is a request signed with RFC 9421 by the fuzz signer at fuzzNow; it
// returns the Signature-Input, Signature and Content-Digest values.
func fuzzMessageSeed(f *testing.F, method, target string, body []byte, m msgSigner) (input, sig, digest string) {
	env, err := fuzzEnv()
	if err != nil {
		f.Fatal(err)
	}
	r := newRequest(f, method, "https://tacit.example"+target, body)
	if body != nil {
		r.Header.Set("Content-Digest", contentDigest(body))
	}
	m.key = env.signer
	m.created = fuzzNow
	signMessage(f, r, m)
	return r.Header.Get("Signature-Input"), r.Header.Get("Signature"), r.Header.Get("Content-Digest")
}

// FuzzVerifyMessageSignature feeds arbitrary Signature-Input, Signature and
// Content-Digest headers, methods, targets and bodies to Verify's RFC 9421 path, with
// the same promises as FuzzVerify: no panic, only the package's errors, nothing
// verified with a key that did not sign, and with the signer's key only signatures it
// made.
func FuzzVerifyMessageSignature(f *testing.F) {
	body := []byte(`{"type":"Follow"}`)
	var genuine [][]byte
	add := func(method, target string, body []byte, m msgSigner) {
		input, sig, digest := fuzzMessageSeed(f, method, target, body, m)
		all, err := parseMessageSignatures([]string{input}, []string{sig})
		if err != nil {
			f.Fatal(err)
		}
		genuine = append(genuine, all[0].signature)
		f.Add(method, target, input, sig, digest, body)
	}
	add("GET", "/users/bob", nil, msgSigner{components: []string{"@method", "@target-uri"}, alg: algRSAv15SHA256})
	add("GET", "/users/bob/outbox?page=1", nil, msgSigner{components: []string{"@method", "@authority", "@path", "@query"}})
	// (PSS signatures are randomized: a worker re-running this setup would not make
	// the same bytes, so the seeds stay with PKCS #1 v1.5.)
	add("POST", "/inbox", body, msgSigner{components: []string{"@method", "@target-uri", "content-digest"}, alg: algRSAv15SHA256})
	f.Add("GET", "/", `sig1=("@method" "@target-uri");created=1742000000;keyid="https://remote.example/k"`, "sig1=:AAAA:", "", []byte(nil))
	f.Add("POST", "/inbox", `a=(), b=("x";sf);created=1`, `a=:AA==:, b=?1`, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", []byte{})

	f.Fuzz(func(t *testing.T, method, target, input, sig, digest string, body []byte) {
		env, err := fuzzEnv()
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.ParseRequestURI(target)
		if err != nil || input == "" {
			return
		}
		build := func() *http.Request {
			r := &http.Request{
				Method: method, URL: u, RequestURI: target, Host: "tacit.example", Header: http.Header{},
				Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)),
			}
			r.Header.Set("Signature-Input", input)
			if sig != "" {
				r.Header.Set("Signature", sig)
			}
			if digest != "" {
				r.Header.Set("Content-Digest", digest)
			}
			return r
		}
		clock := func() time.Time { return fuzzNow.Add(time.Minute) }
		wrong := &Verifier{Keys: anyKey(env.otherPEM), Host: "tacit.example", Now: clock, MaxBodyBytes: 4096}
		if v, _, err := wrong.Verify(context.Background(), build()); err == nil {
			t.Fatalf("verified %+v with a key that did not sign", v)
		}
		right := &Verifier{Keys: anyKey(env.signerPEM), Host: "tacit.example", Now: clock, MaxBodyBytes: 4096}
		v, got, err := right.Verify(context.Background(), build())
		if err != nil {
			if !wrapsSentinel(err) {
				t.Fatalf("error wraps none of the package's errors: %v", err)
			}
			return
		}
		all, perr := parseMessageSignatures([]string{input}, []string{sig})
		if perr != nil {
			t.Fatalf("verified headers that do not parse: %v", perr)
		}
		found := false
		for _, m := range all {
			for _, g := range genuine {
				found = found || (bytes.Equal(g, m.signature) && m.keyID == v.KeyID)
			}
		}
		if !found {
			t.Fatalf("verified a signature the signer never made: %q", sig)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("body %q, want %q", got, body)
		}
	})
}

// FuzzStructuredFields checks the RFC 8941 parser never panics, and that an inner
// list it reads, serialized, reads back to the same serialization (the signature
// base depends on it).
func FuzzStructuredFields(f *testing.F) {
	for _, s := range []string{
		`sig1=("@method" "@target-uri" "@authority" "content-digest");created=1618884473;keyid="test-key-rsa-pss";alg="rsa-pss-sha512"`,
		`sig1=:K2qGT5srn2OGbOIDzQ6kYT+ruaycnDAAUpKv+ePFfD0RAxn/1BUeZx/Kdrq32DrfakQ6bPsvB9aqZqognNT6be4olHROIkeV879RrsrObury8L9SCEibeoHyqU/yCjphSmEdd7WD+zrchK57quskKwRefy2iEC5S2uAH0EPyOZKWlvbKmKu5q4CaB8X/I5/+HLZLGvDiezqi6/7p2Gngf5hwZ0lSdy39vyNMaaAT0tKo6nuVw0S1MVg1Q7MpWYZs0soHjttq0uLIA3DIbQfLiIvK6/l0BdWTU7+2uQj7lBkQAsFZHoA96ZZgFquQrXRlmYOh+Hx5D9fJkXcXe5tmAg==:`,
		`sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:, sha-512=:AA==:`,
		`a=1, b=2.50, c=?0, d="x\"y", e=tok/en:1, f=(1 2);p, g`,
		`a=();`, `a=("x" ;k=1)`, `*x=-999999999999999`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		members, err := parseDictionary(s)
		if err != nil {
			return
		}
		for _, m := range members {
			if !m.inner {
				continue
			}
			out := serializeInnerList(m.list, m.params)
			again, err := parseDictionary("k=" + out)
			if err != nil {
				t.Fatalf("%q serialized as %q does not parse: %v", s, out, err)
			}
			if out2 := serializeInnerList(again[0].list, again[0].params); out2 != out {
				t.Fatalf("serialization not stable: %q then %q", out, out2)
			}
		}
	})
}
