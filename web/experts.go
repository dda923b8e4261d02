package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/search"
)

// "Who knows X?" (GET /api/v1/tacit/experts, Tacit's own) and the people directory
// (GET /api/v1/directory, Mastodon's).

// Page sizes of the experts list and of the directory.
const (
	expertsDefaultLimit   = 10
	directoryDefaultLimit = 40
	directoryMaxLimit     = 80
)

// ExpertsResult is the answer of GET /api/v1/tacit/experts.
type ExpertsResult struct {
	Experts []ExpertEntity `json:"experts"`
	// Unanswered names the peers that did not answer in time.
	Unanswered []string `json:"unanswered"`
}

// ExpertEntity is one person who knows about the query.
type ExpertEntity struct {
	Account  Account          `json:"account"`
	Score    float64          `json:"score"`
	Instance string           `json:"instance"`
	Evidence []EvidenceEntity `json:"evidence"`
}

// EvidenceEntity is one reason someone is an expert. Type is "expertise" (a declared
// topic, in Value), "featured_tag" (Value, URL), "profile_field" (Name, Value as
// HTML), "status" (a matching post) or "counts" (of matching posts the viewer may read:
// Statuses, of which Hashtags use a matching hashtag, and the Favourites they got).
type EvidenceEntity struct {
	Type       string          `json:"type"`
	Value      string          `json:"value,omitempty"`
	Name       string          `json:"name,omitempty"`
	URL        string          `json:"url,omitempty"`
	Status     *EvidenceStatus `json:"status,omitempty"`
	Statuses   *int            `json:"statuses,omitempty"`
	Hashtags   *int            `json:"hashtags,omitempty"`
	Favourites *int64          `json:"favourites,omitempty"`
}

// EvidenceStatus is a post shown as evidence: ID is its id on this instance, null when
// it lives only on another instance (URI and URL then lead to it).
type EvidenceStatus struct {
	ID              *string     `json:"id"`
	URI             string      `json:"uri"`
	URL             *string     `json:"url"`
	CreatedAt       string      `json:"created_at"`
	Content         string      `json:"content"`
	SpoilerText     string      `json:"spoiler_text"`
	Visibility      string      `json:"visibility"`
	Reply           bool        `json:"reply"`
	FavouritesCount int64       `json:"favourites_count"`
	RepliesCount    int64       `json:"replies_count"`
	Tags            []StatusTag `json:"tags"`
	Tacit           StatusTacit `json:"tacit"`
}

func (s *Server) mountExperts(r *gin.RouterGroup) {
	r.GET("/v1/tacit/experts", requireUser("read:search"), s.experts)
	r.GET("/v1/directory", s.profileReader("read:accounts"), s.directory)
}

// experts answers "who knows q?" across the company.
func (s *Server) experts(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	q := strings.TrimSpace(p.Get("q"))
	if q == "" {
		s.fail(c, badRequest("param is missing or the value is empty: q"))
		return
	}
	if len(q) > 500 {
		s.fail(c, community.Invalid("q is too long (maximum is 500 characters)"))
		return
	}
	limit, err := p.Int("limit", expertsDefaultLimit)
	if err != nil {
		s.fail(c, err)
		return
	}
	if limit <= 0 {
		limit = expertsDefaultLimit
	}
	limit = min(limit, search.MaxExperts)
	if s.searcher == nil {
		s.fail(c, errSearchUnavailable)
		return
	}
	res, err := s.searcher.Experts(c.Request.Context(), currentAccount(c), q, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := ExpertsResult{Experts: make([]ExpertEntity, 0, len(res.Experts)), Unanswered: res.Unanswered}
	for _, e := range res.Experts {
		out.Experts = append(out.Experts, ExpertEntity{
			Account: s.account(e.Account), Score: e.Score, Instance: e.Instance, Evidence: s.evidence(e.Evidence),
		})
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) evidence(ev search.Evidence) []EvidenceEntity {
	out := []EvidenceEntity{}
	for _, t := range ev.Expertise {
		out = append(out, EvidenceEntity{Type: "expertise", Value: t})
	}
	for _, t := range ev.FeaturedTags {
		out = append(out, EvidenceEntity{Type: "featured_tag", Value: t, URL: s.community.TagURL(t)})
	}
	for _, f := range ev.Fields {
		out = append(out, EvidenceEntity{Type: "profile_field", Name: f.Name, Value: f.Value})
	}
	for _, st := range ev.Statuses {
		es := &EvidenceStatus{
			URI: st.URI, CreatedAt: apiTime(st.CreatedAt), Content: st.Content, SpoilerText: st.SpoilerText,
			Visibility: string(st.Visibility), Reply: st.Reply, FavouritesCount: st.FavouritesCount,
			RepliesCount: st.RepliesCount, Tags: []StatusTag{}, Tacit: StatusTacit{Scope: string(st.Scope)},
		}
		if st.ID != 0 {
			es.ID = strPtr(community.FormatID(st.ID))
		}
		if st.URL != "" {
			es.URL = strPtr(st.URL)
		}
		for _, t := range st.Tags {
			es.Tags = append(es.Tags, StatusTag{Name: t, URL: s.community.TagURL(t)})
		}
		out = append(out, EvidenceEntity{Type: "status", Status: es})
	}
	statuses, hashtags, favourites := ev.StatusesCount, ev.HashtagCount, ev.FavouritesCount
	out = append(out, EvidenceEntity{Type: "counts", Statuses: &statuses, Hashtags: &hashtags, Favourites: &favourites})
	return out
}

// directory lists the people who opted into discovery: this instance's with
// local=true, the whole company's otherwise.
func (s *Server) directory(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	local, _, err := p.Bool("local")
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := p.Int("limit", directoryDefaultLimit)
	if err != nil {
		s.fail(c, err)
		return
	}
	if limit <= 0 {
		limit = directoryDefaultLimit
	}
	offset, err := p.Int("offset", 0)
	if err != nil || offset < 0 {
		s.fail(c, community.Invalid("offset must be a positive integer"))
		return
	}
	list, err := s.community.Directory(c.Request.Context(), viewer(c), community.DirectoryQuery{
		Local: local, Order: p.Get("order"), Limit: min(limit, directoryMaxLimit), Offset: offset,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.accounts(list))
}
