package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Filters: Mastodon's v2 filters (a filter groups keywords and statuses under one
// title, context, action and expiry) and the older v1 API (one phrase per filter),
// which Tacit serves from the same rows: a v1 filter is a keyword of a v2 filter.

func (s *Server) mountFilters(r *gin.RouterGroup) {
	r.GET("/v2/filters", requireUser("read:filters"), listRecords(s, s.community.Filters, filterInfoEntity))
	r.POST("/v2/filters", requireUser("write:filters"), createRecord(s, filterInput, s.community.CreateFilter, filterInfoEntity))
	r.GET("/v2/filters/keywords/:id", requireUser("read:filters"), showRecord(s, s.community.GetFilterKeyword, keywordEntity))
	r.PUT("/v2/filters/keywords/:id", requireUser("write:filters"), s.updateFilterKeyword)
	r.DELETE("/v2/filters/keywords/:id", requireUser("write:filters"), deleteRecord(s, s.community.DeleteFilterKeyword))
	r.GET("/v2/filters/statuses/:id", requireUser("read:filters"), showRecord(s, s.community.GetFilterStatus, filterStatusEntity))
	r.DELETE("/v2/filters/statuses/:id", requireUser("write:filters"), deleteRecord(s, s.deleteFilterStatus))
	r.GET("/v2/filters/:id", requireUser("read:filters"), showRecord(s, s.community.GetFilter, filterInfoEntity))
	r.PUT("/v2/filters/:id", requireUser("write:filters"), updateRecord(s, filterInput, s.community.UpdateFilter, filterInfoEntity))
	r.DELETE("/v2/filters/:id", requireUser("write:filters"), deleteRecord(s, s.community.DeleteFilter))
	r.GET("/v2/filters/:id/keywords", requireUser("read:filters"), s.filterKeywords)
	r.POST("/v2/filters/:id/keywords", requireUser("write:filters"), s.addFilterKeyword)
	r.GET("/v2/filters/:id/statuses", requireUser("read:filters"), s.filterStatuses)
	r.POST("/v2/filters/:id/statuses", requireUser("write:filters"), s.addFilterStatus)

	// The v1 API is the same handlers over the domain's v1 view of the rows.
	r.GET("/v1/filters", requireUser("read:filters"), listRecords(s, s.community.V1Filters, v1FilterEntity))
	r.POST("/v1/filters", requireUser("write:filters"), createRecord(s, v1FilterInput, s.community.CreateV1Filter, v1FilterEntity))
	r.GET("/v1/filters/:id", requireUser("read:filters"), showRecord(s, s.community.GetV1Filter, v1FilterEntity))
	r.PUT("/v1/filters/:id", requireUser("write:filters"), updateRecord(s, v1FilterInput, s.community.UpdateV1Filter, v1FilterEntity))
	r.DELETE("/v1/filters/:id", requireUser("write:filters"), deleteRecord(s, s.community.DeleteV1Filter))
}

// deleteFilterStatus removes a status from its filter; Mastodon answers {}, not the
// removed record.
func (s *Server) deleteFilterStatus(ctx context.Context, owner *community.Account, id int64) error {
	_, err := s.community.DeleteFilterStatus(ctx, owner, id)
	return err
}

func contextNames(cs community.FilterContexts) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, string(c))
	}
	return out
}

// filterEntity is a filter without its keywords and statuses, as inside FilterResult.
func filterEntity(f community.Filter) Filter {
	return Filter{
		ID:           community.FormatID(f.ID),
		Title:        f.Title,
		Context:      contextNames(f.Context),
		ExpiresAt:    apiTimePtr(f.ExpiresAt),
		FilterAction: string(f.Action),
	}
}

func keywordEntity(k *community.FilterKeyword) FilterKeyword {
	return FilterKeyword{ID: community.FormatID(k.ID), Keyword: k.Keyword, WholeWord: k.WholeWord}
}

func filterStatusEntity(fs *community.FilterStatus) FilterStatus {
	return FilterStatus{ID: community.FormatID(fs.ID), StatusID: community.FormatID(fs.StatusID)}
}

// filterInfoEntity is a whole filter, with its keywords and statuses.
func filterInfoEntity(info *community.FilterInfo) Filter {
	out := filterEntity(info.Filter)
	keywords := make([]FilterKeyword, 0, len(info.Keywords))
	for _, k := range info.Keywords {
		keywords = append(keywords, keywordEntity(&k))
	}
	statuses := make([]FilterStatus, 0, len(info.Statuses))
	for _, st := range info.Statuses {
		statuses = append(statuses, filterStatusEntity(&st))
	}
	out.Keywords, out.Statuses = &keywords, &statuses
	return out
}

func v1FilterEntity(f *community.V1Filter) V1Filter {
	return V1Filter{
		ID:           community.FormatID(f.Keyword.ID),
		Phrase:       f.Keyword.Keyword,
		Context:      contextNames(f.Filter.Context),
		WholeWord:    f.Keyword.WholeWord,
		ExpiresAt:    apiTimePtr(f.Filter.ExpiresAt),
		Irreversible: f.Filter.Action == community.FilterHide,
	}
}

// expiresInParam reads expires_in (seconds): absent leaves the expiry as it is (nil),
// empty or 0 means never.
func expiresInParam(p *params) (*time.Duration, error) {
	raw, ok := p.String("expires_in")
	if !ok {
		return nil, nil
	}
	d := time.Duration(0)
	if raw = strings.TrimSpace(raw); raw != "" {
		secs, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, community.Invalid("Validation failed: Expires in must be a number of seconds")
		}
		d = time.Duration(secs * float64(time.Second))
		if secs != 0 && d < time.Second {
			d = time.Second // less than a second still means "soon", not "never"
		}
	}
	return &d, nil
}

// contextParam reads context[]; nil when absent.
func contextParam(p *params) []community.FilterContext {
	if !p.Has("context") && !p.Has("context[]") {
		return nil
	}
	out := []community.FilterContext{}
	for _, c := range p.Strings("context") {
		out = append(out, community.FilterContext(strings.TrimSpace(c)))
	}
	return out
}

// filterInput reads a v2 filter's parameters, with keywords_attributes[].
func filterInput(p *params) (community.FilterInput, error) {
	in := community.FilterInput{Title: p.StringPtr("title"), Context: contextParam(p)}
	if raw, ok := p.String("filter_action"); ok && raw != "" {
		a := community.FilterAction(raw)
		in.Action = &a
	}
	var err error
	if in.ExpiresIn, err = expiresInParam(p); err != nil {
		return in, err
	}
	objects, _ := p.Objects("keywords_attributes")
	for _, o := range objects {
		k := community.KeywordInput{Keyword: o["keyword"]}
		if raw := o["id"]; raw != "" {
			if k.ID, err = parseID(raw, community.ErrNotFound); err != nil {
				return in, err
			}
		}
		if raw, ok := o["whole_word"]; ok {
			b, err := parseBool(raw)
			if err != nil {
				return in, community.Invalid("Validation failed: whole_word must be true or false")
			}
			k.WholeWord = &b
		}
		if raw, ok := o["_destroy"]; ok {
			b, err := parseBool(raw)
			if err != nil {
				return in, community.Invalid("Validation failed: _destroy must be true or false")
			}
			k.Destroy = b
		}
		in.Keywords = append(in.Keywords, k)
	}
	return in, nil
}

func (s *Server) filterKeywords(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	keywords, err := s.community.FilterKeywords(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]FilterKeyword, 0, len(keywords))
	for _, k := range keywords {
		out = append(out, keywordEntity(&k))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) addFilterKeyword(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	whole, err := p.BoolPtr("whole_word")
	if err != nil {
		s.fail(c, err)
		return
	}
	k, err := s.community.AddFilterKeyword(c.Request.Context(), currentAccount(c), id, p.Get("keyword"), whole)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keywordEntity(k))
}

func (s *Server) updateFilterKeyword(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	whole, err := p.BoolPtr("whole_word")
	if err != nil {
		s.fail(c, err)
		return
	}
	k, err := s.community.UpdateFilterKeyword(c.Request.Context(), currentAccount(c), id, p.StringPtr("keyword"), whole)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keywordEntity(k))
}

func (s *Server) filterStatuses(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.community.FilterStatuses(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]FilterStatus, 0, len(list))
	for _, fs := range list {
		out = append(out, filterStatusEntity(&fs))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) addFilterStatus(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	statusID, err := parseID(strings.TrimSpace(p.Get("status_id")), community.ErrNotFound)
	if err != nil {
		s.fail(c, err)
		return
	}
	fs, err := s.community.AddFilterStatus(c.Request.Context(), currentAccount(c), id, statusID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, filterStatusEntity(fs))
}

// v1FilterInput reads phrase, context[], whole_word, irreversible and expires_in.
func v1FilterInput(p *params) (community.V1FilterInput, error) {
	in := community.V1FilterInput{Phrase: p.Get("phrase"), Context: contextParam(p), WholeWord: true}
	if v, set, err := p.Bool("whole_word"); err != nil {
		return in, community.Invalid("Validation failed: %v", err)
	} else if set {
		in.WholeWord = v
	}
	var err error
	if in.Irreversible, _, err = p.Bool("irreversible"); err != nil {
		return in, community.Invalid("Validation failed: %v", err)
	}
	if in.ExpiresIn, err = expiresInParam(p); err != nil {
		return in, err
	}
	return in, nil
}
