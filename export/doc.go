// Package export writes a person's archive in the shape of Mastodon's: a zip of
// actor.json (the ActivityPub actor as this instance serves it), outbox.json (an
// OrderedCollection of the person's Create and Announce activities, whose attachments
// point at the files inside the archive), likes.json and bookmarks.json (collections
// of the liked and bookmarked posts' ids), the uploaded files, the avatar and header,
// and the CSV files of Mastodon's export page (follows, blocks, mutes, bookmarks,
// lists). It reads the person's data through the domain's own-data reads and renders
// documents with federation/activitystreams, so the archive says what peers are told.
//
// It also reads Mastodon's following and blocking CSV files back (imports.go), for a
// person moving to this instance.
package export
