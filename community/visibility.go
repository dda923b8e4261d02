package community

import (
	"context"
	"fmt"
	"slices"

	"gorm.io/gorm"
)

// Viewer is whoever is asking to read: a logged-in account, a peer instance making a
// signed request on nobody's behalf, or nobody (logged out).
type Viewer struct {
	// Account is the logged-in account (local, or remote when a peer asks on its behalf).
	Account *Account
	// Server is the host of a peer instance asking without an account.
	Server string
}

// Anonymous is the logged-out viewer.
var Anonymous = Viewer{}

// AsAccount is the viewer for a logged-in account; nil gives Anonymous.
func AsAccount(a *Account) Viewer { return Viewer{Account: a} }

// AccountID is the viewer's account id, or 0.
func (v Viewer) AccountID() int64 {
	if v.Account == nil {
		return 0
	}
	return v.Account.ID
}

// audienceFacts are the relationships between one viewer and the statuses being
// checked. They are loaded in batches so that checking a page costs a few queries.
type audienceFacts struct {
	follows   map[int64]bool // author ids the viewer follows
	mentioned map[int64]bool // status ids that mention the viewer
	blockedBy map[int64]bool // author ids that block the viewer
	suspended map[int64]bool // author ids the instance's moderators suspended
}

// mayRead is THE rule of who may read a status (DESIGN.md §2). Every read path goes
// through it, either directly or through visibleSQL, which must agree with it.
func (s *Service) mayRead(v Viewer, st *Status, f audienceFacts) bool {
	me := v.AccountID()
	if me != 0 && st.AccountID == me {
		return true
	}
	if f.suspended[st.AccountID] {
		return false
	}
	if me != 0 && f.blockedBy[st.AccountID] {
		return false
	}
	if !s.scopeAdmits(v, st) {
		return false
	}
	switch st.Visibility {
	case VisibilityPublic, VisibilityUnlisted:
		return true
	case VisibilityPrivate:
		return me != 0 && (f.follows[st.AccountID] || f.mentioned[st.ID])
	case VisibilityDirect:
		return me != 0 && f.mentioned[st.ID]
	}
	return false
}

// scopeAdmits reports whether the viewer is inside the status's scope.
func (s *Service) scopeAdmits(v Viewer, st *Status) bool {
	switch st.Scope {
	case ScopeWorld:
		return true
	case ScopeCompany:
		if v.Account != nil {
			return v.Account.IsLocal() || s.peers(v.Account.Domain)
		}
		return v.Server != "" && s.peers(v.Server)
	case ScopeDepartment:
		// Department posts never leave their instance, so only local accounts read them,
		// and only posts that were written here.
		return v.Account != nil && v.Account.IsLocal() && st.Local
	}
	return false
}

// ReadableScopes lists the scopes of the posts the viewer may ever read, for search
// indexes that narrow their candidates before FilterVisible checks them; it states the
// rule of scopeAdmits, which stays the authority. With ScopeDepartment listed, only
// posts written on this instance are readable in it.
func (s *Service) ReadableScopes(v Viewer) []Scope {
	switch {
	case v.Account != nil && v.Account.IsLocal():
		return []Scope{ScopeWorld, ScopeCompany, ScopeDepartment}
	case v.Account != nil && s.peers(v.Account.Domain), v.Account == nil && v.Server != "" && s.peers(v.Server):
		return []Scope{ScopeWorld, ScopeCompany}
	}
	return []Scope{ScopeWorld}
}

// CanSee answers "may viewer v see status st?" including, for a reblog, the status it shares.
func (s *Service) CanSee(ctx context.Context, v Viewer, st *Status) (bool, error) {
	visible, err := s.FilterVisible(ctx, v, []Status{*st})
	if err != nil {
		return false, err
	}
	return len(visible) == 1, nil
}

// FilterVisible keeps, in order, the statuses the viewer may see. Reblogs are kept only
// when the viewer may also see the status they share.
func (s *Service) FilterVisible(ctx context.Context, v Viewer, statuses []Status) ([]Status, error) {
	if len(statuses) == 0 {
		return statuses, nil
	}
	var originalIDs []int64
	for _, st := range statuses {
		if st.ReblogOfID != nil {
			originalIDs = append(originalIDs, *st.ReblogOfID)
		}
	}
	originals := map[int64]*Status{}
	if len(originalIDs) > 0 {
		var rows []Status
		if err := s.read(ctx).Where("id IN ?", originalIDs).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load reblogged statuses: %w", err)
		}
		for i := range rows {
			originals[rows[i].ID] = &rows[i]
		}
	}
	all := make([]*Status, 0, len(statuses)+len(originals))
	for i := range statuses {
		all = append(all, &statuses[i])
	}
	for _, o := range originals {
		all = append(all, o)
	}
	facts, err := s.loadAudienceFacts(ctx, v, all)
	if err != nil {
		return nil, err
	}
	out := statuses[:0:0]
	for i := range statuses {
		st := &statuses[i]
		if !s.mayRead(v, st, facts) {
			continue
		}
		if st.ReblogOfID != nil {
			o := originals[*st.ReblogOfID]
			if o == nil || !s.mayRead(v, o, facts) {
				continue
			}
		}
		out = append(out, *st)
	}
	return out, nil
}

func (s *Service) loadAudienceFacts(ctx context.Context, v Viewer, statuses []*Status) (audienceFacts, error) {
	f := audienceFacts{follows: map[int64]bool{}, mentioned: map[int64]bool{}, blockedBy: map[int64]bool{},
		suspended: map[int64]bool{}}
	if err := s.loadSuspendedAuthors(ctx, statuses, f.suspended); err != nil {
		return f, err
	}
	me := v.AccountID()
	if me == 0 {
		return f, nil
	}
	var authorIDs, restrictedIDs []int64
	seen := map[int64]bool{}
	for _, st := range statuses {
		if st.AccountID == me {
			continue
		}
		if !seen[st.AccountID] {
			seen[st.AccountID] = true
			authorIDs = append(authorIDs, st.AccountID)
		}
		if st.Visibility == VisibilityPrivate || st.Visibility == VisibilityDirect {
			restrictedIDs = append(restrictedIDs, st.ID)
		}
	}
	if len(authorIDs) == 0 {
		return f, nil
	}
	db := s.read(ctx)
	var ids []int64
	if err := db.Model(&Block{}).Where("target_account_id = ? AND account_id IN ?", me, authorIDs).
		Pluck("account_id", &ids).Error; err != nil {
		return f, fmt.Errorf("load blocks: %w", err)
	}
	for _, id := range ids {
		f.blockedBy[id] = true
	}
	if len(restrictedIDs) == 0 {
		return f, nil
	}
	ids = nil
	if err := db.Model(&Follow{}).Where("account_id = ? AND target_account_id IN ?", me, authorIDs).
		Pluck("target_account_id", &ids).Error; err != nil {
		return f, fmt.Errorf("load follows: %w", err)
	}
	for _, id := range ids {
		f.follows[id] = true
	}
	ids = nil
	if err := db.Model(&Mention{}).Where("account_id = ? AND status_id IN ?", me, restrictedIDs).
		Pluck("status_id", &ids).Error; err != nil {
		return f, fmt.Errorf("load mentions: %w", err)
	}
	for _, id := range ids {
		f.mentioned[id] = true
	}
	return f, nil
}

// loadSuspendedAuthors marks the authors among statuses whom moderators suspended.
func (s *Service) loadSuspendedAuthors(ctx context.Context, statuses []*Status, into map[int64]bool) error {
	ids := make([]int64, 0, len(statuses))
	for _, st := range statuses {
		ids = append(ids, st.AccountID)
	}
	var suspended []int64
	if err := s.read(ctx).Model(&AccountSanction{}).Where("suspended AND account_id IN ?", uniqueIDs(ids)).
		Pluck("account_id", &suspended).Error; err != nil {
		return fmt.Errorf("load suspensions: %w", err)
	}
	for _, id := range suspended {
		into[id] = true
	}
	return nil
}

// notSuspendedSQL leaves out statuses by suspended accounts (mayRead's rule in SQL).
const notSuspendedSQL = `NOT EXISTS (SELECT 1 FROM account_sanctions
	WHERE account_sanctions.account_id = statuses.account_id AND account_sanctions.suspended)`

// readerFacts say which of the per-row audience conditions can hold at all for one
// reader at one moment. A timeline query probes blocks, mutes and sanctions for every
// row it walks (a dozen index lookups a row); most readers block and mute nobody and
// most instances have sanctioned nobody, so one query up front lets the timeline
// leave out the probes that could only ever answer "nothing to hide".
type readerFacts struct {
	blocks          bool // the reader blocks someone or is blocked by someone
	mutes           bool // the reader mutes someone (expired mutes included)
	sanctions       bool // some account is suspended or silenced
	silencedDomains bool // some domain is silenced
	tagFollows      bool // the reader follows a hashtag
}

// everyFact is readerFacts for queries that do not ask: every condition stays.
var everyFact = readerFacts{blocks: true, mutes: true, sanctions: true, silencedDomains: true, tagFollows: true}

// readerFactsFor asks the four questions in one statement (me 0: a logged-out reader).
func (s *Service) readerFactsFor(ctx context.Context, me int64) (readerFacts, error) {
	var row struct {
		Blocks, Mutes, Sanctions, SilencedDomains, TagFollows bool
	}
	err := s.read(ctx).Raw(`SELECT
		(EXISTS (SELECT 1 FROM blocks WHERE account_id = @me)
			OR EXISTS (SELECT 1 FROM blocks WHERE target_account_id = @me)) AS blocks,
		EXISTS (SELECT 1 FROM mutes WHERE account_id = @me) AS mutes,
		EXISTS (SELECT 1 FROM account_sanctions WHERE suspended OR silenced) AS sanctions,
		EXISTS (SELECT 1 FROM domain_blocks WHERE severity = 'silence') AS silenced_domains,
		EXISTS (SELECT 1 FROM tag_follows WHERE account_id = @me) AS tag_follows`,
		map[string]any{"me": me}).Scan(&row).Error
	if err != nil {
		return readerFacts{}, fmt.Errorf("load reader facts: %w", err)
	}
	return readerFacts{blocks: row.Blocks, mutes: row.Mutes, sanctions: row.Sanctions,
		silencedDomains: row.SilencedDomains, tagFollows: row.TagFollows}, nil
}

// visibleSQL restricts a query on the statuses table to the rows the viewer may read.
// It states mayRead in SQL so that timelines can paginate in the database; the rows it
// returns still pass FilterVisible, which stays the authority.
func (s *Service) visibleSQL(v Viewer) func(*gorm.DB) *gorm.DB {
	return s.visibleSQLWith(v, everyFact)
}

// visibleSQLWith is visibleSQL without the conditions facts rule out.
func (s *Service) visibleSQLWith(v Viewer, facts readerFacts) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		me := v.AccountID()
		if facts.sanctions {
			db = db.Where(notSuspendedSQL)
		}
		if me == 0 {
			if v.Server != "" && s.peers(v.Server) {
				return db.Where("statuses.scope IN ? AND statuses.visibility IN ?",
					[]Scope{ScopeWorld, ScopeCompany}, []Visibility{VisibilityPublic, VisibilityUnlisted})
			}
			return db.Where("statuses.scope = ? AND statuses.visibility IN ?",
				ScopeWorld, []Visibility{VisibilityPublic, VisibilityUnlisted})
		}
		var scopes string
		switch {
		case v.Account.IsLocal():
			scopes = "(statuses.scope IN ('world','company') OR (statuses.scope = 'department' AND statuses.local))"
		case s.peers(v.Account.Domain):
			scopes = "statuses.scope IN ('world','company')"
		default:
			scopes = "statuses.scope = 'world'"
		}
		blocked := "TRUE"
		if facts.blocks {
			blocked = "NOT EXISTS (SELECT 1 FROM blocks WHERE blocks.account_id = statuses.account_id AND blocks.target_account_id = @me)"
		}
		return db.Where(`statuses.account_id = @me OR (
			`+blocked+`
			AND `+scopes+`
			AND (statuses.visibility IN ('public','unlisted')
				OR (statuses.visibility = 'private' AND (
					EXISTS (SELECT 1 FROM follows WHERE follows.account_id = @me AND follows.target_account_id = statuses.account_id)
					OR EXISTS (SELECT 1 FROM mentions WHERE mentions.status_id = statuses.id AND mentions.account_id = @me)))
				OR (statuses.visibility = 'direct' AND
					EXISTS (SELECT 1 FROM mentions WHERE mentions.status_id = statuses.id AND mentions.account_id = @me))))`,
			map[string]any{"me": me})
	}
}

// narrowerScope returns the narrower of two scopes: replies never widen an audience.
func narrowerScope(a, b Scope) Scope {
	rank := map[Scope]int{ScopeWorld: 0, ScopeCompany: 1, ScopeDepartment: 2}
	if rank[a] >= rank[b] {
		return a
	}
	return b
}

// narrowerVisibility returns the narrower of two visibilities.
func narrowerVisibility(a, b Visibility) Visibility {
	rank := map[Visibility]int{VisibilityPublic: 0, VisibilityUnlisted: 1, VisibilityPrivate: 2, VisibilityDirect: 3}
	if rank[a] >= rank[b] {
		return a
	}
	return b
}

// statusFacts are the relations of many viewers to one status, loaded together.
type statusFacts struct {
	follows   map[int64]bool // viewers who follow the author
	mentioned map[int64]bool // viewers the status mentions
	blockedBy map[int64]bool // viewers the author blocks
}

// of returns one viewer's facts in the form mayRead takes.
func (f statusFacts) of(st *Status, viewer int64) audienceFacts {
	return audienceFacts{
		follows:   map[int64]bool{st.AccountID: f.follows[viewer]},
		mentioned: map[int64]bool{st.ID: f.mentioned[viewer]},
		blockedBy: map[int64]bool{st.AccountID: f.blockedBy[viewer]},
	}
}

// maxBatchIDs bounds the ids bound in one IN list, well within both databases' limits.
const maxBatchIDs = 500

// loadStatusFacts loads, in three queries per maxBatchIDs viewers, how each viewer
// relates to st. mentioned, when not nil, replaces the stored mentions (a deleted
// status's mention rows are gone with it).
func loadStatusFacts(db *gorm.DB, st *Status, viewerIDs []int64, mentioned []int64) (statusFacts, error) {
	f := statusFacts{follows: map[int64]bool{}, mentioned: map[int64]bool{}, blockedBy: map[int64]bool{}}
	if mentioned != nil {
		for _, id := range mentioned {
			f.mentioned[id] = true
		}
	}
	for len(viewerIDs) > 0 {
		batch := viewerIDs[:min(len(viewerIDs), maxBatchIDs)]
		viewerIDs = viewerIDs[len(batch):]
		var ids []int64
		if err := db.Model(&Block{}).Where("account_id = ? AND target_account_id IN ?", st.AccountID, batch).
			Pluck("target_account_id", &ids).Error; err != nil {
			return f, fmt.Errorf("load blocks: %w", err)
		}
		for _, id := range ids {
			f.blockedBy[id] = true
		}
		if st.Visibility != VisibilityPrivate && st.Visibility != VisibilityDirect {
			continue // follows and mentions do not matter to who reads it
		}
		ids = nil
		if err := db.Model(&Follow{}).Where("target_account_id = ? AND account_id IN ?", st.AccountID, batch).
			Pluck("account_id", &ids).Error; err != nil {
			return f, fmt.Errorf("load follows: %w", err)
		}
		for _, id := range ids {
			f.follows[id] = true
		}
		if mentioned != nil {
			continue
		}
		ids = nil
		if err := db.Model(&Mention{}).Where("status_id = ? AND account_id IN ?", st.ID, batch).
			Pluck("account_id", &ids).Error; err != nil {
			return f, fmt.Errorf("load mentions: %w", err)
		}
		for _, id := range ids {
			f.mentioned[id] = true
		}
	}
	return f, nil
}

// readersOf applies mayRead to st for each of viewers, with the facts loaded for all of
// them at once: the batched form of CanSee for one status and many readers (it does not
// look at the status a reblog shares; callers check that one too).
func (s *Service) readersOf(db *gorm.DB, st *Status, viewers []*Account, mentioned []int64) (map[int64]bool, error) {
	ids := make([]int64, 0, len(viewers))
	for _, v := range viewers {
		ids = append(ids, v.ID)
	}
	facts, err := loadStatusFacts(db, st, uniqueIDs(ids), mentioned)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(viewers))
	for _, v := range viewers {
		if s.mayRead(AsAccount(v), st, facts.of(st, v.ID)) {
			out[v.ID] = true
		}
	}
	return out, nil
}

// Recipients says which other instances must receive a local status: the second half
// of the audience rule (the first is mayRead). Federation turns it into inboxes.
type Recipients struct {
	// Accounts are the remote accounts in the audience: followers (unless the status is
	// direct) and mentioned accounts, on instances the scope admits.
	Accounts []*Account
	// AllPeers asks for delivery to every peer instance, so that public posts appear in
	// every instance's federated timeline, as the company network expects.
	AllPeers bool
}

// Recipients computes where st goes. Department posts go nowhere; company posts only
// to peers of the company; a reblog follows its own visibility, within the scope of the
// status it shares, and always reaches that status's author.
func (s *Service) Recipients(ctx context.Context, st *Status) (Recipients, error) {
	var r Recipients
	if st.Scope == ScopeDepartment {
		return r, nil
	}
	admits := func(a *Account) bool {
		if a.IsLocal() {
			return false
		}
		return st.Scope == ScopeWorld || s.peers(a.Domain)
	}
	db := s.read(ctx)
	var ids []int64
	if st.Visibility != VisibilityDirect {
		// Only followers elsewhere can be recipients: asking the database for them
		// alone spares loading every local follower's account, a thousand of them for
		// a well-followed author.
		var followers []int64
		if err := db.Model(&Follow{}).Joins("JOIN accounts ON accounts.id = follows.account_id").
			Where("follows.target_account_id = ? AND accounts.domain <> ''", st.AccountID).
			Pluck("follows.account_id", &followers).Error; err != nil {
			return r, fmt.Errorf("load followers: %w", err)
		}
		ids = append(ids, followers...)
	}
	var mentioned []int64
	if err := db.Model(&Mention{}).Where("status_id = ?", st.ID).Pluck("account_id", &mentioned).Error; err != nil {
		return r, fmt.Errorf("load mentions: %w", err)
	}
	ids = append(ids, mentioned...)
	// A public reply reaches the author of what it answers, so that the thread is whole
	// on their instance; a narrower reply reaches them only through follows and mentions.
	if st.InReplyToAccountID != nil && (st.Visibility == VisibilityPublic || st.Visibility == VisibilityUnlisted) {
		ids = append(ids, *st.InReplyToAccountID)
	}
	if st.ReblogOfID != nil {
		orig, err := s.loadStatusRow(db, *st.ReblogOfID)
		if err != nil {
			return r, err
		}
		ids = append(ids, orig.AccountID)
	}
	if len(ids) > 0 {
		var blocked []int64
		if err := db.Model(&Block{}).Where("account_id = ?", st.AccountID).Pluck("target_account_id", &blocked).Error; err != nil {
			return r, fmt.Errorf("load blocks: %w", err)
		}
		accounts, err := s.accountsByID(ctx, ids)
		if err != nil {
			return r, err
		}
		for _, id := range uniqueIDs(ids) {
			if a := accounts[id]; a != nil && admits(a) && !slices.Contains(blocked, id) {
				r.Accounts = append(r.Accounts, a)
			}
		}
	}
	r.AllPeers = st.Visibility == VisibilityPublic && st.ReblogOfID == nil
	return r, nil
}
