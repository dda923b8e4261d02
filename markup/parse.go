package markup

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind says what a token found by scan is.
type kind uint8

const (
	kindMention kind = iota + 1
	kindTag
	kindLink
)

// token is a mention, hashtag or link found at text[start:end].
type token struct {
	kind       kind
	start, end int
	mention    Mention // only for kindMention
}

// Parse finds the mentions, hashtags and links in a post's text, following
// the same rules as Render, so that what Parse reports is exactly what Render
// turns into anchors (given a Linker that knows every account).
func Parse(text string) Parsed {
	text = prepare(text)
	var p Parsed
	seen := make(map[string]bool)
	for _, t := range scan(text) {
		switch t.kind {
		case kindMention:
			// Usernames are case-insensitive on Mastodon and Domain is
			// already lowercased, so @Bob and @bob are one mention.
			key := "@" + strings.ToLower(t.mention.Username) + "@" + t.mention.Domain
			if !seen[key] {
				seen[key] = true
				p.Mentions = append(p.Mentions, t.mention)
			}
		case kindTag:
			name := text[t.start+1 : t.end]
			key := "#" + strings.ToLower(name)
			if !seen[key] {
				seen[key] = true
				p.Tags = append(p.Tags, name)
			}
		case kindLink:
			// URLs are case-sensitive in their path, so only exact repeats
			// are dropped. The prefix keeps the three kinds of key apart.
			link := text[t.start:t.end]
			key := "h" + link
			if !seen[key] {
				seen[key] = true
				p.Links = append(p.Links, link)
			}
		}
	}
	return p
}

// prepare makes text safe to scan and to put into HTML: invalid UTF-8 and NUL
// become U+FFFD (browsers and HTML parsers would drop or mangle them), and
// Windows and old Mac line endings become "\n" so that paragraphs split the
// same way whatever device the text was typed on.
func prepare(text string) string {
	if !utf8.ValidString(text) {
		text = strings.ToValidUTF8(text, "\uFFFD")
	}
	if strings.IndexByte(text, '\r') >= 0 {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	if strings.IndexByte(text, 0) >= 0 {
		text = strings.ReplaceAll(text, "\x00", "\uFFFD")
	}
	return text
}

// scan finds the mentions, hashtags and links in text, in order and without
// overlaps. It looks at every byte once, and when a candidate turns out not to
// be a link it skips the whole candidate, so the work stays linear in
// len(text).
func scan(text string) []token {
	var toks []token
	for i := 0; i < len(text); {
		var (
			t    token
			ok   bool
			skip int
		)
		switch text[i] {
		case 'h', 'H':
			t, skip, ok = scanLink(text, i)
		case '@':
			t, ok = scanMention(text, i)
		case '#':
			t, ok = scanTag(text, i)
		}
		switch {
		case ok:
			toks = append(toks, t)
			i = t.end
		case skip > i:
			i = skip
		default:
			// Bytes inside a multi-byte rune never equal 'h', '@' or '#',
			// so stepping one byte at a time is safe.
			i++
		}
	}
	return toks
}

// isWordRune reports whether r is part of a word: a letter, a digit, a
// combining mark (needed by scripts such as Devanagari) or '_'.
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// runeBefore returns the rune that ends text[:i], and false at the start of
// the text.
func runeBefore(text string, i int) (rune, bool) {
	if i == 0 {
		return 0, false
	}
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return r, true
}

// runeAt returns the rune that starts text[i:], and false at the end of the
// text.
func runeAt(text string, i int) (rune, bool) {
	if i >= len(text) {
		return 0, false
	}
	r, _ := utf8.DecodeRuneInString(text[i:])
	return r, true
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; prefix must be
// lowercase ASCII.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// schemeLength returns the length of the "http://" or "https://" that starts
// s, or 0.
func schemeLength(s string) int {
	switch {
	case hasPrefixFold(s, "https://"):
		return len("https://")
	case hasPrefixFold(s, "http://"):
		return len("http://")
	}
	return 0
}

// scanLink reads an http(s) URL starting at text[i]. When text[i:] starts
// like a URL but is not a usable one, it returns skip, the end of the
// candidate, so that nothing inside it is scanned again.
func scanLink(text string, i int) (t token, skip int, ok bool) {
	n := schemeLength(text[i:])
	if n == 0 {
		return token{}, 0, false
	}
	// "xhttp://" is a typo or some other scheme, not a link.
	if r, ok := runeBefore(text, i); ok && isWordRune(r) {
		return token{}, 0, false
	}

	// A URL runs up to whitespace. Quotes and angle brackets cannot appear in
	// a URL unescaped, and people write "<https://...>" and "“https://...”"
	// around links, so they end it too.
	end := i + n
	var parens, brackets int // opened minus closed, to spot unbalanced closers
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == '<' || r == '>' || r == '"' || r == '“' || r == '”' {
			break
		}
		switch r {
		case '(':
			parens++
		case ')':
			parens--
		case '[':
			brackets++
		case ']':
			brackets--
		}
		end += size
	}
	skip = end

	// Punctuation that ends a sentence is not part of the link, and neither
	// is a closing bracket whose opener came before the link, as in
	// "(see https://example.com)". Balanced ones stay, as in Wikipedia's
	// "https://en.wikipedia.org/wiki/Go_(programming_language)".
trim:
	for end > i+n {
		switch text[end-1] {
		case '.', ',', ';', ':', '!', '?', '\'':
		case ')':
			if parens >= 0 {
				break trim
			}
			parens++
		case ']':
			if brackets >= 0 {
				break trim
			}
			brackets++
		default:
			break trim
		}
		end--
	}

	raw := text[i:end]
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return token{}, skip, false
	}
	return token{kind: kindLink, start: i, end: end}, skip, true
}

// scanMention reads "@username" or "@username@domain[:port]" starting at
// text[i].
func scanMention(text string, i int) (token, bool) {
	// After a word character or '/' the '@' belongs to an e-mail address or
	// a URL path (https://example.com/@bob); after another '@' it is part of
	// something that is not a mention either.
	if r, ok := runeBefore(text, i); ok && (isWordRune(r) || r == '@' || r == '/') {
		return token{}, false
	}
	j := i + 1
	for j < len(text) && isUsernameByte(text[j]) {
		j++
	}
	if j == i+1 {
		return token{}, false
	}
	m := Mention{Username: text[i+1 : j]}
	end := j
	if j < len(text) && text[j] == '@' {
		dEnd, ok := scanDomain(text, j+1)
		if !ok {
			// "@bob@nonsense" is not a mention of the local @bob: the writer
			// meant someone elsewhere, and guessing would notify the wrong
			// person.
			return token{}, false
		}
		m.Domain = strings.ToLower(text[j+1 : dEnd])
		end = dEnd
	}
	// "@bobé" or "@bob@example.com@x" is not a mention of @bob.
	if r, ok := runeAt(text, end); ok && (isWordRune(r) || r == '@') {
		return token{}, false
	}
	return token{kind: kindMention, start: i, end: end, mention: m}, true
}

func isUsernameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHostByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.'
}

// scanDomain reads a host name and optional port starting at text[start] and
// returns where it ends.
func scanDomain(text string, start int) (end int, ok bool) {
	j := start
	for j < len(text) && isHostByte(text[j]) {
		j++
	}
	// "@bob@example.com." ends a sentence: the dot is not part of the host.
	for j > start && (text[j-1] == '.' || text[j-1] == '-') {
		j--
	}
	if !validHost(text[start:j]) {
		return 0, false
	}
	// A ':' followed by digits is a port; a ':' followed by anything else is
	// punctuation ("ask @bob@example.com: ...").
	if j+1 < len(text) && text[j] == ':' && isDigit(text[j+1]) {
		k := j + 1
		for k < len(text) && isDigit(text[k]) {
			k++
		}
		port, err := strconv.Atoi(text[j+1 : k])
		if err != nil || k-(j+1) > 5 || port < 1 || port > 65535 {
			return 0, false
		}
		j = k
	}
	return j, true
}

// validHost reports whether host (letters, digits, '-' and '.' only) is
// "localhost", a dotted IPv4 address, or a DNS name with at least one dot.
func validHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if len(host) > 253 {
		return false
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	// No top-level domain is all digits, so a name ending in digits must be
	// an IPv4 address.
	if allDigits(labels[len(labels)-1]) {
		return isIPv4(labels)
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// isIPv4 reports whether labels are the four parts of a dotted-decimal IPv4
// address, without leading zeros (which some resolvers read as octal).
func isIPv4(labels []string) bool {
	if len(labels) != 4 {
		return false
	}
	for _, l := range labels {
		if !allDigits(l) || len(l) > 3 || len(l) > 1 && l[0] == '0' {
			return false
		}
		if n, _ := strconv.Atoi(l); n > 255 {
			return false
		}
	}
	return true
}

// scanTag reads "#name" starting at text[i].
func scanTag(text string, i int) (token, bool) {
	// After a word character the '#' is part of something else ("C#",
	// "a#b"); after '&' it starts an HTML entity ("&#39;"); after '/' it
	// starts a URL fragment.
	if r, ok := runeBefore(text, i); ok && (isWordRune(r) || r == '&' || r == '/') {
		return token{}, false
	}
	j := i + 1
	hasLetter := false
	for j < len(text) {
		r, size := utf8.DecodeRuneInString(text[j:])
		if !isWordRune(r) {
			break
		}
		// "#1" is a number ("issue #1"), not a tag.
		if r == '_' || unicode.IsLetter(r) {
			hasLetter = true
		}
		j += size
	}
	if !hasLetter {
		return token{}, false
	}
	return token{kind: kindTag, start: i, end: j}, true
}
