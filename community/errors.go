package community

import (
	"errors"
	"fmt"
)

// Kind classifies domain errors so that adapters can map them to their own codes
// (HTTP statuses, ActivityPub rejections) without parsing messages.
type Kind int

// Error kinds.
const (
	KindInvalid   Kind = iota + 1 // the request is malformed or breaks a rule (HTTP 422)
	KindNotFound                  // nothing there, or nothing the viewer may see (HTTP 404)
	KindForbidden                 // the viewer may see it but not do this (HTTP 403)
	KindConflict                  // it already exists (HTTP 422 in Mastodon's API)
)

// Error is a domain error with a message safe to show to the user.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// Sentinel errors for the common cases; wrap with Errorf-style helpers for detail.
var (
	ErrNotFound  = &Error{Kind: KindNotFound, Msg: "Record not found"}
	ErrForbidden = &Error{Kind: KindForbidden, Msg: "This action is not allowed"}
)

// Invalid returns a validation error with a message for the user.
func Invalid(format string, args ...any) error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf(format, args...)}
}

// Forbidden returns a permission error with a message for the user.
func Forbidden(format string, args ...any) error {
	return &Error{Kind: KindForbidden, Msg: fmt.Sprintf(format, args...)}
}

// Conflict returns an error saying that something already exists.
func Conflict(format string, args ...any) error {
	return &Error{Kind: KindConflict, Msg: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of a domain error anywhere in err's chain, or 0.
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	return 0
}
