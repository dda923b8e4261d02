package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Follow suggestions, from this instance's own follow graph.

func (s *Server) mountSuggestions(r *gin.RouterGroup) {
	r.GET("/v2/suggestions", requireUser("read:accounts"), s.suggestionsV2)
	r.GET("/v1/suggestions", requireUser("read:accounts"), s.suggestionsV1)
	r.DELETE("/v1/suggestions/:account_id", requireUser("write:accounts"), s.dismissSuggestion)
}

// Suggestion is Mastodon's Suggestion entity. Source is the older single reason,
// derived from the first of Sources as Mastodon does.
type Suggestion struct {
	Source  string   `json:"source"`
	Sources []string `json:"sources"`
	Account Account  `json:"account"`
}

// legacySource maps a source to the reason older clients know.
func legacySource(src community.SuggestionSource) string {
	switch src {
	case community.SuggestFriendsOfFriends:
		return "past_interactions"
	case community.SuggestMostFollowed:
		return "global"
	}
	return "global"
}

func (s *Server) loadSuggestions(c *gin.Context) ([]community.Suggestion, bool) {
	limit := 40
	if raw := c.Query("limit"); raw != "" {
		p := pageOf(c, 40, community.MaxSuggestions)
		limit = p.Limit
	}
	list, err := s.community.Suggestions(c.Request.Context(), currentAccount(c), limit)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return list, true
}

func (s *Server) suggestionsV2(c *gin.Context) {
	list, ok := s.loadSuggestions(c)
	if !ok {
		return
	}
	out := make([]Suggestion, 0, len(list))
	for _, sg := range list {
		e := Suggestion{Source: legacySource(sg.Sources[0]), Account: s.account(sg.Account)}
		for _, src := range sg.Sources {
			e.Sources = append(e.Sources, string(src))
		}
		out = append(out, e)
	}
	c.JSON(http.StatusOK, out)
}

// suggestionsV1 answers plain accounts, as Mastodon's v1 does.
func (s *Server) suggestionsV1(c *gin.Context) {
	list, ok := s.loadSuggestions(c)
	if !ok {
		return
	}
	accounts := make([]*community.Account, 0, len(list))
	for _, sg := range list {
		accounts = append(accounts, sg.Account)
	}
	c.JSON(http.StatusOK, s.accounts(accounts))
}

func (s *Server) dismissSuggestion(c *gin.Context) {
	id, err := pathID(c, "account_id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.DismissSuggestion(c.Request.Context(), currentAccount(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}
