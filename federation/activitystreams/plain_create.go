package activitystreams

import (
	"net/url"
	"strings"
	"time"
)

// Almost everything an inbox receives is a Create of a plain Note: an id, an actor,
// addressing, a date, and the Note with ids, dates, text and tags. For that shape,
// handing the document to go-fed (streams.ToType resolving every type and property)
// is most of the cost of parsing, and it finds nothing the JSON does not already say.
// readPlainCreate reads that shape from the decoded JSON alone, giving exactly what
// parseActivity would. It is deliberately narrow: whenever a value go-fed would read
// is not in the one shape whose reading is known here (a reference that is an object
// or a list, a date go-fed reads another way, a property go-fed knows and this
// function does not, a document parseActivity would refuse), it answers nil and the
// full parser decides. TestPlainCreateAgrees and FuzzPlainCreateAgrees compare the
// two on the wire fixtures and on generated documents.

// plainCreateKeys are the properties of goFedKeys a plain Create may have: any other
// property go-fed reads sends the document to the full parser.
var plainCreateKeys = map[string]bool{"id": true, "type": true, "actor": true, "object": true, "published": true}

// plainNoteKeys are the same for its Note.
var plainNoteKeys = map[string]bool{
	"id": true, "type": true, "attributedTo": true, "inReplyTo": true, "url": true,
	"published": true, "updated": true, "tag": true, "sensitive": true, "scope": true, "tacit:scope": true,
}

// readPlainCreate returns the activity m holds when it is a plain Create{Note}, nil
// when it is not, or not certainly (the full parser then reads it).
func readPlainCreate(m map[string]any) *ParsedActivity {
	if m["type"] != "Create" || !onlyKnownKeys(m, plainCreateKeys) {
		return nil
	}
	id, err := idOf(m, true)
	if err != nil {
		return nil
	}
	actor, ok := iriRef(m["actor"])
	if !ok || actor == "" {
		return nil
	}
	if _, err := absURL(actor, false); err != nil {
		return nil
	}
	published, ok := plainDate(m, "published")
	if !ok {
		return nil
	}
	to, err := audience(m["to"])
	if err != nil {
		return nil
	}
	cc, err := audience(m["cc"])
	if err != nil {
		return nil
	}
	om, ok := m["object"].(map[string]any)
	if !ok {
		return nil
	}
	o := readPlainNote(om)
	if o == nil {
		return nil
	}
	return &ParsedActivity{
		ID: id, Type: "Create", Actor: actor,
		ObjectID: o.ID, ObjectIDs: []string{o.ID}, ObjectType: "Note", Object: o,
		To: to, Cc: cc, Published: published, Raw: m,
	}
}

// readPlainNote reads a Note as parseObject does, or returns nil.
func readPlainNote(m map[string]any) *ParsedObject {
	if m["type"] != "Note" || !onlyKnownKeys(m, plainNoteKeys) {
		return nil
	}
	vote := text(m["name"]) != "" && text(m["content"]) == "" && m["inReplyTo"] != nil
	id, err := idOf(m, vote)
	if err != nil {
		return nil
	}
	o := &ParsedObject{ID: id, Type: "Note"}
	author, ok := iriRef(m["attributedTo"])
	if !ok || author == "" {
		return nil
	}
	if _, err := absURL(author, false); err != nil {
		return nil
	}
	o.AttributedTo = author
	// go-fed reads a JSON null as no value; parseObject refuses a parent it cannot read.
	if parent, ok := iriRef(m["inReplyTo"]); !ok {
		return nil
	} else if parent != "" {
		if _, err := absURL(parent, false); err != nil {
			return nil
		}
		o.InReplyTo = parent
	}
	if o.To, err = audience(m["to"]); err != nil {
		return nil
	}
	if o.Cc, err = audience(m["cc"]); err != nil {
		return nil
	}
	link, ok := iriRef(m["url"])
	if !ok {
		return nil
	}
	o.URL = validOrEmpty(link)
	if o.Published, ok = plainDate(m, "published"); !ok {
		return nil
	}
	if o.Updated, ok = plainDate(m, "updated"); !ok {
		return nil
	}
	readPlainFields(o, m)
	// go-fed has no sensitive or scope property: parseObject reads them from its
	// unknown properties, which hold the JSON values as they are.
	o.Sensitive, _ = m["sensitive"].(bool)
	if s, ok := m["scope"].(string); ok {
		o.Scope = s
	} else if s, ok := m["tacit:scope"].(string); ok {
		o.Scope = s
	}
	for _, e := range asList(m["tag"]) {
		tag, ok := e.(map[string]any)
		if !ok {
			continue
		}
		switch tag["type"] {
		case "Mention":
			href, ok := plainMention(tag)
			if !ok {
				return nil
			}
			if _, err := absURL(href, true); err == nil {
				o.Mentions = append(o.Mentions, href)
			}
		case "Hashtag":
			if name := strings.TrimPrefix(text(tag["name"]), "#"); name != "" {
				o.Hashtags = append(o.Hashtags, name)
			}
		default:
			// A type list, or a Mention spelled another way, is go-fed's to read.
			if firstType(tag) == "Mention" || firstType(tag) == "Hashtag" {
				return nil
			}
		}
	}
	o.Attachments = attachmentsOf(m["attachment"])
	return o
}

// onlyKnownKeys reports whether every property of m that go-fed would be given is
// one of known.
func onlyKnownKeys(m map[string]any, known map[string]bool) bool {
	for _, k := range goFedKeys {
		if _, present := m[k]; present && !known[k] {
			return false
		}
	}
	return true
}

// iriRef reads a reference the way go-fed reads a single string: a string that parses
// as a URL with a scheme is that URL, re-encoded as go-fed's refOf returns it. A
// missing value or JSON null is no reference (""). Anything else (an object, a list, a
// string go-fed would keep as an unknown value) is not certain: ok is false.
func iriRef(v any) (ref string, ok bool) {
	if v == nil {
		return "", true
	}
	s, isString := v.(string)
	if !isString {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "", false
	}
	return u.String(), true
}

// plainDate reads a published or updated property as dateOf reads go-fed's: an
// RFC 3339 string, in UTC; absent or null is the zero time. A string go-fed would read
// as an IRI, or in its second layout, or a value of another kind, is not certain.
func plainDate(m map[string]any, key string) (time.Time, bool) {
	v, present := m[key]
	if !present {
		return time.Time{}, true
	}
	s, isString := v.(string)
	if !isString {
		return time.Time{}, false
	}
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// plainMention returns the href of a Mention tag whose only properties are a string
// type, href and name, the href a URL with a scheme; ok is false for any other.
func plainMention(tag map[string]any) (href string, ok bool) {
	for k, v := range tag {
		switch k {
		case "type", "href", "name":
			if _, isString := v.(string); !isString {
				return "", false
			}
		default:
			return "", false
		}
	}
	href, ok = iriRef(tag["href"])
	return href, ok && href != ""
}
