package app

import (
	"bytes"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Idea boards: the company's boards, a board's ideas, an idea with its discussion, and
// the controls of the board's moderators. Every read and write is the community.Service
// call the boards API (web/boards.go) makes for the same thing, with the session's
// account, so a moderator on this instance acting on another instance's board goes
// through the same federation as through the API. Who moderates is the domain's rule:
// MayModerateBoard decides which controls a page offers, and Moderate checks again.

// The board pages are parsed with their own shared parts (board_parts.html): the idea
// card and the moderation controls that the board and idea pages both show.
func init() {
	for _, name := range []string{"boards", "board", "idea"} {
		pages[name] = template.Must(template.New(name).Funcs(templateFuncs).ParseFS(templateFiles,
			"templates/layout.html", "templates/parts.html", "templates/board_parts.html", "templates/"+name+".html"))
	}
}

// boardParts renders the board parts alone: the vote button htmx swaps in place.
var boardParts = template.Must(template.New("board_parts").Funcs(templateFuncs).ParseFS(templateFiles, "templates/board_parts.html"))

// mountBoards adds the board pages. A board's address is its handle, as profiles use
// theirs: /boards/ideas here, /boards/ideas@eng.example for a board of another instance.
func (a *App) mountBoards(e *gin.Engine) {
	e.GET("/boards", a.page(a.boardsPage))
	e.GET("/boards/:name", a.page(a.boardPage))
	e.POST("/boards/:name/ideas", a.form(a.signedIn(a.submitIdea)))
	e.POST("/boards/:name/bans", a.form(a.signedIn(a.boardBan)))
	e.GET("/boards/:name/ideas/:id", a.page(a.ideaPage))
	e.POST("/boards/:name/ideas/:id/:action", a.form(a.signedIn(a.ideaAction)))
}

// ideaStates are the workflow's statuses in order, as filters and pickers list them.
var ideaStates = []community.IdeaStatus{
	community.IdeaNew, community.IdeaUnderReview, community.IdeaPlanned, community.IdeaDone, community.IdeaDeclined,
}

var ideaSorts = []community.IdeaSort{community.SortNew, community.SortTop, community.SortTrending}

// ideasPerPage is the number of ideas a board page lists.
const ideasPerPage = community.DefaultLimit

// maxChoices bounds the ideas and boards a moderator picks from to merge or move.
const maxChoices = community.MaxLimit

type boardView struct {
	ID          string
	Name        string
	Handle      string // "ideas", or "ideas@host" for another instance's board
	Path        string
	Department  string
	Description string
	Rules       string
	ScopeText   string
	Following   bool
	Moderators  []accountView
}

func (a *App) boardView(info *community.BoardInfo) boardView {
	acct := info.Account
	name := strings.TrimSpace(acct.DisplayName)
	if name == "" {
		name = acct.Username
	}
	dept := acct.Domain
	if dept == "" {
		dept = a.cfg.Host
	}
	v := boardView{
		ID: community.FormatID(acct.ID), Name: name, Handle: acct.Acct(), Path: boardPath(acct),
		Department: dept, Description: info.Board.Description, Rules: info.Board.Rules,
		ScopeText: T("audience." + string(info.Board.Scope)),
	}
	for _, m := range info.Moderators {
		v.Moderators = append(v.Moderators, a.accountView(m))
	}
	return v
}

// boardPath is a board's page: its handle, like a profile's address.
func boardPath(board *community.Account) string { return "/boards/" + board.Acct() }

// ideaPath is an idea's page on its board.
func ideaPath(board *community.Account, id int64) string {
	return boardPath(board) + "/ideas/" + community.FormatID(id)
}

type ideaView struct {
	ID          string
	Path        string
	Title       string
	BodyHTML    template.HTML
	State       community.IdeaStatus
	StateText   string
	Comment     string
	ChangedText string
	ChangedISO  string
	Votes       int64
	VotesText   string
	Voted       bool
	Locked      bool
	Pinned      bool
	Merged      bool
	MergedPath  string
	RepliesText string
	Author      accountView
	CreatedISO  string
	CreatedText string
	// Form and Mod are the page's: the vote button's form, and the moderation
	// controls (nil for everyone who does not moderate the board).
	Form *formContext
	Mod  *ideaModeration
}

func (a *App) ideaView(v *community.IdeaView) ideaView {
	out := ideaView{
		ID:          community.FormatID(v.Status.ID),
		Path:        ideaPath(v.Board, v.Status.ID),
		Title:       v.Idea.Title,
		BodyHTML:    template.HTML(v.Idea.BodyHTML), // rendered and sanitized by the domain, as the API hands it out
		State:       v.Idea.State,
		StateText:   T("board.state." + string(v.Idea.State)),
		Comment:     v.Idea.StateComment,
		Votes:       v.Idea.VotesCount,
		VotesText:   countText("idea.votes", v.Idea.VotesCount),
		Voted:       v.Voted,
		Locked:      v.Idea.Locked,
		Pinned:      v.Idea.PinnedAt != nil,
		Merged:      v.Idea.MergedIntoID != nil,
		RepliesText: countText("idea.replies", v.Status.RepliesCount),
		Author:      a.accountView(v.Author),
		CreatedISO:  v.Status.CreatedAt.UTC().Format(time.RFC3339),
		CreatedText: v.Status.CreatedAt.UTC().Format(timeLayout),
	}
	if at := v.Idea.StateChangedAt; at != nil {
		out.ChangedISO = at.UTC().Format(time.RFC3339)
		out.ChangedText = at.UTC().Format(timeLayout)
	}
	// The idea merged into is linked only when the viewer may read it (the domain
	// loaded it through the audience rule); it may live on another board.
	if v.MergedInto != nil {
		out.MergedPath = boardPath(v.Board) + "/ideas/" + community.FormatID(v.MergedInto.ID)
	}
	return out
}

// countText words a count: key+".one" for one, key for any other number.
func countText(key string, n int64) string {
	if n == 1 {
		return T(key + ".one")
	}
	return T(key, n)
}

// boardParam resolves the board named in the address, as the viewer may see it; it
// answers 404 itself for anything else.
func (a *App) boardParam(c *gin.Context, s *session) (*community.BoardInfo, bool) {
	ctx := c.Request.Context()
	v := viewerOf(s)
	acct, err := a.community.LookupAccountFor(ctx, v, strings.TrimPrefix(c.Param("name"), "@"))
	if err != nil {
		a.fail(c, s, err)
		return nil, false
	}
	info, err := a.community.GetBoard(ctx, v, acct.ID)
	if err != nil {
		a.fail(c, s, err)
		return nil, false
	}
	return info, true
}

// ideaParam resolves the idea named in the address. An idea of another board, or a
// post that is not an idea, answers 404 like one that does not exist.
func (a *App) ideaParam(c *gin.Context, s *session, board *community.BoardInfo) (*community.IdeaView, bool) {
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return nil, false
	}
	idea, err := a.community.GetIdea(c.Request.Context(), viewerOf(s), id)
	if err != nil {
		a.fail(c, s, err)
		return nil, false
	}
	if idea.Board.ID != board.Account.ID || idea.Status.ID != id {
		a.notFound(c, s)
		return nil, false
	}
	return idea, true
}

// mayModerate asks the domain whether the signed-in person moderates the board.
func (a *App) mayModerate(c *gin.Context, s *session, board *community.BoardInfo) (bool, error) {
	if s == nil {
		return false, nil
	}
	return a.community.MayModerateBoard(c.Request.Context(), s.account, board.Account.ID)
}

type boardsPageData struct {
	Boards []boardView
	Pager  pager
	Form   *formContext
}

// boardsPage is /boards: every board of the company the viewer may see, local and
// known from the other instances, through the list the API's GET /boards gives.
func (a *App) boardsPage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	maxID := maxIDParam(c)
	list, err := a.community.ListBoards(ctx, viewerOf(s), community.BoardQuery{Page: community.Page{MaxID: maxID, Limit: pageSize}})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	data := boardsPageData{Form: a.formContext(c, s)}
	ids := make([]int64, 0, len(list))
	for i := range list {
		data.Boards = append(data.Boards, a.boardView(&list[i]))
		ids = append(ids, list[i].Account.ID)
	}
	if s != nil && len(ids) > 0 {
		rels, err := a.community.Relationships(ctx, s.account.ID, ids)
		if err != nil {
			a.fail(c, s, err)
			return
		}
		following := map[int64]bool{}
		for _, r := range rels {
			following[r.ID] = r.Following || r.Requested
		}
		for i := range list {
			data.Boards[i].Following = following[list[i].Account.ID]
		}
	}
	var oldest int64
	if len(list) > 0 {
		oldest = list[len(list)-1].Account.ID
	}
	data.Pager = pagerFor("/boards", maxID, oldest, len(list))
	a.render(c, s, http.StatusOK, "boards", T("boards.heading"), "boards", data)
}

// ideaForm is the form that submits an idea, with what was typed after a refusal.
type ideaForm struct {
	Title      string
	Body       string
	Error      string
	TitleLimit int
	BodyLimit  int
}

type boardPageData struct {
	Board     boardView
	Ideas     []ideaView
	Sorts     []choice
	States    []choice
	Query     string // sort and status of this page, for the links to others
	Older     string
	Newer     string
	Submit    *ideaForm
	Moderator bool
	Mod       ideaModeration
	// Notice confirms a ban or its lifting after the redirect.
	Notice string
	Form   *formContext
}

// boardPage is /boards/:name: the board's ideas, sorted and filtered as asked.
func (a *App) boardPage(c *gin.Context, s *session) {
	info, ok := a.boardParam(c, s)
	if !ok {
		return
	}
	a.showBoard(c, s, info, http.StatusOK, nil)
}

func (a *App) showBoard(c *gin.Context, s *session, info *community.BoardInfo, status int, submit *ideaForm) {
	ctx := c.Request.Context()
	sort := community.IdeaSort(c.Query("sort"))
	if sort == "" {
		sort = community.SortNew
	}
	state := community.IdeaStatus(c.Query("status"))
	offset, _ := strconv.Atoi(c.Query("offset"))
	offset = max(offset, 0)
	ideas, err := a.community.ListIdeas(ctx, viewerOf(s), info.Account.ID, community.IdeaQuery{
		Sort: sort, Status: state, Limit: ideasPerPage, Offset: offset,
	})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	moderator, err := a.mayModerate(c, s, info)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	board := a.boardView(info)
	form := a.formContext(c, s)
	data := boardPageData{Board: board, Moderator: moderator, Form: form}
	if moderator {
		switch c.Query("banned") {
		case community.ActionBan, community.ActionUnban:
			data.Notice = T("board.ban.done." + c.Query("banned"))
		}
	}
	if s != nil {
		rel, err := a.community.Relationship(ctx, s.account.ID, info.Account.ID)
		if err != nil {
			a.fail(c, s, err)
			return
		}
		data.Board.Following = rel.Following || rel.Requested
		if submit == nil {
			submit = &ideaForm{}
		}
		submit.TitleLimit, submit.BodyLimit = community.MaxIdeaTitleLen, community.MaxIdeaBodyLen
		data.Submit = submit
	}
	if moderator {
		data.Mod = ideaModeration{CSRF: form.CSRF, Back: form.Back, States: stateChoices("")}
	}
	for i := range ideas {
		iv := a.ideaView(&ideas[i])
		iv.Form = form
		if moderator {
			// Each idea offers the statuses it is not in.
			mod := data.Mod
			mod.States = stateChoices(ideas[i].Idea.State)
			iv.Mod = &mod
		}
		data.Ideas = append(data.Ideas, iv)
	}
	for _, so := range ideaSorts {
		data.Sorts = append(data.Sorts, choice{Value: string(so), Label: T("board.sort." + string(so)), Checked: so == sort})
	}
	data.States = append(data.States, choice{Value: "", Label: T("board.filter.all"), Checked: state == ""})
	for _, st := range ideaStates {
		data.States = append(data.States, choice{Value: string(st), Label: T("board.state." + string(st)), Checked: st == state})
	}
	query := "?sort=" + urlQueryEscape(string(sort))
	if state != "" {
		query += "&status=" + urlQueryEscape(string(state))
	}
	data.Query = query
	if len(ideas) == ideasPerPage {
		data.Older = board.Path + query + "&offset=" + strconv.Itoa(offset+ideasPerPage)
	}
	if offset > 0 {
		data.Newer = board.Path + query + "&offset=" + strconv.Itoa(max(offset-ideasPerPage, 0))
	}
	a.render(c, s, status, "board", T("board.heading", board.Name), "boards", data)
}

// submitIdea is POST /boards/:name/ideas, the API's POST /boards/:id/ideas.
func (a *App) submitIdea(c *gin.Context, s *session) {
	info, ok := a.boardParam(c, s)
	if !ok {
		return
	}
	form := c.Request.PostForm
	in := community.NewIdea{Title: form.Get("title"), Body: form.Get("body"), ApplicationID: &a.webApp.ID}
	st, err := a.community.CreateIdea(c.Request.Context(), s.account, info.Account.ID, in)
	if k := community.KindOf(err); k == community.KindInvalid || k == community.KindForbidden {
		a.showBoard(c, s, info, http.StatusUnprocessableEntity, &ideaForm{Title: in.Title, Body: in.Body, Error: err.Error()})
		return
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, ideaPath(info.Account, st.ID))
}

// ideaModeration is what the moderation controls of one idea need.
type ideaModeration struct {
	CSRF   string
	Back   string
	States []choice
	// Merge and Move list the ideas and boards to choose from (idea page only).
	Merge []choice
	Move  []choice
}

// stateChoices lists the workflow's statuses but the current one; the domain refuses
// the changes its workflow does not allow, with a message saying which are.
func stateChoices(current community.IdeaStatus) []choice {
	var out []choice
	for _, st := range ideaStates {
		if st != current {
			out = append(out, choice{Value: string(st), Label: T("board.state." + string(st))})
		}
	}
	return out
}

// historyEntry is one moderation action on an idea, from the moderation log.
type historyEntry struct {
	Text       string
	Reason     string
	By         string
	CreatedISO string
	When       string
}

type ideaPageData struct {
	Board     boardView
	Idea      ideaView
	Replies   []statusView
	Reply     *composeForm
	Moderator bool
	Mod       ideaModeration
	History   []historyEntry
	Form      *formContext
}

// ideaPage is /boards/:name/ideas/:id: the idea, its status, votes and discussion.
func (a *App) ideaPage(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	info, ok := a.boardParam(c, s)
	if !ok {
		return
	}
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	v := viewerOf(s)
	idea, err := a.community.GetIdea(ctx, v, id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	// An idea moved to another board, or merged into an idea there, is found at its
	// board's address.
	if idea.Board.ID != info.Account.ID || idea.Status.ID != id {
		a.redirect(c, ideaPath(idea.Board, idea.Status.ID))
		return
	}
	_, descendants, err := a.community.StatusContext(ctx, v, id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	form := a.formContext(c, s)
	replies, err := a.statusViews(ctx, v, descendants, form)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	moderator, err := a.mayModerate(c, s, info)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	iv := a.ideaView(idea)
	iv.Form = form
	data := ideaPageData{Board: a.boardView(info), Replies: replies, Moderator: moderator, Form: form}
	if s != nil && !idea.Idea.Locked {
		reply := a.newComposeForm(s, "")
		reply.InReplyToID, reply.Reply, reply.Back = iv.ID, true, iv.Path
		// The reply starts with the idea's own audience, which the domain narrows it to.
		reply.setAudience(idea.Status.Visibility, idea.Status.Scope)
		data.Reply = reply
	}
	if moderator {
		if data.Mod, err = a.ideaModeration(c, s, info, idea, form); err != nil {
			a.fail(c, s, err)
			return
		}
		iv.Mod = &data.Mod
	}
	if s != nil {
		if data.History, err = a.ideaHistory(c, s, info, idea); err != nil {
			a.fail(c, s, err)
			return
		}
	}
	data.Idea = iv
	a.render(c, s, http.StatusOK, "idea", iv.Title, "boards", data)
}

// ideaModeration gathers what a moderator picks from: the statuses, the board's other
// ideas to merge into, and the other boards they moderate to move to.
func (a *App) ideaModeration(c *gin.Context, s *session, info *community.BoardInfo, idea *community.IdeaView, form *formContext) (ideaModeration, error) {
	ctx := c.Request.Context()
	v := viewerOf(s)
	m := ideaModeration{CSRF: form.CSRF, Back: form.Back, States: stateChoices(idea.Idea.State)}
	others, err := a.community.ListIdeas(ctx, v, info.Account.ID, community.IdeaQuery{Sort: community.SortTop, Limit: maxChoices})
	if err != nil {
		return m, err
	}
	for _, o := range others {
		if o.Status.ID != idea.Status.ID {
			m.Merge = append(m.Merge, choice{Value: community.FormatID(o.Status.ID), Label: T("idea.mod.merge_choice", o.Idea.Title, o.Idea.VotesCount)})
		}
	}
	boards, err := a.community.ListBoards(ctx, v, community.BoardQuery{Page: community.Page{Limit: maxChoices}})
	if err != nil {
		return m, err
	}
	for i := range boards {
		b := &boards[i]
		if b.Account.ID == info.Account.ID {
			continue
		}
		// Only boards the person moderates too: the domain refuses a move to any other.
		ok, err := a.community.MayModerateBoard(ctx, s.account, b.Account.ID)
		if err != nil {
			return m, err
		}
		if ok {
			m.Move = append(m.Move, choice{Value: community.FormatID(b.Account.ID), Label: "@" + b.Account.Acct()})
		}
	}
	return m, nil
}

// ideaHistory is what the board's moderation log says about the idea: for its
// moderators every status change with its comment, locks, pins; for everyone else who
// may read the idea, the status changes with their comments.
func (a *App) ideaHistory(c *gin.Context, s *session, info *community.BoardInfo, idea *community.IdeaView) ([]historyEntry, error) {
	ctx := c.Request.Context()
	entries, err := a.community.ModerationLog(ctx, s.account, community.ModerationLogQuery{
		BoardID: info.Account.ID, ObjectURI: idea.Status.URI, Page: community.Page{Limit: community.MaxLimit},
	})
	if community.KindOf(err) == community.KindForbidden {
		// Not a moderator here: the decisions alone, which whoever reads the idea sees.
		entries, err = a.community.IdeaStatusHistory(ctx, community.AsAccount(s.account), idea.Status.ID)
		slices.Reverse(entries) // newest first, as the log
	}
	if err != nil {
		return nil, err
	}
	// Moderators' names come from the board's list; anyone else by their address.
	names := map[int64]string{}
	for _, m := range info.Moderators {
		names[m.ID] = "@" + m.Acct()
	}
	var out []historyEntry
	for _, e := range entries {
		if e.ObjectURI != idea.Status.URI {
			continue
		}
		h := historyEntry{Reason: e.Reason, By: e.ActorURI, CreatedISO: e.CreatedAt.UTC().Format(time.RFC3339),
			When: e.CreatedAt.UTC().Format(timeLayout)}
		if e.ActorAccountID != nil && names[*e.ActorAccountID] != "" {
			h.By = names[*e.ActorAccountID]
		}
		switch e.Action {
		case community.ActionStatus:
			h.Text = T("idea.history.status", T("board.state."+e.Detail))
		default:
			// The audit log's words for the action, where the catalog has them.
			if _, ok := messages["moderation.log.action."+e.Action]; ok {
				h.Text = T("moderation.log.action." + e.Action)
			} else {
				h.Text = T("idea.history.action", e.Action)
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// ideaAction is POST /boards/:name/ideas/:id/:action: a vote, or a moderator's action
// through the domain's Moderate, as the API's /ideas/:id/… endpoints.
func (a *App) ideaAction(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	info, ok := a.boardParam(c, s)
	if !ok {
		return
	}
	idea, ok := a.ideaParam(c, s, info)
	if !ok {
		return
	}
	form := c.Request.PostForm
	back := localPath(form.Get("back"))
	var err error
	switch action := c.Param("action"); action {
	case "vote":
		_, err = a.community.Favourite(ctx, s.account, idea.Status.ID)
	case "unvote":
		_, err = a.community.Unfavourite(ctx, s.account, idea.Status.ID)
	default:
		req, ok := moderationRequest(action, form.Get, idea.Status.ID)
		if !ok {
			a.notFound(c, s)
			return
		}
		if req.Action == community.ActionRemove && req.StatusID == idea.Status.ID {
			// The removed idea has no page to go back to.
			back = boardPath(info.Account)
		}
		if req.Action == community.ActionStatus && req.Status == "" {
			err = community.Invalid("%s", T("idea.mod.no_status"))
		} else if (req.Action == community.ActionMerge && req.TargetID == 0) || (req.Action == community.ActionMove && req.BoardID == 0) {
			err = community.Invalid("%s", T("idea.mod.no_target"))
		} else {
			_, err = a.community.Moderate(ctx, s.account, req)
		}
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	if isHTMX(c) && (c.Param("action") == "vote" || c.Param("action") == "unvote") {
		a.renderVote(c, s, idea.Status.ID, back)
		return
	}
	a.redirect(c, back)
}

// renderVote answers an htmx vote with the idea's vote count and button, turned.
func (a *App) renderVote(c *gin.Context, s *session, id int64, back string) {
	idea, err := a.community.GetIdea(c.Request.Context(), viewerOf(s), id)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	iv := a.ideaView(idea)
	iv.Form = &formContext{CSRF: s.csrf, Back: back, SignedIn: true}
	var buf bytes.Buffer
	if err := boardParts.ExecuteTemplate(&buf, "ideaVote", iv); err != nil {
		a.log.ErrorContext(c.Request.Context(), "render the vote fragment", "request_id", c.GetString("request_id"), "err", err)
		a.renderError(c, s, http.StatusInternalServerError, "error.server")
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// moderationRequest reads a moderator's form into the domain's request, with the
// fields the API's endpoint of the same action reads.
func moderationRequest(action string, get func(string) string, ideaID int64) (community.ModerationRequest, bool) {
	req := community.ModerationRequest{Action: action, StatusID: ideaID, Reason: get("reason")}
	switch action {
	case community.ActionStatus:
		req.Status = community.IdeaStatus(strings.TrimSpace(get("status")))
		req.Reason = get("comment")
	case community.ActionLock, community.ActionUnlock, community.ActionPin, community.ActionUnpin:
	case community.ActionMerge:
		req.TargetID, _ = community.ParseID(get("into"))
	case community.ActionMove:
		req.BoardID, _ = community.ParseID(get("board"))
	case community.ActionRemove:
		// A reply of the discussion is removed through the same action.
		if raw := get("post"); raw != "" {
			id, ok := community.ParseID(raw)
			if !ok {
				return req, false
			}
			req.StatusID = id
		}
	default:
		return req, false
	}
	return req, true
}

// boardBan is POST /boards/:name/bans: a moderator bans a person from the board, or
// lifts the ban, as the API's /boards/:id/bans.
func (a *App) boardBan(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	info, ok := a.boardParam(c, s)
	if !ok {
		return
	}
	form := c.Request.PostForm
	action := form.Get("action")
	if action != community.ActionBan && action != community.ActionUnban {
		a.notFound(c, s)
		return
	}
	handle := strings.TrimPrefix(strings.TrimSpace(form.Get("account")), "@")
	person, err := a.community.LookupAccountFor(ctx, viewerOf(s), handle)
	if community.KindOf(err) == community.KindNotFound {
		err = community.Invalid("%s", T("board.ban.unknown", handle))
	}
	if err == nil {
		_, err = a.community.Moderate(ctx, s.account, community.ModerationRequest{
			Action: action, BoardID: info.Account.ID, AccountID: person.ID, Reason: form.Get("reason"),
		})
	}
	if err != nil {
		a.fail(c, s, err)
		return
	}
	a.redirect(c, boardPath(info.Account)+"?banned="+urlQueryEscape(action))
}
