package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Idea boards (DESIGN.md §5). A board is a group account with a Board row: people of
// every instance follow it, post ideas to it and vote; its moderators (of any
// instance) run it. The instance the board lives on is its home: it decides who may
// do what there, counts the votes and publishes the result.

// Limits on what a board holds.
const (
	MaxBoardDescriptionLen = 2000
	MaxBoardRulesLen       = 5000
	MaxBoardModerators     = 50
)

// NewBoard is what it takes to create a board.
type NewBoard struct {
	Name        string // the group's username
	DisplayName string
	Description string
	Rules       string
	// Scope is company (the default) or department; world opens the board beyond the
	// company in open federation mode.
	Scope Scope
}

// BoardInfo is a board with its account and moderators.
type BoardInfo struct {
	Board      Board
	Account    *Account
	Moderators []*Account
}

// roleOf returns a local account's role, RoleUser for remote accounts.
func (s *Service) roleOf(ctx context.Context, db *gorm.DB, a *Account) (Role, error) {
	if a == nil || !a.IsLocal() {
		return RoleUser, nil
	}
	var u User
	err := db.WithContext(ctx).Where("account_id = ?", a.ID).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return RoleUser, nil // a group or the instance's own accounts have no login
	}
	if err != nil {
		return "", fmt.Errorf("load role: %w", err)
	}
	return u.Role, nil
}

// IsStaff reports whether a local account is one of the instance's moderators or admins.
func (s *Service) IsStaff(ctx context.Context, a *Account) (bool, error) {
	role, err := s.roleOf(ctx, s.db, a)
	if err != nil {
		return false, err
	}
	return role == RoleModerator || role == RoleAdmin, nil
}

// requireStaff refuses anyone but the instance's moderators and admins.
func (s *Service) requireStaff(ctx context.Context, a *Account) error {
	ok, err := s.IsStaff(ctx, a)
	if err != nil {
		return err
	}
	if !ok {
		return Forbidden("This action is reserved to the instance's moderators and admins")
	}
	return nil
}

// CreateBoard creates a board on this instance. Only the instance's moderators and
// admins create boards; the creator becomes the board's first moderator.
func (s *Service) CreateBoard(ctx context.Context, creator *Account, in NewBoard) (*BoardInfo, error) {
	if creator == nil {
		return nil, ErrForbidden
	}
	if err := s.requireStaff(ctx, creator); err != nil {
		return nil, Forbidden("Only the instance's moderators and admins can create boards")
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := ValidateUsername(in.Name); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(in.DisplayName) > MaxDisplayNameLen {
		return nil, Invalid("Display name is too long (maximum is %d characters)", MaxDisplayNameLen)
	}
	if utf8.RuneCountInString(in.Description) > MaxBoardDescriptionLen {
		return nil, Invalid("Description is too long (maximum is %d characters)", MaxBoardDescriptionLen)
	}
	if utf8.RuneCountInString(in.Rules) > MaxBoardRulesLen {
		return nil, Invalid("Rules are too long (maximum is %d characters)", MaxBoardRulesLen)
	}
	if in.Scope == "" {
		in.Scope = ScopeCompany
	}
	if err := ValidateScope(in.Scope); err != nil {
		return nil, err
	}
	now := s.clock()
	acct := &Account{
		ID:           NewID(),
		Username:     in.Name,
		DisplayName:  in.DisplayName,
		Note:         s.renderText(ctx, in.Description),
		NoteSource:   in.Description,
		Group:        true,
		Discoverable: in.Scope != ScopeDepartment,
		Fields:       Fields{},
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	acct.URI = s.AccountURI(acct.Username)
	acct.URL = s.AccountURL(acct.Username)
	acct.InboxURL = acct.URI + "/inbox"
	acct.SharedInboxURL = s.baseURL + "/inbox"
	acct.FollowersURL = acct.URI + "/followers"
	board := Board{AccountID: acct.ID, Description: in.Description, Rules: in.Rules, Scope: in.Scope, Local: true,
		CreatedByAccountID: &creator.ID, CreatedAt: now, UpdatedAt: now}
	err := s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var n int64
		if err := tx.Model(&Account{}).Where("lower(username) = lower(?) AND domain = ''", in.Name).Count(&n).Error; err != nil {
			return fmt.Errorf("check board name: %w", err)
		}
		if n > 0 {
			return Conflict("The name %q is already taken", in.Name)
		}
		if retired, err := usernameRetired(tx, in.Name); err != nil {
			return err
		} else if retired {
			return Conflict("The name %q belonged to a deleted account and cannot be used again", in.Name)
		}
		if err := tx.Create(acct).Error; err != nil {
			return fmt.Errorf("create board account: %w", err)
		}
		if err := tx.Create(&board).Error; err != nil {
			return fmt.Errorf("create board: %w", err)
		}
		mod := BoardModerator{ID: NewID(), BoardAccountID: acct.ID, AccountID: creator.ID, CreatedAt: now}
		if err := tx.Create(&mod).Error; err != nil {
			return fmt.Errorf("add board moderator: %w", err)
		}
		*ev = append(*ev, AccountCreated{Account: *acct})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &BoardInfo{Board: board, Account: acct, Moderators: []*Account{creator}}, nil
}

// mayReadBoard applies the audience rule to a board itself: a department board is
// known only to its own instance's accounts.
func (s *Service) mayReadBoard(v Viewer, b *Board) bool {
	return s.scopeAdmits(v, &Status{Scope: b.Scope, Local: b.Local})
}

// boardRow loads a board by its account id, whoever asks.
func boardRow(db *gorm.DB, accountID int64) (*Board, error) {
	var b Board
	if err := db.Take(&b, accountID).Error; err != nil {
		return nil, notFound(err, "board")
	}
	return &b, nil
}

// GetBoard returns a board the viewer may see. id is the board's account id on this
// instance, for local and remote boards alike.
func (s *Service) GetBoard(ctx context.Context, v Viewer, id int64) (*BoardInfo, error) {
	b, err := boardRow(s.read(ctx), id)
	if err != nil {
		return nil, err
	}
	if !s.mayReadBoard(v, b) {
		return nil, ErrNotFound
	}
	infos, err := s.boardInfos(ctx, []Board{*b})
	if err != nil {
		return nil, err
	}
	if infos, err = s.visibleBoards(ctx, v, infos); err != nil {
		return nil, err
	}
	if len(infos) == 0 {
		return nil, ErrNotFound
	}
	return &infos[0], nil
}

// BoardQuery selects boards to list.
type BoardQuery struct {
	// Local keeps only this instance's boards.
	Local bool
	Page  Page
}

// ListBoards lists the boards the viewer may see, local and remote, newest first.
func (s *Service) ListBoards(ctx context.Context, v Viewer, q BoardQuery) ([]BoardInfo, error) {
	db := s.read(ctx).Model(&Board{})
	if q.Local {
		db = db.Where("local")
	}
	if v.Account == nil || !v.Account.IsLocal() {
		db = db.Where("scope <> ?", ScopeDepartment)
	}
	rows, err := findPage[Board](db, q.Page.Normalize(DefaultLimit, MaxLimit), "account_id", "boards")
	if err != nil {
		return nil, err
	}
	visible := rows[:0]
	for _, b := range rows {
		if s.mayReadBoard(v, &b) {
			visible = append(visible, b)
		}
	}
	infos, err := s.boardInfos(ctx, visible)
	if err != nil {
		return nil, err
	}
	return s.visibleBoards(ctx, v, infos)
}

// visibleBoards keeps the boards whose account the viewer may see: a board is an
// account, and a suspended one, or any board for a stranger in company mode, is hidden
// like every other account.
func (s *Service) visibleBoards(ctx context.Context, v Viewer, infos []BoardInfo) ([]BoardInfo, error) {
	accounts := make([]*Account, len(infos))
	for i := range infos {
		accounts[i] = infos[i].Account
	}
	visible, err := s.VisibleAccounts(ctx, v, accounts)
	if err != nil {
		return nil, err
	}
	ok := make(map[int64]bool, len(visible))
	for _, a := range visible {
		ok[a.ID] = true
	}
	out := make([]BoardInfo, 0, len(infos))
	for _, info := range infos {
		if ok[info.Account.ID] {
			out = append(out, info)
		}
	}
	return out, nil
}

// boardInfos completes boards with their accounts and moderators.
func (s *Service) boardInfos(ctx context.Context, boards []Board) ([]BoardInfo, error) {
	out := make([]BoardInfo, 0, len(boards))
	if len(boards) == 0 {
		return out, nil
	}
	ids := make([]int64, len(boards))
	for i, b := range boards {
		ids[i] = b.AccountID
	}
	var mods []BoardModerator
	if err := s.read(ctx).Where("board_account_id IN ?", ids).Order("id").Find(&mods).Error; err != nil {
		return nil, fmt.Errorf("load board moderators: %w", err)
	}
	accountIDs := append([]int64(nil), ids...)
	for _, m := range mods {
		accountIDs = append(accountIDs, m.AccountID)
	}
	accounts, err := s.accountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	for _, b := range boards {
		acct := accounts[b.AccountID]
		if acct == nil {
			continue
		}
		info := BoardInfo{Board: b, Account: acct, Moderators: []*Account{}}
		for _, m := range mods {
			if m.BoardAccountID == b.AccountID && accounts[m.AccountID] != nil {
				info.Moderators = append(info.Moderators, accounts[m.AccountID])
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// BoardByAccount returns the board of a group account, or ErrNotFound when the
// account is not a board.
func (s *Service) BoardByAccount(ctx context.Context, accountID int64) (*BoardInfo, error) {
	b, err := boardRow(s.read(ctx), accountID)
	if err != nil {
		return nil, err
	}
	infos, err := s.boardInfos(ctx, []Board{*b})
	if err != nil || len(infos) == 0 {
		return nil, notFound(err, "board")
	}
	return &infos[0], nil
}

// isBoardModerator reports whether an account is listed as a moderator of a board.
func isBoardModerator(db *gorm.DB, boardID, accountID int64) (bool, error) {
	var n int64
	if err := db.Model(&BoardModerator{}).Where("board_account_id = ? AND account_id = ?", boardID, accountID).
		Count(&n).Error; err != nil {
		return false, fmt.Errorf("check board moderator: %w", err)
	}
	return n > 0, nil
}

// mayModerateBoard is THE rule of who moderates a board: its listed moderators, of any
// instance, and the moderators and admins of the board's home instance. On another
// instance the answer comes from the copy of the board's moderator list; the home
// instance checks again when the action reaches it.
func (s *Service) mayModerateBoard(ctx context.Context, db *gorm.DB, actor *Account, b *Board) (bool, error) {
	if actor == nil {
		return false, nil
	}
	ok, err := isBoardModerator(db, b.AccountID, actor.ID)
	if err != nil || ok {
		return ok, err
	}
	if !b.Local || !actor.IsLocal() {
		return false, nil
	}
	role, err := s.roleOf(ctx, db, actor)
	if err != nil {
		return false, err
	}
	return role == RoleModerator || role == RoleAdmin, nil
}

// MayModerateBoard reports whether actor moderates a board (its account id here), by
// the rule Moderate applies, so that pages offer moderation controls to exactly the
// people whose actions would be accepted. Moderate checks again on every action.
func (s *Service) MayModerateBoard(ctx context.Context, actor *Account, boardID int64) (bool, error) {
	db := s.read(ctx)
	b, err := boardRow(db, boardID)
	if err != nil {
		return false, err
	}
	return s.mayModerateBoard(ctx, db, actor, b)
}

// errNotBoardModerator is the answer to a moderation action by someone else.
var errNotBoardModerator = Forbidden("Only the board's moderators can do this")

// SetBoardModerator adds (or, with remove, takes off) a moderator of a local board.
// Board moderators and the instance's staff manage the list; a board keeps at least
// one moderator. The new list reaches the other instances with the board's profile.
func (s *Service) SetBoardModerator(ctx context.Context, actor *Account, boardID, accountID int64, remove bool) (*BoardInfo, error) {
	b, err := boardRow(s.read(ctx), boardID)
	if err != nil {
		return nil, err
	}
	if !s.mayReadBoard(AsAccount(actor), b) {
		return nil, ErrNotFound
	}
	if !b.Local {
		return nil, Invalid("Moderators of a board are managed on the board's own instance")
	}
	ok, err := s.mayModerateBoard(ctx, s.read(ctx), actor, b)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotBoardModerator
	}
	target, err := s.accountByID(ctx, accountID)
	if err != nil {
		return nil, err
	}
	if target.Group {
		return nil, Invalid("A group cannot moderate a board")
	}
	if !target.IsLocal() && b.Scope == ScopeDepartment {
		return nil, Invalid("A department board's moderators are accounts of this instance")
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var n int64
		if err := tx.Model(&BoardModerator{}).Where("board_account_id = ?", b.AccountID).Count(&n).Error; err != nil {
			return fmt.Errorf("count board moderators: %w", err)
		}
		action := ActionAddModerator
		if remove {
			action = ActionRemoveModerator
			res := tx.Where("board_account_id = ? AND account_id = ?", b.AccountID, target.ID).Delete(&BoardModerator{})
			if res.Error != nil {
				return fmt.Errorf("remove board moderator: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return nil
			}
			if n <= 1 {
				return Invalid("A board needs at least one moderator")
			}
		} else {
			if n >= MaxBoardModerators {
				return Invalid("A board has at most %d moderators", MaxBoardModerators)
			}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).
				Create(&BoardModerator{ID: NewID(), BoardAccountID: b.AccountID, AccountID: target.ID, CreatedAt: s.clock()})
			if res.Error != nil {
				return fmt.Errorf("add board moderator: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return nil
			}
		}
		boardAcct, err := s.touchAccount(tx, b.AccountID)
		if err != nil {
			return err
		}
		if _, err := s.logModeration(tx, ev, ModerationLogEntry{BoardAccountID: &b.AccountID, Action: action,
			ObjectURI: target.URI}, actor, nil); err != nil {
			return err
		}
		*ev = append(*ev, AccountUpdated{Account: *boardAcct})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.BoardByAccount(ctx, b.AccountID)
}

// touchAccount marks an account as changed (its profile is published again) and
// returns it.
func (s *Service) touchAccount(tx *gorm.DB, id int64) (*Account, error) {
	if err := tx.Model(&Account{}).Where("id = ?", id).Update("updated_at", s.clock()).Error; err != nil {
		return nil, fmt.Errorf("touch account: %w", err)
	}
	return accountTx(tx, id)
}

// RemoteBoard is what a board's home instance publishes about it with its group actor.
type RemoteBoard struct {
	Description string
	Rules       string
	Scope       Scope
	// Moderators are the moderators' accounts, already stored here.
	Moderators []*Account
}

// SyncRemoteBoard stores or refreshes this instance's copy of a remote board.
func (s *Service) SyncRemoteBoard(ctx context.Context, group *Account, in RemoteBoard) error {
	if group.IsLocal() || !group.Group {
		return Invalid("%s is not a remote group", group.URI)
	}
	if in.Scope != ScopeWorld {
		in.Scope = ScopeCompany // a department board never leaves its instance
	}
	if !s.peers(group.Domain) {
		in.Scope = ScopeWorld
	}
	now := s.clock()
	return s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		b := Board{AccountID: group.ID, Description: truncateRunes(in.Description, MaxBoardDescriptionLen),
			Rules: truncateRunes(in.Rules, MaxBoardRulesLen), Scope: in.Scope, Local: false, CreatedAt: now, UpdatedAt: now}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "account_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"description", "rules", "scope", "updated_at"}),
		}).Create(&b).Error; err != nil {
			return fmt.Errorf("store remote board: %w", err)
		}
		var keep []int64
		for i, m := range in.Moderators {
			if i == MaxBoardModerators {
				break
			}
			keep = append(keep, m.ID)
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&BoardModerator{
				ID: NewID(), BoardAccountID: group.ID, AccountID: m.ID, CreatedAt: now}).Error; err != nil {
				return fmt.Errorf("store remote board moderator: %w", err)
			}
		}
		q := tx.Where("board_account_id = ?", group.ID)
		if len(keep) > 0 {
			q = q.Where("account_id NOT IN ?", keep)
		}
		if err := q.Delete(&BoardModerator{}).Error; err != nil {
			return fmt.Errorf("prune remote board moderators: %w", err)
		}
		return nil
	})
}

// BoardBanned reports whether an account is banned from a board.
func boardBanned(db *gorm.DB, boardID, accountID int64) (bool, error) {
	var n int64
	if err := db.Model(&BoardBan{}).Where("board_account_id = ? AND account_id = ?", boardID, accountID).
		Count(&n).Error; err != nil {
		return false, fmt.Errorf("check board ban: %w", err)
	}
	return n > 0, nil
}

// errBannedFromBoard refuses what a banned account tries on a board.
var errBannedFromBoard = Forbidden("You are banned from this board")

// BoardBans lists the accounts banned from a board, for its moderators.
func (s *Service) BoardBans(ctx context.Context, actor *Account, boardID int64) ([]BoardBan, map[int64]*Account, error) {
	b, err := boardRow(s.read(ctx), boardID)
	if err != nil {
		return nil, nil, err
	}
	ok, err := s.mayModerateBoard(ctx, s.read(ctx), actor, b)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, errNotBoardModerator
	}
	var bans []BoardBan
	if err := s.read(ctx).Where("board_account_id = ?", boardID).Order("id DESC").Find(&bans).Error; err != nil {
		return nil, nil, fmt.Errorf("load board bans: %w", err)
	}
	ids := make([]int64, len(bans))
	for i, x := range bans {
		ids[i] = x.AccountID
	}
	accounts, err := s.accountsByID(ctx, ids)
	return bans, accounts, err
}

// BoardRecipients says which other instances hear what a board publishes (its shares
// of ideas, the state of its ideas, its moderation): the instances of its remote
// followers and, since every instance of the company holds the board's public ideas,
// every peer. A department board publishes nothing.
func (s *Service) BoardRecipients(ctx context.Context, boardID int64) (Recipients, Scope, error) {
	b, err := boardRow(s.read(ctx), boardID)
	if err != nil {
		return Recipients{}, "", err
	}
	if b.Scope == ScopeDepartment || !b.Local {
		return Recipients{}, b.Scope, nil
	}
	var followers []*Account
	if err := s.read(ctx).Where("domain <> '' AND id IN (SELECT account_id FROM follows WHERE target_account_id = ?)", boardID).
		Find(&followers).Error; err != nil {
		return Recipients{}, "", fmt.Errorf("load board followers: %w", err)
	}
	return Recipients{Accounts: followers, AllPeers: true}, b.Scope, nil
}

// PinnedIdeas lists what the viewer may see of a board's pinned ideas, most recently
// pinned first: the board's featured collection, which Lemmy and Mastodon read.
func (s *Service) PinnedIdeas(ctx context.Context, v Viewer, boardID int64) ([]Status, error) {
	b, err := boardRow(s.read(ctx), boardID)
	if err != nil {
		return nil, err
	}
	if !s.mayReadBoard(v, b) {
		return nil, ErrNotFound
	}
	var pinned []Status
	err = s.read(ctx).Model(&Status{}).Joins("JOIN ideas ON ideas.status_id = statuses.id").
		Where("ideas.board_account_id = ? AND ideas.pinned_at IS NOT NULL AND ideas.merged_into_id IS NULL", boardID).
		Scopes(s.visibleSQL(v)).Select("statuses.*").Order("ideas.pinned_at DESC").Limit(maxPinnedIdeas).Find(&pinned).Error
	if err != nil {
		return nil, fmt.Errorf("list pinned ideas: %w", err)
	}
	return pinned, nil
}
