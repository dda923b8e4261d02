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

	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
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
		if _, err := addMentions(tx, st.ID, mentioned); err != nil {
			return err
		}
		if err := s.setStatusTags(tx, st.ID, tagNames, false); err != nil {
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
	var rows []Mention
	for _, a := range accounts {
		if slices.Contains(existing, a.ID) {
			continue
		}
		added = append(added, a)
		rows = append(rows, Mention{ID: NewID(), StatusID: statusID, AccountID: a.ID})
	}
	if len(rows) == 0 {
		return nil, nil
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return nil, fmt.Errorf("create mentions: %w", err)
	}
	return added, nil
}

// setStatusTags links a status to its hashtags, creating the tags that do not exist
// yet; replace drops the links the status had before (edits).
func (s *Service) setStatusTags(tx *gorm.DB, statusID int64, names []string, replace bool) error {
	if replace {
		if err := tx.Where("status_id = ?", statusID).Delete(&StatusTag{}).Error; err != nil {
			return fmt.Errorf("clear status tags: %w", err)
		}
	}
	if len(names) == 0 {
		return nil
	}
	// Inserting in one order everywhere keeps two posts with the same new tags from
	// deadlocking on PostgreSQL.
	names = slices.Clone(names)
	slices.Sort(names)
	now := s.clock()
	fresh := make([]Tag, len(names))
	for i, n := range names {
		fresh[i] = Tag{ID: NewID(), Name: n, CreatedAt: now}
	}
	// Another transaction may create the same tag at the same moment: the unique index
	// decides, and both then read the winner's row.
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&fresh).Error; err != nil {
		return fmt.Errorf("create tags: %w", err)
	}
	var tags []Tag
	if err := tx.Where("name IN ?", names).Find(&tags).Error; err != nil {
		return fmt.Errorf("load tags: %w", err)
	}
	links := make([]StatusTag, 0, len(tags))
	for _, t := range tags {
		links = append(links, StatusTag{StatusID: statusID, TagID: t.ID})
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&links).Error; err != nil {
		return fmt.Errorf("link status tags: %w", err)
	}
	return nil
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

// loadStatusRow loads one status row, whoever may see it.
func (s *Service) loadStatusRow(db *gorm.DB, id int64) (*Status, error) {
	var st Status
	if err := db.Take(&st, id).Error; err != nil {
		return nil, notFound(err, "status")
	}
	return &st, nil
}

// GetStatus returns a status the viewer may see; anything else is ErrNotFound.
func (s *Service) GetStatus(ctx context.Context, v Viewer, id int64) (*Status, error) {
	st, err := s.loadStatusRow(s.read(ctx), id)
	if err != nil {
		return nil, err
	}
	ok, err := s.CanSee(ctx, v, st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return st, nil
}

// GetStatuses returns the statuses among ids that the viewer may see, in the order
// asked, without duplicates.
func (s *Service) GetStatuses(ctx context.Context, v Viewer, ids []int64) ([]Status, error) {
	ids = uniqueIDs(ids)
	if len(ids) == 0 {
		return []Status{}, nil
	}
	var rows []Status
	if err := s.read(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load statuses: %w", err)
	}
	byID := make(map[int64]Status, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	ordered := make([]Status, 0, len(rows))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			ordered = append(ordered, r)
		}
	}
	return s.FilterVisible(ctx, v, ordered)
}

// StatusByID loads a status without any visibility check, for adapters that decide
// who sees it themselves (federation addressing its own statuses).
func (s *Service) StatusByID(ctx context.Context, id int64) (*Status, error) {
	return s.loadStatusRow(s.read(ctx), id)
}

// EditInput is an edit of a status. Text replaces the text; nil fields stay as they are.
// Attachments and poll are replaced as Mastodon does: MediaIDs is the new list of
// attachments (none when empty) and Poll the new poll (none when nil).
type EditInput struct {
	Text        string
	SpoilerText *string
	Sensitive   *bool
	Language    *string
	MediaIDs    []int64
	// MediaAttributes change the description or focal point of attachments.
	MediaAttributes []MediaAttributes
	Poll            *NewPoll
}

// MediaAttributes change one attachment during an edit.
type MediaAttributes struct {
	ID int64
	MediaUpdate
}

// EditStatus changes a status's text, content warning, sensitivity or language. Only
// its author may edit it. The first edit also records the original revision, so that
// the history always starts with what was first published.
func (s *Service) EditStatus(ctx context.Context, author *Account, id int64, in EditInput) (*Status, error) {
	if author == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(author), id)
	if err != nil {
		return nil, err
	}
	if st.AccountID != author.ID {
		return nil, ErrNotFound
	}
	if st.ReblogOfID != nil {
		return nil, Forbidden("Reblogs can't be edited")
	}
	edit, err := s.checkEdit(ctx, st, in)
	if err != nil {
		return nil, err
	}
	if !edit.changes(st, in) {
		// Nothing changed: no revision, no "edited" mark, nobody notified.
		return st, nil
	}
	mentioned, byHandle, err := s.resolveMentions(ctx, in.Text)
	if err != nil {
		return nil, err
	}

	original := *st
	now := s.clock()
	st.Text = in.Text
	st.SpoilerText = edit.spoiler
	st.Sensitive = edit.sensitive
	st.Language = edit.lang
	st.Content = s.renderStatusText(in.Text, byHandle)
	st.EditedAt = &now
	st.UpdatedAt = now
	tagNames := tagNamesOf(in.Text)

	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		// Updating first locks the row, so that concurrent edits take turns and only the
		// first of them records the original revision.
		res := tx.Model(&Status{}).Where("id = ? AND account_id = ?", st.ID, author.ID).UpdateColumns(map[string]any{
			"text": st.Text, "content": st.Content, "spoiler_text": st.SpoilerText, "sensitive": st.Sensitive,
			"language": st.Language, "edited_at": now, "updated_at": now,
		})
		if res.Error != nil {
			return fmt.Errorf("update status: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound // deleted meanwhile
		}
		if err := attachMedia(tx, st, edit.mediaIDs, 0, now); err != nil {
			return err
		}
		if err := updateMediaAttributes(tx, st, in.MediaAttributes, now); err != nil {
			return err
		}
		if err := s.setPoll(tx, st, in.Poll, now); err != nil {
			return err
		}
		if err := recordRevisions(tx, &original, st, now); err != nil {
			return err
		}
		added, err := addMentions(tx, st.ID, mentioned)
		if err != nil {
			return err
		}
		if err := s.setStatusTags(tx, st.ID, tagNames, true); err != nil {
			return err
		}
		if err := s.syncIdeaText(tx, st, byHandle); err != nil {
			return err
		}
		if err := s.notifyReaders(tx, ev, st, added, NotifyMention); err != nil {
			return err
		}
		interacted, err := interactedAccounts(tx, st.ID)
		if err != nil {
			return err
		}
		if err := s.notifyReaders(tx, ev, st, interacted, NotifyUpdate); err != nil {
			return err
		}
		*ev = append(*ev, StatusUpdated{Status: *st})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// checkedEdit is what checkEdit found valid in an edit, with the values the status
// takes where the edit leaves a field out.
type checkedEdit struct {
	spoiler      string
	lang         string
	sensitive    bool
	mediaIDs     []int64
	mediaChanged bool
	pollChanged  bool
}

// checkEdit applies the rules an edit of st must pass before anything is stored:
// attachments or a poll, text length, language; and finds whether its attachments or
// poll change.
func (s *Service) checkEdit(ctx context.Context, st *Status, in EditInput) (*checkedEdit, error) {
	spoiler := st.SpoilerText
	if in.SpoilerText != nil {
		spoiler = *in.SpoilerText
	}
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
	if err := validateStatusText(in.Text, spoiler, len(mediaIDs) > 0); err != nil {
		return nil, err
	}
	mediaChanged, err := s.mediaChanged(ctx, st, mediaIDs, in.MediaAttributes)
	if err != nil {
		return nil, err
	}
	pollChanged, err := s.pollChanged(ctx, st, in.Poll)
	if err != nil {
		return nil, err
	}
	lang := st.Language
	if in.Language != nil {
		lang = *in.Language
		if err := validateLanguage(lang); err != nil {
			return nil, err
		}
	}
	sensitive := st.Sensitive
	if in.Sensitive != nil {
		sensitive = *in.Sensitive
	}
	sensitive = sensitive || spoiler != ""
	return &checkedEdit{spoiler: spoiler, lang: lang, sensitive: sensitive, mediaIDs: mediaIDs,
		mediaChanged: mediaChanged, pollChanged: pollChanged}, nil
}

// changes reports whether the edit changes anything of st.
func (e *checkedEdit) changes(st *Status, in EditInput) bool {
	return in.Text != st.Text || e.spoiler != st.SpoilerText || e.sensitive != st.Sensitive ||
		e.lang != st.Language || e.mediaChanged || e.pollChanged
}

// recordRevisions stores the edited status as a revision, preceded by the original
// when this is its first edit.
func recordRevisions(tx *gorm.DB, original, edited *Status, now time.Time) error {
	var edits int64
	if err := tx.Model(&StatusEdit{}).Where("status_id = ?", edited.ID).Count(&edits).Error; err != nil {
		return fmt.Errorf("count edits: %w", err)
	}
	var revisions []StatusEdit
	if edits == 0 {
		revisions = append(revisions, revisionOf(original, original.CreatedAt))
	}
	revisions = append(revisions, revisionOf(edited, now))
	if err := tx.Create(&revisions).Error; err != nil {
		return fmt.Errorf("record revision: %w", err)
	}
	return nil
}

func revisionOf(st *Status, at time.Time) StatusEdit {
	return StatusEdit{
		ID:          NewID(),
		StatusID:    st.ID,
		AccountID:   st.AccountID,
		Text:        st.Text,
		Content:     st.Content,
		SpoilerText: st.SpoilerText,
		Sensitive:   st.Sensitive,
		CreatedAt:   at,
	}
}

// interactedAccounts are the accounts that reblogged or favourited a status: they are
// told when it changes under them.
func interactedAccounts(tx *gorm.DB, statusID int64) ([]*Account, error) {
	var accounts []*Account
	err := tx.Where("id IN (?) OR id IN (?)",
		tx.Model(&Status{}).Select("account_id").Where("reblog_of_id = ?", statusID),
		tx.Model(&Favourite{}).Select("account_id").Where("status_id = ?", statusID)).
		Order("id").Find(&accounts).Error
	if err != nil {
		return nil, fmt.Errorf("load interacting accounts: %w", err)
	}
	return accounts, nil
}

// StatusHistory returns the revisions of a status the viewer may see, oldest first.
// A status never edited has one revision: itself.
func (s *Service) StatusHistory(ctx context.Context, v Viewer, id int64) ([]StatusEdit, error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, err
	}
	var edits []StatusEdit
	if err := s.read(ctx).Where("status_id = ?", st.ID).Order("id").Find(&edits).Error; err != nil {
		return nil, fmt.Errorf("load status history: %w", err)
	}
	if len(edits) == 0 {
		edits = []StatusEdit{revisionOf(st, st.CreatedAt)}
	}
	return edits, nil
}

// StatusSource returns what the author typed, for editing: the text and the content
// warning of a status the viewer may see.
func (s *Service) StatusSource(ctx context.Context, v Viewer, id int64) (text, spoilerText string, err error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return "", "", err
	}
	return st.Text, st.SpoilerText, nil
}

// DeleteStatus removes a status by its author, together with its reblogs, and keeps
// every counter right. It returns the deleted row, whose Text lets clients offer
// "delete and redraft". The attachments are kept, detached, for a redraft to reuse
// (they are pruned with other unattached uploads).
func (s *Service) DeleteStatus(ctx context.Context, actor *Account, id int64) (*Status, error) {
	return s.DeleteStatusWithMedia(ctx, actor, id, false)
}

// DeleteStatusWithMedia is DeleteStatus; deleteMedia deletes the attachments and their
// files at once instead of keeping them for a redraft.
func (s *Service) DeleteStatusWithMedia(ctx context.Context, actor *Account, id int64, deleteMedia bool) (*Status, error) {
	if actor == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(actor), id)
	if err != nil {
		return nil, err
	}
	if st.AccountID != actor.ID {
		return nil, ErrNotFound
	}
	var dropped []MediaAttachment
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		// Load again inside the transaction, so that the row returned is the last version.
		cur, err := s.loadStatusRow(tx, st.ID)
		if err != nil {
			return err
		}
		st = cur
		var reblogs []Status
		if err := tx.Where("reblog_of_id = ?", st.ID).Order("id").Find(&reblogs).Error; err != nil {
			return fmt.Errorf("load reblogs: %w", err)
		}
		var gone []Event
		for i := range reblogs {
			removed, err := s.removeStatusRow(tx, &reblogs[i])
			if err != nil {
				return err
			}
			if removed {
				gone = append(gone, StatusDeleted{Status: reblogs[i]})
			}
		}
		if deleteMedia {
			if err := tx.Where("status_id = ?", st.ID).Find(&dropped).Error; err != nil {
				return fmt.Errorf("load media: %w", err)
			}
			if err := tx.Where("status_id = ?", st.ID).Delete(&MediaAttachment{}).Error; err != nil {
				return fmt.Errorf("delete media: %w", err)
			}
		}
		// The mentions go with the status; live feeds still need them to tell who
		// may have seen it.
		mentions, err := mentionedIDs(tx, []int64{st.ID})
		if err != nil {
			return err
		}
		removed, err := s.removeStatusRow(tx, st)
		if err != nil {
			return err
		}
		if !removed {
			return ErrNotFound // deleted meanwhile
		}
		*ev = append(*ev, StatusDeleted{Status: *st, Mentions: mentions[st.ID]})
		*ev = append(*ev, gone...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteFiles(ctx, dropped)
	return st, nil
}

// removeStatusRow deletes one status and uncounts it; the database removes what hangs
// off it (mentions, tags, favourites, bookmarks, pins, notifications, revisions). It
// reports false when the row was already gone, so that a concurrent deletion is never
// counted twice.
func (s *Service) removeStatusRow(tx *gorm.DB, st *Status) (bool, error) {
	if st.Visibility == VisibilityDirect {
		if err := detachFromConversations(tx, []int64{st.ID}); err != nil {
			return false, err
		}
	}
	// Attachments outlive the post (the foreign key detaches them) for a redraft; they
	// wait a day from now, not from their upload. A remote post's have no files here.
	if st.Local {
		if err := tx.Model(&MediaAttachment{}).Where("status_id = ?", st.ID).
			UpdateColumn("updated_at", s.clock()).Error; err != nil {
			return false, fmt.Errorf("detach media: %w", err)
		}
	} else if err := tx.Where("status_id = ?", st.ID).Delete(&MediaAttachment{}).Error; err != nil {
		return false, fmt.Errorf("delete remote media: %w", err)
	}
	res := tx.Delete(&Status{}, st.ID)
	if res.Error != nil {
		return false, fmt.Errorf("delete status: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if err := s.uncountStatus(tx, st); err != nil {
		return false, err
	}
	if st.ReblogOfID != nil {
		// The reblog notification points at the original, which stays.
		if err := tx.Where("from_account_id = ? AND type = ? AND status_id = ?", st.AccountID, NotifyReblog, *st.ReblogOfID).
			Delete(&Notification{}).Error; err != nil {
			return false, fmt.Errorf("delete reblog notification: %w", err)
		}
	}
	return true, nil
}

// StatusContext returns the thread around a status: its ancestors, oldest first, and
// its descendants in thread order (each reply followed by its own replies), keeping
// only what the viewer may see and their filters do not hide in threads. A hidden reply
// hides itself, not its visible replies.
func (s *Service) StatusContext(ctx context.Context, v Viewer, id int64) (ancestors, descendants []Status, err error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, nil, err
	}
	db := s.read(ctx)

	ancestors = []Status{}
	seen := map[int64]bool{st.ID: true}
	for next := st.InReplyToID; next != nil && len(ancestors) < maxAncestors && !seen[*next]; {
		seen[*next] = true
		var p Status
		err := db.Take(&p, *next).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("load ancestor: %w", err)
		}
		ancestors = append(ancestors, p)
		next = p.InReplyToID
	}
	slices.Reverse(ancestors)
	if ancestors, err = s.FilterVisible(ctx, v, ancestors); err != nil {
		return nil, nil, err
	}

	children := map[int64][]Status{}
	level := []int64{st.ID}
	total := 0
	for depth := 0; depth < maxDescendantDepth && len(level) > 0 && total < maxDescendants; depth++ {
		var rows []Status
		if err := db.Where("in_reply_to_id IN ?", level).Order("id").Limit(maxDescendants - total).
			Find(&rows).Error; err != nil {
			return nil, nil, fmt.Errorf("load replies: %w", err)
		}
		level = level[:0:0]
		for _, r := range rows {
			children[*r.InReplyToID] = append(children[*r.InReplyToID], r)
			level = append(level, r.ID)
		}
		total += len(rows)
	}
	ordered := make([]Status, 0, total)
	var walk func(parent int64)
	walk = func(parent int64) {
		for _, c := range children[parent] {
			ordered = append(ordered, c)
			walk(c.ID)
		}
	}
	walk(st.ID)
	if descendants, err = s.FilterVisible(ctx, v, ordered); err != nil {
		return nil, nil, err
	}
	if v.AccountID() != 0 {
		filters, err := s.ActiveFilters(ctx, v.AccountID())
		if err != nil {
			return nil, nil, err
		}
		if ancestors, err = s.dropHidden(ctx, filters, FilterThread, ancestors); err != nil {
			return nil, nil, err
		}
		if descendants, err = s.dropHidden(ctx, filters, FilterThread, descendants); err != nil {
			return nil, nil, err
		}
	}
	return ancestors, descendants, nil
}
