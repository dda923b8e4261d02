package markup

import (
	"net/url"
	"strings"
)

// linkDisplayLength is how many characters of a link Mastodon shows before
// cutting it off with an ellipsis.
const linkDisplayLength = 30

// Render turns plain text into HTML: every character escaped, paragraphs
// split on blank lines (<p>…</p>), single newlines as <br />, links, mentions
// and hashtags as anchors in Mastodon's markup. Text that is empty or only
// whitespace renders as "", as on Mastodon.
func Render(text string, l Linker) string {
	text = prepare(text)
	toks := scan(text)

	var b strings.Builder
	b.Grow(len(text) + len(text)/2 + len(toks)*160)
	r := renderer{b: &b, text: text, toks: toks, linker: l}

	// Lines are grouped into paragraphs; a line holding nothing but
	// whitespace ends the paragraph, as in Rails' simple_format which
	// Mastodon uses.
	inPara := false
	for start := 0; start <= len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		if strings.TrimSpace(text[start:end]) == "" {
			if inPara {
				b.WriteString("</p>")
				inPara = false
			}
		} else {
			if inPara {
				b.WriteString("<br />")
			} else {
				b.WriteString("<p>")
				inPara = true
			}
			r.inline(start, end)
		}
		start = end + 1
	}
	if inPara {
		b.WriteString("</p>")
	}
	return b.String()
}

// renderer writes the HTML for one text.
type renderer struct {
	b      *strings.Builder
	text   string
	toks   []token // what scan found in text, in order
	next   int     // index of the first token not yet written
	linker Linker
}

// inline writes text[start:end], a line without newlines, with its tokens as
// anchors. Tokens never contain newlines, so every token lies inside one line.
func (r *renderer) inline(start, end int) {
	pos := start
	for r.next < len(r.toks) && r.toks[r.next].start < end {
		t := r.toks[r.next]
		r.next++
		if t.start < pos {
			// Cannot happen: scan returns tokens in order without overlaps.
			continue
		}
		writeEscaped(r.b, r.text[pos:t.start])
		r.token(t)
		pos = t.end
	}
	writeEscaped(r.b, r.text[pos:end])
}

// token writes one mention, hashtag or link.
func (r *renderer) token(t token) {
	raw := r.text[t.start:t.end]
	switch t.kind {
	case kindMention:
		href, ok := "", false
		if r.linker.MentionURL != nil {
			href, ok = r.linker.MentionURL(t.mention)
		}
		if !ok || !safeHref(href) {
			writeEscaped(r.b, raw)
			return
		}
		// Clients show just the username; the full address is in the href
		// and in the account the client looks up.
		r.b.WriteString(`<span class="h-card" translate="no"><a href="`)
		writeEscaped(r.b, href)
		r.b.WriteString(`" class="u-url mention">@<span>`)
		writeEscaped(r.b, t.mention.Username)
		r.b.WriteString(`</span></a></span>`)
	case kindTag:
		if r.linker.TagURL == nil {
			writeEscaped(r.b, raw)
			return
		}
		href := r.linker.TagURL(raw[1:])
		if !safeHref(href) {
			writeEscaped(r.b, raw)
			return
		}
		r.b.WriteString(`<a href="`)
		writeEscaped(r.b, href)
		r.b.WriteString(`" class="mention hashtag" rel="tag">#<span>`)
		writeEscaped(r.b, raw[1:])
		r.b.WriteString(`</span></a>`)
	case kindLink:
		writeLink(r.b, raw)
	}
}

// safeHref reports whether a URL from the Linker may go into an href: an
// http(s) URL or a relative one. The Linker is our own code, but checking is
// cheap and keeps a bug there from becoming a javascript: link.
func safeHref(href string) bool {
	if href == "" {
		return false
	}
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	return u.Scheme == "" || u.Scheme == "http" || u.Scheme == "https"
}

// writeLink writes an http(s) URL the way Mastodon does: the scheme (and a
// leading "www.") in an invisible span, then up to 30 characters shown, and
// the rest invisible, marked with class "ellipsis" so clients add "…".
// Clients copy the whole text of the anchor, so the URL stays complete.
func writeLink(b *strings.Builder, link string) {
	prefix := schemeLength(link)
	if hasPrefixFold(link[prefix:], "www.") {
		prefix += len("www.")
	}
	rest := link[prefix:]
	cut, n := len(rest), 0
	for i := range rest { // counts characters, not bytes, as Ruby does
		if n == linkDisplayLength {
			cut = i
			break
		}
		n++
	}
	class := ""
	if cut < len(rest) {
		class = "ellipsis"
	}

	b.WriteString(`<a href="`)
	writeEscaped(b, link)
	b.WriteString(`" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">`)
	writeEscaped(b, link[:prefix])
	b.WriteString(`</span><span class="`)
	b.WriteString(class)
	b.WriteString(`">`)
	writeEscaped(b, rest[:cut])
	b.WriteString(`</span><span class="invisible">`)
	writeEscaped(b, rest[cut:])
	b.WriteString(`</span></a>`)
}

// writeEscaped writes s with the characters that are special in HTML text and
// in quoted attribute values escaped, the same way html.EscapeString does,
// without allocating a copy.
func writeEscaped(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}
