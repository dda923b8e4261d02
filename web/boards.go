package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Tacit's idea boards API (docs/ideas.md). A board's :id is the id of its group
// account on the instance asked, so that the same calls work for local and remote
// boards; an idea's :id is its status id.

// Board is a board as Tacit's API shows it.
type Board struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Acct        string    `json:"acct"`
	DisplayName string    `json:"display_name"`
	Description string    `json:"description"`
	Rules       string    `json:"rules"`
	Scope       string    `json:"scope"`
	Local       bool      `json:"local"`
	URL         string    `json:"url"`
	CreatedAt   string    `json:"created_at"`
	Account     Account   `json:"account"`
	Moderators  []Account `json:"moderators"`
}

// BoardRef names the board of an idea.
type BoardRef struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Acct        string `json:"acct"`
	DisplayName string `json:"display_name"`
	URL         string `json:"url"`
}

// Idea is an idea as Tacit's API shows it.
type Idea struct {
	ID              string   `json:"id"`
	Title           string   `json:"title"`
	Body            string   `json:"body"`
	Content         string   `json:"content"`
	Status          string   `json:"status"`
	StatusComment   string   `json:"status_comment"`
	StatusChangedAt *string  `json:"status_changed_at"`
	Votes           int64    `json:"votes"`
	Voted           bool     `json:"voted"`
	Board           BoardRef `json:"board"`
	Account         Account  `json:"account"`
	CreatedAt       string   `json:"created_at"`
	URI             string   `json:"uri"`
	URL             *string  `json:"url"`
	Locked          bool     `json:"locked"`
	Pinned          bool     `json:"pinned"`
	MergedIntoID    *string  `json:"merged_into_id"`
	RepliesCount    int64    `json:"replies_count"`
}

// StatusIdea is the "tacit.idea" of a status that is an idea.
type StatusIdea struct {
	Title        string  `json:"title"`
	Status       string  `json:"status"`
	Votes        int64   `json:"votes"`
	BoardID      string  `json:"board_id"`
	Locked       bool    `json:"locked"`
	Pinned       bool    `json:"pinned"`
	MergedIntoID *string `json:"merged_into_id"`
}

// ModerationLogEntry is one entry of the audit log.
type ModerationLogEntry struct {
	ID        string   `json:"id"`
	Action    string   `json:"action"`
	BoardID   *string  `json:"board_id"`
	Account   *Account `json:"account"`
	ActorURI  string   `json:"actor_uri"`
	ObjectURI string   `json:"object_uri"`
	TargetURI string   `json:"target_uri"`
	Reason    string   `json:"reason"`
	Detail    string   `json:"detail"`
	Origin    string   `json:"origin"`
	CreatedAt string   `json:"created_at"`
}

// BoardBan is an account banned from a board.
type BoardBan struct {
	Account   Account `json:"account"`
	Reason    string  `json:"reason"`
	CreatedAt string  `json:"created_at"`
}

func (s *Server) mountBoards(r *gin.RouterGroup) {
	read := optionalUser("read:statuses")
	write := requireUser("write:statuses")
	moderate := requireUser("write:statuses", "admin:write")
	r.GET("/v1/tacit/boards", read, s.listBoards)
	r.POST("/v1/tacit/boards", write, s.createBoard)
	r.GET("/v1/tacit/boards/:id", read, s.getBoard)
	r.GET("/v1/tacit/boards/:id/ideas", read, s.listIdeas)
	r.POST("/v1/tacit/boards/:id/ideas", write, s.createIdea)
	r.POST("/v1/tacit/boards/:id/moderators", moderate, s.setBoardModerator(false))
	r.DELETE("/v1/tacit/boards/:id/moderators/:account_id", moderate, s.setBoardModerator(true))
	r.GET("/v1/tacit/boards/:id/bans", requireUser("read:statuses", "admin:read"), s.boardBans)
	r.POST("/v1/tacit/boards/:id/bans", moderate, s.banFromBoard(community.ActionBan))
	r.DELETE("/v1/tacit/boards/:id/bans/:account_id", moderate, s.banFromBoard(community.ActionUnban))

	r.GET("/v1/tacit/ideas/:id", read, s.getIdea)
	r.POST("/v1/tacit/ideas/:id/vote", requireUser("write:favourites"), s.vote(true))
	r.DELETE("/v1/tacit/ideas/:id/vote", requireUser("write:favourites"), s.vote(false))
	r.PUT("/v1/tacit/ideas/:id/status", moderate, s.moderateIdea(community.ActionStatus))
	r.POST("/v1/tacit/ideas/:id/merge", moderate, s.moderateIdea(community.ActionMerge))
	r.POST("/v1/tacit/ideas/:id/move", moderate, s.moderateIdea(community.ActionMove))
	for _, action := range []string{community.ActionLock, community.ActionUnlock, community.ActionPin,
		community.ActionUnpin, community.ActionRemove} {
		r.POST("/v1/tacit/ideas/:id/"+action, moderate, s.moderateIdea(action))
	}
	// Removing a reply from an idea's discussion is the same action on any status.
	r.POST("/v1/tacit/statuses/:id/remove", moderate, s.moderateIdea(community.ActionRemove))
	r.GET("/v1/tacit/moderation/log", requireUser("read:statuses", "admin:read"), s.moderationLog)
}

func (s *Server) board(info *community.BoardInfo) Board {
	mods := make([]Account, 0, len(info.Moderators))
	for _, m := range info.Moderators {
		mods = append(mods, s.account(m))
	}
	return Board{
		ID:          community.FormatID(info.Account.ID),
		Name:        info.Account.Username,
		Acct:        info.Account.Acct(),
		DisplayName: info.Account.DisplayName,
		Description: info.Board.Description,
		Rules:       info.Board.Rules,
		Scope:       string(info.Board.Scope),
		Local:       info.Board.Local,
		URL:         info.Account.URL,
		CreatedAt:   apiTime(info.Account.CreatedAt),
		Account:     s.account(info.Account),
		Moderators:  mods,
	}
}

func boardRef(a *community.Account) BoardRef {
	return BoardRef{ID: community.FormatID(a.ID), Name: a.Username, Acct: a.Acct(), DisplayName: a.DisplayName, URL: a.URL}
}

func (s *Server) idea(v community.IdeaView) Idea {
	out := Idea{
		ID:              community.FormatID(v.Status.ID),
		Title:           v.Idea.Title,
		Body:            v.Idea.Body,
		Content:         v.Idea.BodyHTML,
		Status:          string(v.Idea.State),
		StatusComment:   v.Idea.StateComment,
		StatusChangedAt: apiTimePtr(v.Idea.StateChangedAt),
		Votes:           v.Idea.VotesCount,
		Voted:           v.Voted,
		Board:           boardRef(v.Board),
		Account:         s.account(v.Author),
		CreatedAt:       apiTime(v.Status.CreatedAt),
		URI:             v.Status.URI,
		Locked:          v.Idea.Locked,
		Pinned:          v.Idea.PinnedAt != nil,
		RepliesCount:    v.Status.RepliesCount,
	}
	if v.Status.URL != "" {
		out.URL = strPtr(v.Status.URL)
	}
	if v.MergedInto != nil {
		out.MergedIntoID = strPtr(community.FormatID(v.MergedInto.ID))
	}
	return out
}

func (s *Server) listBoards(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	local, _, err := p.Bool("local")
	if err != nil {
		s.fail(c, err)
		return
	}
	page := pageOf(c, community.DefaultLimit, community.MaxLimit)
	list, err := s.community.ListBoards(c.Request.Context(), viewer(c), community.BoardQuery{Local: local, Page: page})
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]Board, 0, len(list))
	for i := range list {
		out = append(out, s.board(&list[i]))
	}
	if len(list) > 0 {
		s.setLinkHeader(c, list[0].Account.ID, list[len(list)-1].Account.ID)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) createBoard(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	info, err := s.community.CreateBoard(c.Request.Context(), currentAccount(c), community.NewBoard{
		Name:        p.Get("name"),
		DisplayName: p.Get("display_name"),
		Description: p.Get("description"),
		Rules:       p.Get("rules"),
		Scope:       community.Scope(p.Get("scope")),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.board(info))
}

func (s *Server) getBoard(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	info, err := s.community.GetBoard(c.Request.Context(), viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.board(info))
}

func (s *Server) listIdeas(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	q := community.IdeaQuery{Sort: community.IdeaSort(p.Get("sort")), Status: community.IdeaStatus(p.Get("status"))}
	if q.Limit, err = p.Int("limit", community.DefaultLimit); err == nil {
		q.Offset, err = p.Int("offset", 0)
	}
	if err == nil {
		q.Merged, _, err = p.Bool("merged")
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	views, err := s.community.ListIdeas(c.Request.Context(), viewer(c), id, q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]Idea, 0, len(views))
	for _, v := range views {
		out = append(out, s.idea(v))
	}
	limit := community.Page{Limit: q.Limit}.Normalize(community.DefaultLimit, community.MaxLimit).Limit
	if len(views) == limit {
		next := cloneValues(c.Request.URL.Query())
		next.Set("offset", strconv.Itoa(q.Offset+limit))
		c.Header("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, s.cfg.BaseURL(), c.Request.URL.Path, next.Encode()))
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) createIdea(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	in := community.NewIdea{Title: p.Get("title"), Body: p.Get("body")}
	if tok := currentToken(c); tok != nil {
		appID := tok.ApplicationID
		in.ApplicationID = &appID
	}
	ctx := c.Request.Context()
	st, err := s.community.CreateIdea(ctx, currentAccount(c), id, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderIdea(c, st.ID)
}

// renderIdea answers with an idea as the current viewer sees it.
func (s *Server) renderIdea(c *gin.Context, id int64) {
	v, err := s.community.GetIdea(c.Request.Context(), viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.idea(*v))
}

// ideaParam reads the :id of an idea, answering 404 for anything else and 422 for a
// status that is not an idea.
func (s *Server) ideaParam(c *gin.Context) (*community.IdeaView, bool) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	v, err := s.community.GetIdea(c.Request.Context(), viewer(c), id)
	if community.KindOf(err) == community.KindNotFound {
		if _, serr := s.community.GetStatus(c.Request.Context(), viewer(c), id); serr == nil {
			err = community.Invalid("This post is not an idea")
		}
	}
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return v, true
}

func (s *Server) getIdea(c *gin.Context) {
	v, ok := s.ideaParam(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, s.idea(*v))
}

// vote is a favourite of the idea: the same vote whether cast here or from a Mastodon
// client's favourite button.
func (s *Server) vote(up bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		v, ok := s.ideaParam(c)
		if !ok {
			return
		}
		act := s.community.Favourite
		if !up {
			act = s.community.Unfavourite
		}
		if _, err := act(c.Request.Context(), currentAccount(c), v.Status.ID); err != nil {
			s.fail(c, err)
			return
		}
		s.renderIdea(c, v.Status.ID)
	}
}

// moderateIdea performs a board moderator's action on an idea (or, for remove, any post
// of a board's discussion).
func (s *Server) moderateIdea(action string) gin.HandlerFunc {
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
		req := community.ModerationRequest{Action: action, StatusID: id, Reason: p.Get("reason")}
		switch action {
		case community.ActionStatus:
			req.Status = community.IdeaStatus(strings.TrimSpace(p.Get("status")))
			req.Reason = p.Get("comment")
			if req.Status == "" {
				err = community.Invalid("Missing status")
			}
		case community.ActionMerge:
			req.TargetID, err = parseID(p.Get("into"), community.Invalid("Missing or invalid into: the id of the idea to merge into"))
		case community.ActionMove:
			req.BoardID, err = parseID(p.Get("board"), community.Invalid("Missing or invalid board: the id of the board to move to"))
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		ctx := c.Request.Context()
		entry, err := s.community.Moderate(ctx, currentAccount(c), req)
		if err != nil {
			s.fail(c, err)
			return
		}
		if action == community.ActionRemove {
			out, err := s.logEntries(ctx, []community.ModerationLogEntry{*entry})
			if err != nil {
				s.fail(c, err)
				return
			}
			c.JSON(http.StatusOK, out[0])
			return
		}
		s.renderIdea(c, id)
	}
}

func (s *Server) setBoardModerator(remove bool) gin.HandlerFunc {
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
		raw := c.Param("account_id")
		if !remove {
			raw = p.Get("account_id")
		}
		accountID, err := parseID(raw, community.Invalid("Missing or invalid account_id"))
		if err != nil {
			s.fail(c, err)
			return
		}
		info, err := s.community.SetBoardModerator(c.Request.Context(), currentAccount(c), id, accountID, remove)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, s.board(info))
	}
}

func (s *Server) banFromBoard(action string) gin.HandlerFunc {
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
		raw := c.Param("account_id")
		if action == community.ActionBan {
			raw = p.Get("account_id")
		}
		accountID, err := parseID(raw, community.Invalid("Missing or invalid account_id"))
		if err != nil {
			s.fail(c, err)
			return
		}
		ctx := c.Request.Context()
		entry, err := s.community.Moderate(ctx, currentAccount(c), community.ModerationRequest{
			Action: action, BoardID: id, AccountID: accountID, Reason: p.Get("reason")})
		if err != nil {
			s.fail(c, err)
			return
		}
		out, err := s.logEntries(ctx, []community.ModerationLogEntry{*entry})
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, out[0])
	}
}

func (s *Server) boardBans(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	bans, accounts, err := s.community.BoardBans(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]BoardBan, 0, len(bans))
	for _, b := range bans {
		if a := accounts[b.AccountID]; a != nil {
			out = append(out, BoardBan{Account: s.account(a), Reason: b.Reason, CreatedAt: apiTime(b.CreatedAt)})
		}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) moderationLog(c *gin.Context) {
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	q := community.ModerationLogQuery{Action: p.Get("action"), Page: pageOf(c, community.DefaultLimit, community.MaxLimit)}
	for key, dst := range map[string]*int64{"board_id": &q.BoardID, "account_id": &q.ActorID} {
		if raw := p.Get(key); raw != "" {
			id, err := parseID(raw, community.Invalid("Invalid %s", key))
			if err != nil {
				s.fail(c, err)
				return
			}
			*dst = id
		}
	}
	ctx := c.Request.Context()
	entries, err := s.community.ModerationLog(ctx, currentAccount(c), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.logEntries(ctx, entries)
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(entries) > 0 {
		s.setLinkHeader(c, entries[0].ID, entries[len(entries)-1].ID)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) logEntries(ctx context.Context, entries []community.ModerationLogEntry) ([]ModerationLogEntry, error) {
	var ids []int64
	for _, e := range entries {
		if e.ActorAccountID != nil {
			ids = append(ids, *e.ActorAccountID)
		}
	}
	accounts, err := s.community.Unchecked().AccountsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]ModerationLogEntry, 0, len(entries))
	for _, e := range entries {
		entry := ModerationLogEntry{ID: community.FormatID(e.ID), Action: e.Action, BoardID: idPtr(e.BoardAccountID),
			ActorURI: e.ActorURI, ObjectURI: e.ObjectURI, TargetURI: e.TargetURI, Reason: e.Reason, Detail: e.Detail,
			Origin: e.Origin, CreatedAt: apiTime(e.CreatedAt)}
		if e.ActorAccountID != nil {
			if a := accounts[*e.ActorAccountID]; a != nil {
				acct := s.account(a)
				entry.Account = &acct
			}
		}
		out = append(out, entry)
	}
	return out, nil
}

// addIdeas fills "tacit.idea" in statuses that are ideas, and shows their vote count
// (the same on every instance) as their favourites count, since a favourite is a vote.
func (s *Server) addIdeas(ctx context.Context, list []Status) error {
	var ids []int64
	for i := range list {
		for _, st := range []*Status{&list[i], list[i].Reblog} {
			if st != nil {
				if id, ok := community.ParseID(st.ID); ok {
					ids = append(ids, id)
				}
			}
		}
	}
	ideas, err := s.community.Unchecked().IdeasOf(ctx, ids)
	if err != nil || len(ideas) == 0 {
		return err
	}
	for i := range list {
		for _, st := range []*Status{&list[i], list[i].Reblog} {
			if st == nil {
				continue
			}
			id, _ := community.ParseID(st.ID)
			idea := ideas[id]
			if idea == nil {
				continue
			}
			st.Tacit.Idea = &StatusIdea{Title: idea.Title, Status: string(idea.State), Votes: idea.VotesCount,
				BoardID: community.FormatID(idea.BoardAccountID), Locked: idea.Locked, Pinned: idea.PinnedAt != nil,
				MergedIntoID: idPtr(idea.MergedIntoID)}
			st.FavouritesCount = idea.VotesCount
		}
	}
	return nil
}
