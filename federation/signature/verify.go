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
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of the Verifier's zero fields.
const (
	// DefaultMaxAge is how old a signed Date may be on a request with a body (an inbox
	// delivery). Servers sign each delivery when they send it, so a genuine request is
	// seconds old on arrival; an hour covers slow networks, proxies that queue and
	// clocks running behind. A replayed delivery is harmless besides: it can only
	// reach this server (the host is signed) and the inbox drops activity ids it has
	// seen.
	DefaultMaxAge = time.Hour
	// DefaultMaxAgeWithoutBody is how old the signature of a request without a body (a
	// signed GET) may be. Its answer goes to whoever sends it, so a captured GET is
	// worth replaying; peers sign each GET as they send it, and a few minutes cover
	// clock drift.
	DefaultMaxAgeWithoutBody = 5 * time.Minute
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

// maxSeenTracked bounds the table of recently seen GET signatures. Only verified
// signatures enter it, so only servers we federate with can fill it; when it is full
// of live entries, half of them are forgotten (replays of those are then let
// through, which is no worse than having no table).
const maxSeenTracked = 100000

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

// Verifier checks draft-cavage and RFC 9421 signatures on incoming requests. Set Keys
// and Host; the other fields default when zero. A Verifier is safe for concurrent use
// and must not be copied after first use.
type Verifier struct {
	// Keys provides the signers' public keys.
	Keys KeyFetcher
	// Host is this server's host[:port], as peers address it (the configured host).
	// A signature must cover the request's host (draft-cavage "host", RFC 9421
	// "@authority" or "@target-uri") and that host must be this one, so a request
	// signed for another server cannot be replayed here. Empty disables the check; a
	// server must set it.
	Host string
	// Scheme is "https" or "http", how peers reach this server; RFC 9421's
	// @target-uri and @scheme are rebuilt with it, since behind a proxy the request
	// arrives without TLS. "https" if empty.
	Scheme string
	// MaxAge is how old the signed Date (or created) of a request with a body may be;
	// DefaultMaxAge if zero.
	MaxAge time.Duration
	// MaxAgeWithoutBody is how old the signed Date (or created) of a request without a
	// body may be; DefaultMaxAgeWithoutBody if zero.
	MaxAgeWithoutBody time.Duration
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
	seen      map[[32]byte]seenSignature

	// parsed keeps decoded keys by their PEM text: a busy peer signs every delivery
	// with the same few keys, and decoding one (PEM, ASN.1) costs about a third of
	// verifying a signature with it. Keyed by the text itself, an entry can never be
	// stale; the fetcher decides which text is current.
	parsedMu sync.Mutex
	parsed   map[string]crypto.PublicKey
}

// maxParsedKeys bounds Verifier.parsed. Peers of a company are a handful of servers
// with a key per account; when the table is full it starts over.
const maxParsedKeys = 4096

// seenSignature is a verified signature of a request without a body: who sent it
// first, and until when it could still be accepted.
type seenSignature struct {
	addr  string
	until time.Time
}

var _ RequestVerifier = (*Verifier)(nil)

type clientAddrKey struct{}

// WithClientAddr returns a context telling Verify the address of the client that sent
// the request, when the server knows it better than http.Request.RemoteAddr does (a
// reverse proxy in front). Verify uses it to tell a client repeating its own signed GET
// from someone else replaying it.
func WithClientAddr(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientAddrKey{}, addr)
}

func clientAddr(ctx context.Context, r *http.Request) string {
	if a, ok := ctx.Value(clientAddrKey{}).(string); ok && a != "" {
		return a
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Verify checks r's signature and returns what it proves and the body. A request with
// a Signature-Input header is checked as an RFC 9421 message signature (see
// verifyMessageSignature); any other as draft-cavage:
//
// It requires a Signature header (or "Authorization: Signature ...") with a keyId, an
// algorithm of rsa-sha256 or hs2019 (hs2019 when absent, as Mastodon assumes; the key
// must be RSA either way), and signed headers including (request-target), host, date
// (or, with hs2019, the (created) parameter), and digest when the request has a body
// (a POST, PUT or PATCH, or any request with a non-empty body). The signed host must
// be Host. The signed Date must lie between MaxAge (MaxAgeWithoutBody for a request
// without a body) in the past and MaxFuture in the future. With a body, or whenever a
// Digest header is present, its SHA-256 value (spelt SHA-256 or sha-256) must match
// the body. The (request-target) is checked with the query string and, for requests
// that have one, also without it, because older Mastodon versions leave it out when
// signing.
//
// Under both schemes: when the signature does not match the key obtained from Keys,
// Verify asks Keys once more with refresh=true, in case the key rotated, unless that
// key was re-fetched less than RefreshCooldown ago. The key's owner must be on the
// key's host. A request without a body whose signature was already verified from
// another client address (see WithClientAddr) within its window is refused with
// ErrReplayed.
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
	if len(r.Header.Values("Signature-Input")) > 0 {
		return v.verifyMessageSignature(ctx, r)
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
	if err := v.checkHost(requestHost(r)); err != nil {
		return nil, nil, err
	}
	if err := v.checkTime(r, p, now, withBody); err != nil {
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
		// The window checked above was the one for bodiless requests, the shorter.
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
	check := func(pub crypto.PublicKey) bool {
		rsaKey, ok := pub.(*rsa.PublicKey)
		return ok && verifyAny(rsaKey, candidates, p.signature)
	}
	owner, err := v.verifyWithKey(ctx, p.keyID, host, now, check)
	if err != nil {
		return nil, body, err
	}
	if !withBody {
		if err := v.checkReplay(ctx, r, p.keyID, p.signature, now); err != nil {
			return nil, body, err
		}
	}
	return &Verified{KeyID: p.keyID, Owner: owner, Host: host}, body, nil
}

// verifyWithKey obtains the key at keyID and runs check on it, re-fetching it once (if
// the cool-down allows) when check fails, in case the key rotated. It returns the
// key's owner.
func (v *Verifier) verifyWithKey(ctx context.Context, keyID, host string, now time.Time, check func(crypto.PublicKey) bool) (string, error) {
	pub, owner, err := v.fetchKey(ctx, keyID, host, false)
	if err != nil {
		return "", err
	}
	if check(pub) {
		return owner, nil
	}
	if !v.claimRefresh(keyID, now) {
		return "", fmt.Errorf("%w: signature does not match key %s", ErrBadSignature, keyID)
	}
	fresh, owner, err := v.fetchKey(ctx, keyID, host, true)
	if err != nil {
		return "", err
	}
	if !sameKey(fresh, pub) && check(fresh) {
		return owner, nil
	}
	return "", fmt.Errorf("%w: signature does not match key %s, even re-fetched", ErrBadSignature, keyID)
}

func sameKey(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

// checkHost refuses a request addressed (and so signed) for another host than v.Host.
func (v *Verifier) checkHost(reqHost string) error {
	if v.Host == "" {
		return nil
	}
	got, err := normalHost(v.scheme(), reqHost)
	if err != nil {
		return fmt.Errorf("%w: request host %q: %w", ErrWrongHost, reqHost, err)
	}
	want, err := normalHost(v.scheme(), v.Host)
	if err != nil || got != want {
		return fmt.Errorf("%w: signed for %s, this is %s", ErrWrongHost, got, v.Host)
	}
	return nil
}

func (v *Verifier) scheme() string {
	if v.Scheme == "" {
		return "https"
	}
	return strings.ToLower(v.Scheme)
}

// normalHost lowercases a host[:port] and drops the scheme's default port, as
// KeyHost does for URLs.
func normalHost(scheme, host string) (string, error) {
	if host == "" || strings.ContainsAny(host, "/?#@ \t\r\n") {
		return "", errors.New("not a host")
	}
	return KeyHost(scheme + "://" + host + "/")
}

// checkReplay remembers the signature of a verified request without a body and
// refuses it when it was first seen from another client address within its window.
// A client repeating its own request (a retry, or two identical GETs within the
// second of one Date) is let through.
func (v *Verifier) checkReplay(ctx context.Context, r *http.Request, keyID string, sig []byte, now time.Time) error {
	h := sha256.New()
	h.Write([]byte(keyID))
	h.Write([]byte{0})
	h.Write(sig)
	var id [32]byte
	h.Sum(id[:0])
	addr := clientAddr(ctx, r)
	until := now.Add(orDefault(v.MaxAgeWithoutBody, DefaultMaxAgeWithoutBody) + orDefault(v.MaxFuture, DefaultMaxFuture))

	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seen == nil {
		v.seen = make(map[[32]byte]seenSignature)
	}
	if s, ok := v.seen[id]; ok && now.Before(s.until) {
		if s.addr != addr {
			return fmt.Errorf("%w: signature of %s first seen from %s, now from %s", ErrReplayed, keyID, s.addr, addr)
		}
		return nil
	}
	if len(v.seen) >= maxSeenTracked {
		for k, s := range v.seen {
			if !now.Before(s.until) {
				delete(v.seen, k)
			}
		}
		for k := range v.seen {
			if len(v.seen) < maxSeenTracked/2 {
				break
			}
			delete(v.seen, k)
		}
	}
	v.seen[id] = seenSignature{addr: addr, until: until}
	return nil
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

// window returns the check of a signed time against now: not older than the age
// allowed for requests with or without a body, not further ahead than MaxFuture.
func (v *Verifier) window(now time.Time, withBody bool) func(what string, t time.Time) error {
	maxAge := orDefault(v.MaxAge, DefaultMaxAge)
	if !withBody {
		maxAge = orDefault(v.MaxAgeWithoutBody, DefaultMaxAgeWithoutBody)
	}
	maxFuture := orDefault(v.MaxFuture, DefaultMaxFuture)
	return func(what string, t time.Time) error {
		if t.Before(now.Add(-maxAge)) {
			return fmt.Errorf("%w: %s %s is more than %s before now (%s)", ErrClockSkew, what, t.UTC().Format(time.RFC3339), maxAge, now.UTC().Format(time.RFC3339))
		}
		if t.After(now.Add(maxFuture)) {
			return fmt.Errorf("%w: %s %s is more than %s after now (%s)", ErrClockSkew, what, t.UTC().Format(time.RFC3339), maxFuture, now.UTC().Format(time.RFC3339))
		}
		return nil
	}
}

// checkTime applies the window to every signed time: the Date header, created and
// expires.
func (v *Verifier) checkTime(r *http.Request, p *sigParams, now time.Time, withBody bool) error {
	maxFuture := orDefault(v.MaxFuture, DefaultMaxFuture)
	inWindow := v.window(now, withBody)
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
func (v *Verifier) fetchKey(ctx context.Context, keyID, host string, refresh bool) (crypto.PublicKey, string, error) {
	pemKey, owner, err := v.Keys.PublicKey(ctx, keyID, refresh)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %s: %w", ErrKeyFetch, keyID, err)
	}
	pub, err := v.publicKey(pemKey)
	if err != nil {
		if errors.Is(err, ErrUnsupportedAlgorithm) {
			return nil, "", fmt.Errorf("key %s: %w", keyID, err)
		}
		return nil, "", fmt.Errorf("%w: %s: %w", ErrKeyFetch, keyID, err)
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

// publicKey decodes a PEM key that Verify can use (see parsePublicKey), refusing RSA
// keys of a size outside minKeyBits..maxKeyBits, and remembers the result.
func (v *Verifier) publicKey(pemKey string) (crypto.PublicKey, error) {
	v.parsedMu.Lock()
	pub, ok := v.parsed[pemKey]
	v.parsedMu.Unlock()
	if ok {
		return pub, nil
	}
	pub, err := parsePublicKey(pemKey)
	if err != nil {
		return nil, err
	}
	if k, ok := pub.(*rsa.PublicKey); ok {
		if bits := k.N.BitLen(); bits < minKeyBits || bits > maxKeyBits {
			return nil, fmt.Errorf("%w: key has %d bits, want %d to %d", ErrUnsupportedAlgorithm, bits, minKeyBits, maxKeyBits)
		}
	}
	v.parsedMu.Lock()
	if v.parsed == nil || len(v.parsed) >= maxParsedKeys {
		v.parsed = make(map[string]crypto.PublicKey)
	}
	v.parsed[pemKey] = pub
	v.parsedMu.Unlock()
	return pub, nil
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
