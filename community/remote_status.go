package community

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tacit-social/tacit/markup"
)

// Remote content: accounts and statuses that other instances own. Federation parses
// what peers send into these plain values; the domain decides what to keep, sanitizes
// it and applies the same audience rules as to local content. Statuses are here,
// accounts in remote_account.go, the once-only record of activities in
// remote_activity.go.

// Bounds on what a remote profile or status may bring, so a misbehaving peer cannot
// fill the database: larger values are cut, not refused, as peers' limits differ.
const (
	maxRemoteNoteBytes    = 64 << 10
	maxRemoteContentBytes = 256 << 10
	maxRemoteNameRunes    = 200
	maxRemoteFields       = 16
	maxRemoteMentions     = 100
	maxRemoteTags         = 100
)

// ErrNotPeer refuses content from an instance outside the company.
var ErrNotPeer = Forbidden("That instance is not one of the company's instances")

// statusByURI finds a status (local or remote) by its ActivityPub id, without any
// visibility check: callers decide who may see it. Why it excludes empty ids: see AccountByURI.
func (s *Service) statusByURI(ctx context.Context, uri string) (*Status, error) {
	var st Status
	if err := s.read(ctx).Where("uri = ? AND uri <> ''", uri).Take(&st).Error; err != nil {
		return nil, notFound(err, "status")
	}
	return &st, nil
}

// RemoteStatus is a post as its origin instance describes it.
type RemoteStatus struct {
	URI            string
	ActivityURI    string // the id of the Create that brought it, when one did
	URL            string
	AuthorID       int64 // the (remote) account that wrote it, already verified as the sender
	ContentHTML    string
	SpoilerText    string
	Sensitive      bool
	Language       string
	Visibility     Visibility
	Scope          Scope
	InReplyToURI   string
	MentionURIs    []string // actor ids
	Tags           []string // hashtag names
	Published      time.Time
	Edited         time.Time // zero unless the post was edited
	ReplyToUnknown bool      // set by ReceiveStatus when the parent is not known here
	Attachments    []RemoteAttachment
	Poll           *RemotePoll
	// Idea is set when the status is an idea posted to a board.
	Idea *RemoteIdea
	// Author is the account of AuthorID when the caller has just loaded it (nil: it
	// is loaded here). An author's row changes with every post it writes (its
	// counters), so on a busy inbox the row cache seldom holds it: loading it again
	// cost a query per post.
	Author *Account
}

// ReceiveStatus stores a status that arrived from another instance, or applies an edit
// to one already stored (same URI, same author). Replies never widen the audience of
// what they answer here either; mentions of local accounts notify those who may read
// it. It returns the stored row.
func (s *Service) ReceiveStatus(ctx context.Context, in RemoteStatus) (*Status, error) {
	p, err := s.prepareRemoteStatus(ctx, in, nil)
	if err != nil {
		return nil, err
	}
	return s.storePrepared(ctx, p)
}

// preparedStatus is a received status checked and completed with what is read
// before its transaction: its author, the post it answers, the accounts it mentions.
type preparedStatus struct {
	in        RemoteStatus
	author    *Account
	parent    *Status
	mentions  []*Account
	tags      []string
	now       time.Time
	published time.Time
	content   string
	spoiler   string
}

// prepareRemoteStatus checks a received status and reads what storing it needs.
// authors, when not nil, keeps the authors already loaded by id, so that a batch
// from one sender loads its author once.
func (s *Service) prepareRemoteStatus(ctx context.Context, in RemoteStatus, authors map[int64]*Account) (*preparedStatus, error) {
	author := authors[in.AuthorID]
	if author == nil && in.Author != nil && in.Author.ID == in.AuthorID {
		author = in.Author
	}
	if author == nil {
		a, err := s.accountByID(ctx, in.AuthorID)
		if err != nil {
			return nil, err
		}
		author = a
		if authors != nil {
			authors[in.AuthorID] = a
		}
	}
	if author.IsLocal() {
		return nil, Forbidden("A remote status cannot be written by a local account")
	}
	if err := validateRemoteIdentity(in.URI, author.Domain); err != nil {
		return nil, err
	}
	if in.Scope == ScopeDepartment {
		return nil, Invalid("Department posts never leave their instance")
	}
	if err := ValidateVisibility(in.Visibility); err != nil {
		return nil, err
	}
	if err := ValidateScope(in.Scope); err != nil {
		return nil, err
	}
	if in.Scope == ScopeCompany && !s.peers(author.Domain) {
		return nil, ErrNotPeer
	}
	var parent *Status
	if in.InReplyToURI != "" {
		p, err := s.statusByURI(ctx, in.InReplyToURI)
		switch {
		case err == nil:
			parent = p
		case KindOf(err) == KindNotFound:
			in.ReplyToUnknown = true
		default:
			return nil, err
		}
	}
	if parent != nil {
		if err := s.checkReplyAllowed(ctx, author, parent); err != nil {
			if existing, lerr := s.statusByURI(ctx, in.URI); lerr == nil && existing.AccountID == author.ID {
				// An edit of a reply stored before the discussion was locked.
				err = nil
			}
			if err != nil {
				return nil, err
			}
		}
		in.Scope = narrowerScope(in.Scope, parent.Scope)
		in.Visibility = narrowerVisibility(in.Visibility, parent.Visibility)
		if in.Scope == ScopeDepartment {
			// A reply to a department post cannot come from elsewhere: that post was
			// never sent out. Refuse rather than attach it to a thread it cannot see.
			return nil, Invalid("Reply to a post that never left its instance")
		}
	}
	mentions, err := s.knownAccountsByURI(ctx, in.MentionURIs)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	published := in.Published.UTC().Truncate(time.Microsecond)
	if published.IsZero() || published.After(now) {
		published = now
	}
	if in.Idea != nil && in.InReplyToURI == "" {
		// An idea shows as a post whose first line is its title.
		in.ContentHTML = remoteIdeaContent(in.Idea.Title, in.Idea.BodyHTML)
	}
	return &preparedStatus{
		in:        in,
		author:    author,
		parent:    parent,
		mentions:  mentions,
		tags:      normalizeRemoteTags(in.Tags),
		now:       now,
		published: published,
		content:   markup.Sanitize(truncateBytes(in.ContentHTML, maxRemoteContentBytes)),
		spoiler:   truncateRunes(markup.PlainText(in.SpoilerText), 1000),
	}, nil
}

// storePrepared stores one prepared status in a transaction of its own.
func (s *Service) storePrepared(ctx context.Context, p *preparedStatus) (*Status, error) {
	var out Status
	err := s.txRetryingRace(ctx, func(tx *gorm.DB, ev *[]Event) error {
		return s.storeRemoteStatus(tx, ev, p, &out)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// storeRemoteStatus writes a prepared status in tx: a new row, or an edit of the row
// already stored under its URI (which may have been written earlier in tx).
func (s *Service) storeRemoteStatus(tx *gorm.DB, ev *[]Event, p *preparedStatus, out *Status) error {
	in, author, parent, now := p.in, p.author, p.parent, p.now
	content, spoiler, tags, mentions := p.content, p.spoiler, p.tags, p.mentions
	var existing Status
	err := tx.Where("uri = ? AND uri <> ''", in.URI).Take(&existing).Error
	if err == nil {
		if existing.AccountID != author.ID {
			return Forbidden("Status %s belongs to another account", in.URI)
		}
		// New counts of a poll arrive as an update of its post; they are not an edit.
		if err := s.refreshRemotePoll(tx, &existing, in.Poll); err != nil {
			return err
		}
		if in.Idea != nil && existing.InReplyToID == nil {
			// Stored before its board was known here: it becomes the idea it is.
			if _, ierr := ideaRow(tx, existing.ID); KindOf(ierr) == KindNotFound {
				if err := s.attachIdea(tx, ev, &existing, author, in.Idea); err != nil {
					return err
				}
			}
		}
		return s.applyRemoteEdit(tx, ev, &existing, author.Domain, content, spoiler, in, tags, mentions, out)
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("load status by uri: %w", err)
	}
	// Ids stay time-ordered by publication so that pagination places a late
	// arrival where it belongs; the sequence bits keep it unique.
	st := Status{
		ID:          IDForTime(p.published),
		AccountID:   author.ID,
		URI:         in.URI,
		ActivityURI: in.ActivityURI,
		URL:         originURL(in.URL, author.Domain),
		Content:     content,
		Text:        markup.PlainText(content),
		SpoilerText: spoiler,
		Sensitive:   in.Sensitive || spoiler != "",
		Visibility:  in.Visibility,
		Scope:       in.Scope,
		Language:    languageOrEmpty(in.Language),
		Local:       false,
		CreatedAt:   p.published,
		UpdatedAt:   now,
	}
	if st.URL == "" {
		st.URL = st.URI
	}
	if parent != nil {
		st.InReplyToID = &parent.ID
		st.InReplyToAccountID = &parent.AccountID
	}
	if err := tx.Create(&st).Error; err != nil {
		return fmt.Errorf("create remote status: %w", err)
	}
	if rows := remoteMediaRows(author.ID, st.ID, author.Domain, in.Attachments, now); len(rows) > 0 {
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("create remote media: %w", err)
		}
	}
	if in.Poll != nil {
		if poll, ok := remotePollRow(&st, in.Poll, now); ok {
			if err := tx.Create(&poll).Error; err != nil {
				return fmt.Errorf("create remote poll: %w", err)
			}
		}
	}
	if err := s.setMentions(tx, st.ID, mentions); err != nil {
		return err
	}
	if err := s.setStatusTags(tx, st.ID, tags, false); err != nil {
		return err
	}
	if err := s.countNewStatus(tx, &st); err != nil {
		return err
	}
	if err := s.notifyReaders(tx, ev, &st, mentions, NotifyMention); err != nil {
		return err
	}
	if err := s.addToConversations(tx, ev, &st, author, mentions); err != nil {
		return err
	}
	*out = st
	*ev = append(*ev, StatusCreated{Status: st})
	if in.Idea != nil && in.InReplyToURI == "" {
		return s.attachIdea(tx, ev, &st, author, in.Idea)
	}
	return nil
}

// applyRemoteEdit updates a stored remote status from a newer version of it. The
// audience is not widened by an edit: Mastodon does not let authors change it either.
func (s *Service) applyRemoteEdit(tx *gorm.DB, ev *[]Event, st *Status, origin, content, spoiler string, in RemoteStatus, tags []string, mentions []*Account, out *Status) error {
	now := s.clock()
	stored, err := statusMediaTx(tx, []int64{st.ID})
	if err != nil {
		return err
	}
	nextMedia := remoteMediaRows(st.AccountID, st.ID, origin, in.Attachments, now)
	sameMedia := sameRemoteMedia(stored[st.ID], nextMedia)
	if st.Content == content && st.SpoilerText == spoiler && st.Sensitive == (in.Sensitive || spoiler != "") && sameMedia {
		*out = *st
		return nil
	}
	if !sameMedia {
		if err := tx.Where("status_id = ?", st.ID).Delete(&MediaAttachment{}).Error; err != nil {
			return fmt.Errorf("replace remote media: %w", err)
		}
		if len(nextMedia) > 0 {
			if err := tx.Create(&nextMedia).Error; err != nil {
				return fmt.Errorf("replace remote media: %w", err)
			}
		}
	}
	var revisions int64
	if err := tx.Model(&StatusEdit{}).Where("status_id = ?", st.ID).Count(&revisions).Error; err != nil {
		return fmt.Errorf("count revisions: %w", err)
	}
	if revisions == 0 {
		original := StatusEdit{ID: NewID(), StatusID: st.ID, AccountID: st.AccountID, Text: st.Text, Content: st.Content,
			SpoilerText: st.SpoilerText, Sensitive: st.Sensitive, CreatedAt: st.CreatedAt}
		if err := tx.Create(&original).Error; err != nil {
			return fmt.Errorf("record original revision: %w", err)
		}
	}
	edited := in.Edited.UTC().Truncate(time.Microsecond)
	if edited.IsZero() || edited.After(now) {
		edited = now
	}
	st.Content, st.Text, st.SpoilerText = content, markup.PlainText(content), spoiler
	st.Sensitive = in.Sensitive || spoiler != ""
	st.EditedAt, st.UpdatedAt = &edited, now
	revision := StatusEdit{ID: NewID(), StatusID: st.ID, AccountID: st.AccountID, Text: st.Text, Content: content,
		SpoilerText: spoiler, Sensitive: st.Sensitive, CreatedAt: edited}
	if err := tx.Create(&revision).Error; err != nil {
		return fmt.Errorf("record revision: %w", err)
	}
	if err := tx.Model(&Status{}).Where("id = ?", st.ID).Select("content", "text", "spoiler_text", "sensitive", "edited_at", "updated_at").
		Updates(st).Error; err != nil {
		return fmt.Errorf("update remote status: %w", err)
	}
	if err := s.setStatusTags(tx, st.ID, tags, true); err != nil {
		return err
	}
	if in.Idea != nil {
		if err := updateRemoteIdea(tx, st.ID, in.Idea); err != nil {
			return err
		}
	}
	var already []int64
	if err := tx.Model(&Mention{}).Where("status_id = ?", st.ID).Pluck("account_id", &already).Error; err != nil {
		return fmt.Errorf("load mentions: %w", err)
	}
	var added []*Account
	for _, m := range mentions {
		if !slices.Contains(already, m.ID) {
			added = append(added, m)
		}
	}
	if err := s.setMentions(tx, st.ID, added); err != nil {
		return err
	}
	if err := s.notifyReaders(tx, ev, st, added, NotifyMention); err != nil {
		return err
	}
	*out = *st
	*ev = append(*ev, StatusUpdated{Status: *st})
	return nil
}

// DeleteRemoteStatus removes a status its remote author deleted. Deleting what is not
// stored is not an error: the Delete may arrive before, or instead of, the Create.
func (s *Service) DeleteRemoteStatus(ctx context.Context, author *Account, uri string) error {
	st, err := s.statusByURI(ctx, uri)
	if KindOf(err) == KindNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if st.AccountID != author.ID {
		return Forbidden("Status %s belongs to another account", uri)
	}
	_, err = s.DeleteStatus(ctx, author, st.ID)
	if KindOf(err) == KindNotFound {
		return nil
	}
	return err
}

func (s *Service) setMentions(tx *gorm.DB, statusID int64, accounts []*Account) error {
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

// knownAccountsByURI maps actor ids to the accounts stored here; unknown ones are
// skipped (a mention of someone this instance never met notifies nobody here).
func (s *Service) knownAccountsByURI(ctx context.Context, uris []string) ([]*Account, error) {
	if len(uris) > maxRemoteMentions {
		uris = uris[:maxRemoteMentions]
	}
	if len(uris) == 0 {
		return nil, nil
	}
	var rows []Account
	if err := s.read(ctx).Where("uri IN ? AND uri <> ''", uris).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load mentioned accounts: %w", err)
	}
	out := make([]*Account, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, nil
}

func normalizeRemoteTags(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range in {
		t = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(t), "#"))
		if t == "" || seen[t] || utf8.RuneCountInString(t) > 100 || strings.ContainsAny(t, " \t\n/?#") {
			continue
		}
		seen[t] = true
		out = append(out, t)
		if len(out) == maxRemoteTags {
			break
		}
	}
	return out
}

// validateRemoteIdentity checks that an id is an absolute http(s) URL on the host the
// content claims to come from: an instance speaks only for its own accounts and posts.
func validateRemoteIdentity(uri, domain string) error {
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return Invalid("%q is not an absolute http(s) id", uri)
	}
	if !strings.EqualFold(u.Host, domain) {
		return Forbidden("%s does not belong to %s", uri, domain)
	}
	return nil
}

func languageOrEmpty(l string) string {
	if validateLanguage(l) != nil {
		return ""
	}
	return l
}

// ReceiveReblog stores a remote account's reblog (an Announce) of a status. The reblog
// keeps the shared status's scope and, like a local reblog, only public and unlisted
// statuses can be shared; its visibility comes from the addressing.
func (s *Service) ReceiveReblog(ctx context.Context, actor *Account, statusID int64, uri string, to, cc []string) (*Status, error) {
	if actor.IsLocal() {
		return nil, Forbidden("A local account cannot announce through an inbox")
	}
	if err := validateRemoteIdentity(uri, actor.Domain); err != nil {
		return nil, err
	}
	if existing, err := s.statusByURI(ctx, uri); err == nil {
		return existing, nil
	}
	orig, err := s.GetStatus(ctx, AsAccount(actor), statusID)
	if err != nil {
		return nil, err
	}
	if orig.ReblogOfID != nil || (orig.Visibility != VisibilityPublic && orig.Visibility != VisibilityUnlisted) {
		return nil, Forbidden("This status cannot be reblogged")
	}
	if actor.Group {
		// A group (FEP-1b12) announces a post twice, as the author's Create and as the
		// post itself, for software that reads only one of them: one share.
		var existing Status
		err := s.read(ctx).Where("reblog_of_id = ? AND account_id = ?", orig.ID, actor.ID).Take(&existing).Error
		if err == nil {
			return &existing, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("find the group's share: %w", err)
		}
	}
	vis := VisibilityPrivate
	for _, a := range append(append([]string(nil), to...), cc...) {
		if a == "https://www.w3.org/ns/activitystreams#Public" || a == "as:Public" || a == "Public" || strings.HasSuffix(a, "/ap/company") {
			vis = VisibilityPublic
		}
	}
	var out Status
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		now := s.clock()
		st := Status{ID: NewID(), AccountID: actor.ID, URI: uri, URL: uri, ReblogOfID: &orig.ID,
			Visibility: vis, Scope: orig.Scope, Local: false, CreatedAt: now, UpdatedAt: now}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&st)
		if res.Error != nil {
			return fmt.Errorf("create reblog: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := s.countNewStatus(tx, &st); err != nil {
			return err
		}
		author, err := accountTx(tx, orig.AccountID)
		if err != nil {
			return err
		}
		if err := s.notify(tx, ev, author, actor.ID, NotifyReblog, &orig.ID); err != nil {
			return err
		}
		out = st
		*ev = append(*ev, StatusCreated{Status: st})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
