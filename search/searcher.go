package search

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tacit-social/tacit/community"
)

// DefaultPeerTimeout is how long a company-wide search waits for the peers.
const DefaultPeerTimeout = 300 * time.Millisecond

// Options configure a Searcher.
type Options struct {
	Index     *Index
	Community *community.Service
	// Indexer, when set, is told about documents whose rows a search found gone.
	Indexer *Indexer
	// Peers, when set, are asked too by company-wide searches.
	Peers Peers
	// PeerTimeout bounds the wait for peers; 0 means DefaultPeerTimeout.
	PeerTimeout time.Duration
	Logger      *slog.Logger
	// Observe, when set, is told how long each search took, by kind (accounts,
	// statuses, hashtags, experts), for the instance's metrics.
	Observe func(kind string, took time.Duration)
}

// Searcher answers searches from the index, checked against the domain.
type Searcher struct {
	ix      *Index
	c       *community.Service
	indexer *Indexer
	peers   Peers
	timeout time.Duration
	log     *slog.Logger
	observe func(kind string, took time.Duration)
}

// NewSearcher returns a Searcher.
func NewSearcher(opt Options) *Searcher {
	s := &Searcher{ix: opt.Index, c: opt.Community, indexer: opt.Indexer, peers: opt.Peers,
		timeout: opt.PeerTimeout, log: opt.Logger, observe: opt.Observe}
	if s.timeout <= 0 {
		s.timeout = DefaultPeerTimeout
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Host is this instance's host, which answers count as "instance" for local people.
func (s *Searcher) Host() string { return s.c.Host() }

// timed reports a search's duration to Options.Observe: defer s.timed(kind, time.Now()).
func (s *Searcher) timed(kind string, start time.Time) {
	if s.observe != nil {
		s.observe(kind, time.Since(start))
	}
}

// stale removes documents whose rows are gone (see Indexer).
func (s *Searcher) stale(kind string, ids []int64) {
	if s.indexer != nil && len(ids) > 0 {
		s.indexer.forget(kind, ids)
	}
}

// AccountQuery is a search for people by name (or by what they know).
type AccountQuery struct {
	Text   string
	Viewer community.Viewer
	// Following keeps only accounts the viewer follows.
	Following     bool
	Limit, Offset int
	// Company asks the peers too (for a logged-in local viewer).
	Company bool
}

// AccountResult is what an account search found.
type AccountResult struct {
	Accounts []*community.Account
	// Unanswered lists the peers that did not answer in time.
	Unanswered []string
}

// scoredAccount is an account found by a search, with its relevance (comparable across
// instances) and its Bleve score on the instance that found it (for ties).
type scoredAccount struct {
	account   *community.Account
	relevance float64
	score     float64
}

// Accounts finds people whose name, or what they know, matches the text: here and, for
// a company-wide search, on every peer.
func (s *Searcher) Accounts(ctx context.Context, q AccountQuery) (AccountResult, error) {
	defer s.timed("accounts", time.Now())
	res := AccountResult{Accounts: []*community.Account{}, Unanswered: []string{}}
	qterms := terms(s.ix.words, q.Text)
	if len(qterms) == 0 || q.Limit <= 0 || (q.Following && q.Viewer.AccountID() == 0) {
		return res, nil
	}
	window := q.Offset + q.Limit
	local, err := s.localAccounts(ctx, q.Viewer, q.Text, qterms, q.Following, false, window)
	if err != nil {
		return res, err
	}
	all := local
	me := q.Viewer.Account
	if q.Company && s.peers != nil && me != nil && me.IsLocal() && !q.Following {
		var remote []*community.Account
		remote, res.Unanswered = s.askPeersAccounts(ctx, me, q.Text, window)
		// A person's own instance knows best who may be found there (it knows whom it
		// suspended, who opted out of discovery): its answer replaces this instance's
		// copies of its people, as for experts.
		answered := map[string]bool{}
		for _, h := range s.peers.PeerHosts() {
			answered[strings.ToLower(h)] = true
		}
		for _, h := range res.Unanswered {
			delete(answered, strings.ToLower(h))
		}
		all = slices.DeleteFunc(all, func(a scoredAccount) bool {
			return !a.account.IsLocal() && answered[a.account.Domain]
		})
		ids := make([]int64, 0, len(remote))
		for _, a := range remote {
			ids = append(ids, a.ID)
		}
		// Blocks are this instance's knowledge: the domain filters peers' answers too.
		allowed, err := s.c.SearchableAccounts(ctx, q.Viewer, ids, false)
		if err != nil {
			return res, err
		}
		scored, err := s.scoreAccounts(ctx, qterms, allowed, nil)
		if err != nil {
			return res, err
		}
		all = mergeAccounts(all, scored)
	}
	sortAccounts(all)
	// The person whose handle was typed comes first, as in Mastodon.
	slices.SortStableFunc(all, func(a, b scoredAccount) int {
		return cmp.Compare(b2i(s.namesHandle(q.Text, b.account)), b2i(s.namesHandle(q.Text, a.account)))
	})
	for i := q.Offset; i < len(all) && i < window; i++ {
		res.Accounts = append(res.Accounts, all[i].account)
	}
	return res, nil
}

// PeerAccounts answers a peer's account search: this instance's own people only.
func (s *Searcher) PeerAccounts(ctx context.Context, v community.Viewer, text string, limit int) ([]*community.Account, error) {
	qterms := terms(s.ix.words, text)
	if len(qterms) == 0 || limit <= 0 {
		return []*community.Account{}, nil
	}
	found, err := s.localAccounts(ctx, v, text, qterms, false, true, limit)
	if err != nil {
		return nil, err
	}
	sortAccounts(found)
	out := make([]*community.Account, 0, len(found))
	for _, f := range found {
		out = append(out, f.account)
	}
	return out, nil
}

// localAccounts searches the people index and keeps what the domain lets the viewer
// see. Someone who opted out of discovery is found only by their exact username or
// handle (text), as in Mastodon: never by words of their name or profile.
func (s *Searcher) localAccounts(ctx context.Context, v community.Viewer, text string, qterms []string, following, localOnly bool, size int) ([]scoredAccount, error) {
	f := peopleFilter{localOnly: localOnly}
	if me := v.AccountID(); me != 0 {
		aud, err := s.c.Audience(ctx, me)
		if err != nil {
			return nil, err
		}
		f.exclude = aud.BlockedBy
		if following {
			f.only = append([]int64{}, aud.Following...)
		}
	}
	// Ordered by score alone: a second sort field is read for every match, which would
	// cost more than the search; ties are ordered below.
	hits, err := s.ix.run(ctx, kindPeople, f.apply(allTerms(qterms, peopleByName)), 0, size, nil)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(hits))
	bleveScore := make(map[int64]float64, len(hits))
	for i, h := range hits {
		ids[i] = h.id
		bleveScore[h.id] = h.score
	}
	// The account a handle names is found from the database, not the index: an account
	// made a moment ago is not indexed yet, and "follow @bob" must work at once.
	if looksLikeHandle(text) {
		if a, err := s.c.LookupAccountFor(ctx, v, strings.TrimSpace(text)); err == nil && !slices.Contains(ids, a.ID) {
			ids = append(ids, a.ID)
		}
	}
	accounts, err := s.c.SearchableAccounts(ctx, v, ids, following)
	if err != nil {
		return nil, err
	}
	s.forgetMissingAccounts(ctx, ids, accounts)
	accounts = slices.DeleteFunc(accounts, func(a *community.Account) bool {
		return (localOnly && !a.IsLocal()) || (!a.Discoverable && !s.namesHandle(text, a))
	})
	return s.scoreAccounts(ctx, qterms, accounts, bleveScore)
}

// looksLikeHandle reports whether text could be a username or handle ("bob", "@bob",
// "bob@sales.example"), rather than words to search for.
func looksLikeHandle(text string) bool {
	user, host, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(text), "@"), "@")
	if user == "" || strings.ContainsAny(host, "@ \t") {
		return false
	}
	for _, r := range user {
		if !(r == '_' || r == '.' || r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// namesHandle reports whether text is exactly a's username or handle ("user",
// "@user", "user@host"; this instance's host names its own people).
func (s *Searcher) namesHandle(text string, a *community.Account) bool {
	user, host, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(text), "@"), "@")
	if !strings.EqualFold(user, a.Username) {
		return false
	}
	if host == "" {
		return true
	}
	if a.IsLocal() {
		return strings.EqualFold(host, s.c.Host())
	}
	return strings.EqualFold(host, a.Domain)
}

// forgetMissingAccounts drops from the index the people a search found (ids) who no
// longer exist. Only those the domain did not return (found) are checked: usually none.
func (s *Searcher) forgetMissingAccounts(ctx context.Context, ids []int64, found []*community.Account) {
	if s.indexer == nil || len(ids) == 0 {
		return
	}
	kept := make(map[int64]bool, len(found))
	for _, a := range found {
		kept[a.ID] = true
	}
	var unsure []int64
	for _, id := range ids {
		if !kept[id] {
			unsure = append(unsure, id)
		}
	}
	if len(unsure) == 0 {
		return
	}
	exists, err := s.c.ExistingIDs(ctx, "accounts", unsure)
	if err != nil {
		return
	}
	var gone []int64
	for _, id := range unsure {
		if !exists[id] {
			gone = append(gone, id)
		}
	}
	s.stale(kindPeople, gone)
}

// scoreAccounts computes the relevance of each account to the typed terms.
func (s *Searcher) scoreAccounts(ctx context.Context, qterms []string, accounts []*community.Account, bleveScore map[int64]float64) ([]scoredAccount, error) {
	ids := make([]int64, len(accounts))
	for i, a := range accounts {
		ids[i] = a.ID
	}
	featured, err := s.c.FeaturedTagNames(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]scoredAccount, 0, len(accounts))
	for _, a := range accounts {
		p := Profile{Account: a, FeaturedTags: featured[a.ID]}
		out = append(out, scoredAccount{account: a, relevance: s.relevance(qterms, p), score: bleveScore[a.ID]})
	}
	return out, nil
}

// relevance mirrors the people query: for each typed term, its best match in the name
// (weight 4), declared expertise (2) or the rest of the profile (0.5), exact over
// prefix over typo. It depends only on the person and the words typed, so that every
// instance computes the same value for the same person.
func (s *Searcher) relevance(qterms []string, p Profile) float64 {
	name := terms(s.ix.words, names(p.Account))
	declared := terms(s.ix.words, strings.Join(p.declared(), " "))
	about := terms(s.ix.words, p.about())
	sum := 0.0
	for _, q := range qterms {
		one := []string{q}
		sum += max(4*coverage(one, name), 2*coverage(one, declared), 0.5*coverage(one, about))
	}
	return sum
}

// mergeAccounts adds found accounts not yet in list.
func mergeAccounts(list, more []scoredAccount) []scoredAccount {
	seen := make(map[int64]bool, len(list))
	for _, a := range list {
		seen[a.account.ID] = true
	}
	for _, a := range more {
		if !seen[a.account.ID] {
			seen[a.account.ID] = true
			list = append(list, a)
		}
	}
	return list
}

// sortAccounts orders by relevance, then the Bleve score, then followers.
func sortAccounts(list []scoredAccount) {
	slices.SortStableFunc(list, func(a, b scoredAccount) int {
		if c := cmp.Compare(b.relevance, a.relevance); c != 0 {
			return c
		}
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.account.FollowersCount, a.account.FollowersCount); c != 0 {
			return c
		}
		return cmp.Compare(a.account.ID, b.account.ID)
	})
}

// StatusQuery is a full-text search of posts.
type StatusQuery struct {
	Text   string
	Viewer community.Viewer
	// AccountID keeps only posts of this author (0: any).
	AccountID     int64
	Limit, Offset int
}

// Statuses finds posts the viewer may read that contain every word typed, best match
// first, then newest.
func (s *Searcher) Statuses(ctx context.Context, q StatusQuery) ([]community.Status, error) {
	defer s.timed("statuses", time.Now())
	pterms := terms(s.ix.text, q.Text)
	if len(pterms) == 0 || q.Limit <= 0 {
		return []community.Status{}, nil
	}
	aud, err := s.audienceOf(ctx, q.Viewer)
	if err != nil {
		return nil, err
	}
	f := postFilter{audience: aud, author: q.AccountID}
	// Ordered by score alone: ordering by a second field reads that field's values for
	// every match, which costs more than the rest of the query; equal scores are
	// ordered newest first below.
	hits, err := s.ix.run(ctx, kindPosts, f.apply(s.ix.postsMatch(ctx, pterms)), q.Offset, q.Limit, nil)
	if err != nil {
		return nil, err
	}
	score := make(map[int64]float64, len(hits))
	for _, h := range hits {
		score[h.id] = h.score
	}
	visible, _, err := s.visiblePosts(ctx, q.Viewer, hits, false)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(visible, func(a, b community.Status) int {
		if c := cmp.Compare(score[b.ID], score[a.ID]); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return visible, nil
}

// visiblePosts loads the posts found, in order, and keeps those the domain lets the
// viewer read. It also returns the rows by id. With light, the rows lack their text
// (community.StatusAudiences).
func (s *Searcher) visiblePosts(ctx context.Context, v community.Viewer, hits []hit, light bool) ([]community.Status, map[int64]*community.Status, error) {
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	load := s.c.Unchecked().StatusesByID
	if light {
		load = s.c.StatusAudiences
	}
	rows, err := load(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	ordered := make([]community.Status, 0, len(rows))
	var gone []int64
	for _, id := range ids {
		if st := rows[id]; st != nil {
			ordered = append(ordered, *st)
		} else {
			gone = append(gone, id)
		}
	}
	s.stale(kindPosts, gone)
	visible, err := s.c.FilterVisible(ctx, v, ordered)
	if err != nil {
		return nil, nil, err
	}
	return visible, rows, nil
}

// Tags finds hashtags by name (typed without "#"), of posts the viewer may read.
func (s *Searcher) Tags(ctx context.Context, v community.Viewer, name string, limit, offset int) ([]community.Tag, error) {
	defer s.timed("hashtags", time.Now())
	tterms := terms(s.ix.words, name)
	if len(tterms) == 0 || limit <= 0 {
		return []community.Tag{}, nil
	}
	// Hashtags are few and short: every prefix counts, and ties go in name order, so
	// the whole window is read and ordered here.
	hits, err := s.ix.run(ctx, kindTags, allTerms(tterms, tagFields), 0, offset+limit+maxTagTies, []string{"-_score", "_id"})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(hits))
	score := make(map[int64]float64, len(hits))
	for i, h := range hits {
		ids[i], score[h.id] = h.id, h.score
	}
	tags, err := s.c.VisibleTags(ctx, v, ids)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(tags, func(a, b community.Tag) int {
		if c := cmp.Compare(score[b.ID], score[a.ID]); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if offset >= len(tags) {
		return []community.Tag{}, nil
	}
	return tags[offset:min(len(tags), offset+limit)], nil
}

// maxTagTies is how many hashtags beyond the page are read so that equally good
// matches are ordered by name rather than by when they were indexed.
const maxTagTies = 40
