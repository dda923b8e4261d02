package sso

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/config"
)

// FuzzFlowCookie: the flow cookie comes back from the browser, so anyone can send
// anything. Only a cookie this instance sealed, unexpired, opens; a sealed one with a
// byte changed does not.
func FuzzFlowCookie(f *testing.F) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	p := New(config.Config{Host: "eng.example", Protocol: "https", SSO: config.SSO{Issuer: "https://id.example", ClientID: "tacit"}},
		Options{Key: []byte("a key derived from the instance key")})
	p.now = func() time.Time { return now }
	sealed := p.seal(flow{State: "s1", Nonce: "n1", Verifier: "v1", Next: "/", Expires: now.Add(time.Minute)})
	f.Add(sealed, 0, byte(0))
	f.Add(sealed, len(sealed)-1, byte('A'))
	f.Add("e30.AAAA", 1, byte('x'))
	f.Add("", 0, byte(0))
	f.Fuzz(func(t *testing.T, cookie string, at int, b byte) {
		// base64url's last character may carry unused bits: a cookie that decodes to
		// the sealed one's bytes is that cookie.
		if got, ok := p.open(cookie); ok && !sameDecoded(cookie, sealed) {
			t.Fatalf("a cookie this instance did not seal opened: %q → %+v", cookie, got)
		}
		if at < 0 || at >= len(sealed) || sealed[at] == b {
			return
		}
		changed := sealed[:at] + string(b) + sealed[at+1:]
		if changed == sealed || strings.Count(changed, ".") != 1 {
			return
		}
		if _, ok := p.open(changed); ok && !sameDecoded(changed, sealed) {
			t.Fatalf("a changed cookie opened: %q", changed)
		}
		if fl, ok := p.open(sealed); !ok || fl.State != "s1" {
			t.Fatal("the sealed cookie no longer opens")
		}
	})
}

// sameDecoded reports whether two cookies decode to the same bytes.
func sameDecoded(a, b string) bool {
	decode := func(s string) string {
		enc, sig, _ := strings.Cut(s, ".")
		x, err1 := b64.DecodeString(enc)
		y, err2 := b64.DecodeString(sig)
		if err1 != nil || err2 != nil {
			return "!" + s
		}
		return string(x) + "." + string(y)
	}
	return decode(a) == decode(b)
}

var b64 = base64.RawURLEncoding

// The memory of used states has a bound: past it, a callback is refused rather than
// remembered, and it opens again once flows expire.
func TestUsedStatesBounded(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	p := New(config.Config{Host: "eng.example", Protocol: "https", SSO: config.SSO{Issuer: "https://id.example", ClientID: "tacit"}},
		Options{Key: []byte("k")})
	p.now = func() time.Time { return now }
	for i := range maxUsedStates {
		if !p.useState(flow{State: "s" + strconv.Itoa(i), Expires: now.Add(time.Minute)}) {
			t.Fatalf("state %d refused below the bound", i)
		}
	}
	if p.useState(flow{State: "one more", Expires: now.Add(time.Minute)}) {
		t.Fatal("a state past the bound was remembered")
	}
	now = now.Add(2 * time.Minute)
	if !p.useState(flow{State: "later", Expires: now.Add(time.Minute)}) || len(p.used) != 1 {
		t.Fatalf("after the flows expired: %d states remembered", len(p.used))
	}
}
