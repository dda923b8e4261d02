package markup

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"
)

var fuzzSeeds = []string{
	"",
	"hello world",
	"hi @alice and @carol@sales.example.com:8443, #Café #日本語 #123",
	"see https://example.com/a/very/long/path/that/goes/on?x=1&y=2 (and https://www.example.com/).",
	"one\ntwo\n\nthree\r\n\r\nfour",
	"<script>alert(1)</script> javascript:alert(1) <a href=\"javascript:alert(1)\">x</a>",
	"@a@b.c@d #a#b &#35;x a@b.com http://[::1]:80/ https://e.x/(a)b)",
	"<p>Hi <span class=\"h-card\"><a href=\"https://example.com/@bob\" class=\"u-url mention\">@<span>bob</span></a></span></p>",
	"<h1>T</h1><ul><li>a<li>b</ul><pre>\n\ncode</pre><ol start=2 reversed><li value=3>x</ol>",
	"<p onclick=alert(1) style=\"x\">a<table><td><p>b</table><img src=x onerror=alert(1)>",
	"<a href=https://a.example/>1<div><a href=https://b.example/>2</a></div></a>",
	"<svg><a href=https://example.com/>x</a><style><img src=x onerror=alert(1)></style></svg><math><mi><p>y",
	"<b><b><b><b><p>x</b></b></b></b>",
	"<p><b><b><b><b>x</p><p>y",
	"<a href=https://x.example/><p>1</a>2</p>",
	"<p><marquee><blockquote>x</blockquote></marquee></p><a href=https://x.example/><marquee><a href=https://y.example/>z",
	"<p><svg><foreignObject><p>x</p></foreignObject></svg></p>",
	"<pre><img>\nx</pre><pre><button>\ny</button></pre><pre><span></span>\nz</pre>",
	"<ul>x<li>a<button><li>b</button></ul><table>t<p>u</p></table>",
}

// fuzzLinker knows every local account and every hashtag, so that
// PlainText(Render(text)) gives the text back: remote mentions would come back
// without their domain.
var fuzzLinker = Linker{
	MentionURL: func(m Mention) (string, bool) {
		return "https://tacit.example/@" + url.PathEscape(m.Username), m.Domain == ""
	},
	TagURL: func(tag string) string {
		return "https://tacit.example/tags/" + url.PathEscape(tag)
	},
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	username := regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	f.Fuzz(func(t *testing.T, text string) {
		p := Parse(text)
		prepared := prepare(text)

		seen := map[string]bool{}
		for _, m := range p.Mentions {
			if !username.MatchString(m.Username) || m.Domain != strings.ToLower(m.Domain) || strings.Contains(m.Domain, "@") {
				t.Errorf("bad mention %+v", m)
			}
			key := strings.ToLower(m.Username) + "@" + m.Domain
			if seen[key] {
				t.Errorf("duplicate mention %+v", m)
			}
			seen[key] = true
		}
		for _, tag := range p.Tags {
			if tag == "" || !strings.Contains(prepared, "#"+tag) || seen["#"+strings.ToLower(tag)] {
				t.Errorf("bad or duplicate tag %q", tag)
			}
			seen["#"+strings.ToLower(tag)] = true
		}
		for _, link := range p.Links {
			u, err := url.Parse(link)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || !strings.Contains(prepared, link) {
				t.Errorf("bad link %q", link)
			}
		}

		// Render must link exactly what Parse found.
		rendered := map[string]bool{}
		l := Linker{
			MentionURL: func(m Mention) (string, bool) {
				rendered[strings.ToLower(m.Username)+"@"+m.Domain] = true
				return "https://tacit.example/m", true
			},
			TagURL: func(tag string) string {
				rendered["#"+strings.ToLower(tag)] = true
				return "https://tacit.example/t"
			},
		}
		Render(text, l)
		for k := range seen {
			if !rendered[k] {
				t.Errorf("Parse found %q but Render did not link it", k)
			}
		}
		for k := range rendered {
			if !seen[k] {
				t.Errorf("Render linked %q but Parse did not find it", k)
			}
		}
	})
}

func FuzzRender(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		out := Render(text, fuzzLinker)
		if strings.Contains(strings.ToLower(out), "<script") {
			t.Fatalf("Render(%q) = %q contains <script", text, out)
		}
		checkRendered(t, out)

		// The HTML holds exactly the text, in paragraphs and lines.
		if got, want := PlainText(out), normalizeText(text); got != want {
			t.Errorf("PlainText(Render(%q)) = %q, want %q\nhtml: %q", text, got, want, out)
		}
		// Sanitizing our own output keeps its text.
		if got, want := PlainText(Sanitize(out)), PlainText(out); got != want {
			t.Errorf("Sanitize changed the text of Render(%q): %q, want %q", text, got, want)
		}
	})
}

func FuzzSanitize(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		checkSanitized(t, out)
		// bluemonday is only a safety net: it finds nothing to remove.
		if walked := walkAllowed(in); policy.Sanitize(walked) != walked {
			t.Errorf("bluemonday changed the output for %q:\n  walk: %q\npolicy: %q", in, walked, policy.Sanitize(walked))
		}
		if again := Sanitize(out); again != out {
			t.Errorf("Sanitize is not idempotent for %q:\n once: %q\ntwice: %q", in, out, again)
		}
		PlainText(in)
	})
}

// normalizeText is what Render keeps of text: valid UTF-8 without NUL,
// paragraphs separated by one blank line, no blank lines around them.
func normalizeText(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.ReplaceAll(text, "\x00", "\uFFFD")
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var paras []string
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			if lines != nil {
				paras = append(paras, strings.Join(lines, "\n"))
				lines = nil
			}
			continue
		}
		lines = append(lines, line)
	}
	if lines != nil {
		paras = append(paras, strings.Join(lines, "\n"))
	}
	return strings.Join(paras, "\n\n")
}

// parseFragment parses HTML the way a browser would for a post body.
func parseFragment(t *testing.T, s string) []*html.Node {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(s), bodyContext())
	if err != nil {
		t.Fatalf("parsing %q: %v", s, err)
	}
	return nodes
}

// walk calls fn for every node under nodes, depth first.
func walk(nodes []*html.Node, fn func(*html.Node)) {
	for _, n := range nodes {
		fn(n)
		var children []*html.Node
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			children = append(children, c)
		}
		walk(children, fn)
	}
}

// checkRendered checks that Render's output has only Mastodon's markup, with
// http(s) links.
func checkRendered(t *testing.T, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("invalid UTF-8 in %q", out)
	}
	allowedAttrs := map[string]map[string]bool{
		"p":    {},
		"br":   {},
		"span": {"class": true, "translate": true},
		"a":    {"href": true, "class": true, "rel": true, "target": true, "translate": true},
	}
	walk(parseFragment(t, out), func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			return
		case html.ElementNode:
		default:
			t.Errorf("unexpected node type %v in %q", n.Type, out)
			return
		}
		attrs, ok := allowedAttrs[n.Data]
		if !ok || n.Namespace != "" {
			t.Errorf("unexpected element <%s> in %q", n.Data, out)
			return
		}
		for _, a := range n.Attr {
			if !attrs[a.Key] {
				t.Errorf("unexpected attribute %s on <%s> in %q", a.Key, n.Data, out)
			}
		}
		if n.Data == "a" {
			checkHref(t, n, out)
		}
	})
}

// checkSanitized checks that Sanitize's output has only the elements and
// attributes Mastodon allows.
func checkSanitized(t *testing.T, out string) {
	t.Helper()
	allowedAttrs := map[string]map[string]bool{
		"a":    {"href": true, "rel": true, "target": true, "class": true, "translate": true},
		"span": {"class": true, "translate": true},
		"ol":   {"start": true, "reversed": true},
		"li":   {"value": true},
	}
	walk(parseFragment(t, out), func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			return
		case html.ElementNode:
		default:
			t.Errorf("unexpected node type %v in %q", n.Type, out)
			return
		}
		if !allowedElements[n.Data] || n.Namespace != "" {
			t.Errorf("unexpected element <%s> in %q", n.Data, out)
			return
		}
		for _, a := range n.Attr {
			if !allowedAttrs[n.Data][a.Key] {
				t.Errorf("unexpected attribute %s on <%s> in %q", a.Key, n.Data, out)
			}
			if a.Key == "class" {
				for _, c := range strings.Fields(a.Val) {
					if !allowedClasses[c] {
						t.Errorf("unexpected class %q in %q", c, out)
					}
				}
			}
		}
		if n.Data == "a" {
			checkHref(t, n, out)
			if rel, _ := attr(n, "rel"); !strings.HasPrefix(rel, "nofollow noopener noreferrer") {
				t.Errorf("link without rel in %q", out)
			}
			if target, _ := attr(n, "target"); target != "_blank" {
				t.Errorf("link without target in %q", out)
			}
		}
	})
}

// checkHref checks that the link n goes to an http(s) URL.
func checkHref(t *testing.T, n *html.Node, out string) {
	t.Helper()
	href, ok := attr(n, "href")
	u, err := url.Parse(href)
	if !ok || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Errorf("unsafe href %q in %q", href, out)
	}
}
