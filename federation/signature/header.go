package signature

import (
	"errors"
	"fmt"
	"strings"
)

// param is one name="value" pair of a Signature header, value unquoted.
type param struct {
	name, value string
}

// Bounds on the header parsed; a real one is well under 1 KiB (a 4096-bit
// signature is 684 base64 characters) and has at most six parameters.
const (
	maxSignatureHeader = 8 << 10
	maxParams          = 16
)

// parseParams reads the parameter list of a draft-cavage Signature header:
//
//	params = [ param *( OWS "," OWS param ) ]
//	param  = token BWS "=" BWS ( token / quoted-string )
//
// quoted-string as in RFC 9110 §5.6.4, with backslash escapes. Empty list elements
// are skipped (RFC 9110 §5.6.1). A repeated name is an error: different
// implementations keep the first or the last, and a signature must mean one thing.
// Names are case-sensitive, as Mastodon treats them.
func parseParams(s string) ([]param, error) {
	if len(s) > maxSignatureHeader {
		return nil, fmt.Errorf("signature header longer than %d bytes", maxSignatureHeader)
	}
	var out []param
	i := 0
	skipOWS := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skipOWS()
		for i < len(s) && s[i] == ',' {
			i++
			skipOWS()
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		if i == start {
			return nil, fmt.Errorf("expected a parameter name at offset %d", i)
		}
		name := s[start:i]
		skipOWS()
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("parameter %q has no value", name)
		}
		i++
		skipOWS()
		var value string
		if i < len(s) && s[i] == '"' {
			v, n, err := readQuoted(s[i:])
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %w", name, err)
			}
			value, i = v, i+n
		} else {
			start := i
			for i < len(s) && isTokenChar(s[i]) {
				i++
			}
			if i == start {
				return nil, fmt.Errorf("parameter %q has an empty value", name)
			}
			value = s[start:i]
		}
		for _, p := range out {
			if p.name == name {
				return nil, fmt.Errorf("parameter %q repeated", name)
			}
		}
		if len(out) == maxParams {
			return nil, fmt.Errorf("more than %d parameters", maxParams)
		}
		out = append(out, param{name: name, value: value})
		skipOWS()
		if i == len(s) {
			break
		}
		if s[i] != ',' {
			return nil, fmt.Errorf("expected ',' after parameter %q", name)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no parameters")
	}
	return out, nil
}

// readQuoted reads a quoted-string at the start of s and returns its unescaped value
// and the number of bytes consumed.
func readQuoted(s string) (string, int, error) {
	// Fast path: real headers escape nothing, so the value is a substring.
	for i := 1; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			return s[1:i], i + 1, nil
		}
		if c == '\\' || !isQuotedChar(c) {
			break
		}
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\':
			i++
			if i == len(s) {
				return "", 0, errors.New("unterminated quoted string")
			}
			if !isQuotedChar(s[i]) {
				return "", 0, fmt.Errorf("invalid escaped byte 0x%02x", s[i])
			}
			b.WriteByte(s[i])
		case isQuotedChar(c):
			b.WriteByte(c)
		default:
			return "", 0, fmt.Errorf("invalid byte 0x%02x in quoted string", c)
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

// formatParams writes params as a Signature header value, every value quoted.
func formatParams(params []param) string {
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.name)
		b.WriteString(`="`)
		for j := 0; j < len(p.value); j++ {
			if c := p.value[j]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p.value[j])
		}
		b.WriteByte('"')
	}
	return b.String()
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQuotedChar reports whether c may appear in a quoted-string, escaped or not:
// HTAB, SP, visible ASCII and obs-text; never other control characters, which could
// smuggle line breaks into the signing string.
func isQuotedChar(c byte) bool {
	return c == '\t' || (c >= 0x20 && c != 0x7f)
}
