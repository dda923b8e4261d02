package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file parses and serializes the RFC 8941 Structured Field Values that RFC 9421
// (Signature-Input, Signature) and RFC 9530 (Content-Digest) use: dictionaries whose
// members are items or inner lists, with parameters. It is written for headers from
// unauthenticated peers: bounded, strict, and refusing repeated keys, since a
// signature must mean one thing whichever implementation reads it (RFC 8941 lets the
// last one win, which differs from what a first-wins reader would check).

// sfKind is the type of a bare item.
type sfKind int

const (
	sfInteger sfKind = iota
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfBool
)

// sfItem is a bare item and its parameters. str holds strings and tokens, and
// decimals in their serialized form.
type sfItem struct {
	kind    sfKind
	str     string
	integer int64
	bytes   []byte
	boolean bool
	params  []sfParam
}

// sfParam is one parameter; its value has no parameters of its own.
type sfParam struct {
	key   string
	value sfItem
}

// sfMember is one dictionary member: an item, or an inner list with parameters.
type sfMember struct {
	key    string
	inner  bool
	item   sfItem   // when !inner
	list   []sfItem // when inner
	params []sfParam
}

// Bounds on what is parsed; real signature headers hold one or two members of a
// handful of components.
const (
	maxSFLength  = 16 << 10
	maxSFMembers = 16
	maxSFItems   = 64
	maxSFParams  = 16
)

// sfParser reads one field value.
type sfParser struct {
	s string
	i int
}

func (p *sfParser) eof() bool  { return p.i >= len(p.s) }
func (p *sfParser) peek() byte { return p.s[p.i] }

func (p *sfParser) skipSP() {
	for !p.eof() && p.peek() == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

// parseDictionary parses a Dictionary (RFC 8941 §4.2.2). A member without a value is
// the boolean true, as the RFC says.
func parseDictionary(s string) ([]sfMember, error) {
	if len(s) > maxSFLength {
		return nil, fmt.Errorf("structured field longer than %d bytes", maxSFLength)
	}
	p := &sfParser{s: s}
	p.skipSP()
	var out []sfMember
	for !p.eof() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		for _, m := range out {
			if m.key == key {
				return nil, fmt.Errorf("dictionary key %q repeated", key)
			}
		}
		if len(out) == maxSFMembers {
			return nil, fmt.Errorf("more than %d dictionary members", maxSFMembers)
		}
		m := sfMember{key: key}
		if !p.eof() && p.peek() == '=' {
			p.i++
			if !p.eof() && p.peek() == '(' {
				m.inner = true
				if m.list, m.params, err = p.innerList(); err != nil {
					return nil, fmt.Errorf("member %q: %w", key, err)
				}
			} else if m.item, err = p.item(); err != nil {
				return nil, fmt.Errorf("member %q: %w", key, err)
			}
		} else {
			m.item = sfItem{kind: sfBool, boolean: true}
			if m.item.params, err = p.parameters(); err != nil {
				return nil, fmt.Errorf("member %q: %w", key, err)
			}
		}
		out = append(out, m)
		p.skipOWS()
		if p.eof() {
			break
		}
		if p.peek() != ',' {
			return nil, fmt.Errorf("expected ',' at offset %d", p.i)
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, errors.New("trailing comma")
		}
	}
	return out, nil
}

// innerList parses "(" items ")" and its parameters.
func (p *sfParser) innerList() ([]sfItem, []sfParam, error) {
	p.i++ // (
	var items []sfItem
	for {
		p.skipSP()
		if p.eof() {
			return nil, nil, errors.New("unterminated inner list")
		}
		if p.peek() == ')' {
			p.i++
			params, err := p.parameters()
			return items, params, err
		}
		if len(items) == maxSFItems {
			return nil, nil, fmt.Errorf("more than %d items in an inner list", maxSFItems)
		}
		it, err := p.item()
		if err != nil {
			return nil, nil, err
		}
		items = append(items, it)
		if p.eof() || (p.peek() != ' ' && p.peek() != ')') {
			return nil, nil, fmt.Errorf("expected ' ' or ')' at offset %d", p.i)
		}
	}
}

func (p *sfParser) item() (sfItem, error) {
	it, err := p.bareItem()
	if err != nil {
		return it, err
	}
	it.params, err = p.parameters()
	return it, err
}

func (p *sfParser) parameters() ([]sfParam, error) {
	var out []sfParam
	for !p.eof() && p.peek() == ';' {
		p.i++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		for _, q := range out {
			if q.key == key {
				return nil, fmt.Errorf("parameter %q repeated", key)
			}
		}
		if len(out) == maxSFParams {
			return nil, fmt.Errorf("more than %d parameters", maxSFParams)
		}
		v := sfItem{kind: sfBool, boolean: true}
		if !p.eof() && p.peek() == '=' {
			p.i++
			if v, err = p.bareItem(); err != nil {
				return nil, fmt.Errorf("parameter %q: %w", key, err)
			}
		}
		out = append(out, sfParam{key: key, value: v})
	}
	return out, nil
}

// key parses a key: lcalpha or "*", then lcalpha, digits, "_", "-", "." or "*".
func (p *sfParser) key() (string, error) {
	start := p.i
	if p.eof() || !(isLCAlpha(p.peek()) || p.peek() == '*') {
		return "", fmt.Errorf("expected a key at offset %d", p.i)
	}
	p.i++
	for !p.eof() {
		c := p.peek()
		if !(isLCAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) bareItem() (sfItem, error) {
	if p.eof() {
		return sfItem{}, errors.New("expected an item, found the end")
	}
	switch c := p.peek(); {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return p.string()
	case c == '*' || isAlpha(c):
		return p.token(), nil
	case c == ':':
		return p.byteSequence()
	case c == '?':
		if p.i+1 < len(p.s) && (p.s[p.i+1] == '0' || p.s[p.i+1] == '1') {
			b := p.s[p.i+1] == '1'
			p.i += 2
			return sfItem{kind: sfBool, boolean: b}, nil
		}
		return sfItem{}, fmt.Errorf("malformed boolean at offset %d", p.i)
	default:
		return sfItem{}, fmt.Errorf("unexpected byte 0x%02x at offset %d", c, p.i)
	}
}

// number parses an Integer (at most 15 digits) or a Decimal (at most 12 integer and
// 3 fractional digits).
func (p *sfParser) number() (sfItem, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits, dot := 0, -1
	for !p.eof() {
		c := p.peek()
		if isDigit(c) {
			digits++
		} else if c == '.' && dot < 0 {
			if digits > 12 {
				return sfItem{}, errors.New("decimal with more than 12 integer digits")
			}
			dot = p.i
		} else {
			break
		}
		p.i++
		if dot < 0 && digits > 15 {
			return sfItem{}, errors.New("integer with more than 15 digits")
		}
	}
	text := p.s[start:p.i]
	if digits == 0 {
		return sfItem{}, fmt.Errorf("malformed number %q", text)
	}
	if dot < 0 {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return sfItem{}, fmt.Errorf("malformed integer %q", text)
		}
		return sfItem{kind: sfInteger, integer: n}, nil
	}
	frac := p.i - dot - 1
	if frac < 1 || frac > 3 {
		return sfItem{}, fmt.Errorf("malformed decimal %q", text)
	}
	// Serialized form: no trailing zeros in the fraction, but at least one digit.
	canon := strings.TrimRight(text, "0")
	if strings.HasSuffix(canon, ".") {
		canon += "0"
	}
	return sfItem{kind: sfDecimal, str: canon}, nil
}

func (p *sfParser) string() (sfItem, error) {
	p.i++ // "
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '\\':
			if p.eof() || (p.peek() != '"' && p.peek() != '\\') {
				return sfItem{}, errors.New("invalid escape in string")
			}
			b.WriteByte(p.peek())
			p.i++
		case c == '"':
			return sfItem{kind: sfString, str: b.String()}, nil
		case c < 0x20 || c > 0x7e:
			return sfItem{}, fmt.Errorf("invalid byte 0x%02x in string", c)
		default:
			b.WriteByte(c)
		}
	}
	return sfItem{}, errors.New("unterminated string")
}

func (p *sfParser) token() sfItem {
	start := p.i
	p.i++
	for !p.eof() && (isTokenChar(p.peek()) || p.peek() == ':' || p.peek() == '/') {
		p.i++
	}
	return sfItem{kind: sfToken, str: p.s[start:p.i]}
}

func (p *sfParser) byteSequence() (sfItem, error) {
	p.i++ // :
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return sfItem{}, errors.New("unterminated byte sequence")
	}
	enc := p.s[p.i : p.i+end]
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		if !(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=') {
			return sfItem{}, fmt.Errorf("invalid byte 0x%02x in byte sequence", c)
		}
	}
	p.i += end + 1
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		// RFC 8941 §4.2.7 lets parsers accept missing padding.
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(enc, "=")); err != nil {
			return sfItem{}, fmt.Errorf("byte sequence: %w", err)
		}
	}
	return sfItem{kind: sfBytes, bytes: b}, nil
}

// serializeInnerList writes an inner list and its parameters as RFC 8941 §4.1.1.1
// serializes them: the value of RFC 9421's @signature-params.
func serializeInnerList(items []sfItem, params []sfParam) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeBareItem(&b, it)
		writeParams(&b, it.params)
	}
	b.WriteByte(')')
	writeParams(&b, params)
	return b.String()
}

func writeParams(b *strings.Builder, params []sfParam) {
	for _, p := range params {
		b.WriteByte(';')
		b.WriteString(p.key)
		if p.value.kind == sfBool && p.value.boolean {
			continue
		}
		b.WriteByte('=')
		writeBareItem(b, p.value)
	}
}

func writeBareItem(b *strings.Builder, it sfItem) {
	switch it.kind {
	case sfInteger:
		b.WriteString(strconv.FormatInt(it.integer, 10))
	case sfDecimal, sfToken:
		b.WriteString(it.str)
	case sfString:
		b.WriteByte('"')
		for i := 0; i < len(it.str); i++ {
			if c := it.str[i]; c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(it.str[i])
		}
		b.WriteByte('"')
	case sfBytes:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(it.bytes))
		b.WriteByte(':')
	case sfBool:
		if it.boolean {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	}
}

func isLCAlpha(c byte) bool { return 'a' <= c && c <= 'z' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool   { return '0' <= c && c <= '9' }
