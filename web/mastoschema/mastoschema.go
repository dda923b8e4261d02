package mastoschema

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

//go:embed openapi.json
var openapiJSON []byte

// docURL is the (never fetched) URL under which the embedded OpenAPI
// document is registered with the compiler. Component schemas are compiled
// as docURL + "#/components/schemas/<Name>", so that the document's
// "#/components/schemas/X" references resolve inside the same resource.
const docURL = "https://tacit.invalid/openapi.json"

var (
	initOnce sync.Once
	initErr  error
	names    []string            // sorted component schema names
	known    map[string]struct{} // set of names

	compileMu sync.Mutex // guards compiler: jsonschema.Compiler is not safe for concurrent use
	compiler  *jsonschema.Compiler

	compiled sync.Map // entity name -> *jsonschema.Schema
)

func setup() {
	initOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(openapiJSON))
		if err != nil {
			initErr = fmt.Errorf("mastoschema: parse embedded openapi.json: %w", err)
			return
		}
		root, _ := doc.(map[string]any)
		components, _ := root["components"].(map[string]any)
		schemas, _ := components["schemas"].(map[string]any)
		if len(schemas) == 0 {
			initErr = errors.New("mastoschema: embedded openapi.json has no components.schemas")
			return
		}
		// See relaxOverlappingOneOf: without this, no non-null Status.quote
		// could ever validate.
		for _, sch := range schemas {
			relaxOverlappingOneOf(sch)
		}
		allowNullAdminEmail(schemas)
		allowEmptyContactEmail(schemas)
		known = make(map[string]struct{}, len(schemas))
		for name := range schemas {
			names = append(names, name)
			known[name] = struct{}{}
		}
		slices.Sort(names)

		c := jsonschema.NewCompiler()
		// OpenAPI 3.1 schema objects are JSON Schema 2020-12 (the OAS base
		// dialect is 2020-12 plus a vocabulary of annotation-only keywords).
		// The document declares neither $schema nor jsonSchemaDialect, so
		// set the default draft explicitly.
		//
		// The OAS-specific keywords found in the document ("example",
		// "externalDocs", the "x-logo" extension in info, and the non-schema
		// members of the OpenAPI root such as "paths") are unknown keywords
		// to 2020-12; jsonschema/v6 ignores unknown keywords, so they need no
		// special handling. The document uses no "discriminator", "nullable"
		// (the 3.0 style), "$id", "$anchor" or "$dynamicRef".
		c.DefaultDraft(jsonschema.Draft2020)
		// Format assertions are opt-in in 2020-12 (annotation only by
		// default); we turn them on so that the "date-time", "date", "email"
		// and "uri" values the document declares are checked: a client
		// parsing created_at or following an avatar URL breaks on bad
		// values just as on wrong types. Formats the library does not know
		// (the document uses "iso-639-1") stay annotations, unchecked.
		//
		// "date" is used by Account.last_status_at and
		// FeaturedTag.last_status_at; Mastodon sends a plain date there
		// ("2025-01-31"). Some of the document's own examples still show a
		// date-time for it; the examples are stale, the schema is right.
		//
		// The fixture makes this workable with one exception: Mastodon sends
		// an empty string for the missing author_url / provider_url /
		// embed_url of a PreviewCard (the schema's own PreviewCard example
		// does so), while the schema marks them format "uri". We therefore
		// register a "uri" format that accepts the empty string and
		// otherwise requires an absolute URI, exactly like the built-in one.
		c.AssertFormat()
		c.RegisterFormat(&jsonschema.Format{Name: "uri", Validate: validateURIOrEmpty})
		c.RegisterFormat(&jsonschema.Format{Name: emailOrEmpty, Validate: validateEmailOrEmpty})
		if err := c.AddResource(docURL, doc); err != nil {
			initErr = fmt.Errorf("mastoschema: add openapi.json resource: %w", err)
			return
		}
		compiler = c
	})
}

// relaxOverlappingOneOf rewrites, in the parsed (in-memory) document only,
// every "oneOf" with two or more non-null branches into "anyOf".
//
// In this document "oneOf" is used almost exclusively as "<$ref> or null"
// (the referenced component schemas all have "type": "object", so oneOf and
// anyOf are equivalent there and those are left alone). The exceptions are
// Status.quote and StatusEdit.quote: oneOf [Quote, ShallowQuote, null].
// Quote requires only "state" and ShallowQuote requires only "state", and
// neither forbids additional properties, so every non-null quote object
// matches both branches and oneOf ("exactly one") always fails. anyOf is
// the evident intent. openapi.json itself stays byte-identical.
func relaxOverlappingOneOf(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			switch k {
			case "example", "examples", "enum", "const", "default":
				// data, not schemas
			case "properties", "patternProperties", "$defs", "dependentSchemas":
				// name -> schema maps: the names are not keywords
				if m, ok := child.(map[string]any); ok {
					for _, sub := range m {
						relaxOverlappingOneOf(sub)
					}
				}
			default:
				relaxOverlappingOneOf(child)
			}
		}
		branches, ok := v["oneOf"].([]any)
		if !ok {
			return
		}
		nonNull := 0
		for _, b := range branches {
			if m, ok := b.(map[string]any); !ok || len(m) != 1 || m["type"] != "null" {
				nonNull++
			}
		}
		if _, taken := v["anyOf"]; nonNull >= 2 && !taken {
			v["anyOf"] = branches
			delete(v, "oneOf")
		}
	case []any:
		for _, child := range v {
			relaxOverlappingOneOf(child)
		}
	}
}

// Entities lists the schema names available (components.schemas of the
// embedded OpenAPI document), sorted.
func Entities() []string {
	setup()
	return slices.Clone(names)
}

// schemaFor returns the compiled schema for entity, compiling it on first
// use.
func schemaFor(entity string) (*jsonschema.Schema, error) {
	setup()
	if initErr != nil {
		return nil, initErr
	}
	if s, ok := compiled.Load(entity); ok {
		return s.(*jsonschema.Schema), nil
	}
	if _, ok := known[entity]; !ok {
		return nil, unknownEntity(entity)
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	if s, ok := compiled.Load(entity); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := compiler.Compile(docURL + "#/components/schemas/" + entity)
	if err != nil {
		return nil, fmt.Errorf("mastoschema: compile %s: %w", entity, err)
	}
	compiled.Store(entity, s)
	return s, nil
}

func unknownEntity(entity string) error {
	norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	for _, n := range names {
		if norm(n) == norm(entity) {
			return fmt.Errorf("mastoschema: unknown entity %q (did you mean %q?)", entity, n)
		}
	}
	return fmt.Errorf("mastoschema: unknown entity %q; known entities: %s", entity, strings.Join(names, ", "))
}

// Validate checks one JSON entity against components.schemas[entity] of the
// Mastodon OpenAPI document: required fields present, types right, null
// only where the schema allows it, enums and the formats described in the
// package documentation.
//
// The error, if any, starts with the entity name and lists each failure
// with its instance location, e.g.
//
//	Account: at '/followers_count': got string, want integer
func Validate(entity string, data []byte) error {
	s, err := schemaFor(entity)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: invalid JSON: %w", entity, err)
	}
	return validate(entity, s, inst)
}

// ValidateList checks a JSON array whose every element is the entity. An
// empty array is valid; null (or any non-array) is not. Failures are
// reported per element, e.g. "[]Account: at '/2/id': got number, want
// string".
func ValidateList(entity string, data []byte) error {
	s, err := schemaFor(entity)
	if err != nil {
		return err
	}
	label := "[]" + entity
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: invalid JSON: %w", label, err)
	}
	arr, ok := inst.([]any)
	if !ok {
		return fmt.Errorf("%s: at '': got %s, want array", label, jsonType(inst))
	}
	var msgs []string
	for i, el := range arr {
		if err := s.Validate(el); err != nil {
			msgs = append(msgs, describe(err, fmt.Sprintf("/%d", i))...)
		}
	}
	return report(label, msgs)
}

func validate(label string, s *jsonschema.Schema, inst any) error {
	err := s.Validate(inst)
	if err == nil {
		return nil
	}
	return report(label, describe(err, ""))
}

// report turns the failure lines into an error (nil if there are none).
func report(label string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	slices.Sort(problems) // the validator's order is not deterministic
	return &ValidationError{Entity: label, Problems: problems}
}

// ValidationError is returned by Validate and ValidateList when the JSON
// is well-formed but does not match the schema.
type ValidationError struct {
	// Entity is the schema name, or "[]Name" for ValidateList.
	Entity string
	// Problems holds one entry per failure, "at '<json pointer>': <message>",
	// possibly followed by indented "- at ..." lines giving its causes.
	Problems []string
}

func (e *ValidationError) Error() string {
	if len(e.Problems) == 1 && !strings.Contains(e.Problems[0], "\n") {
		return e.Entity + ": " + e.Problems[0]
	}
	return fmt.Sprintf("%s: %d problems:\n%s", e.Entity, len(e.Problems), indent(strings.Join(e.Problems, "\n")))
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

// describe renders a jsonschema error as lines "at '<location>': <message>"
// (with prefix prepended to every location). Causes of a failure (e.g. why
// each branch of a oneOf did not match) are rendered as indented
// "- at ..." lines below it. The top-level "validation failed with <url>"
// line and the $ref hops are omitted.
func describe(err error, prefix string) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []string{err.Error()}
	}
	var out []string
	var walk func(e *jsonschema.ValidationError, depth int)
	walk = func(e *jsonschema.ValidationError, depth int) {
		_, isSchema := e.ErrorKind.(*kind.Schema)
		_, isRef := e.ErrorKind.(*kind.Reference)
		if isSchema || (isRef && len(e.Causes) == 1) {
			for _, c := range e.Causes {
				walk(c, depth)
			}
			return
		}
		loc := prefix + jsonPointer(e.InstanceLocation)
		if c := nonNullBranch(e); c != nil {
			// "X or null" that got neither: report the X failure only.
			if t, ok := c.ErrorKind.(*kind.Type); ok && len(c.Causes) == 0 {
				line := fmt.Sprintf("at '%s': got %s, want %s or null", loc, t.Got, strings.Join(t.Want, " or "))
				if depth > 0 {
					line = strings.Repeat("  ", depth-1) + "- " + line
				}
				out = append(out, line)
				return
			}
			walk(c, depth)
			return
		}
		line := fmt.Sprintf("at '%s': %s", loc, message(e))
		if depth > 0 {
			line = strings.Repeat("  ", depth-1) + "- " + line
		}
		out = append(out, line)
		for _, c := range e.Causes {
			if isAlternative(e) && isNullTypeError(c) {
				continue // "got object, want null" of a nullable union: noise
			}
			walk(c, depth+1)
		}
	}
	walk(ve, 0)
	if len(out) == 0 {
		return []string{strings.TrimSpace(ve.Error())}
	}
	// Nested lines belong to the preceding top-level line.
	var lines []string
	for _, l := range out {
		if strings.HasPrefix(strings.TrimLeft(l, " "), "- ") && len(lines) > 0 {
			lines[len(lines)-1] += "\n  " + l
		} else {
			lines = append(lines, l)
		}
	}
	return lines
}

func isAlternative(e *jsonschema.ValidationError) bool {
	switch e.ErrorKind.(type) {
	case *kind.OneOf, *kind.AnyOf:
		return true
	}
	return false
}

func isNullTypeError(e *jsonschema.ValidationError) bool {
	t, ok := e.ErrorKind.(*kind.Type)
	return ok && len(t.Want) == 1 && t.Want[0] == "null"
}

// nonNullBranch returns, for a failed oneOf/anyOf of the form "X or null",
// the (unwrapped) error of the X branch; otherwise nil.
func nonNullBranch(e *jsonschema.ValidationError) *jsonschema.ValidationError {
	if !isAlternative(e) || len(e.Causes) != 2 {
		return nil
	}
	var other *jsonschema.ValidationError
	nulls := 0
	for _, c := range e.Causes {
		if isNullTypeError(c) {
			nulls++
		} else {
			other = c
		}
	}
	if nulls != 1 || other == nil {
		return nil
	}
	for {
		if _, isRef := other.ErrorKind.(*kind.Reference); isRef && len(other.Causes) == 1 {
			other = other.Causes[0]
			continue
		}
		return other
	}
}

// message returns the library's English message for e alone (without its
// causes and location).
func message(e *jsonschema.ValidationError) string {
	shallow := &jsonschema.ValidationError{SchemaURL: e.SchemaURL, ErrorKind: e.ErrorKind}
	return strings.TrimPrefix(shallow.Error(), "at '': ")
}

func jsonPointer(tokens []string) string {
	var sb strings.Builder
	for _, t := range tokens {
		sb.WriteByte('/')
		t = strings.ReplaceAll(t, "~", "~0")
		sb.WriteString(strings.ReplaceAll(t, "/", "~1"))
	}
	return sb.String()
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := v.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// validateURIOrEmpty implements the "uri" format: an absolute URI (RFC
// 3986, with a scheme), or the empty string, which Mastodon uses for absent
// URLs in some entities (see the comment in setup).
func validateURIOrEmpty(v any) error {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if !u.IsAbs() {
		return errors.New("relative url")
	}
	if h := u.Hostname(); strings.Contains(h, ":") {
		if !strings.Contains(u.Host, "[") || net.ParseIP(h) == nil {
			return errors.New("invalid ipv6 address")
		}
	}
	return nil
}

// allowNullAdminEmail makes Admin::Account.email nullable, in memory: Mastodon sends
// null there for accounts without a login (remote accounts), while the document
// types it a required string with format "email", which no value for such an
// account could satisfy.
func allowNullAdminEmail(schemas map[string]any) {
	acct, _ := schemas["AdminAccount"].(map[string]any)
	props, _ := acct["properties"].(map[string]any)
	if email, ok := props["email"].(map[string]any); ok {
		email["type"] = []any{"string", "null"}
	}
}

// emailOrEmpty is the format allowEmptyContactEmail gives the instance's contact
// address.
const emailOrEmpty = "email-or-empty"

// allowEmptyContactEmail lets the instance's contact address be empty, in memory:
// Mastodon sends "" when the operator set none (its site_contact_email defaults to
// ""), while the document declares format "email".
func allowEmptyContactEmail(schemas map[string]any) {
	props := func(v any) map[string]any {
		m, _ := v.(map[string]any)
		p, _ := m["properties"].(map[string]any)
		return p
	}
	if email, ok := props(props(schemas["Instance"])["contact"])["email"].(map[string]any); ok {
		email["format"] = emailOrEmpty
	}
	if email, ok := props(schemas["V1Instance"])["email"].(map[string]any); ok {
		email["format"] = emailOrEmpty
	}
}

// validateEmailOrEmpty accepts "" or an address with a local part and a domain.
func validateEmailOrEmpty(v any) error {
	s, ok := v.(string)
	if !ok || s == "" {
		return nil
	}
	local, domain, found := strings.Cut(s, "@")
	if !found || local == "" || domain == "" || strings.ContainsAny(s, " \t\r\n") {
		return errors.New("not an e-mail address")
	}
	return nil
}
