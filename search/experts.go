package search

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/markup"
)

// "Who knows X?"
//
// A person is an expert on X by what they declare (their expertise list, featured tags
// and expertise profile fields) and by what they write (posts about X, the more so when
// they use X as a hashtag and when others favourite them, replies especially). Bleve
// finds the candidates: people whose profile matches, and the authors of the posts that
// match and that the viewer may read. Each candidate gets a score that depends only on
// them and on what the viewer may see, not on the instance's corpus, so that the
// answers of several instances can be merged:
//
//	score = 4 × declared + 1 × profile + 2 × ln(1 + Σ post weights)
//
// declared is how well the best declared topic covers the words asked (1 when every
// word appears as typed; prefixes and typos count for less), profile the same over the
// rest of the profile, and each matching post weighs 1, ×1.5 when it uses a matching
// hashtag, +0.5·ln(1+favourites), and +0.5 more for a reply someone favourited (an
// answer others found useful).

// Evidence is why someone is an expert, as far as the viewer may see.
type Evidence struct {
	// Expertise are the declared topics that match.
	Expertise []string
	// FeaturedTags are the featured hashtags that match.
	FeaturedTags []string
	// Fields are the expertise profile fields that match (values are safe HTML).
	Fields []community.Field
	// Statuses are up to MaxEvidencePosts of their matching posts, best first.
	Statuses []EvidenceStatus
	// StatusesCount is how many matching posts of theirs the viewer may read (among
	// the best MaxPostCandidates matches of the search); HashtagCount how many of those
	// use a matching hashtag; FavouritesCount the favourites those posts received.
	StatusesCount   int
	HashtagCount    int
	FavouritesCount int64
}

// EvidenceStatus is a post shown as evidence. Content is safe HTML.
type EvidenceStatus struct {
	// ID is the post's id on this instance, 0 when it is not stored here (a peer's
	// post that never reached this instance).
	ID              int64
	URI, URL        string
	Content         string
	SpoilerText     string
	CreatedAt       time.Time
	Visibility      community.Visibility
	Scope           community.Scope
	Reply           bool
	FavouritesCount int64
	RepliesCount    int64
	Tags            []string
}

// Expert is a person found by "who knows X?".
type Expert struct {
	Account *community.Account
	Score   float64
	// Instance is the host of the person's instance.
	Instance string
	Evidence Evidence
}

// Limits of an experts search.
const (
	MaxEvidencePosts  = 3
	MaxPostCandidates = 100
	maxPeopleHits     = 30
	// MaxExperts bounds the limit a client may ask for.
	MaxExperts = 40
)

// LocalExperts answers "who knows text?" from this instance's index for viewer v. With
// localOnly (answering a peer) only this instance's own people are considered.
func (s *Searcher) LocalExperts(ctx context.Context, v community.Viewer, text string, limit int, localOnly bool) ([]Expert, error) {
	wterms := terms(s.ix.words, text)
	pterms := terms(s.ix.text, text)
	if len(wterms) == 0 || limit <= 0 {
		return []Expert{}, nil
	}
	// Candidates by profile, and by what they wrote that the viewer may read: two
	// independent searches, run at once.
	var (
		people, posts []hit
		visible       []community.Status
		tags          map[int64][]community.Tag
		peopleErr     error
		postsErr      error
		wg            sync.WaitGroup
	)
	wg.Go(func() {
		pf := peopleFilter{localOnly: localOnly, discoverable: true}
		people, peopleErr = s.ix.run(ctx, kindPeople, pf.apply(anyTerm(wterms, peopleByTopic)), 0, maxPeopleHits, nil)
	})
	wg.Go(func() {
		aud, err := s.audienceOf(ctx, v)
		if err != nil {
			postsErr = err
			return
		}
		if len(pterms) > 0 {
			f := postFilter{audience: aud, localOnly: localOnly}
			if posts, err = s.ix.run(ctx, kindPosts, f.apply(s.ix.postsMatch(ctx, pterms)), 0, MaxPostCandidates, nil); err != nil {
				postsErr = err
				return
			}
		}
		if visible, _, err = s.visiblePosts(ctx, v, posts, true); err != nil {
			postsErr = err
			return
		}
		ids := make([]int64, len(visible))
		for i, st := range visible {
			ids[i] = st.ID
		}
		tags, postsErr = s.c.StatusTags(ctx, ids)
	})
	wg.Wait()
	if err := errors.Join(peopleErr, postsErr); err != nil {
		return nil, err
	}
	postScore := make(map[int64]float64, len(posts))
	for _, h := range posts {
		postScore[h.id] = h.score
	}

	ids := make([]int64, 0, len(people)+len(visible))
	for _, h := range people {
		ids = append(ids, h.id)
	}
	byAuthor := map[int64][]community.Status{}
	for _, st := range visible {
		if len(byAuthor[st.AccountID]) == 0 {
			ids = append(ids, st.AccountID)
		}
		byAuthor[st.AccountID] = append(byAuthor[st.AccountID], st)
	}
	var (
		accounts    []*community.Account
		featured    map[int64][]string
		accountsErr error
		featuredErr error
	)
	wg.Go(func() { accounts, accountsErr = s.c.SearchableAccounts(ctx, v, ids, false) })
	wg.Go(func() { featured, featuredErr = s.c.FeaturedTagNames(ctx, ids) })
	wg.Wait()
	if err := errors.Join(accountsErr, featuredErr); err != nil {
		return nil, err
	}
	s.forgetMissingAccounts(ctx, ids[:len(people)], accounts)
	accounts = slices.DeleteFunc(accounts, func(a *community.Account) bool {
		return !a.Discoverable || a.Group || (localOnly && !a.IsLocal())
	})

	out := make([]Expert, 0, len(accounts))
	for _, a := range accounts {
		p := Profile{Account: a, FeaturedTags: featured[a.ID]}
		e := s.expert(wterms, p, byAuthor[a.ID], postScore, tags)
		if e.Score > 0 {
			out = append(out, e)
		}
	}
	SortExperts(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, s.fillEvidencePosts(ctx, out)
}

// fillEvidencePosts loads the text of the posts shown as evidence: candidates were
// ranked on their audience columns alone.
func (s *Searcher) fillEvidencePosts(ctx context.Context, experts []Expert) error {
	var ids []int64
	for _, e := range experts {
		for _, st := range e.Evidence.Statuses {
			ids = append(ids, st.ID)
		}
	}
	rows, err := s.c.Unchecked().StatusesByID(ctx, ids)
	if err != nil {
		return err
	}
	for i := range experts {
		list := experts[i].Evidence.Statuses[:0]
		for _, st := range experts[i].Evidence.Statuses {
			row := rows[st.ID]
			if row == nil {
				continue // deleted since
			}
			st.URI, st.URL, st.Content, st.SpoilerText = row.URI, row.URL, row.Content, row.SpoilerText
			st.RepliesCount = row.RepliesCount
			list = append(list, st)
		}
		experts[i].Evidence.Statuses = list
	}
	return nil
}

// expert scores one candidate and gathers the evidence.
func (s *Searcher) expert(qterms []string, p Profile, posts []community.Status, postScore map[int64]float64, tags map[int64][]community.Tag) Expert {
	a := p.Account
	e := Expert{Account: a, Instance: a.Domain}
	if a.IsLocal() {
		e.Instance = s.c.Host()
	}
	ev := &e.Evidence
	declared := 0.0
	for _, topic := range a.Expertise {
		if c := coverage(qterms, terms(s.ix.words, topic)); c > 0 {
			ev.Expertise = append(ev.Expertise, topic)
			declared = max(declared, c)
		}
	}
	for _, tag := range p.FeaturedTags {
		if c := coverage(qterms, terms(s.ix.words, tag)); c > 0 {
			ev.FeaturedTags = append(ev.FeaturedTags, tag)
			declared = max(declared, c)
		}
	}
	for _, f := range a.Fields {
		if !IsExpertiseField(f.Name) {
			continue
		}
		if c := coverage(qterms, terms(s.ix.words, markup.PlainText(f.Value))); c > 0 {
			ev.Fields = append(ev.Fields, community.Field{Name: f.Name, Value: f.Value})
			declared = max(declared, 0.8*c)
		}
	}
	profile := coverage(qterms, terms(s.ix.words, p.about()))

	// Posts, best evidence first.
	type weighed struct {
		st community.Status
		w  float64
	}
	list := make([]weighed, 0, len(posts))
	sum := 0.0
	for _, st := range posts {
		w := 1.0
		hashtag := false
		for _, t := range tags[st.ID] {
			if coverage(qterms, terms(s.ix.words, t.Name)) > 0 {
				hashtag = true
			}
		}
		if hashtag {
			w *= 1.5
			ev.HashtagCount++
		}
		w += 0.5 * math.Log1p(float64(st.FavouritesCount))
		if st.InReplyToID != nil && st.FavouritesCount > 0 {
			w += 0.5
		}
		sum += w
		ev.StatusesCount++
		ev.FavouritesCount += st.FavouritesCount
		list = append(list, weighed{st, w * (1 + postScore[st.ID])})
	}
	slices.SortStableFunc(list, func(x, y weighed) int { return cmp.Compare(y.w, x.w) })
	for i := 0; i < len(list) && i < MaxEvidencePosts; i++ {
		st := list[i].st
		var names []string
		for _, t := range tags[st.ID] {
			names = append(names, t.Name)
		}
		ev.Statuses = append(ev.Statuses, EvidenceStatus{
			ID: st.ID, URI: st.URI, URL: st.URL, Content: st.Content, SpoilerText: st.SpoilerText,
			CreatedAt: st.CreatedAt, Visibility: st.Visibility, Scope: st.Scope, Reply: st.InReplyToID != nil,
			FavouritesCount: st.FavouritesCount, RepliesCount: st.RepliesCount, Tags: names,
		})
	}
	e.Score = round(4*declared + profile + 2*math.Log1p(sum))
	return e
}

// round keeps scores readable and stable across instances' float formatting.
func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// SortExperts orders by score, then followers, then handle.
func SortExperts(list []Expert) {
	slices.SortStableFunc(list, func(a, b Expert) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Account.FollowersCount, a.Account.FollowersCount); c != 0 {
			return c
		}
		return strings.Compare(a.Account.Acct(), b.Account.Acct())
	})
}
