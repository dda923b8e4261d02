// Package activitystreams is Tacit's ActivityStreams vocabulary layer: it turns the
// domain's accounts and statuses into the JSON that Mastodon, GoToSocial and other
// ActivityPub servers accept, expresses a status's audience (visibility × scope,
// DESIGN.md §2) as to/cc addressing and back, and parses what peers send into plain
// structs. It does no I/O, knows nothing of HTTP or signatures, and keeps no state.
//
// Serialization and parsing go through go-fed's streams package for the standard
// vocabulary. What go-fed does not model travels outside it, each place saying why:
// Mastodon's Hashtag and PropertyValue types, sensitive, manuallyApprovesFollowers,
// endpoints, contentMap beside content, and Tacit's own "scope" term
// (https://tacit.dev/ns#scope). Every emitted document carries the same @context
// (see Context).
//
// Parsed HTML (content, summary, profile notes and field values) is returned exactly
// as received; sanitizing it is the domain's job (markup.Sanitize).
package activitystreams
