// Package community is Tacit's domain: accounts, posts and their audience, follows,
// interactions, feeds, idea boards and moderation. It stores its entities with gorm and
// publishes domain events after each transaction commits; it knows nothing of HTTP,
// ActivityPub or search indexes, which call it and subscribe to its events.
//
// # One Service, five clusters
//
// Everything goes through one Service, so that the audience rule and the counters it
// keeps are applied on every path. Its methods fall into five clusters, which the file
// names show:
//
//   - Core (no prefix): the Service and its options (service.go), errors (errors.go),
//     events and their bus (events.go), ids (id.go), the audience rule (visibility.go:
//     who may read a status and, in Recipients, which other instances receive it;
//     audience.go: the audience a new status gets), the rows shared by every cluster
//     (models.go), paging (page.go), JSON columns (jsoncolumn.go), text cut to limits
//     (truncate.go), the change cursors adapters follow (changes.go), lookups by address
//     for search (search.go), the instance's figures (stats.go) and the settings its
//     admins edit (instance_settings.go).
//   - Accounts (account_*.go): creating and finding accounts, who may see an account
//     (account_audience.go), profiles and their fields, expertise, featured tags and
//     endorsements, keys, relationships (follows, blocks, mutes), the directory, a
//     profile's statuses and deleting an account; how accounts come to be besides an
//     admin's command: sign-up, invites and approval (account_registration.go), the
//     company's identity provider at sign-in (account_external.go) and its SCIM
//     provisioning (account_provisioning.go); and a person's own data taken out
//     (account_export.go) or brought in from Mastodon (account_import.go).
//   - Statuses and remote content (status_*.go, remote_*.go): creating, reading, editing
//     and deleting statuses, with their media, polls, mentions, interactions, scheduled
//     statuses and the details shown with them, the retention rules that delete old
//     ones (status_retention.go); and what other instances send (remote accounts and
//     statuses, the once-only record of activities, remote media, inboxes).
//   - Feeds (feed_*.go): timelines, the home feed kept in memory, live audiences for
//     streaming, notifications, conversations, lists, filters, markers, followed
//     hashtags, trends and suggestions.
//   - Boards and moderation (board_*.go, moderation*.go): idea boards and their ideas;
//     moderation of boards (moderation.go), of accounts (moderation_accounts.go, with
//     the legal hold that keeps an account's posts from retention in
//     moderation_legal_hold.go) and of domains (moderation_domains.go), and reports.
//
// # The read contract
//
// Methods named GetX(ctx, viewer, …), and every other method that takes a Viewer, check
// the audience: they return only what that viewer may read, and ErrNotFound for the
// rest, as if it did not exist. Methods that take the acting *Account (a viewer's own
// notifications, lists, filters, an author's edit) work on that account's own things
// and check that they are its own.
//
// Lookups that do not check the audience (AccountByID, StatusByID, StatusByURI,
// IdeaOf, PollOf…) are not methods of Service: they sit on the Unchecked type
// (unchecked.go), reached through Service.Unchecked(), so that every use says so at the
// call site. They are for federation delivery (which decides its audience through
// Recipients), for search indexing (which checks each result through the rule before
// showing it), for the account behind a signed-in request, and for use inside this
// package. Whatever such a lookup returns must pass the audience rule (CanSee,
// CanSeeAccount) before a reader sees it.
package community
