package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Text that enters through the API must be valid UTF-8 without NUL characters:
// PostgreSQL refuses both in text columns (a 500 there), SQLite stores them and hands
// them to every client and peer later. They are refused at the door with 422, in one
// place for every route: the path, the query string, urlencoded and JSON bodies
// (refuseBadText) and multipart fields (readParams).

// errInvalidText marks a request carrying text that is not valid UTF-8 or contains
// NUL (HTTP 422).
var errInvalidText = errors.New("Text must be valid UTF-8 and must not contain NUL characters")

// validText reports whether s may be stored as text.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// validValues reports whether every name and value in v is valid text.
func validValues(v url.Values) bool {
	for k, vs := range v {
		if !validText(k) {
			return false
		}
		for _, s := range vs {
			if !validText(s) {
				return false
			}
		}
	}
	return true
}

// validJSON reports whether every string (keys included) in a decoded JSON value is
// valid text.
func validJSON(v any) bool {
	switch v := v.(type) {
	case string:
		return validText(v)
	case []any:
		for _, e := range v {
			if !validJSON(e) {
				return false
			}
		}
	case map[string]any:
		for k, e := range v {
			if !validText(k) || !validJSON(e) {
				return false
			}
		}
	}
	return true
}

// refuseBadText answers 422 to a request whose path, query string, Idempotency-Key or
// urlencoded or JSON body holds invalid text. Bodies it cannot parse are left to the
// handlers, which refuse them with 400; bodies of other types (uploads, ActivityPub
// documents) are not read here.
func (s *Server) refuseBadText(c *gin.Context) {
	r := c.Request
	if !validText(r.URL.Path) || !validText(r.Header.Get("Idempotency-Key")) {
		s.fail(c, errInvalidText)
		return
	}
	if q, err := url.ParseQuery(r.URL.RawQuery); err == nil && !validValues(q) {
		s.fail(c, errInvalidText)
		return
	}
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		c.Next()
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" && ct != "application/x-www-form-urlencoded" {
		c.Next()
		return
	}
	// Read what the handlers would accept (they refuse anything longer), then put it
	// back in front of whatever was not read.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil || len(body) > maxBodyBytes {
		c.Next()
		return
	}
	ok := true
	switch ct {
	case "application/json":
		var v any
		if !utf8.Valid(body) {
			ok = false
		} else if json.Unmarshal(body, &v) == nil {
			ok = validJSON(v)
		}
	default:
		if vals, err := url.ParseQuery(string(body)); err == nil {
			ok = validValues(vals)
		}
	}
	if !ok {
		s.fail(c, errInvalidText)
		return
	}
	c.Next()
}
