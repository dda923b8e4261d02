// Package mastoschema validates the JSON that Tacit's Mastodon-compatible
// client API produces against the community OpenAPI 3.1 description of the
// Mastodon API (abraham/mastodon-openapi, API version 4.7.0, GFDL-1.3; see
// README.md). The document is embedded from openapi.json, which is kept
// byte-identical to upstream; nothing outside this package is read at run
// time.
//
// Use it from tests:
//
//	if err := mastoschema.Validate("Account", body); err != nil {
//		t.Error(err) // Account: at '/followers_count': got string, want integer
//	}
//	if err := mastoschema.ValidateList("Status", body); err != nil { ... }
//
// # Entity names
//
// Entity names are the keys of components.schemas (see [Entities]). The
// ones a client API implementation needs most:
//
//	Account            GET /api/v1/accounts/:id
//	CredentialAccount  GET /api/v1/accounts/verify_credentials (Account + source, role)
//	Status             statuses, timelines
//	Context            GET /api/v1/statuses/:id/context
//	Relationship       GET /api/v1/accounts/relationships
//	Notification       GET /api/v1/notifications
//	Instance           GET /api/v2/instance   (the v2 entity)
//	V1Instance         GET /api/v1/instance   (the v1 entity; there is no "V1_Instance")
//	Application        GET /api/v1/apps/verify_credentials
//	CredentialApplication  POST /api/v1/apps (Application + client_id, client_secret)
//	Token              POST /oauth/token
//	Marker             each value of GET /api/v1/markers (which is an object keyed by timeline)
//	FeaturedTag, Tag, Preferences, CustomEmoji, Announcement, List, Poll,
//	MediaAttachment, PreviewCard, Conversation, Search, Error
//
// testdata/*.json holds complete, valid examples of the main entities.
//
// # How the document expresses optional and null
//
// A field is required when it is listed in the schema's "required"; other
// fields may be omitted. Nullability is written in two ways: scalar and
// array fields use a type array ("type": ["string", "null"]), and nullable
// references to other entities use "oneOf": [{"$ref": ...}, {"type":
// "null"}] (e.g. Status.reblog, Status.card, Notification.status). In this
// document every nullable field is also optional, and no required field is
// nullable. A field whose type does not include null must not be null, even
// if optional: omit it instead.
//
// # Deviations from a literal reading of the document
//
// The validation is otherwise exactly the document's, with these choices
// (all made in memory; openapi.json is not edited):
//
//   - The document is compiled as JSON Schema 2020-12 (the OpenAPI 3.1
//     dialect). OpenAPI-only keywords ("example", "externalDocs", "x-*",
//     the OpenAPI root members) are unknown keywords and are ignored.
//   - Format assertions are on for the formats the document uses that the
//     validator knows: "date-time", "date", "email" and "uri". Unknown
//     formats ("iso-639-1") are not checked. Note that Account.last_status_at
//     and FeaturedTag.last_status_at are "date" ("2025-01-31"), not
//     date-time, as Mastodon sends them.
//   - "uri" also accepts the empty string, because Mastodon sends "" for a
//     PreviewCard's missing author_url, provider_url and embed_url (the
//     document's own PreviewCard examples do too). Any non-empty value must
//     be an absolute URI.
//   - Status.quote and StatusEdit.quote are oneOf [Quote, ShallowQuote,
//     null]; since Quote and ShallowQuote both require only "state" and
//     allow other properties, every quote object matches both and oneOf
//     would always fail. Such oneOfs (two or more non-null branches) are
//     validated as anyOf.
//   - Admin::Account.email may be null: Mastodon sends null for accounts
//     without a login (remote accounts), which the document's required
//     email-formatted string cannot express.
//
// Additional properties are allowed everywhere (the document does not
// forbid them), so Tacit-specific extra fields do not fail validation.
//
// All functions are safe for concurrent use. The document is parsed once,
// on first use, and each entity's schema is compiled on first use and
// cached.
package mastoschema
