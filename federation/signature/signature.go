// Package signature signs and verifies HTTP requests between ActivityPub servers.
//
// Two schemes are verified, behind one RequestVerifier: draft-cavage-http-signatures-12
// as the fediverse uses it (RSA keys, rsa-sha256 or hs2019, a SHA-256 Digest header
// covering the body), and RFC 9421 HTTP Message Signatures (Signature-Input and
// Signature dictionaries; rsa-v1_5-sha256, rsa-pss-sha512 and ed25519; a
// Content-Digest covering the body), which Mastodon is moving to.
//
// Outgoing requests are signed by SignRequest the way Mastodon signs them (draft-cavage),
// so every Mastodon-compatible server accepts them.
//
// The signing string (draft-cavage §2.3) is built here rather than by
// github.com/go-fed/httpsig, which the tests keep as an independent implementation to
// check interoperability against. That library always announces algorithm="hs2019"
// (some peers only accept "rsa-sha256"), signs the decoded path, so percent-encoded
// paths do not match what the peer sees on the wire, and its verifier neither checks
// the algorithm nor exposes the list of signed headers, so it cannot enforce which
// headers a signature must cover.
//
// What a verified signature proves, and what it does not: the request was produced by
// the holder of the key at keyId, for this server (the signed host must be
// Verifier.Host), with the signed method, target and headers and, through the digest,
// the body unchanged, within a short time window. A captured request can still be
// replayed to this same server within that window: requests with a body are activities,
// whose ids the inbox remembers; requests without one (GETs) are remembered by their
// signature and refused when they come again from another client address. It does not
// prove the activity inside the body originates from the signer's host: the inbox
// compares Verified.Host with KeyHost of the activity's id.
package signature

import (
	"context"
	"errors"
	"net/http"
)

// Errors returned by Verify, always wrapped with details; test them with errors.Is.
// StatusCode maps them to the HTTP status an endpoint should answer.
var (
	// ErrNoSignature means the request carries no Signature header and no
	// "Authorization: Signature" header.
	ErrNoSignature = errors.New("no HTTP signature")
	// ErrBadSignature means the signature is malformed or does not match the request
	// and the signer's key.
	ErrBadSignature = errors.New("bad HTTP signature")
	// ErrClockSkew means the signed Date (or created/expires parameters) lies outside
	// the accepted window: too old, expired, or in the future.
	ErrClockSkew = errors.New("HTTP signature date out of range")
	// ErrDigestMismatch means the Digest header is missing a SHA-256 value or does not
	// match the body.
	ErrDigestMismatch = errors.New("digest does not match body")
	// ErrUnsupportedAlgorithm means the signature uses an algorithm or key type this
	// package does not verify, or a signature scheme it does not know. A server may
	// treat a GET refused with it as unsigned.
	ErrUnsupportedAlgorithm = errors.New("unsupported signature algorithm")
	// ErrMissingHeaders means the signature does not cover a header Tacit requires
	// ((request-target), host, date or (created), and digest for requests with a
	// body), or a signed header is absent from the request.
	ErrMissingHeaders = errors.New("signature does not cover required headers")
	// ErrTooLarge means the body exceeds Verifier.MaxBodyBytes.
	ErrTooLarge = errors.New("request body too large")
	// ErrKeyFetch means the signer's public key could not be obtained or is unusable.
	ErrKeyFetch = errors.New("cannot obtain signer's public key")
	// ErrWrongHost means the request was signed for another server: its signed host
	// (or RFC 9421 authority) is not Verifier.Host. Such a request was captured and
	// replayed, by the server it was meant for or by someone on the way.
	ErrWrongHost = errors.New("signature is for another host")
	// ErrReplayed means a request without a body came again with a signature already
	// seen, from another client address: a copy of someone else's request.
	ErrReplayed = errors.New("replayed HTTP signature")
)

// RequestVerifier authenticates a request signed by another server. Handlers depend on
// this interface rather than on *Verifier so that they need not know which signature
// scheme a request used.
type RequestVerifier interface {
	// Verify authenticates r and returns what the signature proves together with the
	// request body, which it has read (and capped); r.Body is replaced by a reader
	// over the same bytes.
	Verify(ctx context.Context, r *http.Request) (*Verified, []byte, error)
}

// Verified is what a valid signature proves.
type Verified struct {
	// KeyID is the URL of the key that signed the request.
	KeyID string
	// Owner is the id of the actor owning the key, as reported by the KeyFetcher.
	Owner string
	// Host is KeyHost(KeyID): the lowercased host[:port] of the signer's server. The
	// inbox compares it with KeyHost of the activity's id.
	Host string
}

// StatusCode returns the HTTP status an endpoint should answer when Verify fails with
// err: 413 for a body over the limit, 400 for a body that does not match its own
// Digest or cannot be read, and 401 for everything that means "we do not know who
// sent this" (as Mastodon answers). It returns 200 for a nil error.
func StatusCode(err error) int {
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrDigestMismatch):
		return http.StatusBadRequest
	case errors.Is(err, ErrNoSignature), errors.Is(err, ErrBadSignature),
		errors.Is(err, ErrClockSkew), errors.Is(err, ErrUnsupportedAlgorithm),
		errors.Is(err, ErrMissingHeaders), errors.Is(err, ErrKeyFetch),
		errors.Is(err, ErrWrongHost), errors.Is(err, ErrReplayed):
		return http.StatusUnauthorized
	default:
		return http.StatusBadRequest
	}
}
