package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/search"
)

// Search: GET /api/v2/search and GET /api/v1/accounts/search, ranked by the search
// index (Bleve): people by name or by what they know, posts by their text, hashtags by
// name, with prefixes (as-you-type) and typos forgiven. A logged-in user's people search
// asks the company's other instances too. A handle or URL names one thing instead: the
// known account or status, or with resolve=true the one fetched from its instance
// through the Resolver. Whatever the index finds passes the domain's visibility rules.

// Resolver finds remote accounts and statuses this instance does not know yet by asking
// their instance. Federation implements it; only the hosts it federates with are asked.
type Resolver interface {
	// ResolveAccount finds an account by "user@host" handle or actor URL.
	ResolveAccount(ctx context.Context, handle string) (*community.Account, error)
	// ResolveStatus finds a status by URI or URL; it answers community.ErrNotFound for a
	// status the viewer may not see.
	ResolveStatus(ctx context.Context, url string, v community.Viewer) (*community.Status, error)
}

// Search limits: Mastodon's per-category default and maximum for /api/v2/search, and
// the larger ones of /api/v1/accounts/search.
const (
	searchDefaultLimit         = 20
	searchMaxLimit             = 40
	accountSearchDefaultLimit  = 40
	accountSearchMaxLimit      = 80
	msgSearchPaginationNoLogin = "Search queries pagination is not supported without authentication"
	msgSearchResolveNoLogin    = "Search queries that resolve remote resources are not supported without authentication"
	msgSearchUnavailable       = "Search is not available"
)

// SearchResult is Mastodon's Search entity.
type SearchResult struct {
	Accounts []Account `json:"accounts"`
	Statuses []Status  `json:"statuses"`
	Hashtags []Tag     `json:"hashtags"`
}

func (s *Server) mountSearch(r *gin.RouterGroup) {
	r.GET("/v2/search", s.profileReader("read:search"), s.search)
	r.GET("/v1/accounts/search", requireUser("read:accounts"), s.searchAccounts)
}

// searchQuery is one search request, read and checked.
type searchQuery struct {
	text          string
	viewer        community.Viewer
	resolve       bool
	following     bool
	limit, offset int
}

// queryKind says how a query is read: an address to resolve, or text to match.
type queryKind int

const (
	queryText   queryKind = iota
	queryHandle           // user@host, with or without a leading "@"
	queryURL              // an absolute http(s) URL
)

func kindOf(q string) queryKind {
	if strings.ContainsAny(q, " \t\n") {
		return queryText
	}
	if strings.HasPrefix(q, "https://") || strings.HasPrefix(q, "http://") {
		if u, err := url.Parse(q); err == nil && u.Host != "" {
			return queryURL
		}
		return queryText
	}
	user, host, ok := strings.Cut(strings.TrimPrefix(q, "@"), "@")
	if ok && user != "" && host != "" && !strings.ContainsAny(host, "@/") {
		return queryHandle
	}
	return queryText
}

// readSearch reads the parameters both search endpoints share. It ends the request
// and returns false when they are unusable.
func (s *Server) readSearch(c *gin.Context, defLimit, maxLimit int) (searchQuery, bool) {
	q := searchQuery{viewer: viewer(c)}
	p, ok := s.mustParams(c)
	if !ok {
		return q, false
	}
	q.text = strings.TrimSpace(p.Get("q"))
	var err error
	for _, b := range []struct {
		key string
		dst *bool
	}{{"resolve", &q.resolve}, {"following", &q.following}} {
		if *b.dst, _, err = p.Bool(b.key); err != nil {
			s.fail(c, err)
			return q, false
		}
	}
	if q.limit, err = p.Int("limit", defLimit); err != nil {
		s.fail(c, err)
		return q, false
	}
	if q.limit <= 0 {
		q.limit = defLimit
	}
	q.limit = min(q.limit, maxLimit)
	if q.offset, err = p.Int("offset", 0); err != nil || q.offset < 0 {
		s.fail(c, community.Invalid("offset must be a positive integer"))
		return q, false
	}
	return q, true
}

// search answers GET /api/v2/search.
func (s *Server) search(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	if strings.TrimSpace(p.Get("q")) == "" {
		s.fail(c, badRequest("param is missing or the value is empty: q"))
		return
	}
	// As in Mastodon, a logged-out visitor may search but neither page through results
	// nor make this server fetch anything from elsewhere.
	if currentAccount(c) == nil {
		if p.Get("offset") != "" {
			abort(c, http.StatusUnauthorized, msgSearchPaginationNoLogin)
			return
		}
		if resolve, _, _ := p.Bool("resolve"); resolve {
			abort(c, http.StatusUnauthorized, msgSearchResolveNoLogin)
			return
		}
	}
	q, ok := s.readSearch(c, searchDefaultLimit, searchMaxLimit)
	if !ok {
		return
	}
	typ := p.Get("type")
	all := typ != "accounts" && typ != "statuses" && typ != "hashtags"
	if all {
		// Mastodon applies an offset only to a search of one type.
		q.offset = 0
	}
	if s.searcher == nil {
		s.fail(c, errSearchUnavailable)
		return
	}
	var authorID int64
	if raw := p.Get("account_id"); raw != "" {
		var ok bool
		if authorID, ok = community.ParseID(raw); !ok {
			authorID = -1 // matches no status
		}
	}

	ctx := c.Request.Context()
	out := SearchResult{Accounts: []Account{}, Statuses: []Status{}, Hashtags: []Tag{}}
	kind := kindOf(q.text)
	if kind == queryURL && (all || typ == "statuses") {
		st, err := s.findStatus(ctx, q)
		if err != nil {
			s.fail(c, err)
			return
		}
		if st != nil && (authorID == 0 || st.AccountID == authorID) {
			list, err := s.statuses(ctx, q.viewer, []community.Status{*st})
			if err != nil {
				s.fail(c, err)
				return
			}
			out.Statuses = list
		}
		// A URL names one thing: when it is a status, it is not an account too.
		if len(out.Statuses) > 0 {
			c.JSON(http.StatusOK, out)
			return
		}
	}
	if (all || typ == "accounts") && !strings.HasPrefix(q.text, "#") {
		list, err := s.findAccounts(ctx, q)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.Accounts = s.accounts(list)
	}
	if (all || typ == "statuses") && kind == queryText && authorID >= 0 {
		found, err := s.searcher.Statuses(ctx, search.StatusQuery{
			Text: q.text, Viewer: q.viewer, AccountID: authorID, Limit: q.limit, Offset: q.offset,
		})
		if err != nil {
			s.fail(c, err)
			return
		}
		list, err := s.statuses(ctx, q.viewer, found)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.Statuses = list
	}
	if (all || typ == "hashtags") && kind == queryText {
		tags, err := s.findTags(ctx, q)
		if err != nil {
			s.fail(c, err)
			return
		}
		out.Hashtags = tags
	}
	c.JSON(http.StatusOK, out)
}

// searchAccounts answers GET /api/v1/accounts/search.
func (s *Server) searchAccounts(c *gin.Context) {
	q, ok := s.readSearch(c, accountSearchDefaultLimit, accountSearchMaxLimit)
	if !ok {
		return
	}
	if q.text == "" {
		c.JSON(http.StatusOK, []Account{})
		return
	}
	if s.searcher == nil {
		s.fail(c, errSearchUnavailable)
		return
	}
	list, err := s.findAccounts(c.Request.Context(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.accounts(list))
}

// findAccounts finds the accounts a query names (a handle or URL: the known account,
// or with resolve the one fetched from its instance) or matches (text: a prefix).
func (s *Server) findAccounts(ctx context.Context, q searchQuery) ([]*community.Account, error) {
	var (
		a   *community.Account
		err error
	)
	switch kindOf(q.text) {
	case queryText:
		res, err := s.searcher.Accounts(ctx, search.AccountQuery{
			Text: strings.TrimPrefix(q.text, "@"), Viewer: q.viewer, Following: q.following,
			Limit: q.limit, Offset: q.offset, Company: true,
		})
		if err != nil {
			return nil, err
		}
		if len(res.Unanswered) > 0 {
			s.log.DebugContext(ctx, "account search without some peers", "unanswered", res.Unanswered)
		}
		return res.Accounts, nil
	case queryHandle:
		handle := strings.TrimPrefix(q.text, "@")
		a, err = s.community.LookupAccount(ctx, handle)
		if community.KindOf(err) == community.KindNotFound && q.resolve && s.resolver != nil {
			a, err = resolveRemote(ctx, s, "account", handle, func() (*community.Account, error) {
				return s.resolver.ResolveAccount(ctx, handle)
			})
		}
	case queryURL:
		a, err = s.community.Unchecked().AccountByURL(ctx, q.text)
		if community.KindOf(err) == community.KindNotFound && q.resolve && s.resolver != nil {
			a, err = resolveRemote(ctx, s, "account", q.text, func() (*community.Account, error) {
				return s.resolver.ResolveAccount(ctx, q.text)
			})
		}
	}
	if community.KindOf(err) == community.KindNotFound || (err == nil && a == nil) {
		return []*community.Account{}, nil
	}
	if err != nil {
		return nil, err
	}
	// The domain decides, whatever found the account: a handle or an address names an
	// account, but shows it only to a viewer who may see it.
	if visible, err := s.community.CanSeeAccount(ctx, q.viewer, a); err != nil || !visible {
		return []*community.Account{}, err
	}
	if q.offset > 0 {
		return []*community.Account{}, nil
	}
	if q.following {
		me := q.viewer.AccountID()
		if me == 0 {
			return []*community.Account{}, nil
		}
		rels, err := s.community.Relationships(ctx, me, []int64{a.ID})
		if err != nil {
			return nil, err
		}
		if len(rels) != 1 || !rels[0].Following {
			return []*community.Account{}, nil
		}
	}
	return []*community.Account{a}, nil
}

// findStatus finds the status a URL names, known or (with resolve) fetched, and returns
// it only when the viewer may see it; nil otherwise.
func (s *Server) findStatus(ctx context.Context, q searchQuery) (*community.Status, error) {
	st, err := s.community.Unchecked().StatusByURL(ctx, q.text)
	if community.KindOf(err) == community.KindNotFound && q.resolve && s.resolver != nil {
		st, err = resolveRemote(ctx, s, "status", q.text, func() (*community.Status, error) {
			return s.resolver.ResolveStatus(ctx, q.text, q.viewer)
		})
	}
	if community.KindOf(err) == community.KindNotFound || (err == nil && st == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// The domain decides, whatever found the status: never render one the viewer may
	// not see.
	visible, err := s.community.CanSee(ctx, q.viewer, st)
	if err != nil || !visible {
		return nil, err
	}
	return st, nil
}

// resolveRemote runs a look-up at another instance. What goes wrong there (an unreachable
// peer, a malformed document, a refused host) is that peer's problem, not the
// searcher's: it is logged and reads as "nothing found", as in Mastodon.
func resolveRemote[T any](ctx context.Context, s *Server, what, query string, fn func() (*T, error)) (*T, error) {
	v, err := fn()
	if err != nil && community.KindOf(err) != community.KindNotFound {
		s.log.InfoContext(ctx, "search could not resolve", "what", what, "query", query, "err", err)
		return nil, community.ErrNotFound
	}
	return v, err
}

// findTags matches hashtags by name prefix; text that cannot be a hashtag matches none.
func (s *Server) findTags(ctx context.Context, q searchQuery) ([]Tag, error) {
	name, err := community.NormalizeTagName(q.text)
	if err != nil {
		return []Tag{}, nil
	}
	tags, err := s.searcher.Tags(ctx, q.viewer, name, q.limit, q.offset)
	if err != nil {
		return nil, err
	}
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, Tag{
			ID: community.FormatID(t.ID), Name: t.Name, URL: s.community.TagURL(t.Name), History: []TagHistory{},
		})
	}
	return out, nil
}
