package community

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"gorm.io/gorm/clause"
)

// Finding things by name or address, for the client API's search until full-text
// search exists. Accounts match on a prefix of their username or display name, hashtags
// on a prefix of their name, and statuses only by their exact URI or URL: post text is
// deliberately not searched here (a LIKE over every status would be slow and unranked).
// Ranked full-text search of posts, people and expertise comes with the Bleve index;
// these queries stay simple and scan the accounts and tags tables, which a company's
// size keeps small.

// AccountSearch is a search among known accounts, local and remote.
type AccountSearch struct {
	// Query is the prefix typed; a leading "@" is ignored.
	Query string
	// Viewer is who searches (nil when logged out): accounts that block the viewer are
	// left out.
	Viewer *Account
	// Following keeps only accounts the viewer follows (none when logged out).
	Following     bool
	Limit, Offset int
}

// SearchAccounts finds accounts whose username or display name starts with the query,
// case-insensitively: an exact username first, then the most followed.
func (s *Service) SearchAccounts(ctx context.Context, q AccountSearch) ([]*Account, error) {
	term := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(q.Query), "@"))
	if term == "" || q.Limit <= 0 || (q.Following && q.Viewer == nil) {
		return []*Account{}, nil
	}
	prefix := likePrefix(term)
	db := s.read(ctx).Model(&Account{}).
		Where("(lower(accounts.username) LIKE ? ESCAPE '!' OR lower(accounts.display_name) LIKE ? ESCAPE '!')", prefix, prefix)
	if q.Viewer != nil {
		me := q.Viewer.ID
		db = db.Where("NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.account_id = accounts.id AND blocks.target_account_id = ?)", me)
		if q.Following {
			db = db.Where("EXISTS (SELECT 1 FROM follows WHERE follows.account_id = ? AND follows.target_account_id = accounts.id)", me)
		}
	}
	var rows []Account
	err := db.Order(clause.Expr{SQL: "CASE WHEN lower(accounts.username) = ? THEN 0 ELSE 1 END", Vars: []any{term}}).
		Order("accounts.followers_count DESC").Order("accounts.id").
		Limit(q.Limit).Offset(max(q.Offset, 0)).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("search accounts: %w", err)
	}
	out := make([]*Account, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, nil
}

// SearchTags finds hashtags whose name starts with prefix (already normalized, see
// NormalizeTagName), in name order, which puts an exact match first. Only hashtags of
// at least one status the viewer may read are listed, so that a name used only in
// posts hidden from the viewer (a department's, say) does not leak through search.
func (s *Service) SearchTags(ctx context.Context, v Viewer, prefix string, limit, offset int) ([]Tag, error) {
	if prefix == "" || limit <= 0 {
		return []Tag{}, nil
	}
	used := s.read(ctx).Table("statuses").Select("1").
		Joins("JOIN status_tags ON status_tags.status_id = statuses.id").
		Where("status_tags.tag_id = tags.id").
		Scopes(s.visibleSQL(v))
	var tags []Tag
	err := s.read(ctx).Model(&Tag{}).
		Where("tags.name LIKE ? ESCAPE '!'", likePrefix(strings.ToLower(prefix))).
		Where("EXISTS (?)", used).
		Order("tags.name").Limit(limit).Offset(max(offset, 0)).Find(&tags).Error
	if err != nil {
		return nil, fmt.Errorf("search tags: %w", err)
	}
	return tags, nil
}

// likePrefix turns text into a LIKE pattern matching it as a prefix, with "!" as the
// escape character so that "_" in usernames is not a wildcard.
func likePrefix(s string) string {
	r := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_")
	return r.Replace(s) + "%"
}

// StatusByURL finds a stored status (not a reblog) by its ActivityPub id or its web
// address, without any visibility check: callers decide who may see it.
func (s *Service) StatusByURL(ctx context.Context, raw string) (*Status, error) {
	st, err := s.StatusByURI(ctx, raw)
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

// AccountByURL finds a known account by its ActivityPub id or its profile address.
func (s *Service) AccountByURL(ctx context.Context, raw string) (*Account, error) {
	a, err := s.AccountByURI(ctx, raw)
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
