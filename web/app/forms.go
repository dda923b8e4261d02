package app

import (
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/search"
)

// The writing side: compose, actions on posts and people, settings, and the experts
// search. Each form posts to its own address, changes state through the domain
// service the API uses for the same change, and answers with a redirect; htmx
// requests get the changed post back as a fragment instead.

// choice is one option of a radio group or select.
type choice struct {
	Value   string
	Label   string
	Checked bool
}

// composeForm is the compose box: a new post or a reply.
type composeForm struct {
	Text        string
	SpoilerText string
	InReplyToID string
	Reply       bool
	Back        string
	Error       string
	Limit       int
	// Key makes a double submission of the same form post once (Idempotency-Key).
	Key          string
	CSRF         string
	Scopes       []choice
	Visibilities []choice
	// Pictures are the picture slots (a file and its description each), Poll the
	// poll's fields; a post has one or the other.
	Pictures []composePicture
	Poll     composePoll
	// PicturesOpen unfolds the picture slots of a refused form that had pictures.
	PicturesOpen bool
}

// scopeOrder lists the audiences from the narrowest, as the picker shows them.
var scopeOrder = []community.Scope{community.ScopeDepartment, community.ScopeCompany, community.ScopeWorld}

var visibilityOrder = []community.Visibility{
	community.VisibilityPublic, community.VisibilityUnlisted, community.VisibilityPrivate, community.VisibilityDirect,
}

// newComposeForm starts a compose box with the person's defaults.
func (a *App) newComposeForm(s *session, text string) *composeForm {
	f := &composeForm{Text: text, Back: "/", Limit: community.MaxStatusChars, Key: randomToken(), CSRF: s.csrf}
	scope := s.user.DefaultScope
	if scope == "" {
		scope = a.community.DefaultScope()
	}
	vis := s.user.DefaultVisibility
	if vis == "" {
		vis = community.VisibilityPublic
	}
	f.setAudience(vis, scope)
	f.setAttachments(nil, newComposePoll(nil, false, defaultPollDuration))
	return f
}

// setAttachments fills the picture slots with the descriptions typed (the files
// themselves cannot be given back to the browser) and sets the poll's fields.
func (f *composeForm) setAttachments(descriptions []string, poll composePoll) {
	f.Pictures = make([]composePicture, community.MaxMediaAttachments)
	for i := range f.Pictures {
		f.Pictures[i].Index, f.Pictures[i].Number, f.Pictures[i].Limit = i, i+1, community.MaxMediaDescription
		if i < len(descriptions) {
			f.Pictures[i].Description = descriptions[i]
			f.PicturesOpen = f.PicturesOpen || strings.TrimSpace(descriptions[i]) != ""
		}
	}
	f.Poll = poll
}

func (f *composeForm) setAudience(vis community.Visibility, scope community.Scope) {
	f.Scopes = f.Scopes[:0]
	for _, sc := range scopeOrder {
		f.Scopes = append(f.Scopes, choice{Value: string(sc), Label: T("audience." + string(sc)), Checked: sc == scope})
	}
	f.Visibilities = f.Visibilities[:0]
	for _, v := range visibilityOrder {
		f.Visibilities = append(f.Visibilities, choice{Value: string(v), Label: T("compose.visibility." + string(v)), Checked: v == vis})
	}
}

// composePage shows a compose box alone: after a refused post, with what was typed.
type composePage struct {
	Compose *composeForm
	Form    *formContext
}

// compose is POST /statuses: a post with its pictures (uploaded first, through the
// domain's upload) or its poll, as the API's POST /api/v1/statuses creates it.
func (a *App) compose(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	form := c.Request.PostForm
	in := community.NewStatus{
		Text:        form.Get("text"),
		SpoilerText: strings.TrimSpace(form.Get("spoiler_text")),
		Audience: community.AudienceRequest{
			Visibility: community.Visibility(form.Get("visibility")),
			Scope:      community.Scope(form.Get("scope")),
		},
		ApplicationID: &a.webApp.ID,
	}
	if key := form.Get("key"); len(key) <= 64 {
		in.IdempotencyKey = key
	}
	in.Sensitive = in.SpoilerText != ""
	poll, duration := pollFromForm(form)
	in.Poll = poll
	back := localPath(form.Get("back"))
	refuse := func(err error) {
		descriptions := make([]string, community.MaxMediaAttachments)
		for i := range descriptions {
			_, descField := pictureFields(i)
			descriptions[i] = form.Get(descField)
		}
		f := &composeForm{
			Text: in.Text, SpoilerText: in.SpoilerText, InReplyToID: form.Get("in_reply_to_id"),
			Reply: in.InReplyToID != nil, Back: back, Error: err.Error(), Limit: community.MaxStatusChars,
			Key: randomToken(), CSRF: s.csrf,
		}
		f.setAudience(in.Audience.Visibility, in.Audience.Scope)
		f.setAttachments(descriptions, newComposePoll(form["poll_option"], form.Get("poll_multiple") != "", duration))
		if hasPictures(c) {
			f.Error = T("compose.pictures_again", f.Error)
			f.PicturesOpen = true
		}
		a.render(c, s, http.StatusUnprocessableEntity, "compose", T("compose.heading"), "",
			composePage{Compose: f, Form: a.formContext(c, s)})
	}
	if raw := strings.TrimSpace(form.Get("in_reply_to_id")); raw != "" {
		id, ok := community.ParseID(raw)
		if !ok {
			a.notFound(c, s)
			return
		}
		in.InReplyToID = &id
	}
	// Checked before any picture is stored: the domain would refuse it after.
	if in.Poll != nil && hasPictures(c) {
		refuse(community.Invalid("%s", T("compose.poll_or_pictures")))
		return
	}
	ids, err := a.uploadPictures(ctx, s, c.Request)
	if k := community.KindOf(err); k == community.KindInvalid || k == community.KindForbidden {
		refuse(err)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	in.MediaIDs = ids
	st, err := a.community.CreateStatus(ctx, s.account, s.user, in)
	if err != nil {
		a.discardPictures(ctx, s, ids)
	}
	if k := community.KindOf(err); k == community.KindInvalid || k == community.KindForbidden {
		refuse(err)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.discardUnattached(ctx, s, ids, st.ID)
	a.redirect(c, back)
}

// hasPictures reports whether the compose form brought at least one picture.
func hasPictures(c *gin.Context) bool {
	for i := range community.MaxMediaAttachments {
		field, _ := pictureFields(i)
		if uploadedFile(c.Request, field) != nil {
			return true
		}
	}
	return false
}

// isHTMX reports whether htmx sent the request (it swaps the answer into the page).
func isHTMX(c *gin.Context) bool { return c.GetHeader("HX-Request") == "true" }

// statusAction is POST /statuses/:id/:action.
func (a *App) statusAction(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	var err error
	switch c.Param("action") {
	case "favourite":
		_, err = a.community.Favourite(ctx, s.account, id)
	case "unfavourite":
		_, err = a.community.Unfavourite(ctx, s.account, id)
	case "reblog":
		_, err = a.community.Reblog(ctx, s.account, id, "")
	case "unreblog":
		_, err = a.community.Unreblog(ctx, s.account, id)
	case "bookmark":
		_, err = a.community.Bookmark(ctx, s.account, id)
	case "unbookmark":
		_, err = a.community.Unbookmark(ctx, s.account, id)
	case "delete":
		err = a.deleteOwnStatus(c, s, id)
	case "edit":
		if err = a.editOwnStatus(c, s, id); community.KindOf(err) == community.KindInvalid {
			a.renderEdit(c, s, id, err.Error())
			return
		}
	default:
		a.notFound(c, s)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	back := localPath(c.Request.PostForm.Get("back"))
	if !isHTMX(c) {
		// A post deleted from its own page has no page to go back to.
		if path, _, _ := strings.Cut(back, "?"); c.Param("action") == "delete" && strings.HasSuffix(path, "/"+c.Param("id")) {
			back = "/"
		}
		a.redirect(c, back)
		return
	}
	if c.Param("action") == "delete" {
		c.Data(http.StatusOK, "text/html; charset=utf-8", nil) // the post leaves the page
		return
	}
	st, err := a.community.GetStatus(ctx, viewerOf(s), id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	views, err := a.statusViews(ctx, viewerOf(s), []community.Status{*st}, &formContext{CSRF: s.csrf, Back: back, SignedIn: true})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	if len(views) != 1 {
		a.notFound(c, s)
		return
	}
	a.renderPart(c, "status", views[0])
}

// deleteOwnStatus deletes a post of the signed-in person; anyone else's answers as
// not found, as the API does.
func (a *App) deleteOwnStatus(c *gin.Context, s *session, id int64) error {
	ctx := c.Request.Context()
	st, err := a.community.GetStatus(ctx, viewerOf(s), id)
	if err != nil {
		return err
	}
	if st.AccountID != s.account.ID {
		return community.ErrNotFound
	}
	_, err = a.community.DeleteStatus(ctx, s.account, id)
	return err
}

// editPage is the form that edits a post's text and content warning. The audience
// cannot change after posting (as in Mastodon): it is shown, not offered.
type editPage struct {
	ID          string
	Text        string
	SpoilerText string
	Audience    string
	Back        string
	Error       string
	Limit       int
}

// editForm is GET /statuses/:id/edit.
func (a *App) editForm(c *gin.Context, s *session) {
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	a.renderEdit(c, s, id, "")
}

// renderEdit shows the edit form of the signed-in person's own post, with what was
// typed and the reason after a refused edit.
func (a *App) renderEdit(c *gin.Context, s *session, id int64, problem string) {
	st, err := a.editableStatus(c, s, id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	data := editPage{
		ID: community.FormatID(st.ID), Audience: audienceText(st.Visibility, st.Scope),
		Back: "/@" + s.account.Username + "/" + community.FormatID(st.ID), Limit: community.MaxStatusChars,
	}
	status := http.StatusOK
	if problem != "" {
		form := c.Request.PostForm
		data.Text, data.SpoilerText, data.Error = form.Get("text"), form.Get("spoiler_text"), problem
		status = http.StatusUnprocessableEntity
	} else if data.Text, data.SpoilerText, err = a.community.StatusSource(c.Request.Context(), viewerOf(s), id); err != nil {
		a.fail(c, s, err)
		return
	}
	a.render(c, s, status, "edit", T("edit.heading"), "", data)
}

// editableStatus is the signed-in person's own post, if the web app can edit it: posts
// with pictures or a poll are edited in a client that shows them, so that an edit here
// never drops what this page cannot show.
func (a *App) editableStatus(c *gin.Context, s *session, id int64) (*community.Status, error) {
	ctx := c.Request.Context()
	st, err := a.community.GetStatus(ctx, viewerOf(s), id)
	if err != nil {
		return nil, err
	}
	if st.AccountID != s.account.ID || st.IsReblog() {
		return nil, community.ErrNotFound
	}
	d, err := a.community.LoadStatusDetails(ctx, viewerOf(s), []community.Status{*st})
	if err != nil {
		return nil, err
	}
	if len(d.Media[st.ID]) > 0 || d.Polls[st.ID] != nil {
		return nil, community.Forbidden("%s", T("edit.not_here"))
	}
	return st, nil
}

// editOwnStatus applies the edit form through the domain's edit, as the API's PUT does.
func (a *App) editOwnStatus(c *gin.Context, s *session, id int64) error {
	if _, err := a.editableStatus(c, s, id); err != nil {
		return err
	}
	form := c.Request.PostForm
	spoiler := strings.TrimSpace(form.Get("spoiler_text"))
	sensitive := spoiler != ""
	_, err := a.community.EditStatus(c.Request.Context(), s.account, id, community.EditInput{
		Text: form.Get("text"), SpoilerText: &spoiler, Sensitive: &sensitive,
	})
	return err
}

// accountAction is POST /accounts/:id/:action (follow, unfollow).
func (a *App) accountAction(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	// Only people the viewer may see can be followed from here.
	if _, err := a.community.AccountFor(ctx, viewerOf(s), id); err != nil {
		a.fail(c, s, err)
		return
	}
	var err error
	switch c.Param("action") {
	case "follow":
		err = a.community.Follow(ctx, s.account, id, community.FollowOptions{})
	case "unfollow":
		err = a.community.Unfollow(ctx, s.account, id)
	default:
		a.notFound(c, s)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, localPath(c.Request.PostForm.Get("back")))
}

// settingsPage is /settings: the person's own profile and defaults.
type settingsPage struct {
	DisplayName string
	Note        string
	Expertise   string
	Fields      []settingsField
	Avatar      string
	Header      string
	Scopes      []choice
	Saved       bool
	Error       string
}

// settingsField is one name/value row of the profile; the form offers as many rows
// as the domain allows.
type settingsField struct {
	Number int
	Name   string
	Value  string
}

func (a *App) settingsData(acct *community.Account, user *community.User) settingsPage {
	scope := user.DefaultScope
	if scope == "" {
		scope = a.community.DefaultScope()
	}
	p := settingsPage{DisplayName: acct.DisplayName, Note: acct.NoteSource, Expertise: strings.Join(acct.Expertise, ", ")}
	p.Avatar, p.Header = a.community.ProfileImageURLs(acct)
	if p.Avatar == "" {
		p.Avatar = defaultAvatarPath
	}
	var typed []community.FieldInput
	for _, f := range acct.Fields {
		typed = append(typed, community.FieldInput{Name: f.Name, Value: f.Source})
	}
	p.setFields(typed)
	for _, sc := range scopeOrder {
		p.Scopes = append(p.Scopes, choice{Value: string(sc), Label: T("audience." + string(sc)), Checked: sc == scope})
	}
	return p
}

func (p *settingsPage) setFields(fields []community.FieldInput) {
	p.Fields = make([]settingsField, community.MaxFields)
	for i := range p.Fields {
		p.Fields[i].Number = i + 1
		if i < len(fields) {
			p.Fields[i].Name, p.Fields[i].Value = fields[i].Name, fields[i].Value
		}
	}
}

// settingsForm is GET /settings.
func (a *App) settingsForm(c *gin.Context, s *session) {
	data := a.settingsData(s.account, s.user)
	data.Saved = c.Query("saved") == "1"
	a.render(c, s, http.StatusOK, "settings", T("settings.heading"), "settings", data)
}

// saveSettings is POST /settings, through the update the API's update_credentials
// uses, with the avatar and header as uploaded files.
func (a *App) saveSettings(c *gin.Context, s *session) {
	form := c.Request.PostForm
	name, note := form.Get("display_name"), form.Get("note")
	scope := community.Scope(form.Get("default_scope"))
	var topics []string
	for _, t := range strings.Split(form.Get("expertise"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			topics = append(topics, t)
		}
	}
	in := community.ProfileUpdate{DisplayName: &name, Note: &note, DefaultScope: &scope, Expertise: &topics}
	// The rows are given back in order; empty rows are dropped by the domain.
	names, values := form["field_name"], form["field_value"]
	fields := make([]community.FieldInput, 0, len(names))
	for i := range names {
		f := community.FieldInput{Name: names[i]}
		if i < len(values) {
			f.Value = values[i]
		}
		fields = append(fields, f)
	}
	if _, ok := form["field_name"]; ok {
		in.Fields = &fields
	}
	for _, img := range []struct {
		field string
		dst   *io.Reader
	}{{"avatar", &in.AvatarFile}, {"header", &in.HeaderFile}} {
		f, err := profileImageFile(c.Request, img.field)
		if err != nil {
			a.fail(c, s, err)
			return
		}
		if f != nil {
			defer f.Close()
			*img.dst = f
		}
	}
	_, _, err := a.community.UpdateProfile(c.Request.Context(), s.account.ID, in)
	if k := community.KindOf(err); k == community.KindInvalid {
		data := a.settingsData(s.account, s.user)
		data.DisplayName, data.Note, data.Expertise, data.Error = name, note, form.Get("expertise"), err.Error()
		if in.Fields != nil {
			data.setFields(fields)
		}
		if in.AvatarFile != nil || in.HeaderFile != nil {
			data.Error = T("settings.pictures_again", data.Error)
		}
		for i := range data.Scopes {
			data.Scopes[i].Checked = data.Scopes[i].Value == string(scope)
		}
		a.render(c, s, http.StatusUnprocessableEntity, "settings", T("settings.heading"), "settings", data)
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, "/settings?saved=1")
}

// expertView is one answer to "who knows …?".
type expertView struct {
	Account    accountView
	Department string
	Declared   []string
	Tags       []string
	Fields     []fieldView
	Posts      []expertPost
	Counts     string
}

type fieldView struct {
	Name      string
	ValueHTML template.HTML
}

type expertPost struct {
	Path        string
	ContentHTML template.HTML
	SpoilerText string
	Audience    string
}

type expertsPage struct {
	Query       string
	Experts     []expertView
	Unanswered  string
	Unavailable bool
	AskPath     string
	// Questions are posts on the topic that ask and have no answer yet.
	Questions []statusView
}

// maxOpenQuestions is how many unanswered questions the experts page shows.
const maxOpenQuestions = 5

// openQuestions finds posts on the topic the viewer may read that ask a question
// (a "?" in the text), start a thread and have no reply yet: the people the page
// names may be the ones to answer them.
func (a *App) openQuestions(c *gin.Context, s *session, q string) ([]statusView, error) {
	ctx := c.Request.Context()
	v := community.AsAccount(s.account)
	found, err := a.search.Statuses(ctx, search.StatusQuery{Text: q, Viewer: v, Limit: 40})
	if err != nil {
		return nil, err
	}
	var open []community.Status
	for _, st := range found {
		asks := strings.Contains(st.Text, "?") || strings.Contains(st.Content, "?")
		if asks && st.InReplyToID == nil && st.ReblogOfID == nil && st.RepliesCount == 0 {
			open = append(open, st)
		}
		if len(open) == maxOpenQuestions {
			break
		}
	}
	return a.statusViews(ctx, v, open, a.formContext(c, s))
}

// maxQueryChars bounds a "who knows …?" question, as the API does.
const maxQueryChars = 500

// experts is /experts?q=: "who knows …?" across the company, through the search
// package, which passes every piece of evidence through the audience rule.
func (a *App) experts(c *gin.Context, s *session) {
	q := strings.TrimSpace(c.Query("q"))
	if utf8.RuneCountInString(q) > maxQueryChars {
		q = string([]rune(q)[:maxQueryChars])
	}
	data := expertsPage{Query: q}
	if q == "" {
		a.render(c, s, http.StatusOK, "experts", T("experts.heading"), "experts", data)
		return
	}
	if a.search == nil {
		data.Unavailable = true
		a.render(c, s, http.StatusServiceUnavailable, "experts", T("experts.heading"), "experts", data)
		return
	}
	res, err := a.search.Experts(c.Request.Context(), s.account, q, 20)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	data.AskPath = "/?text=" + url.QueryEscape(T("experts.ask_text", q)) + "#compose"
	data.Unanswered = strings.Join(res.Unanswered, ", ")
	for _, e := range res.Experts {
		data.Experts = append(data.Experts, a.expertView(e))
	}
	if data.Questions, err = a.openQuestions(c, s, q); err != nil {
		a.fail(c, s, err)
		return
	}
	a.render(c, s, http.StatusOK, "experts", T("experts.results", q), "experts", data)
}

func (a *App) expertView(e search.Expert) expertView {
	av := a.accountView(e.Account)
	ev := e.Evidence
	out := expertView{
		Account: av, Department: e.Instance, Declared: ev.Expertise, Tags: ev.FeaturedTags,
		Counts: T("experts.counts", ev.StatusesCount, ev.HashtagCount, ev.FavouritesCount),
	}
	if out.Department == "" {
		out.Department = av.Department
	}
	for _, f := range ev.Fields {
		out.Fields = append(out.Fields, fieldView{Name: f.Name, ValueHTML: template.HTML(f.Value)}) // safe HTML from the domain
	}
	for _, p := range ev.Statuses {
		post := expertPost{
			ContentHTML: template.HTML(p.Content), // sanitized by the domain, as in the API
			SpoilerText: p.SpoilerText,
			Audience:    audienceText(p.Visibility, p.Scope),
		}
		if p.ID != 0 {
			post.Path = av.ProfilePath + "/" + community.FormatID(p.ID)
		}
		out.Posts = append(out.Posts, post)
	}
	return out
}
