package community

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Moderation actions, as the audit log names them.
const (
	ActionLock            = "lock"
	ActionUnlock          = "unlock"
	ActionRemove          = "remove"
	ActionPin             = "pin"
	ActionUnpin           = "unpin"
	ActionBan             = "ban"
	ActionUnban           = "unban"
	ActionMove            = "move"
	ActionMerge           = "merge"
	ActionStatus          = "status"
	ActionAddModerator    = "add_moderator"
	ActionRemoveModerator = "remove_moderator"
	ActionAssignReport    = "assign_report"
	ActionUnassignReport  = "unassign_report"
	ActionResolveReport   = "resolve_report"
	ActionReopenReport    = "reopen_report"
	ActionWarn            = "warn"
	ActionSilence         = "silence"
	ActionUnsilence       = "unsilence"
	ActionSuspend         = "suspend"
	ActionUnsuspend       = "unsuspend"
	ActionDisable         = "disable"
	ActionEnable          = "enable"
	ActionBlockDomain     = "block_domain"
	ActionUpdateBlock     = "update_domain_block"
	ActionUnblockDomain   = "unblock_domain"
	ActionAllowDomain     = "allow_domain"
	ActionDisallowDomain  = "disallow_domain"
)

// MaxModerationReason bounds the reason or comment a moderator gives.
const MaxModerationReason = 1000

// boardActions are the moderation actions on a board's content, which federate.
var boardActions = map[string]bool{
	ActionLock: true, ActionUnlock: true, ActionRemove: true, ActionPin: true, ActionUnpin: true,
	ActionBan: true, ActionUnban: true, ActionMove: true, ActionMerge: true, ActionStatus: true,
}

// IsBoardAction reports whether an action is one of a board's moderation actions.
func IsBoardAction(action string) bool { return boardActions[action] }

// ModerationRequest is a moderator's action on a board.
type ModerationRequest struct {
	Action string
	// StatusID is the idea or post acted on (every action but ban and unban).
	StatusID int64
	// AccountID is the account banned or unbanned, from BoardID.
	AccountID int64
	// BoardID is the board of a ban or unban, and the new board of a move.
	BoardID int64
	// TargetID is the idea another is merged into.
	TargetID int64
	// Status is the new workflow status.
	Status IdeaStatus
	// Reason is why (a removal, a ban) or the comment on a status change.
	Reason string
	// ActivityURI identifies the activity that carried a request from another instance.
	ActivityURI string
}

// ModerationRecorded: a moderation action was recorded in the log. Board is the board
// acted on (for a move, the board the idea left); Home is set when the board lives
// here, so that the board tells every instance.
type ModerationRecorded struct {
	Entry ModerationLogEntry
	Board *Account
	Home  bool
}

func (ModerationRecorded) eventName() string { return "moderation.recorded" }

// modAction is a moderation action with everything it names loaded.
type modAction struct {
	action   string
	board    *Board
	status   *Status  // the idea or post
	idea     *Idea    // the idea acted on (idea actions)
	account  *Account // banned or unbanned
	newBoard *Board   // move
	target   *Idea    // merge
	state    IdeaStatus
	reason   string
}

// Moderate performs a moderation action on a board's content, after checking that the
// actor moderates that board. On the board's home instance the action takes effect and
// the board tells every instance; elsewhere it takes effect here at once and goes to
// the home instance, which checks again and has the last word.
func (s *Service) Moderate(ctx context.Context, actor *Account, req ModerationRequest) (*ModerationLogEntry, error) {
	if actor == nil {
		return nil, ErrForbidden
	}
	if !boardActions[req.Action] {
		return nil, Invalid("Unknown moderation action %q", req.Action)
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if utf8.RuneCountInString(req.Reason) > MaxModerationReason {
		return nil, Invalid("The reason is too long (maximum is %d characters)", MaxModerationReason)
	}
	a, err := s.resolveModeration(ctx, actor, req)
	if err != nil {
		return nil, err
	}
	db := s.read(ctx)
	ok, err := s.mayModerateBoard(ctx, db, actor, a.board)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotBoardModerator
	}
	if a.newBoard != nil {
		if ok, err := s.mayModerateBoard(ctx, db, actor, a.newBoard); err != nil {
			return nil, err
		} else if !ok {
			return nil, Forbidden("Only a moderator of both boards can move an idea between them")
		}
	}
	if err := s.validateModeration(ctx, a); err != nil {
		return nil, err
	}
	var entry *ModerationLogEntry
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		changed, err := s.applyModeration(tx, ev, a, a.board.Local)
		if err != nil || !changed {
			return err
		}
		entry, err = s.logModeration(tx, ev, s.entryFor(tx, a), actor, &logOptions{activityURI: req.ActivityURI, home: a.board.Local})
		return err
	})
	if err != nil {
		return nil, err
	}
	if entry == nil {
		entry = &ModerationLogEntry{Action: req.Action}
	}
	return entry, nil
}

// resolveModeration loads what a request names, as the actor sees it.
func (s *Service) resolveModeration(ctx context.Context, actor *Account, req ModerationRequest) (*modAction, error) {
	a := &modAction{action: req.Action, state: req.Status, reason: req.Reason}
	db := s.read(ctx)
	switch req.Action {
	case ActionBan, ActionUnban:
		b, err := boardRow(db, req.BoardID)
		if err != nil {
			return nil, err
		}
		if !s.mayReadBoard(AsAccount(actor), b) {
			return nil, ErrNotFound
		}
		if a.account, err = s.accountByID(ctx, req.AccountID); err != nil {
			return nil, err
		}
		a.board = b
		return a, nil
	}
	st, err := s.GetStatus(ctx, AsAccount(actor), req.StatusID)
	if err != nil {
		return nil, err
	}
	if st.ReblogOfID != nil {
		if st, err = s.loadStatusRow(db, *st.ReblogOfID); err != nil {
			return nil, err
		}
	}
	a.status = st
	if req.Action == ActionRemove {
		idea, err := s.threadIdea(db, st)
		if err != nil {
			return nil, err
		}
		if idea == nil {
			return nil, Invalid("This post is not part of a board's discussion")
		}
		if idea.StatusID == st.ID {
			a.idea = idea
		}
		a.board, err = boardRow(db, idea.BoardAccountID)
		return a, err
	}
	if a.idea, err = ideaRow(db, st.ID); KindOf(err) == KindNotFound {
		return nil, Invalid("This post is not an idea")
	} else if err != nil {
		return nil, err
	}
	if a.board, err = boardRow(db, a.idea.BoardAccountID); err != nil {
		return nil, err
	}
	switch req.Action {
	case ActionMerge:
		target, err := s.GetStatus(ctx, AsAccount(actor), req.TargetID)
		if err != nil {
			return nil, err
		}
		if a.target, err = ideaRow(db, target.ID); KindOf(err) == KindNotFound {
			return nil, Invalid("Ideas can only be merged into another idea")
		} else if err != nil {
			return nil, err
		}
	case ActionMove:
		nb, err := boardRow(db, req.BoardID)
		if err != nil {
			return nil, err
		}
		if !s.mayReadBoard(AsAccount(actor), nb) {
			return nil, ErrNotFound
		}
		a.newBoard = nb
	}
	return a, nil
}

// validateModeration checks that an action makes sense before it is applied.
func (s *Service) validateModeration(ctx context.Context, a *modAction) error {
	switch a.action {
	case ActionStatus:
		return checkTransition(a.idea.State, a.state)
	case ActionMerge:
		switch {
		case a.target.StatusID == a.idea.StatusID:
			return Invalid("An idea cannot be merged into itself")
		case a.target.BoardAccountID != a.idea.BoardAccountID:
			return Invalid("Ideas can only be merged within one board")
		case a.target.MergedIntoID != nil:
			return Invalid("The target idea was itself merged into another; merge into that one")
		case a.idea.MergedIntoID != nil:
			return Invalid("This idea was already merged")
		}
	case ActionMove:
		switch {
		case a.newBoard.AccountID == a.board.AccountID:
			return Invalid("The idea is already on that board")
		case a.newBoard.Scope != a.board.Scope:
			return Invalid("Ideas move only between boards of the same scope")
		}
		oldAcct, err := s.accountByID(ctx, a.board.AccountID)
		if err != nil {
			return err
		}
		newAcct, err := s.accountByID(ctx, a.newBoard.AccountID)
		if err != nil {
			return err
		}
		if oldAcct.Domain != newAcct.Domain {
			return Invalid("Ideas move only between boards of the same instance")
		}
	case ActionBan:
		mod, err := isBoardModerator(s.read(ctx), a.board.AccountID, a.account.ID)
		if err != nil {
			return err
		}
		if mod {
			return Invalid("A moderator of the board cannot be banned from it")
		}
		if a.account.ID == a.board.AccountID {
			return Invalid("A board cannot ban itself")
		}
	}
	return nil
}

// applyModeration applies an action in tx and reports whether anything changed. home
// is set on the board's home instance, which also keeps the board's shares of its
// ideas and the vote counts right.
func (s *Service) applyModeration(tx *gorm.DB, ev *[]Event, a *modAction, home bool) (bool, error) {
	now := s.clock()
	setIdea := func(updates map[string]any, unchanged string, args ...any) (bool, error) {
		q := tx.Model(&Idea{}).Where("status_id = ?", a.idea.StatusID)
		if unchanged != "" {
			q = q.Where(unchanged, args...)
		}
		updates["updated_at"] = now
		res := q.Updates(updates)
		if res.Error != nil {
			return false, fmt.Errorf("%s idea: %w", a.action, res.Error)
		}
		if res.RowsAffected == 0 {
			return false, nil
		}
		return true, s.ideaChanged(tx, ev, a.idea.StatusID)
	}
	switch a.action {
	case ActionLock, ActionUnlock:
		locked := a.action == ActionLock
		return setIdea(map[string]any{"locked": locked}, "locked <> ?", locked)
	case ActionPin:
		return setIdea(map[string]any{"pinned_at": now}, "pinned_at IS NULL")
	case ActionUnpin:
		return setIdea(map[string]any{"pinned_at": nil}, "pinned_at IS NOT NULL")
	case ActionStatus:
		return setIdea(map[string]any{"state": a.state, "state_comment": a.reason, "state_changed_at": now}, "state <> ?", a.state)
	case ActionMerge:
		changed, err := setIdea(map[string]any{"merged_into_id": a.target.StatusID, "locked": true}, "merged_into_id IS NULL")
		if err != nil || !changed {
			return changed, err
		}
		if err := s.moveVotes(tx, a.idea.StatusID, a.target.StatusID); err != nil {
			return false, err
		}
		if home {
			if err := s.recountVotes(tx, ev, a.idea.StatusID); err != nil {
				return false, err
			}
			if err := s.recountVotes(tx, ev, a.target.StatusID); err != nil {
				return false, err
			}
		}
		return true, nil
	case ActionMove:
		changed, err := setIdea(map[string]any{"board_account_id": a.newBoard.AccountID}, "board_account_id = ?", a.board.AccountID)
		if err != nil || !changed || !home {
			return changed, err
		}
		if err := s.boardUnreblog(tx, ev, a.board.AccountID, a.status.ID); err != nil {
			return false, err
		}
		return true, s.boardReblog(tx, ev, a.newBoard.AccountID, a.status)
	case ActionRemove:
		return s.deleteStatusTx(tx, ev, a.status)
	case ActionBan:
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&BoardBan{ID: NewID(), BoardAccountID: a.board.AccountID,
			AccountID: a.account.ID, Reason: a.reason, CreatedAt: now})
		if res.Error != nil {
			return false, fmt.Errorf("ban from board: %w", res.Error)
		}
		return res.RowsAffected == 1, nil
	case ActionUnban:
		res := tx.Where("board_account_id = ? AND account_id = ?", a.board.AccountID, a.account.ID).Delete(&BoardBan{})
		if res.Error != nil {
			return false, fmt.Errorf("unban from board: %w", res.Error)
		}
		return res.RowsAffected > 0, nil
	}
	return false, Invalid("Unknown moderation action %q", a.action)
}

// moveVotes gives an idea's votes to the idea it was merged into; a person who voted
// for both keeps one vote.
func (s *Service) moveVotes(tx *gorm.DB, from, to int64) error {
	var votes []IdeaVote
	if err := tx.Where("idea_id = ?", from).Find(&votes).Error; err != nil {
		return fmt.Errorf("load votes to merge: %w", err)
	}
	for _, v := range votes {
		moved := IdeaVote{ID: NewID(), IdeaID: to, VoterURI: v.VoterURI, AccountID: v.AccountID, CreatedAt: v.CreatedAt}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&moved).Error; err != nil {
			return fmt.Errorf("merge vote: %w", err)
		}
	}
	if err := tx.Where("idea_id = ?", from).Delete(&IdeaVote{}).Error; err != nil {
		return fmt.Errorf("clear merged votes: %w", err)
	}
	return nil
}

// deleteStatusTx removes a status and its reblogs, whoever wrote it, and reports
// whether it was still there.
func (s *Service) deleteStatusTx(tx *gorm.DB, ev *[]Event, st *Status) (bool, error) {
	cur, err := s.loadStatusRow(tx, st.ID)
	if KindOf(err) == KindNotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var reblogs []Status
	if err := tx.Where("reblog_of_id = ?", cur.ID).Order("id").Find(&reblogs).Error; err != nil {
		return false, fmt.Errorf("load reblogs: %w", err)
	}
	var gone []Event
	for i := range reblogs {
		removed, err := s.removeStatusRow(tx, &reblogs[i])
		if err != nil {
			return false, err
		}
		if removed {
			gone = append(gone, StatusDeleted{Status: reblogs[i]})
		}
	}
	removed, err := s.removeStatusRow(tx, cur)
	if err != nil || !removed {
		return false, err
	}
	*ev = append(*ev, StatusDeleted{Status: *cur})
	*ev = append(*ev, gone...)
	return true, nil
}

// entryFor describes an action for the log.
func (s *Service) entryFor(tx *gorm.DB, a *modAction) ModerationLogEntry {
	e := ModerationLogEntry{BoardAccountID: &a.board.AccountID, Action: a.action, Reason: a.reason}
	if a.status != nil {
		e.ObjectURI = a.status.URI
	}
	switch a.action {
	case ActionBan, ActionUnban:
		e.ObjectURI = a.account.URI
	case ActionStatus:
		e.Detail = string(a.state)
	case ActionMerge:
		if target, err := s.loadStatusRow(tx, a.target.StatusID); err == nil {
			e.TargetURI = target.URI
		}
	case ActionMove:
		if nb, err := accountTx(tx, a.newBoard.AccountID); err == nil {
			e.TargetURI = nb.URI
		}
	}
	return e
}

type logOptions struct {
	activityURI string
	home        bool
}

// logModeration records an action in the audit log; an action already recorded
// (the same activity delivered again) is not recorded twice, and nil is returned.
func (s *Service) logModeration(tx *gorm.DB, ev *[]Event, e ModerationLogEntry, actor *Account, opt *logOptions) (*ModerationLogEntry, error) {
	e.ID = NewID()
	e.CreatedAt = s.clock()
	if actor != nil {
		e.ActorAccountID = &actor.ID
		e.ActorURI = actor.URI
		e.Origin = actor.Domain
	}
	if e.Origin == "" {
		e.Origin = s.host
	}
	if opt != nil && opt.activityURI != "" {
		e.ActivityURI = opt.activityURI
	} else if boardActions[e.Action] {
		e.ActivityURI = s.baseURL + "/moderation/" + FormatID(e.ID)
	}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&e)
	if res.Error != nil {
		return nil, fmt.Errorf("record moderation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, nil
	}
	if boardActions[e.Action] && e.BoardAccountID != nil {
		board, err := accountTx(tx, *e.BoardAccountID)
		if err != nil {
			return nil, err
		}
		*ev = append(*ev, ModerationRecorded{Entry: e, Board: board, Home: opt != nil && opt.home})
	}
	return &e, nil
}

// BoardModeration is a moderation action as a remote board announced it: the home
// instance has checked and applied it, and this instance follows.
type BoardModeration struct {
	Action string
	// Actor is the moderator, when this instance knows the account; ActorURI always.
	Actor       *Account
	ActorURI    string
	ObjectURI   string
	TargetURI   string
	Reason      string
	Status      IdeaStatus
	ActivityURI string
}

// ApplyBoardModeration applies and logs what a remote board announced. The board is
// trusted with its own content only: the object must be one of its ideas, a post in
// one of their discussions, or (bans) an account.
func (s *Service) ApplyBoardModeration(ctx context.Context, board *Account, in BoardModeration) error {
	if board.IsLocal() || !board.Group {
		return Forbidden("Only a remote board announces its moderation")
	}
	if !boardActions[in.Action] {
		return Invalid("Unknown moderation action %q", in.Action)
	}
	db := s.read(ctx)
	b, err := boardRow(db, board.ID)
	if err != nil {
		return err
	}
	a := &modAction{action: in.Action, board: b, state: in.Status, reason: truncateRunes(in.Reason, MaxModerationReason)}
	switch in.Action {
	case ActionBan, ActionUnban:
		if a.account, err = s.accountByURI(ctx, in.ObjectURI); err != nil {
			return ignoreNotFound(err)
		}
	default:
		st, err := s.statusByURI(ctx, in.ObjectURI)
		if KindOf(err) == KindNotFound && in.Action == ActionRemove {
			// Gone here already (its author's Delete came first): only the log remains.
			return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
				_, err := s.logModeration(tx, ev, s.mirrorEntry(board, in), in.Actor, &logOptions{activityURI: in.ActivityURI})
				return err
			})
		}
		if err != nil {
			return ignoreNotFound(err)
		}
		a.status = st
		idea, err := s.threadIdea(db, st)
		if err != nil {
			return err
		}
		movedAlready := false
		if idea != nil && in.Action == ActionMove && idea.BoardAccountID != board.ID {
			// The new board's update of the idea may arrive before the move itself.
			if nb, err := s.accountByURI(ctx, in.TargetURI); err == nil && nb.ID == idea.BoardAccountID && nb.Domain == board.Domain {
				movedAlready = true
			}
		}
		if idea == nil || (idea.BoardAccountID != board.ID && !movedAlready) {
			return Forbidden("A board moderates only its own discussions")
		}
		if idea.StatusID == st.ID {
			a.idea = idea
		} else if in.Action != ActionRemove {
			return Invalid("This post is not an idea")
		}
		switch in.Action {
		case ActionStatus:
			if !ValidIdeaStatus(in.Status) {
				return Invalid("Idea status %q is not one of new, under_review, planned, done, declined", in.Status)
			}
		case ActionMerge:
			target, err := s.statusByURI(ctx, in.TargetURI)
			if err != nil {
				return ignoreNotFound(err)
			}
			if a.target, err = ideaRow(db, target.ID); err != nil {
				return ignoreNotFound(err)
			}
		case ActionMove:
			nb, err := s.accountByURI(ctx, in.TargetURI)
			if err != nil {
				return ignoreNotFound(err)
			}
			if nb.Domain != board.Domain {
				return Forbidden("A board moves ideas only to boards of its own instance")
			}
			if a.newBoard, err = boardRow(db, nb.ID); err != nil {
				return ignoreNotFound(err)
			}
		}
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if _, err := s.applyModeration(tx, ev, a, false); err != nil {
			return err
		}
		_, err := s.logModeration(tx, ev, s.mirrorEntry(board, in), in.Actor, &logOptions{activityURI: in.ActivityURI})
		return err
	})
}

func (s *Service) mirrorEntry(board *Account, in BoardModeration) ModerationLogEntry {
	e := ModerationLogEntry{BoardAccountID: &board.ID, Action: in.Action, ActorURI: in.ActorURI,
		ObjectURI: in.ObjectURI, TargetURI: in.TargetURI, Reason: truncateRunes(in.Reason, MaxModerationReason)}
	if in.Action == ActionStatus {
		e.Detail = string(in.Status)
	}
	if u, err := url.Parse(in.ActorURI); err == nil {
		e.Origin = strings.ToLower(u.Host)
	}
	return e
}

func ignoreNotFound(err error) error {
	if KindOf(err) == KindNotFound {
		return nil
	}
	return err
}

// ModerationLogQuery filters the audit log.
type ModerationLogQuery struct {
	BoardID int64
	ActorID int64
	Action  string
	// ObjectURI keeps the entries about one object (an account, a post, a report).
	ObjectURI string
	Page      Page
}

// ModerationLog lists the audit log, newest first. The instance's moderators and
// admins read all of it; a board's moderators read their boards' entries.
func (s *Service) ModerationLog(ctx context.Context, viewer *Account, q ModerationLogQuery) ([]ModerationLogEntry, error) {
	if viewer == nil {
		return nil, ErrForbidden
	}
	staff, err := s.IsStaff(ctx, viewer)
	if err != nil {
		return nil, err
	}
	db := s.read(ctx).Model(&ModerationLogEntry{})
	if !staff {
		var boards []int64
		if err := s.read(ctx).Model(&BoardModerator{}).Where("account_id = ?", viewer.ID).
			Pluck("board_account_id", &boards).Error; err != nil {
			return nil, fmt.Errorf("load moderated boards: %w", err)
		}
		if len(boards) == 0 {
			return nil, Forbidden("The moderation log is for moderators")
		}
		if q.BoardID != 0 && !slices.Contains(boards, q.BoardID) {
			return nil, Forbidden("You do not moderate this board")
		}
		db = db.Where("board_account_id IN ?", boards)
	}
	if q.BoardID != 0 {
		db = db.Where("board_account_id = ?", q.BoardID)
	}
	if q.ActorID != 0 {
		db = db.Where("actor_account_id = ?", q.ActorID)
	}
	if q.Action != "" {
		db = db.Where("action = ?", q.Action)
	}
	if q.ObjectURI != "" {
		db = db.Where("object_uri = ?", q.ObjectURI)
	}
	return findPage[ModerationLogEntry](db, q.Page.Normalize(DefaultLimit, MaxLimit), "id", "moderation log")
}

// IdeaStatusHistory lists the status changes of an idea the viewer may read, oldest
// first, with the moderators' comments, as this instance's audit log recorded them
// (the changes made here, and those its moderators made on other instances' boards).
// Everyone who may read an idea may follow its decisions; the rest of the log stays
// with the moderators (ModerationLog).
func (s *Service) IdeaStatusHistory(ctx context.Context, v Viewer, statusID int64) ([]ModerationLogEntry, error) {
	st, err := s.GetStatus(ctx, v, statusID)
	if err != nil {
		return nil, err
	}
	var out []ModerationLogEntry
	err = s.read(ctx).Where("object_uri = ? AND action = ?", st.URI, ActionStatus).
		Order("id").Limit(MaxLimit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("load the status history of idea %d: %w", statusID, err)
	}
	return out, nil
}

// logStaffAction records an action of the instance's staff (reports, accounts,
// domains) in the audit log.
func (s *Service) logStaffAction(tx *gorm.DB, actor *Account, action, objectURI, reason, detail string) error {
	_, err := s.logModeration(tx, nil, ModerationLogEntry{Action: action, ObjectURI: objectURI, Reason: reason, Detail: detail}, actor, nil)
	return err
}
