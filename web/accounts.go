package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Accounts, relationships (follows, requests, blocks, mutes) and featured tags:
// https://docs.joinmastodon.org/methods/accounts/ and its neighbours.

// Page sizes of account lists (followers, blocks…), as in Mastodon.
const (
	defaultAccountsLimit = 40
	maxAccountsLimit     = 80
)

func (s *Server) mountAccounts(r *gin.RouterGroup) {
	r.POST("/v1/accounts", requireApp("write:accounts"), s.register)
	r.GET("/v1/accounts/verify_credentials", requireUser("read:accounts", "profile"), s.cached(s.verifyCredentials))
	r.PATCH("/v1/accounts/update_credentials", bodyLimit(maxProfileBody), requireUser("write:accounts"), s.updateCredentials)
	r.GET("/v1/accounts/relationships", requireUser("read:follows"), s.relationships)
	r.GET("/v1/accounts/lookup", s.profileReader("read:accounts"), s.lookupAccount)
	r.GET("/v1/accounts/:id", s.profileReader("read:accounts"), s.cached(s.getAccount))
	r.GET("/v1/accounts/:id/statuses", s.profileReader("read:statuses"), s.cached(s.accountStatuses))
	r.GET("/v1/accounts/:id/followers", s.profileReader("read:accounts"), s.followers)
	r.GET("/v1/accounts/:id/following", s.profileReader("read:accounts"), s.following)
	r.GET("/v1/accounts/:id/featured_tags", s.profileReader("read:accounts"), s.accountFeaturedTags)
	r.POST("/v1/accounts/:id/follow", requireUser("write:follows"), s.follow)
	r.POST("/v1/accounts/:id/unfollow", requireUser("write:follows"), s.unfollow)
	r.POST("/v1/accounts/:id/block", requireUser("write:blocks"), s.block)
	r.POST("/v1/accounts/:id/unblock", requireUser("write:blocks"), s.unblock)
	r.POST("/v1/accounts/:id/mute", requireUser("write:mutes"), s.mute)
	r.POST("/v1/accounts/:id/unmute", requireUser("write:mutes"), s.unmute)
	r.POST("/v1/accounts/:id/pin", requireUser("write:accounts"), s.endorse)
	r.POST("/v1/accounts/:id/unpin", requireUser("write:accounts"), s.unendorse)
	r.GET("/v1/accounts/:id/endorsements", s.profileReader("read:accounts"), s.accountEndorsements)
	r.GET("/v1/endorsements", requireUser("read:accounts"), s.endorsements)

	r.GET("/v1/follow_requests", requireUser("read:follows"), s.followRequests)
	r.POST("/v1/follow_requests/:id/authorize", requireUser("write:follows"), s.authorizeFollowRequest)
	r.POST("/v1/follow_requests/:id/reject", requireUser("write:follows"), s.rejectFollowRequest)
	r.GET("/v1/blocks", requireUser("read:blocks"), s.blocks)
	r.GET("/v1/mutes", requireUser("read:mutes"), s.mutes)

	r.GET("/v1/featured_tags", requireUser("read:accounts"), s.featuredTags)
	r.POST("/v1/featured_tags", requireUser("write:accounts"), s.featureTag)
	r.GET("/v1/featured_tags/suggestions", requireUser("read:accounts"), s.featuredTagSuggestions)
	r.DELETE("/v1/featured_tags/:id", requireUser("write:accounts"), s.unfeatureTag)
}

// msgLoginForProfiles is Mastodon's answer to logged-out requests where it needs a user.
const msgLoginForProfiles = "This method requires an authenticated user"

// profileReader guards the endpoints that show accounts or what they wrote. It admits
// logged-out visitors only where profiles are public (open federation mode): in company
// mode a stranger must not learn who works here or which servers the company talks to
// (docs/federation.md), so they are asked to log in. A token that is present must grant
// one of scopes, as optionalUser checks. Which account the viewer may see is still the
// domain's decision (community.Service.AccountFor).
func (s *Server) profileReader(scopes ...string) gin.HandlerFunc {
	optional := optionalUser(scopes...)
	return func(c *gin.Context) {
		if currentAccount(c) == nil && s.community.ProfilesNeedLogin() {
			abort(c, http.StatusUnauthorized, msgLoginForProfiles)
			return
		}
		optional(c)
	}
}

func (s *Server) verifyCredentials(c *gin.Context) {
	out, err := s.credentialAccount(c.Request.Context(), currentAccount(c), currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) updateCredentials(c *gin.Context) {
	defer removeUploads(c)
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	var in community.ProfileUpdate
	in.DisplayName = p.StringPtr("display_name")
	in.Note = p.StringPtr("note")
	var err error
	for _, b := range []struct {
		key string
		dst **bool
	}{{"locked", &in.Locked}, {"bot", &in.Bot}, {"discoverable", &in.Discoverable}} {
		if *b.dst, err = p.BoolPtr(b.key); err != nil {
			s.fail(c, err)
			return
		}
	}
	if objs, ok := p.Objects("fields_attributes"); ok {
		fields := make([]community.FieldInput, 0, len(objs))
		for _, o := range objs {
			fields = append(fields, community.FieldInput{Name: o["name"], Value: o["value"]})
		}
		in.Fields = &fields
	}
	// Avatar and header arrive as files (multipart, as Mastodon's clients send them),
	// as base64 data URIs (some libraries), or, Tacit's extension, as image URLs.
	for _, img := range []struct {
		key  string
		file *io.Reader
		url  **string
	}{{"avatar", &in.AvatarFile, &in.AvatarURL}, {"header", &in.HeaderFile, &in.HeaderURL}} {
		f, err := profileImage(c, p, img.key)
		if err != nil {
			s.fail(c, err)
			return
		}
		if f != nil {
			if closer, ok := f.(io.Closer); ok {
				defer closer.Close()
			}
			*img.file = f
		} else if v := p.StringPtr(img.key); v != nil {
			*img.url = v
		}
	}
	// Tacit's expertise list: expertise[]=…, repeated, or a JSON array. Sending the key
	// with one empty value (expertise[]=) clears it.
	if p.Has("expertise") || p.Has("expertise[]") || hasIndexed(p, "expertise") {
		topics := p.Strings("expertise")
		in.Expertise = &topics
	}
	src := nestedParams(p, "source")
	if v := src.StringPtr("privacy"); v != nil {
		vis := community.Visibility(*v)
		in.DefaultVisibility = &vis
	}
	if in.DefaultSensitive, err = src.BoolPtr("sensitive"); err != nil {
		s.fail(c, community.Invalid("source[sensitive] must be true or false"))
		return
	}
	in.DefaultLanguage = src.StringPtr("language")
	if v := src.StringPtr("scope"); v != nil {
		sc := community.Scope(*v)
		in.DefaultScope = &sc
	}

	acct, user, err := s.community.UpdateProfile(c.Request.Context(), currentAccount(c).ID, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.credentialAccount(c.Request.Context(), acct, user)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// nestedParams returns the parameters under key, sent as form keys "key[name]" or as
// a JSON object {"key": {"name": …}}.
func nestedParams(p *params, key string) *params {
	out := &params{form: url.Values{}, json: map[string]any{}}
	prefix := key + "["
	inner := func(k string) (string, bool) {
		if strings.HasPrefix(k, prefix) && strings.HasSuffix(k, "]") && len(k) > len(prefix)+1 {
			return k[len(prefix) : len(k)-1], true
		}
		return "", false
	}
	for k, vs := range p.form {
		if name, ok := inner(k); ok {
			out.form[name] = vs
		}
	}
	for k, v := range p.json {
		if name, ok := inner(k); ok {
			out.json[name] = v
		}
	}
	if m, ok := p.json[key].(map[string]any); ok {
		for k, v := range m {
			out.json[k] = v
		}
	}
	return out
}

// accountParam loads the account named by the :id path parameter, or ends the request
// with 404 when there is none or the viewer may not see it.
func (s *Server) accountParam(c *gin.Context) (*community.Account, bool) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	a, err := s.community.AccountFor(c.Request.Context(), viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return a, true
}

func (s *Server) getAccount(c *gin.Context) {
	a, ok := s.accountParam(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, s.account(a))
}

func (s *Server) lookupAccount(c *gin.Context) {
	a, err := s.community.LookupAccountFor(c.Request.Context(), viewer(c), c.Query("acct"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.account(a))
}

func (s *Server) accountStatuses(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	q := community.AccountStatusesQuery{Page: pageOf(c, community.DefaultLimit, community.MaxLimit), Tagged: p.Get("tagged")}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"pinned", &q.Pinned}, {"exclude_replies", &q.ExcludeReplies}, {"exclude_reblogs", &q.ExcludeReblogs}, {"only_media", &q.OnlyMedia}} {
		v, _, err := p.Bool(b.key)
		if err != nil {
			s.fail(c, err)
			return
		}
		*b.dst = v
	}
	ctx := c.Request.Context()
	page, err := s.community.AccountStatuses(ctx, viewer(c), id, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.statuses(ctx, viewer(c), page.Statuses)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setLinkHeader(c, page.NewestID, page.OldestID)
	c.JSON(http.StatusOK, out)
}

// accountList answers with a page of accounts and its Link header.
func (s *Server) accountList(c *gin.Context, list *community.RelatedAccounts, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	s.setLinkHeader(c, list.NewestID, list.OldestID)
	c.JSON(http.StatusOK, s.accounts(list.Accounts))
}

func (s *Server) followers(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.community.Followers(c.Request.Context(), viewer(c), id, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func (s *Server) following(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.community.Following(c.Request.Context(), viewer(c), id, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func (s *Server) followRequests(c *gin.Context) {
	list, err := s.community.ListFollowRequests(c.Request.Context(), currentAccount(c).ID, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func (s *Server) blocks(c *gin.Context) {
	list, err := s.community.Blocks(c.Request.Context(), currentAccount(c).ID, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func (s *Server) mutes(c *gin.Context) {
	list, err := s.community.Mutes(c.Request.Context(), currentAccount(c).ID, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func relationship(f community.RelationshipFacts) Relationship {
	return Relationship{
		ID:                  community.FormatID(f.ID),
		Following:           f.Following,
		ShowingReblogs:      f.ShowingReblogs,
		Notifying:           f.Notifying,
		Languages:           []string{},
		FollowedBy:          f.FollowedBy,
		Blocking:            f.Blocking,
		BlockedBy:           f.BlockedBy,
		Muting:              f.Muting,
		MutingNotifications: f.MutingNotifications,
		MutingExpiresAt:     apiTimePtr(f.MutingExpiresAt),
		Requested:           f.Requested,
		RequestedBy:         f.RequestedBy,
		Endorsed:            f.Endorsed,
	}
}

func (s *Server) relationships(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	var ids []int64
	for _, raw := range p.Strings("id") {
		if id, ok := community.ParseID(raw); ok {
			ids = append(ids, id)
		}
	}
	facts, err := s.community.Relationships(c.Request.Context(), currentAccount(c).ID, ids)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]Relationship, 0, len(facts))
	for _, f := range facts {
		out = append(out, relationship(f))
	}
	c.JSON(http.StatusOK, out)
}

// relationAction runs a relationship change on the :id account and answers with the
// resulting Relationship.
func (s *Server) relationAction(c *gin.Context, act func(me *community.Account, target int64, p *params) error) {
	target, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	me := currentAccount(c)
	if err := act(me, target, p); err != nil {
		s.fail(c, err)
		return
	}
	f, err := s.community.Relationship(c.Request.Context(), me.ID, target)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, relationship(*f))
}

func (s *Server) follow(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, p *params) error {
		var opt community.FollowOptions
		var err error
		if opt.Reblogs, err = p.BoolPtr("reblogs"); err != nil {
			return err
		}
		if opt.Notify, err = p.BoolPtr("notify"); err != nil {
			return err
		}
		return s.community.Follow(c.Request.Context(), me, target, opt)
	})
}

func (s *Server) unfollow(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, _ *params) error {
		return s.community.Unfollow(c.Request.Context(), me, target)
	})
}

// endorse features an account the user follows on their profile (Mastodon's pin).
func (s *Server) endorse(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, _ *params) error {
		return s.community.Endorse(c.Request.Context(), me, target)
	})
}

func (s *Server) unendorse(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, _ *params) error {
		return s.community.Unendorse(c.Request.Context(), me, target)
	})
}

func (s *Server) endorsements(c *gin.Context) {
	me := currentAccount(c)
	list, err := s.community.Endorsements(c.Request.Context(), viewer(c), me.ID, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func (s *Server) accountEndorsements(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, err := s.community.Endorsements(c.Request.Context(), viewer(c), id, pageOf(c, defaultAccountsLimit, maxAccountsLimit))
	s.accountList(c, list, err)
}

func (s *Server) block(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, _ *params) error {
		return s.community.Block(c.Request.Context(), me, target)
	})
}

func (s *Server) unblock(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, _ *params) error {
		return s.community.Unblock(c.Request.Context(), me, target)
	})
}

func (s *Server) mute(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, p *params) error {
		notifications, set, err := p.Bool("notifications")
		if err != nil {
			return err
		}
		if !set {
			notifications = true
		}
		duration, err := p.Int("duration", 0)
		if err != nil {
			return err
		}
		return s.community.Mute(c.Request.Context(), me, target, notifications, duration)
	})
}

func (s *Server) unmute(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, target int64, _ *params) error {
		return s.community.Unmute(c.Request.Context(), me, target)
	})
}

func (s *Server) authorizeFollowRequest(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, requester int64, _ *params) error {
		return s.community.AuthorizeFollowRequest(c.Request.Context(), me, requester)
	})
}

func (s *Server) rejectFollowRequest(c *gin.Context) {
	s.relationAction(c, func(me *community.Account, requester int64, _ *params) error {
		return s.community.RejectFollowRequest(c.Request.Context(), me, requester)
	})
}

func (s *Server) featuredTag(owner *community.Account, ft community.FeaturedTagInfo) FeaturedTag {
	var last *string
	if ft.LastStatusAt != nil {
		d := ft.LastStatusAt.UTC().Format("2006-01-02")
		last = &d
	}
	return FeaturedTag{
		ID:            community.FormatID(ft.ID),
		Name:          ft.Name,
		URL:           owner.URL + "/tagged/" + url.PathEscape(ft.Name),
		StatusesCount: ft.StatusesCount,
		LastStatusAt:  last,
	}
}

func (s *Server) featuredTagList(c *gin.Context, owner *community.Account) {
	list, err := s.community.ListFeaturedTags(c.Request.Context(), viewer(c), owner.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]FeaturedTag, 0, len(list))
	for _, ft := range list {
		out = append(out, s.featuredTag(owner, ft))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) featuredTags(c *gin.Context) { s.featuredTagList(c, currentAccount(c)) }

func (s *Server) accountFeaturedTags(c *gin.Context) {
	a, ok := s.accountParam(c)
	if !ok {
		return
	}
	s.featuredTagList(c, a)
}

func (s *Server) featureTag(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	me := currentAccount(c)
	ft, err := s.community.FeatureTag(c.Request.Context(), me.ID, p.Get("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.featuredTag(me, *ft))
}

func (s *Server) unfeatureTag(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.UnfeatureTag(c.Request.Context(), currentAccount(c).ID, id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{})
}

func (s *Server) featuredTagSuggestions(c *gin.Context) {
	tags, err := s.community.FeaturedTagSuggestions(c.Request.Context(), currentAccount(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]Tag, 0, len(tags))
	for _, t := range tags {
		out = append(out, Tag{ID: community.FormatID(t.ID), Name: t.Name, URL: s.community.TagURL(t.Name), History: []TagHistory{}})
	}
	c.JSON(http.StatusOK, out)
}

// hasIndexed reports whether a form array was sent with indexes: key[0]=…
func hasIndexed(p *params, key string) bool {
	for k := range p.form {
		if strings.HasPrefix(k, key+"[") && strings.HasSuffix(k, "]") {
			return true
		}
	}
	return false
}
