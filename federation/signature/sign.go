package signature

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Algorithm names of the Signature header's algorithm parameter. hs2019 hides the
// algorithm, which is then derived from the key: with an RSA key it means RSASSA
// PKCS #1 v1.5 with SHA-256, exactly rsa-sha256.
const (
	algRSASHA256 = "rsa-sha256"
	algHS2019    = "hs2019"
)

// Pseudo-headers of draft-cavage §2.3.
const (
	pseudoRequestTarget = "(request-target)"
	pseudoCreated       = "(created)"
	pseudoExpires       = "(expires)"
)

// SignRequest signs an outgoing request as Mastodon does: draft-cavage,
// algorithm="rsa-sha256", covering "(request-target) host date digest" when the
// request has a body and "(request-target) host date" otherwise. It sets Date to now
// (RFC 1123, GMT) and, with a body, Digest to SHA-256=<base64>, then the Signature
// header.
//
// A request has a body when body is non-nil or the method is POST, PUT or PATCH. The
// body is passed explicitly because a request's Body can only be read once; r.Body,
// GetBody and ContentLength are set from it, so the caller need not set them. keyID
// is the key's URL (https://host/users/alice#main-key). Sign last: a header changed
// afterwards, or a different Host, invalidates the signature.
func SignRequest(r *http.Request, body []byte, keyID string, key *rsa.PrivateKey) error {
	if key == nil {
		return errors.New("sign request: nil key")
	}
	if r.URL == nil {
		return errors.New("sign request: request has no URL")
	}
	if _, err := KeyHost(keyID); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	// Some peers parse the header with a plain split on quotes; keep the keyId free of
	// anything that would need escaping.
	if strings.ContainsAny(keyID, "\"\\") {
		return fmt.Errorf("sign request: keyId %q contains a quote or backslash", keyID)
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	headers := []string{pseudoRequestTarget, "host", "date"}
	r.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if body != nil || methodHasBody(r.Method) {
		sum := sha256.Sum256(body)
		r.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
		setBody(r, body)
		headers = append(headers, "digest")
	}
	s, err := signingString(r, headers, requestTarget(r, true), "", "")
	if err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	hashed := sha256.Sum256([]byte(s))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, hashed[:])
	if err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	r.Header.Set("Signature", formatParams([]param{
		{"keyId", keyID},
		{"algorithm", algRSASHA256},
		{"headers", strings.Join(headers, " ")},
		{"signature", base64.StdEncoding.EncodeToString(sig)},
	}))
	return nil
}

// methodHasBody reports whether requests with this method carry a body by nature;
// for those a Digest is signed even when the body is empty, as Mastodon demands.
func methodHasBody(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return true
	}
	return false
}

// setBody makes body the request's body, readable again by redirects and retries.
func setBody(r *http.Request, body []byte) {
	r.ContentLength = int64(len(body))
	if len(body) == 0 {
		// A zero ContentLength with a non-nil Body means "unknown length" to
		// net/http, which would send the request chunked.
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// requestTarget is the value of the (request-target) pseudo-header: the lowercased
// method, a space, and the path as sent on the wire (percent-encoding preserved),
// with the query when withQuery is set.
func requestTarget(r *http.Request, withQuery bool) string {
	method := strings.ToLower(r.Method)
	if method == "" {
		method = "get"
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if withQuery && r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	return method + " " + path
}

// requestHost is the Host the request is (or was) sent with: net/http keeps it in
// r.Host, not in r.Header, on both the client and the server side.
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// signingString builds the draft-cavage §2.3 string: one "name: value" line per
// listed header, in the listed order, joined by "\n". Multiple values of a header are
// trimmed and joined with ", ". headers must be lowercase.
func signingString(r *http.Request, headers []string, target, created, expires string) (string, error) {
	var b strings.Builder
	for i, h := range headers {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(h)
		b.WriteString(": ")
		switch h {
		case pseudoRequestTarget:
			b.WriteString(target)
		case pseudoCreated:
			if created == "" {
				return "", fmt.Errorf("%w: (created) signed without a created parameter", ErrBadSignature)
			}
			b.WriteString(created)
		case pseudoExpires:
			if expires == "" {
				return "", fmt.Errorf("%w: (expires) signed without an expires parameter", ErrBadSignature)
			}
			b.WriteString(expires)
		case "host":
			host := requestHost(r)
			if host == "" {
				return "", fmt.Errorf("%w: request has no host", ErrMissingHeaders)
			}
			if strings.ContainsAny(host, "\r\n") {
				return "", fmt.Errorf("%w: line break in host", ErrBadSignature)
			}
			b.WriteString(host)
		default:
			if strings.HasPrefix(h, "(") {
				return "", fmt.Errorf("%w: unknown pseudo-header %q", ErrBadSignature, h)
			}
			values := r.Header.Values(h)
			if len(values) == 0 {
				return "", fmt.Errorf("%w: signed header %q absent from request", ErrMissingHeaders, h)
			}
			for j, v := range values {
				if strings.ContainsAny(v, "\r\n") {
					return "", fmt.Errorf("%w: line break in header %q", ErrBadSignature, h)
				}
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(strings.TrimSpace(v))
			}
		}
	}
	return b.String(), nil
}
