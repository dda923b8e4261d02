package community

import (
	"database/sql/driver"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Expertise is what a person says they know about: Tacit's own list of topics, shown on
// the profile and searched by "who knows X?". Featured tags and profile fields count as
// expertise too (see the search package); this list is the one Tacit's API edits.

// Limits on an expertise list.
const (
	MaxExpertise      = 20
	MaxExpertiseRunes = 100
)

// Topics is a list of expertise topics, stored as JSON text so that both SQLite and
// PostgreSQL keep it in one column.
type Topics []string

// Value implements driver.Valuer.
func (t Topics) Value() (driver.Value, error) { return jsonListValue([]string(t), "expertise") }

// Scan implements sql.Scanner.
func (t *Topics) Scan(src any) error { return scanJSONList(src, (*[]string)(t), "expertise") }

// NormalizeExpertise checks a list of topics as a person typed it: spaces are collapsed,
// blank entries dropped, repeats (ignoring case) kept once, in the order given.
func NormalizeExpertise(in []string) (Topics, error) {
	out := Topics{}
	seen := map[string]bool{}
	for _, raw := range in {
		topic := strings.Join(strings.Fields(raw), " ")
		if topic == "" {
			continue
		}
		if utf8.RuneCountInString(topic) > MaxExpertiseRunes {
			return nil, Invalid("Expertise topic is too long (maximum is %d characters)", MaxExpertiseRunes)
		}
		if strings.IndexFunc(topic, unicode.IsControl) >= 0 {
			return nil, Invalid("Expertise topic %q contains control characters", topic)
		}
		key := strings.ToLower(topic)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, topic)
	}
	if len(out) > MaxExpertise {
		return nil, Invalid("Too many expertise topics (maximum is %d)", MaxExpertise)
	}
	return out, nil
}

// remoteExpertise keeps what a peer sent within the same bounds, cutting rather than
// refusing, as peers' limits may differ.
func remoteExpertise(in []string) Topics {
	out := Topics{}
	seen := map[string]bool{}
	for _, raw := range in {
		topic := truncateRunes(strings.Join(strings.Fields(raw), " "), MaxExpertiseRunes)
		if topic == "" || strings.IndexFunc(topic, unicode.IsControl) >= 0 || seen[strings.ToLower(topic)] {
			continue
		}
		seen[strings.ToLower(topic)] = true
		out = append(out, topic)
		if len(out) == MaxExpertise {
			break
		}
	}
	return out
}
