// Package markup turns what people type into the HTML Mastodon clients
// expect, and cleans HTML arriving from elsewhere.
//
// Posts written on this server are plain text. [Render] escapes that text and
// turns mentions, hashtags and links into anchors shaped exactly like the ones
// Mastodon produces, because client apps style and hide parts of links by the
// class names Mastodon uses. [Parse] finds the same mentions, hashtags and
// links without rendering, so the caller can resolve accounts and store tags
// before rendering.
//
// Posts arriving from other servers are HTML. [Sanitize] reduces them to the
// small subset of HTML Mastodon keeps, so nothing a remote server sends can run
// scripts or restyle our pages. [PlainText] goes the other way and recovers
// the text of an HTML fragment for search indexing and edit sources.
//
// Parse and Render scan the text by hand in one pass instead of using
// regular expressions, so their cost grows linearly with the input however it
// is crafted.
package markup

// Mention is an @-mention found in text. Domain is "" for a bare @user.
type Mention struct {
	// Username is the part after the first '@', as written.
	Username string
	// Domain is lowercased and may include a port, e.g. "sales.example.com:8443".
	Domain string
}

// Parsed is what Parse finds in a post's text.
type Parsed struct {
	// Mentions are in order of first appearance, de-duplicated
	// case-insensitively.
	Mentions []Mention
	// Tags are hashtag names as written (without '#'), de-duplicated
	// case-insensitively, in order of first appearance.
	Tags []string
	// Links are the http(s) URLs, as written, de-duplicated, in order of
	// first appearance.
	Links []string
}

// Linker tells Render where mentions and hashtags point.
type Linker struct {
	// MentionURL returns the profile URL of a mentioned account, or ok=false
	// when the account is unknown: unknown mentions are left as plain
	// (escaped) text. A nil MentionURL leaves every mention as text.
	MentionURL func(m Mention) (url string, ok bool)
	// TagURL returns the URL of a hashtag's page; tag is the name as
	// written, without '#'. A nil TagURL leaves hashtags as text.
	TagURL func(tag string) string
}
