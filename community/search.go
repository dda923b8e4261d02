package community

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// Finding things by address, and the domain's part of search: full-text matching and
// ranking live in the search package (Bleve), which asks the domain which of the
// candidates it found a viewer may see. These answer for accounts and hashtags what
// CanSee and FilterVisible answer for statuses.

// AudienceOf is what the search index needs to narrow its candidates to those a viewer
// may read before the domain checks them: the accounts the viewer follows (whose
// followers-only posts they read) and those that block the viewer (whose posts they
// never read). It is a prefilter; FilterVisible stays the authority.
type AudienceOf struct {
	Following []int64
	BlockedBy []int64
}

// MaxAudienceIDs bounds the lists in AudienceOf: someone following more accounts than
// this gets the prefilter without followers-only posts beyond it, which can only leave
// results out, never let hidden ones in.
const MaxAudienceIDs = 5000

// Audience loads AudienceOf for a logged-in viewer.
func (s *Service) Audience(ctx context.Context, viewerID int64) (AudienceOf, error) {
	var a AudienceOf
	db := s.read(ctx)
	if err := db.Model(&Follow{}).Where("account_id = ?", viewerID).Order("id DESC").Limit(MaxAudienceIDs).
		Pluck("target_account_id", &a.Following).Error; err != nil {
		return a, fmt.Errorf("load follows: %w", err)
	}
	if err := db.Model(&Block{}).Where("target_account_id = ?", viewerID).
		Pluck("account_id", &a.BlockedBy).Error; err != nil {
		return a, fmt.Errorf("load blocks: %w", err)
	}
	return a, nil
}

// SearchableAccounts keeps, in order, the accounts a search may show the viewer: those
// the viewer may see (account_audience.go) that do not block the viewer, and with
// following only those the viewer follows. Whether an account that opted out of
// discovery matches what was typed is the search's question.
func (s *Service) SearchableAccounts(ctx context.Context, v Viewer, ids []int64, following bool) ([]*Account, error) {
	if following && v.AccountID() == 0 {
		return []*Account{}, nil
	}
	// Without private keys: search never needs them, and they are most of a local
	// account's row.
	byID := make(map[int64]*Account, len(ids))
	if len(ids) > 0 {
		var rows []Account
		if err := s.read(ctx).Omit("private_key_pem").Where("id IN ?", uniqueIDs(ids)).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load accounts: %w", err)
		}
		for i := range rows {
			byID[rows[i].ID] = &rows[i]
		}
	}
	var hidden, followed map[int64]bool
	if me := v.AccountID(); me != 0 && len(byID) > 0 {
		known := make([]int64, 0, len(byID))
		for id := range byID {
			known = append(known, id)
		}
		hidden, followed = map[int64]bool{}, map[int64]bool{}
		var blockers []int64
		if err := s.read(ctx).Model(&Block{}).Where("target_account_id = ? AND account_id IN ?", me, known).
			Pluck("account_id", &blockers).Error; err != nil {
			return nil, fmt.Errorf("load blocks: %w", err)
		}
		for _, id := range blockers {
			hidden[id] = true
		}
		if following {
			var targets []int64
			if err := s.read(ctx).Model(&Follow{}).Where("account_id = ? AND target_account_id IN ?", me, known).
				Pluck("target_account_id", &targets).Error; err != nil {
				return nil, fmt.Errorf("load follows: %w", err)
			}
			for _, id := range targets {
				followed[id] = true
			}
		}
	}
	out := make([]*Account, 0, len(ids))
	seen := map[int64]bool{}
	for _, id := range ids {
		a := byID[id]
		if a == nil || seen[id] || hidden[id] || (following && !followed[id]) {
			continue
		}
		seen[id] = true
		out = append(out, a)
	}
	return s.VisibleAccounts(ctx, v, out)
}

// VisibleTags keeps, in order, the hashtags of at least one status the viewer may read,
// so that a name used only in posts hidden from the viewer (a department's, say) does
// not leak through search.
func (s *Service) VisibleTags(ctx context.Context, v Viewer, ids []int64) ([]Tag, error) {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return []Tag{}, nil
	}
	// EXISTS stops at the first readable status of each hashtag, however popular it is.
	used := s.read(ctx).Table("statuses").Select("1").
		Joins("JOIN status_tags ON status_tags.status_id = statuses.id").
		Where("status_tags.tag_id = tags.id").
		Scopes(s.visibleSQL(v))
	var rows []Tag
	if err := s.read(ctx).Model(&Tag{}).Where("tags.id IN ?", ids).Where("EXISTS (?)", used).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("check hashtag use: %w", err)
	}
	byID := make(map[int64]Tag, len(rows))
	for _, t := range rows {
		byID[t.ID] = t
	}
	out := make([]Tag, 0, len(rows))
	for _, id := range ids {
		if t, ok := byID[id]; ok {
			out = append(out, t)
		}
	}
	return out, nil
}

// statusByURL finds a stored status (not a reblog) by its ActivityPub id or its web
// address, without any visibility check: callers decide who may see it.
func (s *Service) statusByURL(ctx context.Context, raw string) (*Status, error) {
	st, err := s.statusByURI(ctx, raw)
	if KindOf(err) != KindNotFound {
		return st, err
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, ErrNotFound
	}
	host := strings.ToLower(u.Host)
	db := s.read(ctx).Model(&Status{}).Where("statuses.url = ? AND statuses.reblog_of_id IS NULL", raw)
	// statuses.url has no index of its own: narrow by author first. Mastodon and Tacit
	// both write status pages as /@username/id, which names the author.
	author := accountInPath(u.Path)
	switch {
	case host == s.host && author != "":
		a, err := s.LocalAccount(ctx, author)
		if err != nil {
			return nil, err
		}
		db = db.Where("statuses.account_id = ?", a.ID)
	case host == s.host:
		db = db.Where("statuses.local = ?", true)
	case author != "":
		a, err := s.LookupAccount(ctx, author+"@"+host)
		if err != nil {
			return nil, err
		}
		db = db.Where("statuses.account_id = ?", a.ID)
	default:
		db = db.Where("statuses.account_id IN (SELECT id FROM accounts WHERE domain = ?)", host)
	}
	var out Status
	if err := db.Take(&out).Error; err != nil {
		return nil, notFound(err, "status")
	}
	return &out, nil
}

// accountByURL finds a known account by its ActivityPub id or its profile address.
func (s *Service) accountByURL(ctx context.Context, raw string) (*Account, error) {
	a, err := s.accountByURI(ctx, raw)
	if KindOf(err) != KindNotFound {
		return a, err
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, ErrNotFound
	}
	host := strings.ToLower(u.Host)
	if host == s.host {
		if name := accountInPath(u.Path); name != "" && strings.TrimSuffix(u.Path, "/") == "/@"+name {
			return s.LocalAccount(ctx, name)
		}
		return nil, ErrNotFound
	}
	var out Account
	if err := s.read(ctx).Where("domain = ? AND url = ?", host, raw).Take(&out).Error; err != nil {
		return nil, notFound(err, "account")
	}
	return &out, nil
}

// accountInPath returns the username of a "/@username" or "/@username/…" path, or "".
func accountInPath(path string) string {
	rest, ok := strings.CutPrefix(path, "/@")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	if name == "" || strings.Contains(name, "@") {
		return ""
	}
	if n, err := url.PathUnescape(name); err == nil {
		name = n
	}
	return name
}
