package markup

import (
	"strings"

	"golang.org/x/net/html"
)

// hiddenElements hold no text a reader sees; PlainText leaves out their
// content.
var hiddenElements = map[string]bool{
	"script": true, "style": true, "template": true, "noscript": true,
	"iframe": true, "object": true, "embed": true, "noembed": true,
	"noframes": true, "head": true, "title": true, "select": true,
}

// paragraphElements are separated from what is around them by a blank line.
var paragraphElements = map[string]bool{
	"p": true, "div": true, "blockquote": true, "pre": true,
	"ul": true, "ol": true, "dl": true, "table": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"address": true, "article": true, "aside": true, "details": true,
	"figure": true, "footer": true, "header": true, "main": true,
	"nav": true, "section": true, "hr": true,
}

// lineElements are on lines of their own.
var lineElements = map[string]bool{
	"li": true, "dt": true, "dd": true, "tr": true, "figcaption": true,
	"summary": true, "caption": true,
}

// PlainText returns the text of an HTML fragment: tags removed, <br> and
// </p><p> as newlines, entities decoded. Used for search indexing and edit
// sources.
//
// Paragraphs and other blocks are separated by a blank line, list items by a
// newline, so PlainText(Render(text)) gives back text for local mentions,
// hashtags and links. Mentions come back as the reader saw them, "@bob" even
// where the source said "@bob@example.com": the domain is only in the link.
// The text of Mastodon's invisible spans is kept, so links come back whole.
func PlainText(s string) string {
	nodes, err := html.ParseFragment(strings.NewReader(s), bodyContext())
	if err != nil {
		return ""
	}
	var w textWriter
	for _, n := range nodes {
		w.node(n)
	}
	return w.b.String()
}

// textWriter collects the text of an HTML tree.
type textWriter struct {
	b strings.Builder
	// need is how many newlines must come before the next text, so that
	// blocks are separated without leading or trailing blank lines.
	need int
}

func (w *textWriter) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
	case html.ElementNode:
		w.element(n)
	case html.DocumentNode:
		w.children(n)
	}
}

func (w *textWriter) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.node(c)
	}
}

func (w *textWriter) element(n *html.Node) {
	name := n.Data
	switch {
	case hiddenElements[name]:
	case name == "br":
		w.b.WriteByte('\n')
	case paragraphElements[name]:
		w.separate(2)
		w.children(n)
		w.separate(2)
	case lineElements[name]:
		w.separate(1)
		w.children(n)
		w.separate(1)
	default:
		w.children(n)
	}
}

// separate asks for at least count newlines before the next text.
func (w *textWriter) separate(count int) {
	w.need = max(w.need, count)
}

func (w *textWriter) text(t string) {
	if t == "" {
		return
	}
	if w.b.Len() > 0 && w.need > 0 {
		// Newlines already written by <br> count towards the separation.
		s := w.b.String()
		have := len(s) - len(strings.TrimRight(s, "\n"))
		for i := have; i < w.need; i++ {
			w.b.WriteByte('\n')
		}
	}
	w.need = 0
	w.b.WriteString(t)
}
