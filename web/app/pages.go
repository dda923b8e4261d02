package app

import (
	"html/template"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/markup"
)

// The reading pages: timelines, profiles, posts, hashtags, notifications. Every list
// comes from the domain call the API uses for the same list, with the viewer of the
// session, so the audience rule is the domain's and only the domain's.

// pageSize is the number of posts per page, the API's default.
const pageSize = community.DefaultLimit

// maxIDParam reads ?max_id=; anything that is not an id reads as the first page.
func maxIDParam(c *gin.Context) int64 {
	id, ok := community.ParseID(c.Query("max_id"))
	if !ok {
		return 0
	}
	return id
}

func (a *App) formContext(c *gin.Context, s *session) *formContext {
	return &formContext{CSRF: a.csrfToken(c, s), Back: c.Request.URL.RequestURI(), SignedIn: s != nil}
}

// timelinePage is a list of posts with its heading.
type timelinePage struct {
	// Live is the event stream that announces new posts (first page only).
	Live     string
	Heading  string
	Lead     string
	Compose  *composeForm
	Statuses []statusView
	Pager    pager
	Form     *formContext
}

// landingPage is what a logged-out visitor sees at /.
type landingPage struct {
	Description string
	Rules       []string
	Statuses    []statusView
	Pager       pager
	Form        *formContext
}

// index is /: the home timeline, or the public landing page when signed out.
func (a *App) index(c *gin.Context, s *session) {
	if s == nil {
		a.landing(c)
		return
	}
	a.showTimeline(c, s, "home")
}

// landing shows the instance and its world-scope public posts, as the domain lets a
// logged-out viewer read them.
func (a *App) landing(c *gin.Context) {
	maxID := maxIDParam(c)
	page, err := a.community.PublicTimeline(c.Request.Context(), community.Anonymous,
		community.PublicQuery{Page: community.Page{MaxID: maxID, Limit: pageSize}, Local: true})
	if err != nil {
		a.fail(c, nil, err)
		return
	}
	form := a.formContext(c, nil)
	views, err := a.statusViews(c.Request.Context(), community.Anonymous, page.Statuses, form)
	if err != nil {
		a.fail(c, nil, err)
		return
	}
	settings := a.settings(c.Request.Context())
	a.render(c, nil, http.StatusOK, "landing", a.instanceName(c.Request.Context()), "", landingPage{
		Description: settings.Description,
		Rules:       settings.Rules,
		Statuses:    views,
		Pager:       pagerFor("/", maxID, page.OldestID, len(page.Statuses)),
		Form:        form,
	})
}

// timeline is /timelines/:name.
func (a *App) timeline(c *gin.Context, s *session) {
	name := c.Param("name")
	switch name {
	case "department", "company", "world":
	default:
		a.notFound(c, s)
		return
	}
	if s == nil {
		a.redirect(c, "/login?next="+urlQueryEscape(c.Request.URL.RequestURI()))
		return
	}
	a.showTimeline(c, s, name)
}

func (a *App) showTimeline(c *gin.Context, s *session, name string) {
	ctx := c.Request.Context()
	v := viewerOf(s)
	maxID := maxIDParam(c)
	p := community.Page{MaxID: maxID, Limit: pageSize}
	var page community.StatusPage
	var err error
	switch name {
	case "home":
		page, err = a.community.HomeTimeline(ctx, s.account, p)
	case "bookmarks":
		page, err = a.community.Bookmarks(ctx, s.account, p)
	case "department":
		page, err = a.community.PublicTimeline(ctx, v, community.PublicQuery{Page: p, Local: true})
	case "company":
		page, err = a.community.PublicTimeline(ctx, v, community.PublicQuery{Page: p})
	case "world":
		page, err = a.community.PublicTimeline(ctx, v, community.PublicQuery{Page: p, Scope: community.ScopeWorld})
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	form := a.formContext(c, s)
	views, err := a.statusViews(ctx, v, page.Statuses, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	path := "/timelines/" + name
	switch name {
	case "home":
		path = "/"
	case "bookmarks":
		path = "/bookmarks"
	}
	data := timelinePage{
		Heading:  T("timeline." + name),
		Lead:     T("timeline." + name + ".lead"),
		Statuses: views,
		Pager:    pagerFor(path, maxID, page.OldestID, len(page.Statuses)),
		Form:     form,
	}
	if maxID == 0 {
		data.Live = liveSource(name, "")
	}
	if name == "home" && maxID == 0 {
		data.Compose = a.newComposeForm(s, c.Query("text"))
	}
	a.render(c, s, http.StatusOK, "timeline", data.Heading, name, data)
}

// bookmarks is /bookmarks: the posts the person bookmarked, newest bookmark first.
func (a *App) bookmarks(c *gin.Context, s *session) { a.showTimeline(c, s, "bookmarks") }

// tagPage is /tags/:tag: public posts with the hashtag, as far as the viewer may read.
func (a *App) tagPage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	tag := community.NormalizeTag(c.Param("tag"))
	if tag == "" || utf8.RuneCountInString(tag) > 100 {
		a.notFound(c, s)
		return
	}
	v := viewerOf(s)
	maxID := maxIDParam(c)
	page, err := a.community.TagTimeline(ctx, v, tag, community.TagQuery{
		PublicQuery: community.PublicQuery{Page: community.Page{MaxID: maxID, Limit: pageSize}},
	})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	form := a.formContext(c, s)
	views, err := a.statusViews(ctx, v, page.Statuses, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	heading := T("tag.heading", tag)
	live := ""
	if s != nil && maxID == 0 {
		live = liveSource("tag", tag)
	}
	a.render(c, s, http.StatusOK, "timeline", heading, "", timelinePage{
		Live:     live,
		Heading:  heading,
		Lead:     T("tag.lead"),
		Statuses: views,
		Pager:    pagerFor("/tags/"+urlPathEscape(tag), maxID, page.OldestID, len(page.Statuses)),
		Form:     form,
	})
}

// profilePage is /@user.
type profilePage struct {
	Account   accountView
	Header    string
	Fields    []fieldView
	Featured  []string
	Self      bool
	Following bool
	Requested bool
	FollowsMe bool
	Statuses  []statusView
	Pager     pager
	Form      *formContext
	og        *openGraph
}

func (p profilePage) openGraph() *openGraph { return p.og }

// profile is /@user (and /@user@host for people of other departments).
func (a *App) profile(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	v := viewerOf(s)
	handle := strings.TrimPrefix(c.Param("username"), "@")
	acct, err := a.community.LookupAccountFor(ctx, v, handle)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	maxID := maxIDParam(c)
	page, err := a.community.AccountStatuses(ctx, v, acct.ID, community.AccountStatusesQuery{
		Page: community.Page{MaxID: maxID, Limit: pageSize}, ExcludeReplies: true,
	})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	form := a.formContext(c, s)
	views, err := a.statusViews(ctx, v, page.Statuses, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	featured, err := a.community.ListFeaturedTags(ctx, v, acct.ID)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	av := a.accountView(acct)
	data := profilePage{
		Account:  av,
		Statuses: views,
		Pager:    pagerFor(av.ProfilePath, maxID, page.OldestID, len(page.Statuses)),
		Form:     form,
		og: &openGraph{
			Type: "profile", Title: av.Name + " (" + av.Handle + ")", Description: truncate(markup.PlainText(acct.Note), 200),
			URL: a.cfg.BaseURL() + av.ProfilePath, Image: absolute(a.cfg.BaseURL(), av.Avatar),
		},
	}
	for _, f := range featured {
		data.Featured = append(data.Featured, f.Name)
	}
	_, data.Header = a.community.ProfileImageURLs(acct)
	for _, f := range acct.Fields {
		data.Fields = append(data.Fields, fieldView{Name: f.Name, ValueHTML: template.HTML(f.Value)}) // rendered and sanitized by the domain
	}
	if s != nil {
		data.Self = s.account.ID == acct.ID
		if !data.Self {
			rel, err := a.community.Relationship(ctx, s.account.ID, acct.ID)
			if err != nil {
				a.fail(c, s, err)
				return
			}
			data.Following, data.Requested, data.FollowsMe = rel.Following, rel.Requested, rel.FollowedBy
		}
	}
	a.render(c, s, http.StatusOK, "profile", T("profile.heading", av.Name, av.Handle), "", data)
}

// statusPage is /@user/:id: a post with its thread.
type statusPage struct {
	Status      statusView
	Ancestors   []statusView
	Descendants []statusView
	Reply       *composeForm
	Form        *formContext
	og          *openGraph
}

func (p statusPage) openGraph() *openGraph { return p.og }

// status is /@user/:id. A post the viewer may not read answers 404 exactly like one
// that does not exist, and so does a post under the wrong author's address.
func (a *App) status(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	v := viewerOf(s)
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	st, err := a.community.GetStatus(ctx, v, id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	if st.IsReblog() {
		a.notFound(c, s)
		return
	}
	form := a.formContext(c, s)
	main, err := a.statusViews(ctx, v, []community.Status{*st}, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	handle := "@" + strings.TrimPrefix(c.Param("username"), "@")
	if len(main) != 1 || !(strings.EqualFold(main[0].Author.Handle, handle) ||
		(main[0].Author.Local && strings.EqualFold(main[0].Author.Handle+"@"+a.cfg.Host, handle))) {
		a.notFound(c, s)
		return
	}
	ancestors, descendants, err := a.community.StatusContext(ctx, v, id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	before, err := a.statusViews(ctx, v, ancestors, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	after, err := a.statusViews(ctx, v, descendants, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	sv := main[0]
	description := sv.SpoilerText
	if description == "" {
		description = truncate(markup.PlainText(st.Content), 200)
	}
	data := statusPage{
		Status: sv, Ancestors: before, Descendants: after, Form: form,
		og: &openGraph{
			Type: "article", Title: T("status.heading", sv.Author.Name+" ("+sv.Author.Handle+")"),
			Description: description, URL: a.cfg.BaseURL() + sv.Path, Image: absolute(a.cfg.BaseURL(), sv.Author.Avatar),
		},
	}
	if s != nil {
		text := ""
		if !sv.Mine {
			text = sv.Author.Handle + " "
		}
		reply := a.newComposeForm(s, text)
		reply.InReplyToID = sv.ID
		reply.Reply = true
		reply.Back = sv.Path
		// The reply starts with the post's own audience: the domain narrows it to
		// that anyway, and the picker should not promise more.
		reply.setAudience(st.Visibility, st.Scope)
		data.Reply = reply
	}
	a.render(c, s, http.StatusOK, "status", data.og.Title, "", data)
}

// notificationView is one notification in words.
type notificationView struct {
	ID     string
	Text   string
	From   accountView
	Status *statusView
}

type notificationsPage struct {
	Items []notificationView
	Older string
	Form  *formContext
}

// notifications is /notifications.
func (a *App) notifications(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	v := viewerOf(s)
	maxID := maxIDParam(c)
	items, err := a.community.Notifications(ctx, s.account, community.NotificationQuery{
		Page: community.Page{MaxID: maxID, Limit: pageSize},
	})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	if maxID == 0 && len(items) > 0 {
		if err := a.markNotificationsRead(ctx, s, items[0].ID); err != nil {
			a.fail(c, s, err)
			return
		}
	}
	var statuses []community.Status
	for _, it := range items {
		if it.Status != nil {
			statuses = append(statuses, *it.Status)
		}
	}
	form := a.formContext(c, s)
	views, err := a.statusViews(ctx, v, statuses, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	byID := map[string]*statusView{}
	for i := range views {
		byID[views[i].ID] = &views[i]
	}
	data := notificationsPage{Form: form}
	for _, it := range items {
		if it.From == nil {
			continue
		}
		from := a.accountView(it.From)
		nv := notificationView{ID: community.FormatID(it.ID), From: from, Text: notificationText(it.Type, from.Name)}
		if it.Status != nil {
			nv.Status = byID[community.FormatID(it.Status.ID)]
		}
		data.Items = append(data.Items, nv)
	}
	if len(items) == pageSize {
		data.Older = "/notifications?max_id=" + community.FormatID(items[len(items)-1].ID)
	}
	a.render(c, s, http.StatusOK, "notifications", T("notifications.heading"), "notifications", data)
}

func notificationText(t community.NotificationType, from string) string {
	switch t {
	case community.NotifyMention, community.NotifyFollow, community.NotifyFollowRequest,
		community.NotifyFavourite, community.NotifyReblog, community.NotifyUpdate, community.NotifyStatus:
		return T("notifications."+string(t), from)
	case community.NotifyPoll:
		return T("notifications.poll")
	}
	return T("notifications.other", from, string(t))
}

// truncate shortens text to at most n characters, on a word boundary when it can.
func truncate(text string, n int) string {
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	r := []rune(text)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// absolute makes a site path a full address (link previews need them).
func absolute(base, p string) string {
	if strings.HasPrefix(p, "/") {
		return base + p
	}
	return p
}
