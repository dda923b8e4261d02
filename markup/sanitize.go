package markup

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// linkRel is the rel every sanitized link gets: no search-engine credit for
// remote content, no access to our window from the opened page, and no
// Referer leaking which post the reader came from.
const linkRel = "nofollow noopener noreferrer"

// allowedElements are the elements Mastodon keeps in remote content
// (https://docs.joinmastodon.org/spec/activitypub/#sanitization), plus <s>,
// which Mastodon's sanitizer also keeps.
var allowedElements = map[string]bool{
	"p": true, "br": true, "span": true, "a": true,
	"del": true, "s": true, "pre": true, "code": true,
	"em": true, "strong": true, "b": true, "i": true, "u": true,
	"ul": true, "ol": true, "li": true, "blockquote": true,
}

// allowedClasses are the class names Mastodon's own markup uses: clients rely
// on them to show mentions, hashtags and shortened links. Any other class
// could pick up our stylesheet's rules and restyle the page.
var allowedClasses = map[string]bool{
	"h-card": true, "u-url": true, "mention": true, "hashtag": true,
	"invisible": true, "ellipsis": true, "quote-inline": true,
}

// droppedElements are removed together with everything inside them: their
// content is code, styling, embedded documents or form controls, not text
// meant for the reader.
var droppedElements = map[string]bool{
	"script": true, "style": true, "template": true, "noscript": true,
	"iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "noembed": true, "noframes": true,
	"head": true, "title": true, "meta": true, "link": true, "base": true,
	"textarea": true, "select": true, "img": true, "picture": true,
	"video": true, "audio": true, "canvas": true, "source": true, "track": true,
}

// blockElements are dropped but keep their content; a space takes their
// place so that words from neighbouring blocks do not run together.
var blockElements = map[string]bool{
	"address": true, "article": true, "aside": true, "caption": true,
	"center": true, "dd": true, "details": true, "dialog": true, "div": true,
	"dl": true, "dt": true, "fieldset": true, "figcaption": true,
	"figure": true, "footer": true, "form": true, "header": true,
	"hgroup": true, "hr": true, "main": true, "menu": true, "nav": true,
	"search": true, "section": true, "summary": true, "table": true,
	"tbody": true, "td": true, "tfoot": true, "th": true, "thead": true,
	"tr": true,
}

// policy is the last line of defence: whatever the tree walk in Sanitize
// writes is passed through bluemonday with the same allowlist, so a mistake in
// the walk cannot let a script or event handler through. On the walk's output
// it changes nothing.
var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	classes := `(?:h-card|u-url|mention|hashtag|invisible|ellipsis|quote-inline)`
	integer := regexp.MustCompile(`^-?[0-9]{1,9}$`)

	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "span", "del", "s", "pre", "code",
		"em", "strong", "b", "i", "u", "ul", "ol", "li", "blockquote")
	p.AllowAttrs("href").OnElements("a")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.AllowURLSchemes("http", "https")
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("rel").Matching(regexp.MustCompile(`^` + linkRel + `( tag)?$`)).OnElements("a")
	p.AllowAttrs("target").Matching(regexp.MustCompile(`^_blank$`)).OnElements("a")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^`+classes+`( `+classes+`)*$`)).OnElements("a", "span")
	p.AllowAttrs("translate").Matching(regexp.MustCompile(`^(no|yes)$`)).OnElements("a", "span")
	p.AllowAttrs("start").Matching(integer).OnElements("ol")
	p.AllowAttrs("reversed").Matching(regexp.MustCompile(`^$`)).OnElements("ol")
	p.AllowAttrs("value").Matching(integer).OnElements("li")
	return p
}

// bodyContext is the element HTML fragments are parsed inside, as if they
// were the content of a page's body.
func bodyContext() *html.Node {
	return &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
}

// Sanitize keeps only the HTML Mastodon allows in remote content and drops
// everything else.
//
// Kept: p, br, span, a, del, s, pre, code, em, strong, b, i, u, ul, ol, li
// and blockquote. Headings h1–h6 become <p><strong>…</strong></p>, as on
// Mastodon, since clients do not style headings. script, style, embedded
// media, form controls and the like are removed with their content; any
// other element is removed but its text is kept.
//
// Attributes are limited to href, rel, target, class and translate on a;
// class and translate on span; start and reversed on ol; value on li. Event
// handlers and style attributes are always dropped. Only absolute http(s)
// links survive: an <a> with any other href (javascript:, data:, relative)
// is unwrapped to its text. Every link gets rel="nofollow noopener
// noreferrer" (keeping "tag" if it had it) and target="_blank". Class names
// other than h-card, u-url, mention, hashtag, invisible, ellipsis and
// quote-inline are removed.
//
// The result is stable: Sanitize(Sanitize(x)) == Sanitize(x).
func Sanitize(s string) string {
	out := policy.Sanitize(walkAllowed(s))
	return strings.Trim(out, htmlSpace)
}

// walkAllowed parses s as the browser would and writes back the parts of it
// that Sanitize allows.
func walkAllowed(s string) string {
	nodes, err := html.ParseFragment(strings.NewReader(s), bodyContext())
	if err != nil {
		// Only a failing reader makes ParseFragment fail, and a
		// strings.Reader does not fail; returning nothing is the safe answer
		// anyway.
		return ""
	}
	var w sanitizer
	for _, n := range nodes {
		w.node(n)
	}
	return w.b.String()
}

// htmlSpace is the whitespace HTML collapses (unlike strings.TrimSpace, which
// would also remove no-break spaces the author typed).
const htmlSpace = " \t\n\f\r"

// sanitizer writes the allowed part of a parsed HTML tree.
//
// Browsers (and Sanitize, on a second pass) re-parse its output with the
// HTML parsing algorithm, which silently restructures some nestings: a <p>
// inside a <p> closes the outer one, an <a> inside an <a> closes the outer
// one, an <li> inside an <li> closes the outer one. The parser never builds
// such trees from our input, but dropping an element between them (a
// <table>, say) can bring them together, so the sanitizer tracks where it is
// and unwraps any element the parser would move. That keeps the output's
// meaning the same for every reader and makes Sanitize idempotent.
type sanitizer struct {
	b strings.Builder
	nesting
	// afterPre is set right after writing <pre>: the parser drops a newline
	// that directly follows <pre>, so a text starting with one needs an extra
	// newline to keep it.
	afterPre bool
}

// nesting records the open elements that limit what may be nested.
type nesting struct {
	inA  bool // inside an <a>: no other <a>
	inP  bool // inside a <p>: no p, ul, ol, li, pre or blockquote
	inLi bool // inside an <li> with no list in between: no other <li>
}

func (s *sanitizer) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		s.text(n.Data)
	case html.ElementNode:
		s.element(n)
	case html.DocumentNode:
		s.children(n)
	}
	// Comments and doctypes are dropped.
}

func (s *sanitizer) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		s.node(c)
	}
}

func (s *sanitizer) element(n *html.Node) {
	name := n.Data
	if droppedElements[name] {
		return
	}
	if n.Namespace != "" {
		// SVG and MathML: their elements are not HTML even when named like
		// one (an SVG <a> is not a link); keep just the text.
		s.children(n)
		return
	}
	switch {
	case allowedElements[name]:
		attrs, ok := elementAttrs(n)
		if !ok {
			s.children(n)
			return
		}
		s.open(name, attrs, func() { s.children(n) })
	case len(name) == 2 && name[0] == 'h' && '1' <= name[1] && name[1] <= '6':
		s.open("p", nil, func() {
			s.open("strong", nil, func() { s.children(n) })
		})
	case blockElements[name]:
		s.space()
		s.children(n)
		s.space()
	default:
		s.children(n)
	}
}

// open writes the element name with attrs around what inside writes, unless
// the element may not be nested where we are; then only inside runs.
func (s *sanitizer) open(name string, attrs []html.Attribute, inside func()) {
	if name == "br" {
		s.b.WriteString("<br>")
		s.afterPre = false
		return
	}
	switch name {
	case "a":
		if s.inA {
			inside()
			return
		}
	case "p", "ul", "ol", "pre", "blockquote":
		if s.inP {
			inside()
			return
		}
	case "li":
		if s.inP || s.inLi {
			inside()
			return
		}
	}

	s.b.WriteByte('<')
	s.b.WriteString(name)
	for _, a := range attrs {
		s.b.WriteByte(' ')
		s.b.WriteString(a.Key)
		s.b.WriteString(`="`)
		writeEscaped(&s.b, a.Val)
		s.b.WriteByte('"')
	}
	s.b.WriteByte('>')
	s.afterPre = name == "pre"

	saved := s.nesting
	switch name {
	case "a":
		s.inA = true
	case "p":
		s.inP = true
	case "li":
		s.inLi = true
	case "ul", "ol", "blockquote", "pre":
		// A new block starts a new scope for <li>.
		s.inLi = false
	}
	inside()
	s.nesting = saved

	s.b.WriteString("</")
	s.b.WriteString(name)
	s.b.WriteByte('>')
	s.afterPre = false
}

// space separates what comes before and after an unwrapped block with one
// space, unless there is nothing to separate yet or a space is already there.
func (s *sanitizer) space() {
	if out := s.b.String(); out != "" && out[len(out)-1] != ' ' {
		s.text(" ")
	}
}

func (s *sanitizer) text(t string) {
	if t == "" {
		return
	}
	if s.afterPre && t[0] == '\n' {
		s.b.WriteByte('\n')
	}
	s.afterPre = false
	writeEscaped(&s.b, t)
}

// attr returns the value of n's attribute key, and whether it has one.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// elementAttrs returns the attributes an allowed element keeps. ok is false
// for a link without a usable href, which is unwrapped to its text.
func elementAttrs(n *html.Node) (attrs []html.Attribute, ok bool) {
	switch n.Data {
	case "a":
		raw, _ := attr(n, "href")
		href, ok := cleanHref(raw)
		if !ok {
			return nil, false
		}
		rel := linkRel
		// rel="tag" marks hashtag links, which clients look for.
		if v, _ := attr(n, "rel"); hasToken(v, "tag") {
			rel += " tag"
		}
		attrs = append(attrs,
			html.Attribute{Key: "href", Val: href},
			html.Attribute{Key: "rel", Val: rel},
			html.Attribute{Key: "target", Val: "_blank"})
		attrs = appendClassAndTranslate(attrs, n)
	case "span":
		attrs = appendClassAndTranslate(attrs, n)
	case "ol":
		if v, ok := attr(n, "start"); ok {
			if i, ok := cleanInt(v); ok {
				attrs = append(attrs, html.Attribute{Key: "start", Val: i})
			}
		}
		if _, ok := attr(n, "reversed"); ok {
			attrs = append(attrs, html.Attribute{Key: "reversed"})
		}
	case "li":
		if v, ok := attr(n, "value"); ok {
			if i, ok := cleanInt(v); ok {
				attrs = append(attrs, html.Attribute{Key: "value", Val: i})
			}
		}
	}
	return attrs, true
}

func appendClassAndTranslate(attrs []html.Attribute, n *html.Node) []html.Attribute {
	if v, ok := attr(n, "class"); ok {
		if c := cleanClass(v); c != "" {
			attrs = append(attrs, html.Attribute{Key: "class", Val: c})
		}
	}
	if v, ok := attr(n, "translate"); ok {
		// translate="no" keeps browsers from translating names and URLs.
		if v = strings.ToLower(strings.Trim(v, htmlSpace)); v == "no" || v == "yes" {
			attrs = append(attrs, html.Attribute{Key: "translate", Val: v})
		}
	}
	return attrs
}

// isHTMLSpace reports whether r separates tokens in an HTML attribute.
func isHTMLSpace(r rune) bool { return strings.ContainsRune(htmlSpace, r) }

// hasToken reports whether the space-separated list v contains token.
func hasToken(v, token string) bool {
	for _, f := range strings.FieldsFunc(v, isHTMLSpace) {
		if strings.EqualFold(f, token) {
			return true
		}
	}
	return false
}

// cleanClass keeps the allowed class names of v, once each, in order.
func cleanClass(v string) string {
	var kept []string
	for _, c := range strings.FieldsFunc(v, isHTMLSpace) {
		if allowedClasses[c] && !contains(kept, c) {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// cleanInt returns v as a canonical integer if it is a small one.
func cleanInt(v string) (string, bool) {
	i, err := strconv.Atoi(strings.Trim(v, htmlSpace))
	if err != nil || i <= -1e9 || i >= 1e9 {
		return "", false
	}
	return strconv.Itoa(i), true
}

// cleanHref returns the absolute http(s) URL in an href, normalized the way
// net/url writes it, or ok=false. Relative URLs are refused too: in remote
// content they would point at our server, not at the author's.
func cleanHref(raw string) (string, bool) {
	u, err := url.Parse(strings.Trim(raw, htmlSpace))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false
	}
	href := u.String()
	// bluemonday re-parses and re-writes the URL, and so does a second
	// Sanitize; the few URLs net/url does not write back the same way are
	// dropped so that the output is stable. bluemonday also refuses URLs
	// with spaces in them, which net/url leaves unescaped in queries.
	again, err := url.Parse(href)
	if err != nil || again.String() != href || strings.ContainsFunc(href, unicode.IsSpace) {
		return "", false
	}
	return href, true
}
