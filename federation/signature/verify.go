package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the Verifier's zero fields.
const (
	// DefaultMaxAge is how old a signed Date may be. Servers sign each delivery when
	// they send it, so a genuine request is seconds old on arrival; an hour covers slow
	// networks, proxies that queue and clocks running behind, while bounding how long
	// a captured request can be replayed.
	DefaultMaxAge = time.Hour
	// DefaultMaxFuture is how far ahead of our clock a signed Date may be. Only a fast
	// clock explains a future Date, and every minute accepted lengthens the replay
	// life of a captured request, so the margin is kept to a few minutes of clock
	// drift. (Mastodon accepts an hour; a peer whose clock runs further ahead is
	// refused with ErrClockSkew, which names both times.)
	DefaultMaxFuture = 5 * time.Minute
	// DefaultMaxBodyBytes caps the body read by Verify: an activity is a few KiB, and
	// the cap bounds the memory and hashing an unauthenticated client can cost us.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultRefreshCooldown is how long after re-fetching a key Verify refuses to
	// re-fetch it again on a mismatch, so forged signatures cannot make us fetch keys
	// in a loop.
	DefaultRefreshCooldown = time.Minute
)

// maxRefreshTracked bounds the cool-down table. Anyone can mint key ids on a host
// they control; once the table is full of keys still cooling down, further refreshes
// are refused (the signature then fails as it would with the cached key).
const maxRefreshTracked = 10000

// KeyFetcher obtains public keys for Verify.
//
// The keyID comes from an unauthenticated request: implementations must refuse hosts
// outside the federation allowlist before any network access, honour ctx, and cache
// keys, since Verify asks for the key of every request.
type KeyFetcher interface {
	// PublicKey returns the PEM public key published at keyID and the id of the
	// actor owning it, from a cache or by fetching (with a signed GET). refresh asks
	// to bypass the cache, because the key may have rotated; Verify asks so after a
	// mismatch, and a fetcher that fetched this key moments ago may answer from that
	// fetch.
	PublicKey(ctx context.Context, keyID string, refresh bool) (pemKey string, ownerID string, err error)
}

// Verifier checks draft-cavage signatures on incoming requests. Set Keys; the other
// fields default when zero. A Verifier is safe for concurrent use and must not be
// copied after first use.
type Verifier struct {
	// Keys provides the signers' public keys.
	Keys KeyFetcher
	// MaxAge is how old the signed Date (or created) may be; DefaultMaxAge if zero.
	MaxAge time.Duration
	// MaxFuture is how far in the future the signed Date (or created) may be, and how
	// long past its expires parameter a signature is still accepted;
	// DefaultMaxFuture if zero.
	MaxFuture time.Duration
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// MaxBodyBytes caps the body; DefaultMaxBodyBytes if zero.
	MaxBodyBytes int64
	// RefreshCooldown is the least time between two re-fetches of one key;
	// DefaultRefreshCooldown if zero.
	RefreshCooldown time.Duration

	mu        sync.Mutex
	refreshed map[string]time.Time // keyId → time of its last re-fetch
}

var _ RequestVerifier = (*Verifier)(nil)

// Verify checks r's signature and returns what it proves and the body.
//
// It requires a Signature header (or "Authorization: Signature ...") with a keyId, an
// algorithm of rsa-sha256 or hs2019 (hs2019 when absent, as Mastodon assumes; the key
// must be RSA either way), and signed headers including (request-target), host, date
// (or, with hs2019, the (created) parameter), and digest when the request has a body
// (a POST, PUT or PATCH, or any request with a non-empty body). The signed Date must
// lie between MaxAge in the past and MaxFuture in the future. With a body, or
// whenever a Digest header is present, its SHA-256 value (spelt SHA-256 or sha-256)
// must match the body. The (request-target) is checked with the query string and, for
// requests that have one, also without it, because older Mastodon versions leave it
// out when signing.
//
// When the signature does not match the key obtained from Keys, Verify asks Keys once
// more with refresh=true, in case the key rotated, unless that key was re-fetched
// less than RefreshCooldown ago. The key's owner must be on the key's host.
//
// The body is read only after the cheap header checks, up to MaxBodyBytes (a larger
// body yields ErrTooLarge), and r.Body is replaced so it can be read again. Errors
// wrap the package's sentinel errors; StatusCode maps them to HTTP statuses. A body
// returned with an error is unauthenticated and only good for logging.
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (*Verified, []byte, error) {
	if v.Keys == nil {
		return nil, nil, fmt.Errorf("%w: verifier has no key fetcher", ErrKeyFetch)
	}
	if r.URL == nil {
		return nil, nil, fmt.Errorf("%w: request has no URL", ErrBadSignature)
	}
	raw, err := signatureHeader(r)
	if err != nil {
		return nil, nil, err
	}
	p, err := parseSignature(raw)
	if err != nil {
		return nil, nil, err
	}
	host, err := KeyHost(p.keyID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	now := v.now()
	withBody := methodHasBody(r.Method) || r.ContentLength > 0
	if err := p.requireHeaders(withBody); err != nil {
		return nil, nil, err
	}
	if err := v.checkTime(r, p, now); err != nil {
		return nil, nil, err
	}
	body, err := v.readBody(r)
	if err != nil {
		return nil, nil, err
	}
	if len(body) > 0 && !withBody {
		withBody = true
		if err := p.requireHeaders(withBody); err != nil {
			return nil, body, err
		}
	}
	if digests := r.Header.Values("Digest"); withBody || len(digests) > 0 {
		if err := checkDigest(digests, body); err != nil {
			return nil, body, err
		}
	}
	candidates, err := p.signingStrings(r)
	if err != nil {
		return nil, body, err
	}

	pub, owner, err := v.fetchKey(ctx, p.keyID, host, false)
	if err != nil {
		return nil, body, err
	}
	if verifyAny(pub, candidates, p.signature) {
		return &Verified{KeyID: p.keyID, Owner: owner, Host: host}, body, nil
	}
	if !v.claimRefresh(p.keyID, now) {
		return nil, body, fmt.Errorf("%w: signature does not match key %s", ErrBadSignature, p.keyID)
	}
	fresh, owner, err := v.fetchKey(ctx, p.keyID, host, true)
	if err != nil {
		return nil, body, err
	}
	if !fresh.Equal(pub) && verifyAny(fresh, candidates, p.signature) {
		return &Verified{KeyID: p.keyID, Owner: owner, Host: host}, body, nil
	}
	return nil, body, fmt.Errorf("%w: signature does not match key %s, even re-fetched", ErrBadSignature, p.keyID)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// signatureHeader returns the signature parameters of r: the Signature header or, in
// its absence, an Authorization header with the Signature scheme.
func signatureHeader(r *http.Request) (string, error) {
	if len(r.Header.Values("Signature-Input")) > 0 {
		return "", fmt.Errorf("%w: RFC 9421 message signatures are not supported", ErrUnsupportedAlgorithm)
	}
	switch sig := r.Header.Values("Signature"); len(sig) {
	case 0:
	case 1:
		return sig[0], nil
	default:
		return "", fmt.Errorf("%w: %d Signature headers", ErrBadSignature, len(sig))
	}
	var found []string
	for _, a := range r.Header.Values("Authorization") {
		scheme, rest, ok := strings.Cut(a, " ")
		if ok && strings.EqualFold(scheme, "Signature") {
			found = append(found, rest)
		}
	}
	switch len(found) {
	case 0:
		return "", ErrNoSignature
	case 1:
		return found[0], nil
	default:
		return "", fmt.Errorf("%w: %d Authorization: Signature headers", ErrBadSignature, len(found))
	}
}

// sigParams is a parsed Signature header.
type sigParams struct {
	keyID     string
	algorithm string
	headers   []string // lowercased, in signed order
	signature []byte
	created   string // as sent; "" when absent
	expires   string
}

func parseSignature(raw string) (*sigParams, error) {
	params, err := parseParams(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed Signature header: %w", ErrBadSignature, err)
	}
	p := &sigParams{algorithm: algHS2019}
	var headers, sig string
	var hasHeaders bool
	for _, kv := range params {
		switch kv.name {
		case "keyId":
			p.keyID = kv.value
		case "algorithm":
			p.algorithm = strings.ToLower(kv.value)
		case "headers":
			headers, hasHeaders = kv.value, true
		case "signature":
			sig = kv.value
		case "created":
			p.created = kv.value
		case "expires":
			p.expires = kv.value
		}
	}
	if p.keyID == "" {
		return nil, fmt.Errorf("%w: no keyId", ErrBadSignature)
	}
	if p.algorithm != algRSASHA256 && p.algorithm != algHS2019 {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, p.algorithm)
	}
	if !hasHeaders {
		// The drafts' default list; it never satisfies requireHeaders.
		headers = "date"
		if p.algorithm == algHS2019 {
			headers = pseudoCreated
		}
	}
	for _, h := range strings.Fields(headers) {
		h = strings.ToLower(h)
		if (h == pseudoCreated || h == pseudoExpires) && p.algorithm != algHS2019 {
			// draft-cavage-12 §2.3: these pseudo-headers exist only for hs2019.
			return nil, fmt.Errorf("%w: %s signed with %s", ErrBadSignature, h, p.algorithm)
		}
		p.headers = append(p.headers, h)
	}
	for _, t := range []struct{ name, value string }{{"created", p.created}, {"expires", p.expires}} {
		if t.value != "" && !isTimestamp(t.value) {
			return nil, fmt.Errorf("%w: malformed %s %q", ErrBadSignature, t.name, t.value)
		}
	}
	if sig == "" {
		return nil, fmt.Errorf("%w: no signature", ErrBadSignature)
	}
	p.signature, err = base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not base64: %w", ErrBadSignature, err)
	}
	return p, nil
}

// isTimestamp reports whether s is a created/expires value: Unix seconds, optionally
// with a fraction (draft-cavage-12 §2.1.4).
func isTimestamp(s string) bool {
	whole, frac, hasFrac := strings.Cut(s, ".")
	return isDigits(whole) && len(whole) <= 12 && (!hasFrac || isDigits(frac))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// unixSeconds returns the time of a value accepted by isTimestamp, fraction dropped.
func unixSeconds(s string) time.Time {
	whole, _, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	return time.Unix(n, 0)
}

func (p *sigParams) signs(header string) bool {
	for _, h := range p.headers {
		if h == header {
			return true
		}
	}
	return false
}

// requireHeaders refuses signatures that leave out what makes them bind the request:
// the method and path, the host (else a request signed for one server could be
// replayed to another), the time, and the body.
func (p *sigParams) requireHeaders(withBody bool) error {
	var missing []string
	for _, h := range []string{pseudoRequestTarget, "host"} {
		if !p.signs(h) {
			missing = append(missing, h)
		}
	}
	if !p.signs("date") && !p.signs(pseudoCreated) {
		missing = append(missing, "date")
	}
	if withBody && !p.signs("digest") {
		missing = append(missing, "digest")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not signed (signed: %q)", ErrMissingHeaders, strings.Join(missing, ", "), strings.Join(p.headers, " "))
	}
	return nil
}

// checkTime applies the window to every signed time: the Date header, created and
// expires.
func (v *Verifier) checkTime(r *http.Request, p *sigParams, now time.Time) error {
	maxAge := orDefault(v.MaxAge, DefaultMaxAge)
	maxFuture := orDefault(v.MaxFuture, DefaultMaxFuture)
	inWindow := func(what string, t time.Time) error {
		if t.Before(now.Add(-maxAge)) {
			return fmt.Errorf("%w: %s %s is more than %s before now (%s)", ErrClockSkew, what, t.UTC().Format(time.RFC3339), maxAge, now.UTC().Format(time.RFC3339))
		}
		if t.After(now.Add(maxFuture)) {
			return fmt.Errorf("%w: %s %s is more than %s after now (%s)", ErrClockSkew, what, t.UTC().Format(time.RFC3339), maxFuture, now.UTC().Format(time.RFC3339))
		}
		return nil
	}
	if p.signs("date") {
		dates := r.Header.Values("Date")
		switch len(dates) {
		case 0:
			return fmt.Errorf("%w: signed Date header absent", ErrMissingHeaders)
		case 1:
		default:
			return fmt.Errorf("%w: %d Date headers", ErrBadSignature, len(dates))
		}
		t, err := http.ParseTime(strings.TrimSpace(dates[0]))
		if err != nil {
			return fmt.Errorf("%w: unreadable Date %q", ErrClockSkew, dates[0])
		}
		if err := inWindow("Date", t); err != nil {
			return err
		}
	}
	if p.signs(pseudoCreated) && p.created != "" {
		if err := inWindow("created", unixSeconds(p.created)); err != nil {
			return err
		}
	}
	if p.signs(pseudoExpires) && p.expires != "" {
		if e := unixSeconds(p.expires); now.After(e.Add(maxFuture)) {
			return fmt.Errorf("%w: signature expired at %s (now %s)", ErrClockSkew, e.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// readBody reads at most MaxBodyBytes of the body and puts the bytes back in r.Body.
func (v *Verifier) readBody(r *http.Request) ([]byte, error) {
	limit := v.MaxBodyBytes
	if limit <= 0 {
		limit = DefaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, r.ContentLength, limit)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return []byte{}, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, limit)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// checkDigest compares the SHA-256 entries of the Digest header (RFC 3230: a
// comma-separated list of algorithm=base64 pairs) with the body. Every SHA-256 entry
// must match and at least one must be present; other algorithms are ignored.
func checkDigest(values []string, body []byte) error {
	if len(values) == 0 {
		return fmt.Errorf("%w: no Digest header", ErrMissingHeaders)
	}
	sum := sha256.Sum256(body)
	want := base64.StdEncoding.EncodeToString(sum[:])
	found := false
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			alg, value, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(alg), "sha-256") {
				continue
			}
			if strings.TrimSpace(value) != want {
				return fmt.Errorf("%w: SHA-256 of the body is %s", ErrDigestMismatch, want)
			}
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: Digest has no SHA-256 value", ErrDigestMismatch)
	}
	return nil
}

// signingStrings returns the strings the signature may cover: with the query string,
// then, if there is one, without it.
func (p *sigParams) signingStrings(r *http.Request) ([]string, error) {
	s, err := signingString(r, p.headers, requestTarget(r, true), p.created, p.expires)
	if err != nil {
		return nil, err
	}
	out := []string{s}
	if r.URL.RawQuery != "" && p.signs(pseudoRequestTarget) {
		s, err := signingString(r, p.headers, requestTarget(r, false), p.created, p.expires)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func verifyAny(pub *rsa.PublicKey, candidates []string, sig []byte) bool {
	for _, s := range candidates {
		hashed := sha256.Sum256([]byte(s))
		if rsa.VerifyPKCS1v15(pub, crypto.SHA256, hashed[:], sig) == nil {
			return true
		}
	}
	return false
}

// fetchKey obtains and checks the key at keyID, whose host is host.
func (v *Verifier) fetchKey(ctx context.Context, keyID, host string, refresh bool) (*rsa.PublicKey, string, error) {
	pemKey, owner, err := v.Keys.PublicKey(ctx, keyID, refresh)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrKeyFetch, keyID, err)
	}
	pub, err := ParsePublicKeyPEM(pemKey)
	if err != nil {
		if errors.Is(err, ErrUnsupportedAlgorithm) {
			return nil, "", fmt.Errorf("key %s: %w", keyID, err)
		}
		return nil, "", fmt.Errorf("%w: %s: %w", ErrKeyFetch, keyID, err)
	}
	if bits := pub.N.BitLen(); bits < minKeyBits || bits > maxKeyBits {
		return nil, "", fmt.Errorf("%w: key %s has %d bits, want %d to %d", ErrUnsupportedAlgorithm, keyID, bits, minKeyBits, maxKeyBits)
	}
	// The fetcher read the owner from the key's document; an owner on another server
	// would let that server's keys speak for actors they do not belong to.
	ownerHost, err := KeyHost(owner)
	if err != nil {
		return nil, "", fmt.Errorf("%w: key %s: owner: %w", ErrKeyFetch, keyID, err)
	}
	if ownerHost != host {
		return nil, "", fmt.Errorf("%w: key %s is owned by %s on another host", ErrKeyFetch, keyID, owner)
	}
	return pub, owner, nil
}

// claimRefresh reports whether keyID may be re-fetched now, and if so records it.
func (v *Verifier) claimRefresh(keyID string, now time.Time) bool {
	cooldown := orDefault(v.RefreshCooldown, DefaultRefreshCooldown)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.refreshed == nil {
		v.refreshed = make(map[string]time.Time)
	}
	if last, ok := v.refreshed[keyID]; ok && now.Sub(last) < cooldown {
		return false
	}
	if len(v.refreshed) >= maxRefreshTracked {
		for id, last := range v.refreshed {
			if now.Sub(last) >= cooldown {
				delete(v.refreshed, id)
			}
		}
		if len(v.refreshed) >= maxRefreshTracked {
			return false
		}
	}
	v.refreshed[keyID] = now
	return true
}
