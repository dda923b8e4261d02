package search

import (
	"strings"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/markup"
)

// The documents the indexes hold, built from domain rows. They carry only what is
// matched or filtered on: results are always loaded back from the database.

// expertiseFieldWords are words in a profile field's name that make its value declared
// expertise: Mastodon users write "Expertise: Kubernetes, Go" or "Ask me about: …" in
// their profile fields, and a Mastodon client has no other way to say it.
var expertiseFieldWords = []string{
	"expert", "skill", "know", "topic", "ask me", "special", "focus", "stack", "competenc", "fachgebiet",
}

// IsExpertiseField reports whether a profile field, by its name, declares expertise.
func IsExpertiseField(name string) bool {
	n := strings.ToLower(name)
	for _, w := range expertiseFieldWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Profile is an account with the parts of its profile search reads.
type Profile struct {
	Account      *community.Account
	FeaturedTags []string
}

// declared lists what a person declares they know: the expertise list, featured tags,
// and the values of expertise profile fields.
func (p Profile) declared() []string {
	out := append([]string{}, p.Account.Expertise...)
	out = append(out, p.FeaturedTags...)
	for _, f := range p.Account.Fields {
		if IsExpertiseField(f.Name) {
			out = append(out, markup.PlainText(f.Value))
		}
	}
	return out
}

// about is the rest of the profile: the note, the other fields, and for a remote
// person the words of their instance's host (their department's instance:
// "eng.corp.example" is found as "eng").
func (p Profile) about() string {
	var b strings.Builder
	b.WriteString(markup.PlainText(p.Account.Note))
	if d := p.Account.Domain; d != "" {
		b.WriteString("\n" + strings.NewReplacer(".", " ", ":", " ").Replace(d))
	}
	for _, f := range p.Account.Fields {
		if !IsExpertiseField(f.Name) {
			b.WriteString("\n" + f.Name + " " + markup.PlainText(f.Value))
		}
	}
	return b.String()
}

// names are what a person is called: username (also with its underscores as spaces, so
// "jane_doe" is found as "doe"), display name.
func names(a *community.Account) string {
	parts := []string{a.Username}
	if strings.Contains(a.Username, "_") {
		parts = append(parts, strings.ReplaceAll(a.Username, "_", " "))
	}
	parts = append(parts, a.DisplayName)
	return strings.Join(parts, " ")
}

func personDocument(p Profile) map[string]any {
	a := p.Account
	return map[string]any{
		fieldName:         names(a),
		fieldNamePrefix:   names(a),
		fieldExpertise:    p.declared(),
		fieldAbout:        p.about(),
		fieldLocal:        a.IsLocal(),
		fieldDiscoverable: a.Discoverable && !a.Group,
	}
}

// postText is what a post says: its content warning and its text.
func postText(st *community.Status) string {
	text := markup.PlainText(st.Content)
	if st.SpoilerText != "" {
		text = st.SpoilerText + "\n" + text
	}
	return text
}

// scopeRemoteDepartment is the scope indexed for a department post that came from
// another instance: none should exist (department posts never leave their instance),
// and nobody here may read one; naming it apart lets the prefilter exclude it with one
// term.
const scopeRemoteDepartment = "department_remote"

func postDocument(st *community.Status, tags []string) map[string]any {
	scope := string(st.Scope)
	if st.Scope == community.ScopeDepartment && !st.Local {
		scope = scopeRemoteDepartment
	}
	return map[string]any{
		fieldText:       postText(st),
		fieldTags:       tags,
		fieldAuthor:     community.FormatID(st.AccountID),
		fieldVisibility: string(st.Visibility),
		fieldScope:      scope,
		fieldLocal:      st.Local,
	}
}

func tagDocument(t *community.Tag) map[string]any {
	return map[string]any{fieldName: t.Name}
}
