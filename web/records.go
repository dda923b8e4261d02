package web

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Handlers for the API's plain record endpoints, which Mastodon serves alike for many
// kinds of record (filters v1 and v2, admin domain blocks and allows): list the
// viewer's records, show, create, update or delete one. Each reads the path's :id and
// the parameters, calls the domain as the current account, and answers with the
// record's entity, or Mastodon's {} for a delete. The domain decides who may do what.

// listRecords answers with all of the viewer's records.
func listRecords[R, E any](s *Server, list func(context.Context, *community.Account) ([]R, error), entity func(*R) E) gin.HandlerFunc {
	return func(c *gin.Context) {
		records, err := list(c.Request.Context(), currentAccount(c))
		if err != nil {
			s.fail(c, err)
			return
		}
		out := make([]E, 0, len(records))
		for i := range records {
			out = append(out, entity(&records[i]))
		}
		c.JSON(http.StatusOK, out)
	}
}

// showRecord answers with the record the path's :id names.
func showRecord[R, E any](s *Server, get func(context.Context, *community.Account, int64) (R, error), entity func(R) E) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
			return
		}
		record, err := get(c.Request.Context(), currentAccount(c), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, entity(record))
	}
}

// createRecord makes a record from the request's parameters, read by input.
func createRecord[In, R, E any](s *Server, input func(*params) (In, error),
	create func(context.Context, *community.Account, In) (R, error), entity func(R) E) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := s.mustParams(c)
		if !ok {
			return
		}
		in, err := input(p)
		if err != nil {
			s.fail(c, err)
			return
		}
		record, err := create(c.Request.Context(), currentAccount(c), in)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, entity(record))
	}
}

// updateRecord changes the record the path's :id names with the request's parameters.
func updateRecord[In, R, E any](s *Server, input func(*params) (In, error),
	update func(context.Context, *community.Account, int64, In) (R, error), entity func(R) E) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
			return
		}
		p, ok := s.mustParams(c)
		if !ok {
			return
		}
		in, err := input(p)
		if err != nil {
			s.fail(c, err)
			return
		}
		record, err := update(c.Request.Context(), currentAccount(c), id, in)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, entity(record))
	}
}

// deleteRecord deletes the record the path's :id names.
func deleteRecord(s *Server, remove func(context.Context, *community.Account, int64) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
			return
		}
		if err := remove(c.Request.Context(), currentAccount(c), id); err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, gin.H{})
	}
}
