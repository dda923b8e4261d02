package signature

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// signedFor makes a GET signed for host, as the receiving server sees it.
func signedFor(t *testing.T, host, path string) *http.Request {
	t.Helper()
	out := newRequest(t, http.MethodGet, "https://"+host+path, nil)
	if err := SignRequest(out, nil, aliceKeyID, testKeys().alice); err != nil {
		t.Fatal(err)
	}
	in := httptest.NewRequest(http.MethodGet, path, nil)
	in.Host = host
	in.Header = out.Header.Clone()
	return in
}

// TestSignatureBoundToHost: a request signed for one server is refused by another,
// whatever Host header the replayer sends along.
func TestSignatureBoundToHost(t *testing.T) {
	t.Parallel()
	v := &Verifier{Keys: aliceKeys(t), Host: "a.example"}
	ctx := context.Background()

	if _, _, err := v.Verify(ctx, signedFor(t, "a.example", "/users/bob")); err != nil {
		t.Fatalf("request signed for a.example: %v", err)
	}
	if _, _, err := v.Verify(ctx, signedFor(t, "A.Example:443", "/users/bob")); err != nil {
		t.Fatalf("same host spelt with its default port: %v", err)
	}
	r := signedFor(t, "b.example", "/users/bob")
	if _, _, err := v.Verify(ctx, r); !errors.Is(err, ErrWrongHost) || StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("request signed for b.example replayed to a.example: err = %v, want ErrWrongHost", err)
	}
	// Rewriting the Host to ours breaks the signature instead.
	r = signedFor(t, "b.example", "/users/bob")
	r.Host = "a.example"
	if _, _, err := v.Verify(ctx, r); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("request signed for b.example with its Host rewritten: err = %v, want ErrBadSignature", err)
	}
	// A port is part of the host.
	if _, _, err := v.Verify(ctx, signedFor(t, "a.example:8443", "/users/bob")); !errors.Is(err, ErrWrongHost) {
		t.Fatalf("request for another port: err = %v, want ErrWrongHost", err)
	}
}

// TestGETReplays: a verified GET signature repeated by its own client is let through
// (retries, two identical requests within one second); from another address it is a
// replay. Once the window is over the Date check refuses it anyway.
func TestGETReplays(t *testing.T) {
	t.Parallel()
	now := time.Now()
	v := &Verifier{Keys: aliceKeys(t), Host: "a.example", Now: func() time.Time { return now }}
	r := signedFor(t, "a.example", "/users/bob")
	send := func(addr string) error {
		in := r.Clone(context.Background())
		in.RemoteAddr = addr + ":5000"
		_, _, err := v.Verify(context.Background(), in)
		return err
	}
	if err := send("192.0.2.1"); err != nil {
		t.Fatalf("first: %v", err)
	}
	if err := send("192.0.2.1"); err != nil {
		t.Fatalf("same client again: %v", err)
	}
	if err := send("198.51.100.7"); !errors.Is(err, ErrReplayed) || StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("another client: err = %v, want ErrReplayed", err)
	}
	// The address a proxy reports wins over the connection's.
	in := r.Clone(WithClientAddr(context.Background(), "198.51.100.7"))
	in.RemoteAddr = "192.0.2.1:5000"
	if _, _, err := v.Verify(in.Context(), in); !errors.Is(err, ErrReplayed) {
		t.Fatalf("another client behind the same proxy: err = %v, want ErrReplayed", err)
	}
	now = now.Add(DefaultMaxAgeWithoutBody + time.Second)
	if err := send("192.0.2.1"); !errors.Is(err, ErrClockSkew) {
		t.Fatalf("after the window: err = %v, want ErrClockSkew", err)
	}
}
