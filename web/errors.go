package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/streaming"
)

// apiError is Mastodon's error body.
type apiError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// Errors of the API layer itself, for what the domain does not know about. Their text is
// what the client reads.
var (
	// errBadParams marks a request whose parameters cannot be read at all (HTTP 400).
	errBadParams = errors.New("bad request")
	// errSearchUnavailable answers search requests on an instance without indexes (HTTP 503).
	errSearchUnavailable = errors.New(msgSearchUnavailable)
)

// requestError is a parameter the request cannot be served without, or cannot be read
// at all: Mastodon answers those with 400 and a message of its own, where a value that
// breaks a rule is a 422 (community.Invalid).
type requestError struct{ msg string }

func (e *requestError) Error() string        { return e.msg }
func (e *requestError) Is(target error) bool { return target == errBadParams }

// badRequest returns a requestError with the message the client reads.
func badRequest(msg string) error { return &requestError{msg: msg} }

// abort ends the request with Mastodon's {"error": …} shape. Handlers reply through
// fail; abort is for the few answers that belong to HTTP itself (authentication, rate
// limits, body size, unknown routes, panics).
func abort(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, apiError{Error: msg})
}

// fail ends the request with the status that matches err: it is the API's one mapping
// from errors to HTTP. Domain errors map by kind, this package's request errors and the
// streaming hub's refusals by identity; anything else is an internal error, logged with
// the request id and hidden from the client.
func (s *Server) fail(c *gin.Context, err error) {
	var de *community.Error
	switch {
	case errors.As(err, &de):
		switch de.Kind {
		case community.KindInvalid, community.KindConflict:
			abort(c, http.StatusUnprocessableEntity, de.Msg)
		case community.KindNotFound:
			abort(c, http.StatusNotFound, de.Msg)
		case community.KindForbidden:
			abort(c, http.StatusForbidden, de.Msg)
		default:
			abort(c, http.StatusInternalServerError, "Internal server error")
		}
	case errors.Is(err, errInvalidText):
		abort(c, http.StatusUnprocessableEntity, err.Error())
	case errors.Is(err, errBadParams):
		abort(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, errSearchUnavailable):
		abort(c, http.StatusServiceUnavailable, err.Error())
	case errors.Is(err, streaming.ErrNeedsLogin):
		abort(c, http.StatusUnauthorized, err.Error())
	case errors.Is(err, streaming.ErrScope):
		abort(c, http.StatusForbidden, err.Error())
	case errors.Is(err, streaming.ErrNoSuchList):
		abort(c, http.StatusNotFound, err.Error())
	case errors.Is(err, streaming.ErrUnknownStream), errors.Is(err, streaming.ErrMissingTag),
		errors.Is(err, streaming.ErrMissingList), errors.Is(err, streaming.ErrTooManyStreams):
		abort(c, http.StatusBadRequest, err.Error())
	case errors.Is(err, streaming.ErrClosed):
		abort(c, http.StatusServiceUnavailable, err.Error())
	default:
		s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "path", c.FullPath(), "err", err)
		abort(c, http.StatusInternalServerError, "Internal server error")
	}
}
