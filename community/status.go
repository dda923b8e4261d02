package community

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/markup"
)

// Limits on statuses, the same as Mastodon's so that clients' own counters agree.
const (
	// MaxStatusChars is how long text plus content warning may be.
	MaxStatusChars = 500
	// charactersReservedPerURL is what every link counts for, however long it is
	// (Mastodon's characters_reserved_per_url), so that people need not shorten links.
	charactersReservedPerURL = 23
	// MaxIdempotencyKeyLen bounds the Idempotency-Key a client may send.
	MaxIdempotencyKeyLen = 255
	// idempotencyWindow is how long a repeated Idempotency-Key returns the first status.
	idempotencyWindow = time.Hour

	// Threads are walked with bounds so that a pathological thread costs a fixed amount.
	maxAncestors       = 40
	maxDescendants     = 4096
	maxDescendantDepth = 64
)

// ErrReplyTargetNotFound is returned when the status being replied to is missing or
// hidden from the author; the two look the same.
var ErrReplyTargetNotFound = &Error{Kind: KindNotFound, Msg: "The post you are trying to reply to does not appear to exist."}

// NewStatus is what an author writes.
type NewStatus struct {
	Text        string
	SpoilerText string
	Sensitive   bool
	// Language is an ISO 639 code; "" uses the author's default.
	Language    string
	InReplyToID *int64
	Audience    AudienceRequest
	// ApplicationID is the client the status was posted with, if known.
	ApplicationID *int64
	// IdempotencyKey, when set, makes a repeated request within an hour return the
	// status the first one created instead of posting twice.
	IdempotencyKey string
	// MediaIDs are the author's uploads to attach, in order.
	MediaIDs []int64
	// Poll, when set, gives the status a poll (not together with media).
	Poll *NewPoll
	// scheduledID is the scheduled status being published, whose uploads it may use.
	scheduledID int64
}

// errIdempotentReplay carries, out of a rolled-back transaction, the status an earlier
// request with the same Idempotency-Key created.
type errIdempotentReplay struct{ statusID int64 }

func (e errIdempotentReplay) Error() string { return "idempotency key already used" }

// CreateStatus validates and stores a new status by a local author, with its mentions,
// hashtags and counters, and notifies the mentioned accounts that may read it.
func (s *Service) CreateStatus(ctx context.Context, author *Account, user *User, in NewStatus) (*Status, error) {
	if author == nil {
		return nil, ErrForbidden
	}
	if len(in.IdempotencyKey) > MaxIdempotencyKeyLen {
		return nil, Invalid("Idempotency-Key is too long (maximum is %d characters)", MaxIdempotencyKeyLen)
	}
	if in.IdempotencyKey != "" {
		st, err := s.idempotentStatus(ctx, author.ID, in.IdempotencyKey)
		if err != nil || st != nil {
			return st, err
		}
	}
	checked, err := s.checkNewStatus(ctx, author, user, in)
	if err != nil {
		return nil, err
	}
	mediaIDs, lang, parent, vis, scope := checked.mediaIDs, checked.lang, checked.parent, checked.vis, checked.scope
	mentioned, byHandle, err := s.resolveMentions(ctx, in.Text)
	if err != nil {
		return nil, err
	}

	now := s.clock()
	st := &Status{
		ID:            NewID(),
		AccountID:     author.ID,
		Text:          in.Text,
		SpoilerText:   in.SpoilerText,
		Sensitive:     in.Sensitive || in.SpoilerText != "",
		Visibility:    vis,
		Scope:         scope,
		Language:      lang,
		ApplicationID: in.ApplicationID,
		Local:         true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	st.URI = s.StatusURI(author.Username, st.ID)
	st.URL = s.StatusURL(author.Username, st.ID)
	st.Content = s.renderStatusText(in.Text, byHandle)
	if parent != nil {
		st.InReplyToID = &parent.ID
		st.InReplyToAccountID = &parent.AccountID
	}
	tagNames := tagNamesOf(in.Text)

	// Not s.tx: between the commit, whose change feed empties the cache of statuses'
	// parts, and the events, whose subscribers (streaming, federation, search) and the
	// answer's rendering all read the new status's parts, they go into that cache.
	var tags []Tag
	var events []Event
	ev := &events
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if in.IdempotencyKey != "" {
			if err := s.claimIdempotencyKey(tx, author.ID, in.IdempotencyKey, st.ID, now); err != nil {
				return err
			}
		}
		if err := tx.Create(st).Error; err != nil {
			return fmt.Errorf("create status: %w", err)
		}
		// A new status has nothing attached yet to detach.
		if len(mediaIDs) > 0 {
			if err := attachMedia(tx, st, mediaIDs, in.scheduledID, now); err != nil {
				return err
			}
		}
		if in.Poll != nil {
			poll := newPollRow(st, in.Poll, now)
			if err := tx.Create(&poll).Error; err != nil {
				return fmt.Errorf("create poll: %w", err)
			}
		}
		// A new status has no mentions yet to skip.
		if err := insertMentions(tx, st.ID, mentioned); err != nil {
			return err
		}
		var err error
		if tags, err = s.linkStatusTags(tx, st.ID, tagNames); err != nil {
			return err
		}
		if err := s.countNewStatus(tx, st); err != nil {
			return err
		}
		if err := s.notifyReaders(tx, ev, st, mentioned, NotifyMention); err != nil {
			return err
		}
		if err := s.addToConversations(tx, ev, st, author, mentioned); err != nil {
			return err
		}
		*ev = append(*ev, StatusCreated{Status: *st})
		return nil
	})
	var replay errIdempotentReplay
	if errors.As(err, &replay) {
		return s.loadStatusRow(s.read(ctx), replay.statusID)
	}
	if err != nil {
		return nil, err
	}
	// Attachments are left to the first read, which loads them with their files.
	if len(mediaIDs) == 0 {
		parts := &statusParts{Tags: tags, HasPoll: in.Poll != nil}
		for _, a := range mentioned {
			if !slices.Contains(parts.Mentions, a.ID) {
				parts.Mentions = append(parts.Mentions, a.ID)
			}
		}
		s.parts.Put(s.parts.Begin(), partsKeyOf(st), parts)
	}
	s.events.Publish(ctx, events...)
	return st, nil
}

// checkedStatus is what checkNewStatus found valid in a new status.
type checkedStatus struct {
	mediaIDs []int64
	lang     string
	parent   *Status
	vis      Visibility
	scope    Scope
}

// checkNewStatus applies the rules a new status must pass before anything is stored:
// attachments or a poll, text length, language, reply target and audience. Scheduling
// a status checks the same, so that what is accepted for later can be published.
func (s *Service) checkNewStatus(ctx context.Context, author *Account, user *User, in NewStatus) (*checkedStatus, error) {
	mediaIDs, err := validateMediaIDs(in.MediaIDs)
	if err != nil {
		return nil, err
	}
	if in.Poll != nil {
		if len(mediaIDs) > 0 {
			return nil, Invalid("A post cannot have both attachments and a poll")
		}
		if err := validatePoll(in.Poll); err != nil {
			return nil, err
		}
	}
	if err := validateStatusText(in.Text, in.SpoilerText, len(mediaIDs) > 0); err != nil {
		return nil, err
	}
	lang := in.Language
	if lang == "" && user != nil {
		lang = user.DefaultLanguage
	}
	if err := validateLanguage(lang); err != nil {
		return nil, err
	}

	var parent *Status
	if in.InReplyToID != nil {
		p, err := s.replyTarget(ctx, author, *in.InReplyToID)
		if err != nil {
			return nil, err
		}
		if err := s.checkReplyAllowed(ctx, author, p); err != nil {
			return nil, err
		}
		parent = p
	}
	vis, scope, err := s.resolveAudience(in.Audience, user, parent)
	if err != nil {
		return nil, err
	}
	return &checkedStatus{mediaIDs: mediaIDs, lang: lang, parent: parent, vis: vis, scope: scope}, nil
}

// idempotentStatus returns the status an earlier request with the same key created
// within the window, or nil.
func (s *Service) idempotentStatus(ctx context.Context, accountID int64, key string) (*Status, error) {
	var k IdempotencyKey
	err := s.read(ctx).Where("account_id = ? AND key = ? AND created_at > ?", accountID, key, s.clock().Add(-idempotencyWindow)).
		Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load idempotency key: %w", err)
	}
	st, err := s.loadStatusRow(s.read(ctx), k.StatusID)
	if KindOf(err) == KindNotFound {
		// The first status was deleted since: posting again is what the author wants.
		return nil, nil
	}
	return st, err
}

// claimIdempotencyKey records key for statusID inside the creating transaction. When a
// concurrent request got there first, it aborts the transaction with that request's
// status so that only one status is ever stored.
func (s *Service) claimIdempotencyKey(tx *gorm.DB, accountID int64, key string, statusID int64, now time.Time) error {
	var existing IdempotencyKey
	err := tx.Where("account_id = ? AND key = ?", accountID, key).Take(&existing).Error
	switch {
	case err == nil:
		var n int64
		if err := tx.Model(&Status{}).Where("id = ?", existing.StatusID).Count(&n).Error; err != nil {
			return fmt.Errorf("check idempotent status: %w", err)
		}
		if n > 0 && existing.CreatedAt.After(now.Add(-idempotencyWindow)) {
			return errIdempotentReplay{statusID: existing.StatusID}
		}
		if err := tx.Where("account_id = ? AND key = ?", accountID, key).Delete(&IdempotencyKey{}).Error; err != nil {
			return fmt.Errorf("expire idempotency key: %w", err)
		}
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("load idempotency key: %w", err)
	}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&IdempotencyKey{AccountID: accountID, Key: key, StatusID: statusID, CreatedAt: now})
	if res.Error != nil {
		return fmt.Errorf("store idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		if err := tx.Where("account_id = ? AND key = ?", accountID, key).Take(&existing).Error; err != nil {
			return fmt.Errorf("load idempotency key: %w", err)
		}
		return errIdempotentReplay{statusID: existing.StatusID}
	}
	return nil
}

// validateStatusText applies Mastodon's rules: some text (unless there are
// attachments), and at most MaxStatusChars counted the way Mastodon counts them.
func validateStatusText(text, spoiler string, hasMedia bool) error {
	if strings.TrimSpace(text) == "" && !hasMedia {
		return Invalid("Validation failed: Text can't be blank")
	}
	if countableLength(spoiler)+countableLength(text) > MaxStatusChars {
		return Invalid("Validation failed: Text character limit of %d exceeded", MaxStatusChars)
	}
	return nil
}

// countableLength is the length of text as Mastodon counts it: characters, except that
// every link counts as charactersReservedPerURL and a mention of a remote account
// counts only its "@username" part.
func countableLength(text string) int {
	if text == "" {
		return 0
	}
	parsed := markup.Parse(text)
	n := utf8.RuneCountInString(text)
	// Longest first, so that a link which is the start of a longer one is not counted
	// again inside it.
	links := slices.Clone(parsed.Links)
	slices.SortFunc(links, func(a, b string) int { return len(b) - len(a) })
	rest := text
	for _, l := range links {
		if c := strings.Count(rest, l); c > 0 {
			n += c * (charactersReservedPerURL - utf8.RuneCountInString(l))
			rest = strings.ReplaceAll(rest, l, " ")
		}
	}
	var remote []string
	for _, m := range parsed.Mentions {
		if m.Domain != "" {
			remote = append(remote, "@"+strings.ToLower(m.Username)+"@"+m.Domain)
		}
	}
	slices.SortFunc(remote, func(a, b string) int { return len(b) - len(a) })
	lower := strings.ToLower(rest)
	for _, handle := range remote {
		if c := strings.Count(lower, handle); c > 0 {
			_, domain, _ := strings.Cut(handle[1:], "@")
			n -= c * utf8.RuneCountInString("@"+domain)
			lower = strings.ReplaceAll(lower, handle, " ")
		}
	}
	return n
}

// replyTarget loads the status being replied to, as the author sees it: it must exist
// and be visible to them. A reply to a reblog answers the reblogged status.
func (s *Service) replyTarget(ctx context.Context, author *Account, id int64) (*Status, error) {
	p, err := s.GetStatus(ctx, AsAccount(author), id)
	if KindOf(err) == KindNotFound {
		return nil, ErrReplyTargetNotFound
	}
	if err != nil {
		return nil, err
	}
	if p.ReblogOfID != nil {
		p, err = s.loadStatusRow(s.read(ctx), *p.ReblogOfID)
		if KindOf(err) == KindNotFound {
			return nil, ErrReplyTargetNotFound
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// mentionKey identifies a mention as written, ignoring the case of the username.
func mentionKey(m markup.Mention) string { return strings.ToLower(m.Username) + "@" + m.Domain }

// resolveMentions finds the accounts text mentions: local ones, remote ones this
// instance already knows, and remote ones it can look up on their servers within
// mentionResolveTimeout. Handles that stay unknown stay plain text. It returns the
// distinct accounts in order of first mention, and every handle as written mapped to
// its account.
func (s *Service) resolveMentions(ctx context.Context, text string) ([]*Account, map[string]*Account, error) {
	parsed := markup.Parse(text)
	byHandle := map[string]*Account{}
	var accounts []*Account
	seen := map[int64]bool{}
	lookupCtx, cancel := context.WithTimeout(ctx, mentionResolveTimeout)
	defer cancel()
	for _, m := range parsed.Mentions {
		a, err := s.LookupAccount(ctx, m.Username+"@"+m.Domain)
		if KindOf(err) == KindNotFound && m.Domain != "" && !strings.EqualFold(m.Domain, s.host) {
			a, err = s.resolveUnknown(lookupCtx, m.Username+"@"+m.Domain), nil
		}
		if KindOf(err) == KindNotFound || (err == nil && a == nil) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("resolve mention @%s: %w", m.Username, err)
		}
		byHandle[mentionKey(m)] = a
		if !seen[a.ID] {
			seen[a.ID] = true
			accounts = append(accounts, a)
		}
	}
	return accounts, byHandle, nil
}

// renderStatusText renders text with the mentions already resolved, so that what the
// HTML links is exactly what the mention rows say.
func (s *Service) renderStatusText(text string, byHandle map[string]*Account) string {
	return markup.Render(text, markup.Linker{
		MentionURL: func(m markup.Mention) (string, bool) {
			a := byHandle[mentionKey(m)]
			if a == nil || a.URL == "" {
				return "", false
			}
			return a.URL, true
		},
		TagURL: s.TagURL,
	})
}

// tagNamesOf returns the distinct hashtags of text, lowercased as they are stored.
func tagNamesOf(text string) []string {
	var names []string
	for _, t := range markup.Parse(text).Tags {
		n := strings.ToLower(t)
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// addMentions stores mentions of accounts by a status, skipping those it already has,
// and returns the accounts that are newly mentioned.
func addMentions(tx *gorm.DB, statusID int64, accounts []*Account) ([]*Account, error) {
	if len(accounts) == 0 {
		return nil, nil
	}
	var existing []int64
	if err := tx.Model(&Mention{}).Where("status_id = ?", statusID).Pluck("account_id", &existing).Error; err != nil {
		return nil, fmt.Errorf("load mentions: %w", err)
	}
	var added []*Account
	for _, a := range accounts {
		if !slices.Contains(existing, a.ID) {
			added = append(added, a)
		}
	}
	if err := insertMentions(tx, statusID, added); err != nil {
		return nil, err
	}
	return added, nil
}

// insertMentions stores mentions of accounts by a status, in their order (reads list
// mentions by id).
func insertMentions(tx *gorm.DB, statusID int64, accounts []*Account) error {
	if len(accounts) == 0 {
		return nil
	}
	rows := make([]Mention, 0, len(accounts))
	for _, a := range accounts {
		rows = append(rows, Mention{ID: NewID(), StatusID: statusID, AccountID: a.ID})
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("create mentions: %w", err)
	}
	return nil
}

// setStatusTags links a status to its hashtags, creating the tags that do not exist
// yet; replace drops the links the status had before (edits).
func (s *Service) setStatusTags(tx *gorm.DB, statusID int64, names []string, replace bool) error {
	if replace {
		if err := tx.Where("status_id = ?", statusID).Delete(&StatusTag{}).Error; err != nil {
			return fmt.Errorf("clear status tags: %w", err)
		}
	}
	_, err := s.linkStatusTags(tx, statusID, names)
	return err
}

// linkStatusTags links a status to its hashtags, creating the tags that do not exist
// yet, and returns the tags by name.
func (s *Service) linkStatusTags(tx *gorm.DB, statusID int64, names []string) ([]Tag, error) {
	if len(names) == 0 {
		return nil, nil
	}
	// Inserting in one order everywhere keeps two posts with the same new tags from
	// deadlocking on PostgreSQL.
	names = slices.Clone(names)
	slices.Sort(names)
	// Most hashtags of a post exist already: read first, create only what is missing.
	var tags []Tag
	if err := tx.Where("name IN ?", names).Find(&tags).Error; err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	if len(tags) < len(names) {
		now := s.clock()
		var fresh []Tag
		for _, n := range names {
			if !slices.ContainsFunc(tags, func(t Tag) bool { return t.Name == n }) {
				fresh = append(fresh, Tag{ID: NewID(), Name: n, CreatedAt: now})
			}
		}
		// Another transaction may create the same tag at the same moment: the unique
		// index decides, and both then read the winner's row.
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
			return nil, fmt.Errorf("create tags: %w", err)
		}
		tags = nil
		if err := tx.Where("name IN ?", names).Find(&tags).Error; err != nil {
			return nil, fmt.Errorf("load tags: %w", err)
		}
	}
	links := make([]StatusTag, 0, len(tags))
	for _, t := range tags {
		links = append(links, StatusTag{StatusID: statusID, TagID: t.ID})
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&links).Error; err != nil {
		return nil, fmt.Errorf("link status tags: %w", err)
	}
	slices.SortFunc(tags, func(a, b Tag) int { return strings.Compare(a.Name, b.Name) })
	return tags, nil
}

// Counters follow Mastodon: direct messages count nowhere, so that public counters do
// not reveal private conversations, and only replies that may be listed publicly
// (public, unlisted) count as replies of their parent.
func countsAsStatus(st *Status) bool { return st.Visibility != VisibilityDirect }

func countsAsReply(st *Status) bool {
	return st.InReplyToID != nil && (st.Visibility == VisibilityPublic || st.Visibility == VisibilityUnlisted)
}

// decrement lowers a counter without ever going below zero, even if it drifted.
func decrement(col string) clause.Expr {
	return gorm.Expr("CASE WHEN " + col + " > 0 THEN " + col + " - 1 ELSE 0 END")
}

// countNewStatus updates the counters a new status or reblog changes.
func (s *Service) countNewStatus(tx *gorm.DB, st *Status) error {
	if !countsAsStatus(st) {
		return nil
	}
	if err := tx.Model(&Account{}).Where("id = ?", st.AccountID).UpdateColumns(map[string]any{
		"statuses_count": gorm.Expr("statuses_count + 1"),
		"last_status_at": st.CreatedAt,
	}).Error; err != nil {
		return fmt.Errorf("count status: %w", err)
	}
	if countsAsReply(st) {
		if err := tx.Model(&Status{}).Where("id = ?", *st.InReplyToID).
			UpdateColumn("replies_count", gorm.Expr("replies_count + 1")).Error; err != nil {
			return fmt.Errorf("count reply: %w", err)
		}
	}
	if st.ReblogOfID != nil {
		if err := tx.Model(&Status{}).Where("id = ?", *st.ReblogOfID).
			UpdateColumn("reblogs_count", gorm.Expr("reblogs_count + 1")).Error; err != nil {
			return fmt.Errorf("count reblog: %w", err)
		}
	}
	return nil
}

// uncountStatus undoes countNewStatus for a status about to be deleted.
func (s *Service) uncountStatus(tx *gorm.DB, st *Status) error {
	if !countsAsStatus(st) {
		return nil
	}
	if err := tx.Model(&Account{}).Where("id = ?", st.AccountID).
		UpdateColumn("statuses_count", decrement("statuses_count")).Error; err != nil {
		return fmt.Errorf("uncount status: %w", err)
	}
	if countsAsReply(st) {
		if err := tx.Model(&Status{}).Where("id = ?", *st.InReplyToID).
			UpdateColumn("replies_count", decrement("replies_count")).Error; err != nil {
			return fmt.Errorf("uncount reply: %w", err)
		}
	}
	if st.ReblogOfID != nil {
		if err := tx.Model(&Status{}).Where("id = ?", *st.ReblogOfID).
			UpdateColumn("reblogs_count", decrement("reblogs_count")).Error; err != nil {
			return fmt.Errorf("uncount reblog: %w", err)
		}
	}
	return nil
}

// notifyReaders notifies each candidate that may read st. It reads the audience facts
// inside tx, where the status and its mentions already exist.
func (s *Service) notifyReaders(tx *gorm.DB, ev *[]Event, st *Status, candidates []*Account, typ NotificationType) error {
	readers, err := s.readersAmong(tx, st, candidates)
	if err != nil {
		return err
	}
	for _, a := range readers {
		if err := s.notify(tx, ev, a, st.AccountID, typ, &st.ID); err != nil {
			return err
		}
	}
	return nil
}

// readersAmong keeps the local candidates that may read st, by the same rule as every
// read path (mayRead), with the facts loaded in a few queries for all of them.
func (s *Service) readersAmong(tx *gorm.DB, st *Status, candidates []*Account) ([]*Account, error) {
	var local []*Account
	for _, a := range candidates {
		if a.IsLocal() && a.ID != st.AccountID {
			local = append(local, a)
		}
	}
	if len(local) == 0 {
		return nil, nil
	}
	readers, err := s.readersOf(tx, st, local, nil)
	if err != nil {
		return nil, err
	}
	var out []*Account
	for _, a := range local {
		if readers[a.ID] {
			out = append(out, a)
		}
	}
	return out, nil
}

// mentionedIDs returns the accounts each of statuses mentions, by status id.
func mentionedIDs(tx *gorm.DB, statusIDs []int64) (map[int64][]int64, error) {
	out := map[int64][]int64{}
	if len(statusIDs) == 0 {
		return out, nil
	}
	var rows []Mention
	if err := tx.Where("status_id IN ?", statusIDs).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load mentions: %w", err)
	}
	for _, m := range rows {
		out[m.StatusID] = append(out[m.StatusID], m.AccountID)
	}
	return out, nil
}
