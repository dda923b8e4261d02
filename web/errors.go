package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// apiError is Mastodon's error body.
type apiError struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// abort ends the request with Mastodon's {"error": …} shape.
func abort(c *gin.Context, status int, msg string) {
	c.AbortWithStatusJSON(status, apiError{Error: msg})
}

// fail ends the request with the status that matches a domain error; anything else is
// an internal error, logged with the request id and hidden from the client.
func (s *Server) fail(c *gin.Context, err error) {
	var de *community.Error
	if errors.As(err, &de) {
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
		return
	}
	if errors.Is(err, errInvalidText) {
		abort(c, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if errors.Is(err, errBadParams) {
		abort(c, http.StatusBadRequest, err.Error())
		return
	}
	s.log.ErrorContext(c.Request.Context(), "request failed", "request_id", requestID(c), "path", c.FullPath(), "err", err)
	abort(c, http.StatusInternalServerError, "Internal server error")
}

// notFound is Mastodon's answer for anything missing or hidden from the viewer: the two
// must look the same, so that a 404 does not confirm a hidden post exists.
func notFound(c *gin.Context) { abort(c, http.StatusNotFound, "Record not found") }
