package community

import (
	"context"
	"errors"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/markup"
)

// Limits on ideas. An idea is longer than a post: its title is what a post's first
// line is, its body explains.
const (
	MaxIdeaTitleLen = 200
	MaxIdeaBodyLen  = 10000
	MaxIdeaComment  = 1000

	// trendingWindow and trendingCandidates bound the ideas ranked by "trending".
	trendingWindow     = 30 * 24 * time.Hour
	trendingCandidates = 1000
	// maxPinnedIdeas bounds the pinned ideas listed first.
	maxPinnedIdeas = 100
)

// ValidIdeaStatus checks a workflow status name.
func ValidIdeaStatus(st IdeaStatus) bool {
	switch st {
	case IdeaNew, IdeaUnderReview, IdeaPlanned, IdeaDone, IdeaDeclined:
		return true
	}
	return false
}

// ideaTransitions is the workflow: forward along new → under_review → planned → done
// (steps may be skipped), declined from anywhere before done, and back when a decision
// is reconsidered.
var ideaTransitions = map[IdeaStatus][]IdeaStatus{
	IdeaNew:         {IdeaUnderReview, IdeaPlanned, IdeaDone, IdeaDeclined},
	IdeaUnderReview: {IdeaNew, IdeaPlanned, IdeaDone, IdeaDeclined},
	IdeaPlanned:     {IdeaUnderReview, IdeaDone, IdeaDeclined},
	IdeaDone:        {IdeaPlanned},
	IdeaDeclined:    {IdeaNew, IdeaUnderReview},
}

// checkTransition refuses a change the workflow does not allow.
func checkTransition(from, to IdeaStatus) error {
	if !ValidIdeaStatus(to) {
		return Invalid("Status %q is not one of new, under_review, planned, done, declined", to)
	}
	if from == to {
		return Invalid("The idea is already %s", to)
	}
	if !slices.Contains(ideaTransitions[from], to) {
		return Invalid("An idea that is %s cannot become %s", from, to)
	}
	return nil
}

// NewIdea is what an author writes on a board.
type NewIdea struct {
	Title         string
	Body          string
	ApplicationID *int64
}

// IdeaView is an idea with what showing it needs.
type IdeaView struct {
	Idea   Idea
	Status Status
	Board  *Account
	Author *Account
	// Voted tells whether the viewer voted for it.
	Voted bool
	// MergedInto is the idea this one was merged into, when the viewer may see it.
	MergedInto *Status
}

// ideaText is the status text of an idea: its title as the first line, then its body.
func ideaText(title, body string) string {
	if strings.TrimSpace(body) == "" {
		return title
	}
	return title + "\n\n" + body
}

// CreateIdea posts an idea to a board. The idea is a public status of the board's
// scope (a department board's ideas are department posts); on the board's home
// instance the board shares it with its followers at once.
func (s *Service) CreateIdea(ctx context.Context, author *Account, boardID int64, in NewIdea) (*Status, error) {
	if author == nil {
		return nil, ErrForbidden
	}
	b, err := boardRow(s.read(ctx), boardID)
	if err != nil {
		return nil, err
	}
	if !s.mayReadBoard(AsAccount(author), b) {
		return nil, ErrNotFound
	}
	in.Title = strings.TrimSpace(in.Title)
	in.Body = strings.TrimSpace(in.Body)
	switch {
	case in.Title == "":
		return nil, Invalid("Validation failed: Title can't be blank")
	case utf8.RuneCountInString(in.Title) > MaxIdeaTitleLen:
		return nil, Invalid("Validation failed: Title is too long (maximum is %d characters)", MaxIdeaTitleLen)
	case strings.ContainsAny(in.Title, "\r\n"):
		return nil, Invalid("Validation failed: Title must be a single line")
	case utf8.RuneCountInString(in.Body) > MaxIdeaBodyLen:
		return nil, Invalid("Validation failed: Body is too long (maximum is %d characters)", MaxIdeaBodyLen)
	}
	if banned, err := boardBanned(s.read(ctx), b.AccountID, author.ID); err != nil {
		return nil, err
	} else if banned {
		return nil, errBannedFromBoard
	}
	text := ideaText(in.Title, in.Body)
	mentioned, byHandle, err := s.resolveMentions(ctx, text)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	st := &Status{
		ID:            NewID(),
		AccountID:     author.ID,
		Text:          text,
		Visibility:    VisibilityPublic,
		Scope:         b.Scope,
		ApplicationID: in.ApplicationID,
		Local:         true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	st.URI = s.StatusURI(author.Username, st.ID)
	st.URL = s.StatusURL(author.Username, st.ID)
	st.Content = s.renderStatusText(text, byHandle)
	idea := &Idea{
		StatusID:       st.ID,
		BoardAccountID: b.AccountID,
		Title:          in.Title,
		Body:           in.Body,
		BodyHTML:       s.renderStatusText(in.Body, byHandle),
		State:          IdeaNew,
		CreatedAt:      now,
		UpdatedAt:      now,
	}
	if in.Body == "" {
		idea.BodyHTML = ""
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Create(st).Error; err != nil {
			return fmt.Errorf("create idea status: %w", err)
		}
		if _, err := addMentions(tx, st.ID, mentioned); err != nil {
			return err
		}
		if err := s.setStatusTags(tx, st.ID, tagNamesOf(text), false); err != nil {
			return err
		}
		if err := s.countNewStatus(tx, st); err != nil {
			return err
		}
		if err := tx.Create(idea).Error; err != nil {
			return fmt.Errorf("create idea: %w", err)
		}
		if err := s.notifyReaders(tx, ev, st, mentioned, NotifyMention); err != nil {
			return err
		}
		*ev = append(*ev, StatusCreated{Status: *st})
		if b.Local {
			return s.boardReblog(tx, ev, b.AccountID, st)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// boardReblog makes a local board share an idea with its followers: the reblog is how
// an idea shows in the board's profile and in its followers' home timelines, and its
// federation is the board's Announce.
func (s *Service) boardReblog(tx *gorm.DB, ev *[]Event, boardID int64, idea *Status) error {
	board, err := accountTx(tx, boardID)
	if err != nil {
		return err
	}
	now := s.clock()
	reblog := &Status{ID: NewID(), AccountID: board.ID, ReblogOfID: &idea.ID, Visibility: VisibilityPublic,
		Scope: idea.Scope, Local: true, CreatedAt: now, UpdatedAt: now}
	reblog.URI = s.StatusURI(board.Username, reblog.ID) + "/activity"
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(reblog)
	if res.Error != nil {
		return fmt.Errorf("board reblog: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	if err := s.countNewStatus(tx, reblog); err != nil {
		return err
	}
	author, err := accountTx(tx, idea.AccountID)
	if err != nil {
		return err
	}
	if err := s.notify(tx, ev, author, board.ID, NotifyReblog, &idea.ID); err != nil {
		return err
	}
	*ev = append(*ev, StatusCreated{Status: *reblog})
	return nil
}

// boardUnreblog takes a board's reblog of an idea back (the idea moved elsewhere).
func (s *Service) boardUnreblog(tx *gorm.DB, ev *[]Event, boardID, ideaID int64) error {
	var reblog Status
	err := tx.Where("reblog_of_id = ? AND account_id = ?", ideaID, boardID).Take(&reblog).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load board reblog: %w", err)
	}
	removed, err := s.removeStatusRow(tx, &reblog)
	if err != nil || !removed {
		return err
	}
	*ev = append(*ev, StatusDeleted{Status: reblog})
	return nil
}

// RemoteIdea is what makes a received Page an idea: the board it was posted to and
// its title. Its body (the Page's content) is BodyHTML, unsanitized.
type RemoteIdea struct {
	BoardURI string
	Title    string
	BodyHTML string
}

// remoteIdeaContent is the status content of a received idea: its title as the
// first paragraph, then its body.
func remoteIdeaContent(title, bodyHTML string) string {
	return "<p>" + html.EscapeString(title) + "</p>" + bodyHTML
}

// attachIdea makes a just-received status an idea of the board it names, when this
// instance knows that board. On the board's home instance the author must not be
// banned, and the board shares the idea.
func (s *Service) attachIdea(tx *gorm.DB, ev *[]Event, st *Status, author *Account, in *RemoteIdea) error {
	var board Account
	err := tx.Where("uri = ? AND is_group", in.BoardURI).Take(&board).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil // a board this instance does not know: the post stays a post
	}
	if err != nil {
		return fmt.Errorf("load idea board: %w", err)
	}
	b, err := boardRow(tx, board.ID)
	if KindOf(err) == KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if b.Local {
		if b.Scope == ScopeDepartment {
			return Forbidden("This board is only open to its own instance")
		}
		if banned, err := boardBanned(tx, b.AccountID, author.ID); err != nil {
			return err
		} else if banned {
			return errBannedFromBoard
		}
	}
	now := s.clock()
	title := truncateRunes(strings.TrimSpace(markup.PlainText(in.Title)), MaxIdeaTitleLen)
	if title == "" {
		title = truncateRunes(firstLine(st.Text), MaxIdeaTitleLen)
	}
	body := markup.Sanitize(truncateBytes(in.BodyHTML, maxRemoteContentBytes))
	idea := Idea{StatusID: st.ID, BoardAccountID: b.AccountID, Title: title, Body: markup.PlainText(body),
		BodyHTML: body, State: IdeaNew, CreatedAt: st.CreatedAt, UpdatedAt: now}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&idea).Error; err != nil {
		return fmt.Errorf("store remote idea: %w", err)
	}
	if b.Local {
		return s.boardReblog(tx, ev, b.AccountID, st)
	}
	return nil
}

// updateRemoteIdea applies an author's edit of a received idea to its title and body.
func updateRemoteIdea(tx *gorm.DB, statusID int64, in *RemoteIdea) error {
	body := markup.Sanitize(truncateBytes(in.BodyHTML, maxRemoteContentBytes))
	title := truncateRunes(strings.TrimSpace(markup.PlainText(in.Title)), MaxIdeaTitleLen)
	updates := map[string]any{"body": markup.PlainText(body), "body_html": body}
	if title != "" {
		updates["title"] = title
	}
	if err := tx.Model(&Idea{}).Where("status_id = ?", statusID).Updates(updates).Error; err != nil {
		return fmt.Errorf("update remote idea: %w", err)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// ideaRow loads the idea of a status; ErrNotFound when the status is no idea.
func ideaRow(db *gorm.DB, statusID int64) (*Idea, error) {
	var i Idea
	if err := db.Take(&i, statusID).Error; err != nil {
		return nil, notFound(err, "idea")
	}
	return &i, nil
}

// ideaOf returns the idea a status is, or ErrNotFound.
func (s *Service) ideaOf(ctx context.Context, statusID int64) (*Idea, error) {
	return ideaRow(s.read(ctx), statusID)
}

// ideasOf returns the ideas among statuses, by status id.
func (s *Service) ideasOf(ctx context.Context, statusIDs []int64) (map[int64]*Idea, error) {
	out := map[int64]*Idea{}
	if len(statusIDs) == 0 {
		return out, nil
	}
	var rows []Idea
	if err := s.read(ctx).Where("status_id IN ?", uniqueIDs(statusIDs)).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load ideas: %w", err)
	}
	for i := range rows {
		out[rows[i].StatusID] = &rows[i]
	}
	return out, nil
}

// threadIdea finds the idea a status belongs to: the status itself, or the idea at the
// root of its thread; nil when it is in no board's discussion.
func (s *Service) threadIdea(db *gorm.DB, st *Status) (*Idea, error) {
	ids := []int64{st.ID}
	cur := st
	for i := 0; i < maxAncestors && cur.InReplyToID != nil; i++ {
		var parent Status
		err := db.Select("id", "in_reply_to_id").Take(&parent, *cur.InReplyToID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("load thread: %w", err)
		}
		ids = append(ids, parent.ID)
		cur = &parent
	}
	var ideas []Idea
	if err := db.Where("status_id IN ?", ids).Find(&ideas).Error; err != nil {
		return nil, fmt.Errorf("load thread idea: %w", err)
	}
	if len(ideas) == 0 {
		return nil, nil
	}
	// The idea nearest the status: a thread holds one, but be definite anyway.
	for _, id := range ids {
		for i := range ideas {
			if ideas[i].StatusID == id {
				return &ideas[i], nil
			}
		}
	}
	return nil, nil
}

// ThreadBoard returns the board whose discussion a status is part of, or nil.
func (s *Service) ThreadBoard(ctx context.Context, st *Status) (*Board, *Idea, error) {
	idea, err := s.threadIdea(s.read(ctx), st)
	if err != nil || idea == nil {
		return nil, nil, err
	}
	b, err := boardRow(s.read(ctx), idea.BoardAccountID)
	if err != nil {
		return nil, nil, err
	}
	return b, idea, nil
}

// errThreadLocked refuses a reply to a locked discussion.
var errThreadLocked = Forbidden("This discussion is locked: it accepts no new replies")

// checkReplyAllowed applies the board's rules to a reply: nobody replies to a locked
// idea's discussion but the board's moderators, and accounts banned from the board
// do not reply at all.
func (s *Service) checkReplyAllowed(ctx context.Context, author *Account, parent *Status) error {
	db := s.read(ctx)
	idea, err := s.threadIdea(db, parent)
	if err != nil || idea == nil {
		return err
	}
	if banned, err := boardBanned(db, idea.BoardAccountID, author.ID); err != nil {
		return err
	} else if banned {
		return errBannedFromBoard
	}
	if !idea.Locked && idea.MergedIntoID == nil {
		return nil
	}
	b, err := boardRow(db, idea.BoardAccountID)
	if err != nil {
		return err
	}
	mod, err := s.mayModerateBoard(ctx, db, author, b)
	if err != nil {
		return err
	}
	if !mod {
		return errThreadLocked
	}
	return nil
}

// GetIdea returns an idea the viewer may see, by its status id (or the id of a
// reblog of it).
func (s *Service) GetIdea(ctx context.Context, v Viewer, id int64) (*IdeaView, error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != nil {
		if st, err = s.loadStatusRow(s.read(ctx), *st.ReblogOfID); err != nil {
			return nil, err
		}
	}
	views, err := s.IdeaViews(ctx, v, []Status{*st})
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, ErrNotFound
	}
	return &views[0], nil
}

// IdeaViews completes the ideas among statuses the viewer may already see.
func (s *Service) IdeaViews(ctx context.Context, v Viewer, statuses []Status) ([]IdeaView, error) {
	ids := make([]int64, len(statuses))
	for i, st := range statuses {
		ids[i] = st.ID
	}
	ideas, err := s.ideasOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	var accountIDs, mergedIDs []int64
	for _, st := range statuses {
		if i := ideas[st.ID]; i != nil {
			accountIDs = append(accountIDs, st.AccountID, i.BoardAccountID)
			if i.MergedIntoID != nil {
				mergedIDs = append(mergedIDs, *i.MergedIntoID)
			}
		}
	}
	accounts, err := s.accountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	merged, err := s.GetStatuses(ctx, v, mergedIDs)
	if err != nil {
		return nil, err
	}
	voted := map[int64]bool{}
	if v.Account != nil && len(ideas) > 0 {
		var votedIDs []int64
		if err := s.read(ctx).Model(&IdeaVote{}).Where("voter_uri = ? AND idea_id IN ?", v.Account.URI, ids).
			Pluck("idea_id", &votedIDs).Error; err != nil {
			return nil, fmt.Errorf("load votes: %w", err)
		}
		for _, id := range votedIDs {
			voted[id] = true
		}
	}
	out := make([]IdeaView, 0, len(ideas))
	for _, st := range statuses {
		i := ideas[st.ID]
		if i == nil || accounts[st.AccountID] == nil || accounts[i.BoardAccountID] == nil {
			continue
		}
		view := IdeaView{Idea: *i, Status: st, Author: accounts[st.AccountID], Board: accounts[i.BoardAccountID],
			Voted: voted[st.ID]}
		if i.MergedIntoID != nil {
			for k := range merged {
				if merged[k].ID == *i.MergedIntoID {
					view.MergedInto = &merged[k]
				}
			}
		}
		out = append(out, view)
	}
	return out, nil
}

// IdeaSort orders a board's ideas.
type IdeaSort string

// Orders of a board's ideas.
const (
	SortNew      IdeaSort = "new"
	SortTop      IdeaSort = "top"
	SortTrending IdeaSort = "trending"
)

// IdeaQuery selects a board's ideas. Pinned ideas come first in every order.
type IdeaQuery struct {
	Sort IdeaSort
	// Status keeps ideas in that workflow status ("" keeps all).
	Status IdeaStatus
	// Merged keeps ideas merged into others too.
	Merged bool
	Limit  int
	Offset int
}

// ListIdeas lists what the viewer may see of a board's ideas.
//
// "top" orders by votes, "new" by age, "trending" by votes weighted by age (votes /
// (hours + 2)^1.5 over the ideas of the last 30 days), so that a young idea with a
// few votes overtakes an old one with many.
func (s *Service) ListIdeas(ctx context.Context, v Viewer, boardID int64, q IdeaQuery) ([]IdeaView, error) {
	b, err := boardRow(s.read(ctx), boardID)
	if err != nil {
		return nil, err
	}
	if !s.mayReadBoard(v, b) {
		return nil, ErrNotFound
	}
	if q.Sort == "" {
		q.Sort = SortNew
	}
	if q.Status != "" && !ValidIdeaStatus(q.Status) {
		return nil, Invalid("Status %q is not one of new, under_review, planned, done, declined", q.Status)
	}
	q.Limit = Page{Limit: q.Limit}.Normalize(DefaultLimit, MaxLimit).Limit
	if q.Offset < 0 {
		q.Offset = 0
	}
	base := func() *gorm.DB {
		db := s.read(ctx).Model(&Status{}).Joins("JOIN ideas ON ideas.status_id = statuses.id").
			Where("ideas.board_account_id = ?", boardID).Scopes(s.visibleSQL(v))
		if q.Status != "" {
			db = db.Where("ideas.state = ?", q.Status)
		}
		if !q.Merged {
			db = db.Where("ideas.merged_into_id IS NULL")
		}
		return db
	}
	// Pinned ideas come first in every order; a board pins a handful, so they are read
	// apart and the rest is read in an order its indexes give without sorting.
	var pinned []Status
	if err := base().Select("statuses.*").Where("ideas.pinned_at IS NOT NULL").Order("ideas.pinned_at DESC").
		Limit(maxPinnedIdeas).Find(&pinned).Error; err != nil {
		return nil, fmt.Errorf("list pinned ideas: %w", err)
	}
	var rows []Status
	skip := q.Offset
	if skip < len(pinned) {
		rows = append(rows, pinned[skip:min(len(pinned), skip+q.Limit)]...)
		skip = 0
	} else {
		skip -= len(pinned)
	}
	if rest := q.Limit - len(rows); rest > 0 {
		unpinned := base().Where("ideas.pinned_at IS NULL")
		var more []Status
		switch q.Sort {
		case SortNew:
			err = unpinned.Select("statuses.*").Order("ideas.status_id DESC").Offset(skip).Limit(rest).Find(&more).Error
		case SortTop:
			err = unpinned.Select("statuses.*").Order("ideas.votes_count DESC, ideas.status_id DESC").
				Offset(skip).Limit(rest).Find(&more).Error
		case SortTrending:
			more, err = s.trendingIdeas(ctx, v, unpinned, skip, rest)
		default:
			return nil, Invalid("Sort %q is not one of top, new, trending", q.Sort)
		}
		if err != nil {
			return nil, fmt.Errorf("list ideas: %w", err)
		}
		rows = append(rows, more...)
	}
	visible, err := s.FilterVisible(ctx, v, rows)
	if err != nil {
		return nil, err
	}
	return s.IdeaViews(ctx, v, visible)
}

// trendingIdeas ranks the recent ideas of unpinned in Go (the score needs a power
// SQLite may lack): the candidates are read as ids, votes and dates only, and the
// statuses of the one page asked for are loaded after.
func (s *Service) trendingIdeas(ctx context.Context, v Viewer, unpinned *gorm.DB, offset, limit int) ([]Status, error) {
	type candidate struct {
		StatusID   int64
		VotesCount int64
		CreatedAt  time.Time
	}
	now := s.clock()
	var rows []candidate
	if err := unpinned.Select("ideas.status_id, ideas.votes_count, statuses.created_at").
		Where("ideas.status_id > ?", IDAt(now.Add(-trendingWindow))).
		Order("ideas.status_id DESC").Limit(trendingCandidates).Scan(&rows).Error; err != nil {
		return nil, err
	}
	score := func(r candidate) float64 {
		hours := max(now.Sub(r.CreatedAt).Hours(), 0)
		return float64(r.VotesCount) / math.Pow(hours+2, 1.5)
	}
	slices.SortStableFunc(rows, func(a, b candidate) int {
		sa, sb := score(a), score(b)
		switch {
		case sa > sb:
			return -1
		case sa < sb:
			return 1
		}
		return 0
	})
	if offset >= len(rows) {
		return []Status{}, nil
	}
	rows = rows[offset:min(len(rows), offset+limit)]
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.StatusID
	}
	return s.GetStatuses(ctx, v, ids)
}

// recordVote keeps idea votes in step with favourites: a favourite of an idea is a
// vote, one per person (by actor id) whatever the number of deliveries. A vote for an
// idea merged into another counts for that other. The board's home instance counts
// the votes and publishes the count; elsewhere a local vote shows at once and the
// home's count replaces it when it arrives.
func (s *Service) recordVote(tx *gorm.DB, ev *[]Event, statusID int64, voter *Account, up bool) error {
	idea, err := ideaRow(tx, statusID)
	if KindOf(err) == KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	target := idea
	if idea.MergedIntoID != nil {
		if t, err := ideaRow(tx, *idea.MergedIntoID); err == nil {
			target = t
		}
	}
	b, err := boardRow(tx, target.BoardAccountID)
	if err != nil {
		return err
	}
	if b.Local {
		// Lock the idea's row first: concurrent votes then count one after the other,
		// each seeing the votes committed before it (PostgreSQL's read committed takes
		// a new snapshot per statement; SQLite's write transactions already take turns).
		if err := tx.Model(&Idea{}).Where("status_id = ?", target.StatusID).
			UpdateColumn("updated_at", gorm.Expr("updated_at")).Error; err != nil {
			return fmt.Errorf("lock idea: %w", err)
		}
	}
	var changed bool
	if up {
		if banned, err := boardBanned(tx, b.AccountID, voter.ID); err != nil {
			return err
		} else if banned {
			return errBannedFromBoard
		}
		vote := IdeaVote{ID: NewID(), IdeaID: target.StatusID, VoterURI: voter.URI, AccountID: &voter.ID, CreatedAt: s.clock()}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&vote)
		if res.Error != nil {
			return fmt.Errorf("record vote: %w", res.Error)
		}
		changed = res.RowsAffected == 1
	} else {
		res := tx.Where("idea_id IN ? AND voter_uri = ?", []int64{idea.StatusID, target.StatusID}, voter.URI).Delete(&IdeaVote{})
		if res.Error != nil {
			return fmt.Errorf("withdraw vote: %w", res.Error)
		}
		changed = res.RowsAffected > 0
	}
	switch {
	case !changed:
		return nil
	case b.Local:
		return s.recountVotes(tx, ev, target.StatusID)
	case voter.IsLocal():
		delta := gorm.Expr("votes_count + 1")
		if !up {
			delta = decrement("votes_count")
		}
		if err := tx.Model(&Idea{}).Where("status_id = ?", target.StatusID).UpdateColumn("votes_count", delta).Error; err != nil {
			return fmt.Errorf("count vote: %w", err)
		}
	}
	return nil
}

// recountVotes sets an idea's count from its votes (home instance only) and
// publishes the new state.
func (s *Service) recountVotes(tx *gorm.DB, ev *[]Event, ideaID int64) error {
	if err := tx.Exec(`UPDATE ideas SET votes_count = (SELECT COUNT(*) FROM idea_votes WHERE idea_votes.idea_id = ideas.status_id)
		WHERE status_id = ?`, ideaID).Error; err != nil {
		return fmt.Errorf("count votes: %w", err)
	}
	return s.ideaChanged(tx, ev, ideaID)
}

// ideaChanged records a change of an idea's board-owned state: on the home instance
// it gets a new version, which the board publishes.
func (s *Service) ideaChanged(tx *gorm.DB, ev *[]Event, ideaID int64) error {
	idea, err := ideaRow(tx, ideaID)
	if err != nil {
		return err
	}
	b, err := boardRow(tx, idea.BoardAccountID)
	if err != nil {
		return err
	}
	if b.Local {
		if err := tx.Model(&Idea{}).Where("status_id = ?", ideaID).
			UpdateColumns(map[string]any{"version": gorm.Expr("version + 1"), "updated_at": s.clock()}).Error; err != nil {
			return fmt.Errorf("version idea: %w", err)
		}
		if idea, err = ideaRow(tx, ideaID); err != nil {
			return err
		}
	}
	*ev = append(*ev, IdeaChanged{Idea: *idea, Home: b.Local})
	return nil
}

// IdeaState is an idea's board-owned state as its board publishes it.
type IdeaState struct {
	// URI is the idea's id; BoardURI the board it now belongs to.
	URI, BoardURI  string
	Status         IdeaStatus
	Comment        string
	StatusChanged  time.Time
	Locked         bool
	Pinned         time.Time // zero when not pinned
	MergedIntoURI  string
	Votes, Version int64
}

// ApplyIdeaState takes the state of an idea from its board (a remote group, verified
// as the sender). Only a newer version than the one stored applies, so that updates
// delivered late or twice change nothing. An idea this instance does not hold is
// ignored.
func (s *Service) ApplyIdeaState(ctx context.Context, board *Account, in IdeaState) error {
	if board.IsLocal() || !board.Group {
		return Forbidden("Only a remote board publishes the state of its ideas")
	}
	st, err := s.statusByURI(ctx, in.URI)
	if KindOf(err) == KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if !ValidIdeaStatus(in.Status) {
		return Invalid("Idea status %q is not one of new, under_review, planned, done, declined", in.Status)
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		idea, err := ideaRow(tx, st.ID)
		if KindOf(err) == KindNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		boardID := idea.BoardAccountID
		if in.BoardURI != "" && in.BoardURI != board.URI {
			return Forbidden("A board publishes only its own ideas")
		}
		if idea.BoardAccountID != board.ID {
			// Moved here from another board of the same instance.
			old, err := accountTx(tx, idea.BoardAccountID)
			if err != nil {
				return err
			}
			if old.Domain != board.Domain {
				return Forbidden("Idea %s belongs to another instance's board", in.URI)
			}
			if _, err := boardRow(tx, board.ID); err != nil {
				return err
			}
			boardID = board.ID
		}
		if in.Version <= idea.Version {
			return nil
		}
		updates := map[string]any{
			"board_account_id": boardID, "state": in.Status, "state_comment": truncateRunes(in.Comment, MaxIdeaComment),
			"locked": in.Locked, "votes_count": max(in.Votes, 0), "version": in.Version, "updated_at": s.clock(),
		}
		if !in.StatusChanged.IsZero() {
			updates["state_changed_at"] = in.StatusChanged.UTC()
		}
		if in.Pinned.IsZero() {
			updates["pinned_at"] = nil
		} else {
			updates["pinned_at"] = in.Pinned.UTC()
		}
		if in.MergedIntoURI != "" {
			var target Status
			if err := tx.Where("uri = ?", in.MergedIntoURI).Take(&target).Error; err == nil && target.ID != idea.StatusID {
				updates["merged_into_id"] = target.ID
			}
		} else {
			updates["merged_into_id"] = nil
		}
		// The version condition makes the update itself the check, so that of two
		// concurrent deliveries the newer state wins whichever commits last.
		res := tx.Model(&Idea{}).Where("status_id = ? AND version < ?", idea.StatusID, in.Version).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("apply idea state: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		updated, err := ideaRow(tx, idea.StatusID)
		if err != nil {
			return err
		}
		*ev = append(*ev, IdeaChanged{Idea: *updated})
		return nil
	})
}

// IdeaChanged: an idea's board-owned state (status, votes, lock, pin, merge, board)
// changed. Home is set on the board's home instance, which publishes it.
type IdeaChanged struct {
	Idea Idea
	Home bool
}

func (IdeaChanged) eventName() string { return "idea.changed" }

// syncIdeaText keeps an idea's title and body in step with its status text when the
// author edits it as a post: the first line is the title, the rest the body.
func (s *Service) syncIdeaText(tx *gorm.DB, st *Status, byHandle map[string]*Account) error {
	if _, err := ideaRow(tx, st.ID); KindOf(err) == KindNotFound {
		return nil
	} else if err != nil {
		return err
	}
	title, body, _ := strings.Cut(strings.TrimSpace(st.Text), "\n")
	body = strings.TrimSpace(body)
	bodyHTML := ""
	if body != "" {
		bodyHTML = s.renderStatusText(body, byHandle)
	}
	if err := tx.Model(&Idea{}).Where("status_id = ?", st.ID).Updates(map[string]any{
		"title": truncateRunes(strings.TrimSpace(title), MaxIdeaTitleLen), "body": body, "body_html": bodyHTML,
	}).Error; err != nil {
		return fmt.Errorf("update idea text: %w", err)
	}
	return nil
}
