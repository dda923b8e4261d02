package markup

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// testLinker knows the local accounts alice and bob and the remote account
// carol@sales.example.com:8443.
var testLinker = Linker{
	MentionURL: func(m Mention) (string, bool) {
		switch {
		case m.Domain == "" && (strings.EqualFold(m.Username, "alice") || strings.EqualFold(m.Username, "bob")):
			return "https://tacit.example/@" + strings.ToLower(m.Username), true
		case m.Domain == "sales.example.com:8443" && m.Username == "carol":
			return "https://sales.example.com:8443/@carol", true
		}
		return "", false
	},
	TagURL: func(tag string) string {
		return "https://tacit.example/tags/" + url.PathEscape(strings.ToLower(tag))
	},
}

func TestParseMentions(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []Mention
	}{
		{"local", "hi @alice", []Mention{{"alice", ""}}},
		{"at start of line", "@alice hi", []Mention{{"alice", ""}}},
		{"remote", "hi @alice@Sales.Example.COM!", []Mention{{"alice", "sales.example.com"}}},
		{"remote with port", "@carol@sales.example.com:8443 ping", []Mention{{"carol", "sales.example.com:8443"}}},
		{"localhost", "@dev@localhost:3000", []Mention{{"dev", "localhost:3000"}}},
		{"ipv4", "@dev@10.0.0.1", []Mention{{"dev", "10.0.0.1"}}},
		{"trailing dot", "thanks @alice.", []Mention{{"alice", ""}}},
		{"trailing dot after domain", "thanks @alice@example.com.", []Mention{{"alice", "example.com"}}},
		{"colon after domain is punctuation", "@alice@example.com: hi", []Mention{{"alice", "example.com"}}},
		{"trailing punctuation", "@alice, @bob; @carol! @dave? @erin:", []Mention{{"alice", ""}, {"bob", ""}, {"carol", ""}, {"dave", ""}, {"erin", ""}}},
		{"in parentheses", "(cc @alice)", []Mention{{"alice", ""}}},
		{"dot ends the username", "@al.ice", []Mention{{"al", ""}}},
		{"dedupe case-insensitive", "@Alice @alice @ALICE@Example.com @alice@example.com", []Mention{{"Alice", ""}, {"ALICE", "example.com"}}},
		{"email is not a mention", "mail a@b.com or alice@example.com", nil},
		{"after slash", "see example.com/@alice", nil},
		{"double at", "@@alice", nil},
		{"domain without dot", "@alice@intranet", nil},
		{"bad ipv4", "@alice@999.0.0.1", nil},
		{"bad port", "@alice@example.com:99999", nil},
		{"username followed by letter", "@alicé", nil},
		{"empty username", "@ alice", nil},
		{"in a link", "https://example.com/@alice", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.text).Mentions
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q).Mentions = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseTags(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"ascii", "#go is fun", []string{"go"}},
		{"unicode", "#Café #日本語 #go_lang", []string{"Café", "日本語", "go_lang"}},
		{"combining marks", "#नमस्ते", []string{"नमस्ते"}},
		{"digits only is not a tag", "issue #123 and #1a", []string{"1a"}},
		{"trailing punctuation", "(#one), #two. #three!", []string{"one", "two", "three"}},
		{"dedupe case-insensitive", "#Go #go #GO #café #CAFÉ", []string{"Go", "café"}},
		{"url fragment", "see https://example.com/page#section", nil},
		{"fragment after slash", "example.com/#frag", nil},
		{"inside a word", "a#b C# rocks", nil},
		{"entity", "&#39;", nil},
		{"lone hash", "# heading", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.text).Tags
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q).Tags = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseLinks(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"plain", "see https://example.com/path", []string{"https://example.com/path"}},
		{"trailing punctuation", "see https://example.com/a. And http://example.org/b?, ok", []string{"https://example.com/a", "http://example.org/b"}},
		{"query", "https://example.com/a?b=c&d=e; next", []string{"https://example.com/a?b=c&d=e"}},
		{"in parentheses", "(see https://example.com/a)", []string{"https://example.com/a"}},
		{"in parentheses then dot", "(https://example.com/a).", []string{"https://example.com/a"}},
		{"balanced parentheses", "https://en.wikipedia.org/wiki/Go_(programming_language)", []string{"https://en.wikipedia.org/wiki/Go_(programming_language)"}},
		{"angle brackets", "<https://example.com/x>", []string{"https://example.com/x"}},
		{"quotes", `"https://example.com/x"`, []string{"https://example.com/x"}},
		{"upper case scheme", "HTTPS://EXAMPLE.COM/Path", []string{"HTTPS://EXAMPLE.COM/Path"}},
		{"dedupe", "https://example.com/x https://example.com/x", []string{"https://example.com/x"}},
		{"fragment", "https://example.com/#tag", []string{"https://example.com/#tag"}},
		{"other schemes", "ftp://example.com javascript:alert(1) mailto:a@example.com", nil},
		{"no host", "http:// https:///path", nil},
		{"glued to a word", "xhttps://example.com", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.text).Links
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q).Links = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseNothingInsideLinks(t *testing.T) {
	got := Parse("https://example.com/@alice/#tag?x=@bob")
	want := Parsed{Links: []string{"https://example.com/@alice/#tag?x=@bob"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

const (
	aliceHTML = `<span class="h-card" translate="no"><a href="https://tacit.example/@alice" class="u-url mention">@<span>alice</span></a></span>`
	carolHTML = `<span class="h-card" translate="no"><a href="https://sales.example.com:8443/@carol" class="u-url mention">@<span>carol</span></a></span>`
	linkOpen  = `<a href="https://example.com/path" target="_blank" rel="nofollow noopener noreferrer" translate="no">`
)

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", ""},
		{"whitespace only", " \n\t\n ", ""},
		{"escaping", `Hello <script>alert("x")</script> & 'bye'`,
			`<p>Hello &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;bye&#39;</p>`},
		{"line breaks and paragraphs", "one\ntwo\n\nthree", "<p>one<br />two</p><p>three</p>"},
		{"blank lines with spaces and CRLF", "\n\n a \r\n \r\n\r\nb\r\n", "<p> a </p><p>b</p>"},
		{"local mention", "hi @alice", "<p>hi " + aliceHTML + "</p>"},
		{"remote mention with port", "@carol@sales.example.com:8443: hi", "<p>" + carolHTML + ": hi</p>"},
		{"unknown mention left as text", "hi @nobody and @alice@elsewhere.example", "<p>hi @nobody and @alice@elsewhere.example</p>"},
		{"hashtag", "#Café!",
			`<p><a href="https://tacit.example/tags/caf%C3%A9" class="mention hashtag" rel="tag">#<span>Café</span></a>!</p>`},
		{"link", "see https://example.com/path.",
			`<p>see ` + linkOpen + `<span class="invisible">https://</span><span class="">example.com/path</span><span class="invisible"></span></a>.</p>`},
		{"www is hidden like the scheme", "https://www.example.com",
			`<p><a href="https://www.example.com" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://www.</span><span class="">example.com</span><span class="invisible"></span></a></p>`},
		{"long link ellipsis", "https://example.com/a/very/long/path/that/goes/on",
			`<p><a href="https://example.com/a/very/long/path/that/goes/on" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span><span class="invisible">hat/goes/on</span></a></p>`},
		{"ellipsis counts characters", "http://example.com/ééééééééééééééééééééé",
			`<p><a href="http://example.com/ééééééééééééééééééééé" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">http://</span><span class="ellipsis">example.com/éééééééééééééééééé</span><span class="invisible">ééé</span></a></p>`},
		{"link with markup characters", "https://example.com/?a=1&b=<2>",
			`<p><a href="https://example.com/?a=1&amp;b=" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="">example.com/?a=1&amp;b=</span><span class="invisible"></span></a>&lt;2&gt;</p>`},
		{"tag in link fragment", "https://example.com/#tag",
			`<p><a href="https://example.com/#tag" target="_blank" rel="nofollow noopener noreferrer" translate="no"><span class="invisible">https://</span><span class="">example.com/#tag</span><span class="invisible"></span></a></p>`},
		{"javascript is text", "javascript:alert(1)", "<p>javascript:alert(1)</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Render(tt.text, testLinker); got != tt.want {
				t.Errorf("Render(%q)\n got: %s\nwant: %s", tt.text, got, tt.want)
			}
		})
	}
}

func TestRenderWithoutLinker(t *testing.T) {
	got := Render("@alice #tag https://example.com/path", Linker{})
	want := "<p>@alice #tag " + linkOpen + `<span class="invisible">https://</span><span class="">example.com/path</span><span class="invisible"></span></a></p>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestRenderRefusesUnsafeLinkerURLs(t *testing.T) {
	l := Linker{
		MentionURL: func(Mention) (string, bool) { return "javascript:alert(1)", true },
		TagURL:     func(string) string { return "data:text/html,<script>alert(1)</script>" },
	}
	got := Render("@alice #tag", l)
	if want := "<p>@alice #tag</p>"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestSanitize(t *testing.T) {
	const rel = `rel="nofollow noopener noreferrer" target="_blank"`
	tests := []struct {
		name string
		html string
		want string
	}{
		{"empty", "", ""},
		{"plain text is escaped", `a < b & "c"`, `a &lt; b &amp; &#34;c&#34;`},
		{"script", `<p>Hi<script>alert(1)</script></p>`, `<p>Hi</p>`},
		{"style element and attribute", `<style>p{color:red}</style><p style="color:red">x</p>`, `<p>x</p>`},
		{"event handlers", `<p onclick="x()">Hi <b onmouseover="y()">there</b></p>`, `<p>Hi <b>there</b></p>`},
		{"javascript href", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"javascript href with spaces and case", `<a href=" JaVaScRiPt:alert(1)">x</a>`, `x`},
		{"data href", `<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`, `x`},
		{"relative href", `<a href="/about">x</a>`, `x`},
		{"adds rel and target", `<a href="https://example.com/" rel="me" target="_self">x</a>`,
			`<a href="https://example.com/" ` + rel + `>x</a>`},
		{"mention markup kept", `<p><span class="h-card" translate="no"><a href="https://sales.example.com/@carol" class="u-url mention">@<span>carol</span></a></span> hi</p>`,
			`<p><span class="h-card" translate="no"><a href="https://sales.example.com/@carol" ` + rel + ` class="u-url mention">@<span>carol</span></a></span> hi</p>`},
		{"hashtag keeps rel tag", `<a href="https://example.com/tags/go" class="mention hashtag" rel="tag">#<span>go</span></a>`,
			`<a href="https://example.com/tags/go" rel="nofollow noopener noreferrer tag" target="_blank" class="mention hashtag">#<span>go</span></a>`},
		{"link markup kept", `<a href="https://example.com/a/very/long/path/that/goes/on"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span><span class="invisible">hat/goes/on</span></a>`,
			`<a href="https://example.com/a/very/long/path/that/goes/on" ` + rel + `><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span><span class="invisible">hat/goes/on</span></a>`},
		{"unknown classes removed", `<span class="foo invisible bar invisible">x</span><p class="mention">y</p>`, `<span class="invisible">x</span><p>y</p>`},
		{"formatting kept", `<p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code> <u>e</u> <i>f</i> <s>g</s></p><blockquote><p>q</p></blockquote>`,
			`<p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code> <u>e</u> <i>f</i> <s>g</s></p><blockquote><p>q</p></blockquote>`},
		{"lists", `<ol start="3" reversed class="x"><li value="7">a</li><li value="x">b</li></ol><ul><li>c</li></ul>`,
			`<ol start="3" reversed=""><li value="7">a</li><li>b</li></ol><ul><li>c</li></ul>`},
		{"headings become bold paragraphs", `<h1>Title</h1><p>x</p>`, `<p><strong>Title</strong></p><p>x</p>`},
		{"images removed", `<img src="x" onerror="alert(1)">text`, `text`},
		{"iframe removed", `<iframe src="https://evil.example"></iframe>ok`, `ok`},
		{"unknown elements unwrapped", `<div>a</div><div>b <font color="red">c</font></div>`, `a b c`},
		{"table unwrapped", `<table><tr><td>a</td><td>b</td></tr></table>`, `a b`},
		{"comments removed", `<!-- secret --><p>x</p>`, `<p>x</p>`},
		{"unclosed tags", `<p>a<p>b<b>c`, `<p>a</p><p>b<b>c</b></p>`},
		{"entities stay escaped", `<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &nbsp;</p>`,
			"<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; \u00a0</p>"},
		{"pre keeps a leading newline", "<pre>\n\n  x</pre>", "<pre>\n\n  x</pre>"},
		{"svg link is not a link", `<svg><a href="https://example.com/">x</a><script>alert(1)</script></svg>`, `x`},
		{"nested link unwrapped", `<a href="https://a.example/">1<table><td><a href="https://b.example/">2</a></td></table></a>`,
			`<a href="https://a.example/" ` + rel + `>1 2 </a>`},
		{"paragraph in paragraph unwrapped", `<p>1<button><p>2</p></button>3</p>`, `<p>123</p>`},
		{"list item in list item unwrapped", `<ul><li>1<button><li>2</li></button></li></ul>`, `<ul><li>12</li></ul>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sanitize(tt.html)
			if got != tt.want {
				t.Errorf("Sanitize(%q)\n got: %q\nwant: %q", tt.html, got, tt.want)
			}
			if again := Sanitize(got); again != got {
				t.Errorf("Sanitize is not idempotent:\n once: %q\ntwice: %q", got, again)
			}
		})
	}
}

func TestSanitizeKeepsRenderedMarkup(t *testing.T) {
	out := Sanitize(Render("hi @alice and @carol@sales.example.com:8443 #go https://example.com/a/very/long/path/that/goes/on", testLinker))
	for _, want := range []string{
		`<span class="h-card" translate="no"><a href="https://tacit.example/@alice" rel="nofollow noopener noreferrer" target="_blank" class="u-url mention">@<span>alice</span></a></span>`,
		`<a href="https://tacit.example/tags/go" rel="nofollow noopener noreferrer tag" target="_blank" class="mention hashtag">#<span>go</span></a>`,
		`<span class="ellipsis">example.com/a/very/long/path/t</span>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Sanitize(Render(...)) = %s\nmissing %s", out, want)
		}
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name string
		html string
		want string
	}{
		{"empty", "", ""},
		{"paragraphs and breaks", "<p>a<br>b</p><p>c</p>", "a\nb\n\nc"},
		{"entities", "<p>&lt;b&gt; &amp; &quot;q&quot; &#39;</p>", `<b> & "q" '`},
		{"script and style dropped", "<p>x<script>bad()</script><style>p{}</style></p>", "x"},
		{"lists", "<ul><li>a</li><li>b</li></ul><p>c</p>", "a\nb\n\nc"},
		{"link spans joined", `<p><a href="https://example.com/a/very/long/path/that/goes/on"><span class="invisible">https://</span><span class="ellipsis">example.com/a/very/long/path/t</span><span class="invisible">hat/goes/on</span></a></p>`,
			"https://example.com/a/very/long/path/that/goes/on"},
		{"remote mention shows username", Render("hi @carol@sales.example.com:8443", testLinker), "hi @carol"},
		{"break before paragraph end", "<p>a<br></p><p>b</p>", "a\n\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlainText(tt.html); got != tt.want {
				t.Errorf("PlainText(%q) = %q, want %q", tt.html, got, tt.want)
			}
		})
	}
}

func TestPlainTextRoundTrip(t *testing.T) {
	texts := []string{
		"hello",
		"Hello <script>alert('x')</script> & \"bye\"",
		"one\ntwo\n\nthree",
		"  indented\n\ttabbed",
		"hi @alice, @nobody and @bob.",
		"#Café #日本語 and #123",
		"see https://example.com/a/very/long/path/that/goes/on?x=1&y=2 (and https://www.example.com/).",
		"a@b.com https://example.com/#tag &amp; &#39;",
	}
	for _, text := range texts {
		html := Render(text, testLinker)
		if got := PlainText(html); got != text {
			t.Errorf("PlainText(Render(%q)) = %q\nhtml: %s", text, got, html)
		}
	}
}

// typicalPost is about 400 characters with 2 mentions, 2 hashtags and a link.
const typicalPost = `Morning all! Quick update from the platform team: @alice and @carol@sales.example.com:8443 ` +
	`moved the build cache to the new storage cluster last night, so CI runs should be ` +
	`twice as fast from today. Details and the graphs are in the write-up at ` +
	`https://wiki.example.com/platform/2024/build-cache-migration, please read it before Friday's review. ` +
	`Questions welcome here or in the channel. #platform #ShipIt`

func BenchmarkRender(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typicalPost)))
	for b.Loop() {
		Render(typicalPost, testLinker)
	}
}

func TestTypicalPost(t *testing.T) {
	p := Parse(typicalPost)
	if len(typicalPost) < 380 || len(typicalPost) > 420 || len(p.Mentions) != 2 || len(p.Tags) != 2 || len(p.Links) != 1 {
		t.Fatalf("typicalPost is %d bytes with %+v", len(typicalPost), p)
	}
}
