package mastoschema

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// loadObject reads a testdata file as a generic JSON object to mutate.
func loadObject(t *testing.T, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readTestdata(t, name), &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTestdataValid checks that every example document is valid. They
// document what each entity must contain.
func TestTestdataValid(t *testing.T) {
	t.Parallel()
	cases := []struct{ file, entity string }{
		{"account.json", "Account"},
		{"credential_account.json", "CredentialAccount"},
		{"status.json", "Status"},
		{"status_reblog.json", "Status"},
		{"context.json", "Context"},
		{"relationship.json", "Relationship"},
		{"notification.json", "Notification"},
		{"instance.json", "Instance"},
		{"v1_instance.json", "V1Instance"},
		{"application.json", "Application"},
		{"credential_application.json", "CredentialApplication"},
		{"token.json", "Token"},
		{"tag.json", "Tag"},
		{"featured_tag.json", "FeaturedTag"},
		{"preferences.json", "Preferences"},
		{"error.json", "Error"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			if err := Validate(tc.entity, readTestdata(t, tc.file)); err != nil {
				t.Errorf("%s should be a valid %s:\n%v", tc.file, tc.entity, err)
			}
		})
	}

	// GET /api/v1/markers answers an object keyed by timeline name.
	var markers map[string]json.RawMessage
	if err := json.Unmarshal(readTestdata(t, "markers.json"), &markers); err != nil {
		t.Fatal(err)
	}
	if len(markers) == 0 {
		t.Fatal("markers.json is empty")
	}
	for timeline, m := range markers {
		if err := Validate("Marker", m); err != nil {
			t.Errorf("markers.json %s: %v", timeline, err)
		}
	}
}

// invalidCase is a testdata document made invalid for an entity.
type invalidCase struct {
	name   string
	file   string
	entity string
	mutate func(m map[string]any)
	want   string // substring of the error message
}

// invalidCases are TestInvalid's table: one mistake each, and the message it must give.
var invalidCases = []invalidCase{
	{
		name: "required field removed", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { delete(m, "username") },
		want:   "Account: at '': missing property 'username'",
	},
	{
		name: "integer as string", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["followers_count"] = "12" },
		want:   "Account: at '/followers_count': got string, want integer",
	},
	{
		name: "float for integer", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["statuses_count"] = 1.5 },
		want:   "at '/statuses_count': got number, want integer",
	},
	{
		name: "null for non-nullable", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["note"] = nil },
		want:   "at '/note': got null, want string",
	},
	{
		name: "null for non-nullable optional field", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["indexable"] = nil },
		want:   "at '/indexable': got null, want boolean",
	},
	{
		name: "last_status_at must be a date", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["last_status_at"] = "2025-01-31T09:15:27Z" },
		want:   "at '/last_status_at': '2025-01-31T09:15:27Z' is not valid date",
	},
	{
		name: "relative avatar URL", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["avatar"] = "/avatars/original/missing.png" },
		want:   "at '/avatar': '/avatars/original/missing.png' is not valid uri",
	},
	{
		name: "bad created_at", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["created_at"] = "2024-03-14 00:00:00" },
		want:   "at '/created_at': '2024-03-14 00:00:00' is not valid date-time",
	},
	{
		name: "nested field", file: "account.json", entity: "Account",
		mutate: func(m map[string]any) { m["fields"].([]any)[1].(map[string]any)["value"] = 5 },
		want:   "at '/fields/1/value': got number, want string",
	},
	{
		name: "null array", file: "status.json", entity: "Status",
		mutate: func(m map[string]any) { m["media_attachments"] = nil },
		want:   "Status: at '/media_attachments': got null, want array",
	},
	{
		name: "embedded account", file: "status.json", entity: "Status",
		mutate: func(m map[string]any) { m["account"].(map[string]any)["id"] = 1 },
		want:   "Status: at '/account/id': got number, want string",
	},
	{
		name: "nullable reference of the wrong type", file: "status.json", entity: "Status",
		mutate: func(m map[string]any) { m["reblog"] = "113925637212843008" },
		want:   "Status: at '/reblog': got string, want object or null",
	},
	{
		name: "nullable reference, invalid object", file: "status.json", entity: "Status",
		mutate: func(m map[string]any) { m["card"] = map[string]any{"url": "https://news.example/"} },
		want:   "at '/card': missing properties",
	},
	{
		name: "enum", file: "status.json", entity: "Status",
		mutate: func(m map[string]any) { m["visibility"] = "everyone" },
		want:   "at '/visibility': value must be one of 'public', 'unlisted', 'private', 'direct'",
	},
	{
		name: "relationship null", file: "relationship.json", entity: "Relationship",
		mutate: func(m map[string]any) { m["following"] = nil },
		want:   "Relationship: at '/following': got null, want boolean",
	},
	{
		name: "relationship missing note", file: "relationship.json", entity: "Relationship",
		mutate: func(m map[string]any) { delete(m, "note") },
		want:   "Relationship: at '': missing property 'note'",
	},
	{
		name: "notification type", file: "notification.json", entity: "Notification",
		mutate: func(m map[string]any) { m["type"] = "poke" },
		want:   "Notification: at '/type': value must be one of",
	},
	{
		name: "notification group_key", file: "notification.json", entity: "Notification",
		mutate: func(m map[string]any) { delete(m, "group_key") },
		want:   "Notification: at '': missing property 'group_key'",
	},
	{
		name: "instance contact email", file: "instance.json", entity: "Instance",
		mutate: func(m map[string]any) { m["contact"].(map[string]any)["email"] = "admin at tacit" },
		want:   "Instance: at '/contact/email': 'admin at tacit' is not valid email",
	},
	{
		name: "instance v1 shape given to v2", file: "instance.json", entity: "Instance",
		mutate: func(m map[string]any) { m["registrations"] = true },
		want:   "Instance: at '/registrations': got boolean, want object",
	},
	{
		name: "v1 instance missing stats", file: "v1_instance.json", entity: "V1Instance",
		mutate: func(m map[string]any) { delete(m, "stats") },
		want:   "V1Instance: at '': missing property 'stats'",
	},
	{
		name: "application scopes", file: "application.json", entity: "Application",
		mutate: func(m map[string]any) { m["scopes"] = "read write" },
		want:   "Application: at '/scopes': got string, want array",
	},
	{
		name: "token created_at", file: "token.json", entity: "Token",
		mutate: func(m map[string]any) { m["created_at"] = "2025-01-31T09:15:27Z" },
		want:   "Token: at '/created_at': got string, want number",
	},
}

// TestInvalid checks that mutations of valid documents fail, and how the
// failure is reported.
func TestInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range invalidCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := loadObject(t, tc.file)
			tc.mutate(m)
			err := Validate(tc.entity, mustMarshal(t, m))
			if err == nil {
				t.Fatalf("mutated %s validated as %s", tc.file, tc.entity)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n%v\ndoes not contain\n%s", err, tc.want)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Entity != tc.entity {
				t.Errorf("error %#v is not a *ValidationError for %s", err, tc.entity)
			}
		})
	}
}

func TestSeveralProblems(t *testing.T) {
	t.Parallel()
	m := loadObject(t, "account.json")
	delete(m, "acct")
	m["bot"] = "no"
	err := Validate("Account", mustMarshal(t, m))
	want := "Account: 2 problems:\n  at '': missing property 'acct'\n  at '/bot': got string, want boolean"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestValidateList(t *testing.T) {
	t.Parallel()
	account := readTestdata(t, "account.json")
	status := readTestdata(t, "status.json")
	ok := []struct{ entity, json string }{
		{"Account", `[]`},
		{"Account", " [ ] \n"},
		{"Account", "[" + string(account) + "]"},
		{"Account", "[" + string(account) + "," + string(account) + "]"},
		{"Status", "[" + string(status) + "]"},
	}
	for _, tc := range ok {
		if err := ValidateList(tc.entity, []byte(tc.json)); err != nil {
			t.Errorf("ValidateList(%s, %.40q...): %v", tc.entity, tc.json, err)
		}
	}

	m := loadObject(t, "account.json")
	m["following_count"] = "34"
	bad := []struct{ entity, json, want string }{
		{"Account", `null`, "[]Account: at '': got null, want array"},
		{"Account", `{}`, "[]Account: at '': got object, want array"},
		{"Account", string(account), "[]Account: at '': got object, want array"},
		{"Account", `[null]`, "[]Account: at '/0': got null, want object"},
		{"Account", "[" + string(account) + "," + string(mustMarshal(t, m)) + "]",
			"[]Account: at '/1/following_count': got string, want integer"},
		{"Status", "[" + string(account) + "]", "[]Status: at '/0': missing properties"},
	}
	for _, tc := range bad {
		err := ValidateList(tc.entity, []byte(tc.json))
		if err == nil {
			t.Errorf("ValidateList(%s, %.40q...) succeeded", tc.entity, tc.json)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ValidateList(%s, %.40q...):\n%v\ndoes not contain\n%s", tc.entity, tc.json, err, tc.want)
		}
	}
}

func TestValidateRejectsNonObjects(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{`null`, `[]`, `"x"`, `1`} {
		if err := Validate("Account", []byte(doc)); err == nil {
			t.Errorf("Validate(Account, %s) succeeded", doc)
		}
	}
}

func TestInvalidJSON(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{``, `{`, `{"id": "1"} {}`, `{"id": 1,}`} {
		err := Validate("Account", []byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), "Account: invalid JSON") {
			t.Errorf("Validate(Account, %q) = %v, want invalid JSON error", doc, err)
		}
		err = ValidateList("Account", []byte(doc))
		if err == nil || !strings.HasPrefix(err.Error(), "[]Account: invalid JSON") {
			t.Errorf("ValidateList(Account, %q) = %v, want invalid JSON error", doc, err)
		}
	}
}

func TestUnknownEntity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ entity, hint string }{
		{"V1_Instance", `did you mean "V1Instance"?`},
		{"account", `did you mean "Account"?`},
		{"", "known entities: Account, "},
		{"Toot", "known entities: Account, "},
	} {
		entity := tc.entity
		err := Validate(entity, []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("unknown entity %q", entity)) ||
			!strings.Contains(err.Error(), tc.hint) {
			t.Errorf("Validate(%q) = %v, want unknown entity error with %s", entity, err, tc.hint)
		}
		if err := ValidateList(entity, []byte(`[]`)); err == nil {
			t.Errorf("ValidateList(%q, []) succeeded", entity)
		}
	}
}

func TestEntities(t *testing.T) {
	t.Parallel()
	got := Entities()
	for _, want := range []string{
		"Account", "CredentialAccount", "Status", "Relationship", "Notification",
		"Instance", "V1Instance", "Application", "CredentialApplication", "Token",
		"Context", "Marker", "FeaturedTag", "Tag", "Preferences", "CustomEmoji",
		"Announcement", "Error",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Entities() lacks %s", want)
		}
	}
	if !slices.IsSorted(got) {
		t.Error("Entities() is not sorted")
	}
	got[0] = "mutated"
	if Entities()[0] == "mutated" {
		t.Error("Entities() returns shared storage")
	}
}

// TestAllEntitiesCompile makes sure every schema in the document compiles
// (so that no keyword of the document trips the compiler).
func TestAllEntitiesCompile(t *testing.T) {
	t.Parallel()
	for _, e := range Entities() {
		if _, err := schemaFor(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
}

// TestEmptyURI: "" is accepted for format "uri" (Mastodon's PreviewCard),
// anything else must be an absolute URI.
func TestEmptyURI(t *testing.T) {
	t.Parallel()
	status := loadObject(t, "status_reblog.json")
	card := status["reblog"].(map[string]any)["card"].(map[string]any)
	if card["author_url"] != "" {
		t.Fatal("status_reblog.json: expected a card with an empty author_url")
	}
	for _, u := range []string{"news.example", "//news.example/x", "https://[::1/"} {
		card["author_url"] = u
		err := Validate("Status", mustMarshal(t, status))
		if err == nil || !strings.Contains(err.Error(), "at '/reblog/card/author_url'") {
			t.Errorf("author_url %q: got %v, want a uri error", u, err)
		}
	}
	for _, u := range []string{"https://news.example/authors/1", "https://[::1]/x", "urn:isbn:0451450523"} {
		card["author_url"] = u
		if err := Validate("Status", mustMarshal(t, status)); err != nil {
			t.Errorf("author_url %q: %v", u, err)
		}
	}
}

// TestQuote: Status.quote is oneOf [Quote, ShallowQuote, null] in the
// document, which no quote object could satisfy; it is validated as anyOf.
func TestQuote(t *testing.T) {
	t.Parallel()
	quoted := loadObject(t, "status.json")
	status := loadObject(t, "status.json")
	status["id"] = "113925637212843999"
	valid := []any{
		nil,
		map[string]any{"state": "accepted", "quoted_status": quoted},
		map[string]any{"state": "deleted", "quoted_status": nil},
		map[string]any{"state": "accepted", "quoted_status_id": "113925637212843008"},
	}
	for i, q := range valid {
		status["quote"] = q
		if err := Validate("Status", mustMarshal(t, status)); err != nil {
			t.Errorf("valid quote #%d: %v", i, err)
		}
	}
	invalid := []any{
		"113925637212843008",
		map[string]any{"quoted_status_id": "113925637212843008"},
		map[string]any{"state": "bogus", "quoted_status": nil},
	}
	for i, q := range invalid {
		status["quote"] = q
		if err := Validate("Status", mustMarshal(t, status)); err == nil {
			t.Errorf("invalid quote #%d validated", i)
		}
	}
}

// TestConcurrent exercises lazy compilation from many goroutines (run
// with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	docs := map[string][]byte{
		"Account":      readTestdata(t, "account.json"),
		"Status":       readTestdata(t, "status.json"),
		"Notification": readTestdata(t, "notification.json"),
		"Relationship": readTestdata(t, "relationship.json"),
		"Instance":     readTestdata(t, "instance.json"),
		"V1Instance":   readTestdata(t, "v1_instance.json"),
		"Context":      readTestdata(t, "context.json"),
	}
	var wg sync.WaitGroup
	for range 8 {
		for entity, doc := range docs {
			wg.Go(func() {
				if err := Validate(entity, doc); err != nil {
					t.Errorf("%s: %v", entity, err)
				}
				if err := ValidateList(entity, []byte("["+string(doc)+"]")); err != nil {
					t.Errorf("[]%s: %v", entity, err)
				}
			})
		}
	}
	wg.Wait()
}

// TestFixtureInfo guards the README's claims about the fixture.
func TestFixtureInfo(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Version string `json:"version"`
			License struct {
				Name string `json:"name"`
			} `json:"license"`
		} `json:"info"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info.Version != "4.7.0" || doc.Info.License.Name != "GFDL-1.3" {
		t.Errorf("openapi.json is %s / API %s / %s; update README.md and doc.go",
			doc.OpenAPI, doc.Info.Version, doc.Info.License.Name)
	}
}
