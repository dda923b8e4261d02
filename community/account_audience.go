package community

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// Who may see an account: the audience rule of posts (visibility.go), applied to the
// profiles themselves. Every path that serves an account — the client API's account,
// lookup, directory, search, suggestions and lists, the boards, and federation's actor,
// directory and search answers — asks mayViewAccount (through CanSeeAccount,
// AccountFor, VisibleAccounts or visibleAccountSQL), so that an account hidden from a
// viewer is hidden everywhere, exactly like a post.
//
// The rule:
//   - an account always sees itself;
//   - a suspended account is seen by nobody else, nor is one that signed up and waits
//     for a moderator's approval (moderators find it through the admin views);
//   - outside the company (logged-out visitors, servers that are not peers) people are
//     seen only where profiles are public: open federation mode, or a server a domain
//     allow opens to federation. In company mode a stranger learns nothing, not even
//     which usernames exist (docs/federation.md);
//   - an idea board is seen by whoever may read its posts: a department board only by
//     the logged-in accounts of its own instance, a company board by the company, a
//     world board by anyone the rule above admits.
//
// Whether an account is offered to be found (discoverable, not a board) is a separate
// question, for directories and full-text search: an account that opted out of
// discovery is still shown to those who name it.

// accountFacts are what the rule needs to know about the accounts being checked,
// loaded in batches.
type accountFacts struct {
	hidden map[int64]bool   // suspended, or local and waiting for approval
	boards map[int64]*Board // the board of a group account, when it is one
}

// inCompany reports whether the viewer belongs to the company: a logged-in account of
// this instance or of a peer, or a peer server asking on nobody's behalf.
func (s *Service) inCompany(v Viewer) bool {
	if v.Account != nil {
		return v.Account.IsLocal() || s.peers(v.Account.Domain)
	}
	return v.Server != "" && s.peers(v.Server)
}

// outsiderMaySee reports whether a viewer outside the company may see people's
// profiles: in open mode anyone may, in company mode only a server that a domain allow
// opened to federation (it receives world posts, and needs their authors).
func (s *Service) outsiderMaySee(v Viewer) bool {
	if s.publicProfiles {
		return true
	}
	host := v.Server
	if v.Account != nil {
		host = v.Account.Domain
	}
	return host != "" && s.DomainAllowed(host)
}

// mayViewAccount is THE rule of who may see an account (see above).
func (s *Service) mayViewAccount(v Viewer, a *Account, f accountFacts) bool {
	if me := v.AccountID(); me != 0 && a.ID == me {
		return true
	}
	if f.hidden[a.ID] {
		return false
	}
	if !s.inCompany(v) && !s.outsiderMaySee(v) {
		return false
	}
	if b := f.boards[a.ID]; b != nil {
		return s.mayReadBoard(v, b)
	}
	return true
}

// ProfilesNeedLogin reports whether logged-out visitors are refused every profile
// (company mode). The client API then asks them to log in instead of answering "not
// found", as Mastodon does in its limited federation mode.
func (s *Service) ProfilesNeedLogin() bool { return !s.publicProfiles }

// loadAccountFacts loads which accounts are hidden (suspended, or waiting for
// approval: one statement for both) and the boards of group accounts.
func (s *Service) loadAccountFacts(ctx context.Context, accounts []*Account) (accountFacts, error) {
	f := accountFacts{hidden: map[int64]bool{}, boards: map[int64]*Board{}}
	var ids, groups []int64
	for _, a := range accounts {
		ids = append(ids, a.ID)
		if a.Group {
			groups = append(groups, a.ID)
		}
	}
	ids = uniqueIDs(ids)
	db := s.read(ctx)
	for chunk := range chunks(ids, maxBatchIDs) {
		var hidden []int64
		if err := db.Raw(`SELECT account_id FROM account_sanctions WHERE suspended AND account_id IN ?
			UNION ALL SELECT account_id FROM users WHERE NOT approved AND account_id IN ?`, chunk, chunk).
			Scan(&hidden).Error; err != nil {
			return f, fmt.Errorf("load suspensions and pending approvals: %w", err)
		}
		for _, id := range hidden {
			f.hidden[id] = true
		}
	}
	for chunk := range chunks(uniqueIDs(groups), maxBatchIDs) {
		var boards []Board
		if err := db.Where("account_id IN ?", chunk).Find(&boards).Error; err != nil {
			return f, fmt.Errorf("load boards: %w", err)
		}
		for i := range boards {
			f.boards[boards[i].AccountID] = &boards[i]
		}
	}
	return f, nil
}

// chunks yields ids in slices of at most n, so that no IN list grows without bound.
func chunks(ids []int64, n int) func(yield func([]int64) bool) {
	return func(yield func([]int64) bool) {
		for len(ids) > 0 {
			k := min(n, len(ids))
			if !yield(ids[:k]) {
				return
			}
			ids = ids[k:]
		}
	}
}

// CanSeeAccount answers "may viewer v see account a?".
func (s *Service) CanSeeAccount(ctx context.Context, v Viewer, a *Account) (bool, error) {
	f, err := s.loadAccountFacts(ctx, []*Account{a})
	if err != nil {
		return false, err
	}
	return s.mayViewAccount(v, a, f), nil
}

// VisibleAccounts keeps, in order, the accounts viewer v may see.
func (s *Service) VisibleAccounts(ctx context.Context, v Viewer, accounts []*Account) ([]*Account, error) {
	out := make([]*Account, 0, len(accounts))
	if len(accounts) == 0 {
		return out, nil
	}
	f, err := s.loadAccountFacts(ctx, accounts)
	if err != nil {
		return nil, err
	}
	for _, a := range accounts {
		if a != nil && s.mayViewAccount(v, a, f) {
			out = append(out, a)
		}
	}
	return out, nil
}

// visibleOr answers a with nil error when v may see it, ErrNotFound when not: a hidden
// account reads exactly like one that does not exist.
func (s *Service) visibleOr(ctx context.Context, v Viewer, a *Account) (*Account, error) {
	ok, err := s.CanSeeAccount(ctx, v, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return a, nil
}

// AccountFor loads an account viewer v may see; ErrNotFound otherwise.
func (s *Service) AccountFor(ctx context.Context, v Viewer, id int64) (*Account, error) {
	a, err := s.accountByID(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.visibleOr(ctx, v, a)
}

// LookupAccountFor finds an account by handle (see LookupAccount) when viewer v may
// see it; ErrNotFound otherwise.
func (s *Service) LookupAccountFor(ctx context.Context, v Viewer, acct string) (*Account, error) {
	a, err := s.LookupAccount(ctx, acct)
	if err != nil {
		return nil, err
	}
	return s.visibleOr(ctx, v, a)
}

// LocalAccountFor finds a local account by username when viewer v may see it;
// ErrNotFound otherwise. Federation serves actors and their collections through it.
func (s *Service) LocalAccountFor(ctx context.Context, v Viewer, username string) (*Account, error) {
	a, err := s.LocalAccount(ctx, username)
	if err != nil {
		return nil, err
	}
	return s.visibleOr(ctx, v, a)
}

// notSuspendedAccountSQL leaves out suspended accounts and those waiting for
// approval, except the viewer's own.
const notSuspendedAccountSQL = `(accounts.id = ? OR (NOT EXISTS (SELECT 1 FROM account_sanctions
	WHERE account_sanctions.account_id = accounts.id AND account_sanctions.suspended)
	AND NOT EXISTS (SELECT 1 FROM users WHERE users.account_id = accounts.id AND NOT users.approved)))`

// visibleAccountSQL restricts a query on the accounts table to the accounts viewer v
// may see. It states mayViewAccount in SQL so that lists can page in the database; the
// rows still pass VisibleAccounts, which stays the authority.
func (s *Service) visibleAccountSQL(v Viewer) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if !s.inCompany(v) && !s.outsiderMaySee(v) {
			return db.Where("1 = 0")
		}
		me := v.AccountID()
		// A board is listed when its scope admits the viewer (scopeAdmits): department
		// boards only for local viewers, and only boards of this instance.
		return db.Where(notSuspendedAccountSQL, me).
			Where(`(accounts.id = ? OR NOT EXISTS (SELECT 1 FROM boards WHERE boards.account_id = accounts.id
				AND NOT (boards.scope IN ? AND (boards.scope <> ? OR boards.local))))`,
				me, s.ReadableScopes(v), ScopeDepartment)
	}
}
