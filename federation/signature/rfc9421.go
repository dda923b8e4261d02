package signature

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// RFC 9421 algorithm names (the alg parameter) that Verify accepts.
const (
	algRSAv15SHA256 = "rsa-v1_5-sha256"
	algRSAPSSSHA512 = "rsa-pss-sha512"
	algEd25519      = "ed25519"
)

// maxMessageSignatures bounds how many labelled signatures one request may carry.
const maxMessageSignatures = 4

// messageSignature is one labelled RFC 9421 signature of a request.
type messageSignature struct {
	label      string
	components []string // component identifiers, in signed order
	params     string   // the serialized @signature-params value
	keyID      string
	alg        string // "" when the signer left it to the key
	created    time.Time
	expires    time.Time // zero when absent
	signature  []byte
}

func (m *messageSignature) covers(component string) bool {
	for _, c := range m.components {
		if c == component {
			return true
		}
	}
	return false
}

// parseMessageSignatures reads the Signature-Input and Signature dictionaries (each
// possibly spread over several header lines) and pairs their members by label. Every
// label of Signature-Input must have a signature.
func parseMessageSignatures(inputs, signatures []string) ([]*messageSignature, error) {
	in, err := parseDictionary(strings.Join(inputs, ", "))
	if err != nil {
		return nil, fmt.Errorf("%w: malformed Signature-Input: %w", ErrBadSignature, err)
	}
	sigs, err := parseDictionary(strings.Join(signatures, ", "))
	if err != nil {
		return nil, fmt.Errorf("%w: malformed Signature: %w", ErrBadSignature, err)
	}
	if len(in) == 0 {
		return nil, fmt.Errorf("%w: empty Signature-Input", ErrBadSignature)
	}
	if len(in) > maxMessageSignatures {
		return nil, fmt.Errorf("%w: %d signatures, at most %d", ErrBadSignature, len(in), maxMessageSignatures)
	}
	var out []*messageSignature
	for _, m := range in {
		ms, err := parseMessageSignature(m)
		if err != nil {
			return nil, err
		}
		for _, s := range sigs {
			if s.key == m.key {
				if s.inner || s.item.kind != sfBytes || len(s.item.bytes) == 0 {
					return nil, fmt.Errorf("%w: signature %q is not a byte sequence", ErrBadSignature, m.key)
				}
				ms.signature = s.item.bytes
			}
		}
		if ms.signature == nil {
			return nil, fmt.Errorf("%w: no signature for label %q", ErrBadSignature, m.key)
		}
		out = append(out, ms)
	}
	return out, nil
}

// parseMessageSignature reads one member of Signature-Input.
func parseMessageSignature(m sfMember) (*messageSignature, error) {
	if !m.inner {
		return nil, fmt.Errorf("%w: Signature-Input %q is not an inner list", ErrBadSignature, m.key)
	}
	ms := &messageSignature{label: m.key, params: serializeInnerList(m.list, m.params)}
	for _, it := range m.list {
		if it.kind != sfString {
			return nil, fmt.Errorf("%w: component of %q is not a string", ErrBadSignature, m.key)
		}
		if len(it.params) > 0 {
			// ;sf, ;key, ;bs, ;req, ;tr and ;name select parts of fields this
			// verifier does not rebuild; peers have no need of them on requests.
			return nil, fmt.Errorf("%w: component %q has parameters", ErrUnsupportedAlgorithm, it.str)
		}
		if it.str == "" || it.str != strings.ToLower(it.str) {
			return nil, fmt.Errorf("%w: component %q is not a lowercase name", ErrBadSignature, it.str)
		}
		if ms.covers(it.str) {
			return nil, fmt.Errorf("%w: component %q repeated", ErrBadSignature, it.str)
		}
		ms.components = append(ms.components, it.str)
	}
	var hasCreated bool
	for _, p := range m.params {
		switch p.key {
		case "keyid":
			if p.value.kind != sfString {
				return nil, fmt.Errorf("%w: keyid is not a string", ErrBadSignature)
			}
			ms.keyID = p.value.str
		case "alg":
			if p.value.kind != sfString {
				return nil, fmt.Errorf("%w: alg is not a string", ErrBadSignature)
			}
			ms.alg = p.value.str
		case "created", "expires":
			if p.value.kind != sfInteger || p.value.integer < 0 {
				return nil, fmt.Errorf("%w: %s is not a time", ErrBadSignature, p.key)
			}
			t := time.Unix(p.value.integer, 0)
			if p.key == "created" {
				ms.created, hasCreated = t, true
			} else {
				ms.expires = t
			}
		}
	}
	if ms.keyID == "" {
		return nil, fmt.Errorf("%w: signature %q has no keyid", ErrBadSignature, m.key)
	}
	if !hasCreated {
		return nil, fmt.Errorf("%w: signature %q has no created time", ErrMissingHeaders, m.key)
	}
	switch ms.alg {
	case "", algRSAv15SHA256, algRSAPSSSHA512, algEd25519:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, ms.alg)
	}
	return ms, nil
}

// requireComponents refuses signatures that leave out what makes them bind the
// request, as requireHeaders does for draft-cavage: the method, the target (path and
// query), the host, and the body's digest.
func (m *messageSignature) requireComponents(r *http.Request, withBody bool) error {
	var missing []string
	if !m.covers("@method") {
		missing = append(missing, "@method")
	}
	target := m.covers("@target-uri") || m.covers("@request-target") ||
		(m.covers("@path") && (r.URL.RawQuery == "" || m.covers("@query")))
	if !target {
		missing = append(missing, "@target-uri")
	}
	if !m.covers("@target-uri") && !m.covers("@authority") && !m.covers("host") {
		missing = append(missing, "@authority")
	}
	if withBody && !m.covers("content-digest") && !m.covers("digest") {
		missing = append(missing, "content-digest")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s not covered (covered: %q)", ErrMissingHeaders, strings.Join(missing, ", "), strings.Join(m.components, " "))
	}
	return nil
}

// verifyMessageSignature checks an RFC 9421 signature, with the same guarantees as the
// draft-cavage path of Verify: the first labelled signature whose covered components,
// host and times are acceptable is verified (a request may carry signatures added by
// proxies for others); the rest are ignored.
//
// It requires a keyid and a created parameter; alg, when given, must be
// rsa-v1_5-sha256, rsa-pss-sha512 or ed25519 (without it the key decides: Ed25519,
// or RSA with either RSA algorithm). The covered components must include @method,
// the target (@target-uri, @request-target, or @path with @query when there is a
// query), the host (@target-uri, @authority or host) and, for requests with a body,
// content-digest (or the older digest). @target-uri and @authority are rebuilt with
// Scheme and the request's host, which must be Host.
func (v *Verifier) verifyMessageSignature(ctx context.Context, r *http.Request) (*Verified, []byte, error) {
	if len(r.Header.Values("Signature")) == 0 {
		return nil, nil, fmt.Errorf("%w: Signature-Input without Signature", ErrBadSignature)
	}
	all, err := parseMessageSignatures(r.Header.Values("Signature-Input"), r.Header.Values("Signature"))
	if err != nil {
		return nil, nil, err
	}
	now := v.now()
	withBody := methodHasBody(r.Method) || r.ContentLength > 0
	if err := v.checkHost(requestHost(r)); err != nil {
		return nil, nil, err
	}
	var ms *messageSignature
	var firstErr error
	for _, m := range all {
		err := v.checkMessageSignature(r, m, now, withBody)
		if err == nil {
			ms = m
			break
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if ms == nil {
		return nil, nil, firstErr
	}
	host, err := KeyHost(ms.keyID)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	body, err := v.readBody(r)
	if err != nil {
		return nil, nil, err
	}
	if len(body) > 0 && !withBody {
		withBody = true
		if err := ms.requireComponents(r, withBody); err != nil {
			return nil, body, err
		}
	}
	if err := checkBodyDigests(r, body, withBody); err != nil {
		return nil, body, err
	}
	base, err := v.signatureBase(r, ms)
	if err != nil {
		return nil, body, err
	}
	owner, err := v.verifyWithKey(ctx, ms.keyID, host, now, func(pub crypto.PublicKey) bool {
		return verifyMessage(pub, ms.alg, []byte(base), ms.signature)
	})
	if err != nil {
		return nil, body, err
	}
	if !withBody {
		if err := v.checkReplay(ctx, r, ms.keyID, ms.signature, now); err != nil {
			return nil, body, err
		}
	}
	return &Verified{KeyID: ms.keyID, Owner: owner, Host: host}, body, nil
}

// checkMessageSignature applies the cheap checks to one labelled signature.
func (v *Verifier) checkMessageSignature(r *http.Request, m *messageSignature, now time.Time, withBody bool) error {
	if err := m.requireComponents(r, withBody); err != nil {
		return err
	}
	if err := v.window(now, withBody)("created", m.created); err != nil {
		return err
	}
	if !m.expires.IsZero() && now.After(m.expires.Add(orDefault(v.MaxFuture, DefaultMaxFuture))) {
		return fmt.Errorf("%w: signature expired at %s (now %s)", ErrClockSkew, m.expires.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkBodyDigests checks the body against Content-Digest (RFC 9530) and, when
// present, the older Digest header. A request with a body must have one of them.
func checkBodyDigests(r *http.Request, body []byte, withBody bool) error {
	cd := r.Header.Values("Content-Digest")
	d := r.Header.Values("Digest")
	if withBody && len(cd) == 0 && len(d) == 0 {
		return fmt.Errorf("%w: no Content-Digest header", ErrMissingHeaders)
	}
	if len(cd) > 0 {
		if err := checkContentDigest(cd, body); err != nil {
			return err
		}
	}
	if len(d) > 0 {
		return checkDigest(d, body)
	}
	return nil
}

// checkContentDigest compares the sha-256 and sha-512 members of Content-Digest with
// the body: every one present must match, and one must be present.
func checkContentDigest(values []string, body []byte) error {
	members, err := parseDictionary(strings.Join(values, ", "))
	if err != nil {
		return fmt.Errorf("%w: malformed Content-Digest: %w", ErrDigestMismatch, err)
	}
	found := false
	for _, m := range members {
		var sum []byte
		switch m.key {
		case "sha-256":
			s := sha256.Sum256(body)
			sum = s[:]
		case "sha-512":
			s := sha512.Sum512(body)
			sum = s[:]
		default:
			continue
		}
		if m.inner || m.item.kind != sfBytes || subtle.ConstantTimeCompare(m.item.bytes, sum) != 1 {
			return fmt.Errorf("%w: Content-Digest %s does not match the body", ErrDigestMismatch, m.key)
		}
		found = true
	}
	if !found {
		return fmt.Errorf("%w: Content-Digest has no sha-256 or sha-512 value", ErrDigestMismatch)
	}
	return nil
}

// signatureBase builds the RFC 9421 §2.5 signature base of r for m.
func (v *Verifier) signatureBase(r *http.Request, m *messageSignature) (string, error) {
	var b strings.Builder
	for _, c := range m.components {
		value, err := v.componentValue(r, c)
		if err != nil {
			return "", err
		}
		if strings.ContainsAny(value, "\r\n") {
			return "", fmt.Errorf("%w: line break in %q", ErrBadSignature, c)
		}
		b.WriteString(`"` + c + `": ` + value + "\n")
	}
	b.WriteString(`"@signature-params": ` + m.params)
	return b.String(), nil
}

// componentValue is the value of one covered component (RFC 9421 §2.1, §2.2).
func (v *Verifier) componentValue(r *http.Request, c string) (string, error) {
	authority := func() (string, error) {
		a, err := normalHost(v.scheme(), requestHost(r))
		if err != nil {
			return "", fmt.Errorf("%w: request host: %w", ErrBadSignature, err)
		}
		return a, nil
	}
	switch c {
	case "@method":
		if r.Method == "" {
			return http.MethodGet, nil
		}
		return r.Method, nil
	case "@authority":
		return authority()
	case "@scheme":
		return v.scheme(), nil
	case "@target-uri":
		a, err := authority()
		if err != nil {
			return "", err
		}
		return v.scheme() + "://" + a + requestURI(r), nil
	case "@request-target":
		return requestURI(r), nil
	case "@path":
		if p := r.URL.EscapedPath(); p != "" {
			return p, nil
		}
		return "/", nil
	case "@query":
		return "?" + r.URL.RawQuery, nil
	case "host":
		return requestHost(r), nil
	}
	if strings.HasPrefix(c, "@") {
		return "", fmt.Errorf("%w: component %q", ErrUnsupportedAlgorithm, c)
	}
	values := r.Header.Values(c)
	if len(values) == 0 {
		return "", fmt.Errorf("%w: covered field %q absent from request", ErrMissingHeaders, c)
	}
	for i := range values {
		values[i] = strings.TrimSpace(values[i])
	}
	return strings.Join(values, ", "), nil
}

// requestURI is the request target as it came on the wire, in origin form.
func requestURI(r *http.Request) string {
	if u := r.RequestURI; strings.HasPrefix(u, "/") {
		return u
	}
	return r.URL.RequestURI()
}

// verifyMessage checks sig over base with pub, by alg or, when alg is empty, by the
// key's type.
func verifyMessage(pub crypto.PublicKey, alg string, base, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return (alg == "" || alg == algEd25519) && ed25519.Verify(k, base, sig)
	case *rsa.PublicKey:
		v15 := func() bool {
			h := sha256.Sum256(base)
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
		}
		pss := func() bool {
			h := sha512.Sum512(base)
			return rsa.VerifyPSS(k, crypto.SHA512, h[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto, Hash: crypto.SHA512}) == nil
		}
		switch alg {
		case algRSAv15SHA256:
			return v15()
		case algRSAPSSSHA512:
			return pss()
		case "":
			return v15() || pss()
		}
	}
	return false
}
