package search

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/tacit-social/tacit/community"
)

// Bleve queries. A typed term matches an indexed term exactly, as a prefix (what is
// typed so far, for as-you-type search) or within a small edit distance (typos); an
// exact match scores highest. Fields are weighted: a person's name over what they
// declare they know over the rest of their profile.

// fieldWeight is a field searched with a weight, and how its terms may match.
type fieldWeight struct {
	field string
	w     float64
	// prefixFrom is the shortest typed term matched as a prefix; 0 never.
	prefixFrom int
	// prefixField, when set, holds every prefix of the field's words as terms (see
	// analyzerPrefixes): a prefix is then one term lookup instead of an expansion.
	prefixField string
	// fuzzy matches terms within the edit distance of fuzziness.
	fuzzy bool
}

// termQuery matches one typed term in one field: exactly (scored highest), as a prefix,
// within a small edit distance.
func termQuery(term string, f fieldWeight) query.Query {
	exact := bleve.NewTermQuery(term)
	exact.SetField(f.field)
	exact.SetBoost(3 * f.w)
	qs := []query.Query{exact}
	if n := utf8.RuneCountInString(term); f.prefixFrom > 0 && n >= f.prefixFrom {
		if f.prefixField != "" && n <= maxIndexedPrefix {
			p := bleve.NewTermQuery(term)
			p.SetField(f.prefixField)
			p.SetBoost(1.5 * f.w)
			qs = append(qs, p)
		} else {
			p := bleve.NewPrefixQuery(term)
			p.SetField(f.field)
			p.SetBoost(1.5 * f.w)
			qs = append(qs, p)
		}
	}
	if fz := fuzziness(term); f.fuzzy && fz > 0 {
		q := bleve.NewFuzzyQuery(term)
		q.SetField(f.field)
		q.SetFuzziness(fz)
		q.SetPrefix(1)
		q.SetBoost(f.w)
		qs = append(qs, q)
	}
	if len(qs) == 1 {
		return exact
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// anyField matches a term in any of the fields.
func anyField(term string, fields []fieldWeight) query.Query {
	if len(fields) == 1 {
		return termQuery(term, fields[0])
	}
	qs := make([]query.Query, 0, len(fields))
	for _, f := range fields {
		qs = append(qs, termQuery(term, f))
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// allTerms requires every term to match in some field; anyTerm requires one.
func allTerms(ts []string, fields []fieldWeight) query.Query {
	qs := make([]query.Query, 0, len(ts))
	for _, t := range ts {
		qs = append(qs, anyField(t, fields))
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
}

func anyTerm(ts []string, fields []fieldWeight) query.Query {
	qs := make([]query.Query, 0, len(ts))
	for _, t := range ts {
		qs = append(qs, anyField(t, fields))
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func boolIs(field string, v bool) query.Query {
	q := bleve.NewBoolFieldQuery(v)
	q.SetField(field)
	return q
}

func keywordIn(field string, values ...string) query.Query {
	if len(values) == 1 {
		q := bleve.NewTermQuery(values[0])
		q.SetField(field)
		return q
	}
	qs := make([]query.Query, 0, len(values))
	for _, v := range values {
		q := bleve.NewTermQuery(v)
		q.SetField(field)
		qs = append(qs, q)
	}
	return bleve.NewDisjunctionQuery(qs...)
}

func idStrings(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = community.FormatID(id)
	}
	return out
}

// hit is one document found, with its Bleve score.
type hit struct {
	id    int64
	score float64
}

// run executes a query on one index.
func (ix *Index) run(ctx context.Context, kind string, q query.Query, from, size int, sort []string) ([]hit, error) {
	req := bleve.NewSearchRequestOptions(q, size, from, false)
	if len(sort) > 0 {
		req.SortBy(sort)
	}
	res, err := ix.idx[kind].SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search: query %s: %w", kind, err)
	}
	out := make([]hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		if id, ok := community.ParseID(h.ID); ok {
			out = append(out, hit{id: id, score: h.Score})
		}
	}
	return out, nil
}

// Fields and weights of the searches. Big dictionaries (the words of notes and posts)
// are not expanded by short prefixes: that would mean thousands of terms per query.
var (
	// Looking someone up by name: names first, but what they know finds them too.
	peopleByName = []fieldWeight{
		{field: fieldName, w: 4, prefixFrom: minPrefix, prefixField: fieldNamePrefix, fuzzy: true},
		{field: fieldExpertise, w: 2, prefixFrom: 3, fuzzy: true},
		{field: fieldAbout, w: 0.5},
	}
	// Looking for who knows something: declared expertise first.
	peopleByTopic = []fieldWeight{
		{field: fieldExpertise, w: 3, prefixFrom: 3, fuzzy: true},
		{field: fieldAbout, w: 1, fuzzy: true},
	}
	postFields = []fieldWeight{
		{field: fieldText, w: 1, prefixFrom: 4, fuzzy: true},
		{field: fieldTags, w: 2, prefixFrom: 4},
	}
	tagFields = []fieldWeight{{field: fieldName, w: 1, prefixFrom: 1, fuzzy: true}}
)

// postsMatch matches posts containing every term. A word the index knows is matched as
// typed; one it does not know is taken for a typo or an unfinished word and matched by
// prefix and edit distance. Expanding known words too would add every rarer word a
// letter away from a common one, for little: the dictionary of posts is large, and an
// expansion is a posting list to walk per word found.
func (ix *Index) postsMatch(ctx context.Context, ts []string) query.Query {
	qs := make([]query.Query, 0, len(ts))
	for _, t := range ts {
		if ix.docFreq(ctx, kindPosts, fieldText, t) > 0 {
			// A hashtag's word is in the text too: one posting list to walk.
			qs = append(qs, termQuery(t, fieldWeight{field: fieldText, w: 1}))
			continue
		}
		qs = append(qs, anyField(t, postFields))
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
}

// docFreq is the number of documents of an index whose field holds term (0 on error).
func (ix *Index) docFreq(ctx context.Context, kind, field, term string) uint64 {
	adv, err := ix.idx[kind].Advanced()
	if err != nil {
		return 0
	}
	r, err := adv.Reader()
	if err != nil {
		return 0
	}
	defer r.Close()
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, false, false, false)
	if err != nil {
		return 0
	}
	defer tfr.Close()
	return tfr.Count()
}

// peopleFilter narrows people searches.
type peopleFilter struct {
	localOnly    bool
	discoverable bool
	only         []int64 // when not nil, only these accounts
	exclude      []int64
}

func (f peopleFilter) apply(match query.Query) query.Query {
	var must, not []query.Query
	if f.localOnly {
		must = append(must, boolIs(fieldLocal, true))
	}
	if f.discoverable {
		must = append(must, boolIs(fieldDiscoverable, true))
	}
	if f.only != nil {
		must = append(must, bleve.NewDocIDQuery(idStrings(f.only)))
	}
	if len(f.exclude) > 0 {
		not = append(not, bleve.NewDocIDQuery(idStrings(f.exclude)))
	}
	if len(must) == 0 && len(not) == 0 {
		return match
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(match)
	if len(must) > 0 {
		b.AddFilter(bleve.NewConjunctionQuery(must...))
	}
	if len(not) > 0 {
		b.AddMustNot(not...)
	}
	return b
}

// audience is the prefilter of posts for one viewer. It states the domain's rule
// (community.Service.ReadableScopes and FilterVisible) as exclusions of what the viewer
// can never read, so that the index returns few posts the viewer may not see; it never
// decides alone: every post found is checked by the domain before it is shown or
// counted. Followers-only posts pass it (whether the viewer follows their author is the
// domain's check), unless the viewer follows few enough people to name them. Direct
// messages are never searched: they are conversations, not knowledge to be found.
type audience struct {
	me        int64 // 0 when logged out or asking as a server
	scopes    []community.Scope
	following []int64
	blockedBy []int64
}

func (s *Searcher) audienceOf(ctx context.Context, v community.Viewer) (audience, error) {
	a := audience{me: v.AccountID(), scopes: s.c.ReadableScopes(v)}
	if a.me == 0 {
		return a, nil
	}
	aud, err := s.c.Audience(ctx, a.me)
	if err != nil {
		return a, err
	}
	a.following, a.blockedBy = aud.Following, aud.BlockedBy
	return a, nil
}

// exclusions builds the prefilter: queries matching the posts the viewer can never
// read. Exclusions, because what a viewer may read is most of the index: a filter
// naming it would walk most of every posting list, while the excluded classes (direct
// messages, other scopes, followers-only posts of strangers) are small. They are plain
// terms where possible, which Bleve merges into one bitmap when it filters.
func (a audience) exclusions() []query.Query {
	readable := map[community.Scope]bool{}
	for _, sc := range a.scopes {
		readable[sc] = true
	}
	not := []query.Query{keywordIn(fieldScope, scopeRemoteDepartment), keywordIn(fieldVisibility, string(community.VisibilityDirect))}
	for _, sc := range []community.Scope{community.ScopeWorld, community.ScopeCompany, community.ScopeDepartment} {
		if !readable[sc] {
			not = append(not, keywordIn(fieldScope, string(sc)))
		}
	}
	switch {
	case a.me == 0:
		not = append(not, keywordIn(fieldVisibility, string(community.VisibilityPrivate)))
	case len(a.following) <= maxFollowTerms:
		b := bleve.NewBooleanQuery()
		b.AddMust(keywordIn(fieldVisibility, string(community.VisibilityPrivate)))
		b.AddMustNot(keywordIn(fieldAuthor, idStrings(append([]int64{a.me}, a.following...))...))
		not = append(not, b)
	}
	for _, id := range a.blockedBy {
		not = append(not, keywordIn(fieldAuthor, community.FormatID(id)))
	}
	return not
}

// maxFollowTerms is the most followed authors the prefilter names; each is a term to
// look up in the index for every query.
const maxFollowTerms = 32

// postFilter narrows post searches.
type postFilter struct {
	audience  audience
	author    int64 // 0 for any
	localOnly bool
}

func (f postFilter) apply(match query.Query) query.Query {
	b := bleve.NewBooleanQuery()
	b.AddMust(match)
	var conds []query.Query
	if f.author != 0 {
		conds = append(conds, keywordIn(fieldAuthor, community.FormatID(f.author)))
	}
	if f.localOnly {
		conds = append(conds, boolIs(fieldLocal, true))
	}
	if len(conds) == 1 {
		b.AddFilter(conds[0])
	} else if len(conds) > 1 {
		b.AddFilter(bleve.NewConjunctionQuery(conds...))
	}
	var terms, other []query.Query
	for _, q := range f.audience.exclusions() {
		if _, ok := q.(*query.TermQuery); ok {
			terms = append(terms, q)
		} else {
			other = append(other, q)
		}
	}
	b.AddMustNot(append(other, unscored{bleve.NewDisjunctionQuery(terms...)})...)
	return b
}

// unscored runs a query without scoring. An exclusion's score is never used, and a
// disjunction of plain terms that needs no scores is merged by Bleve into one bitmap,
// which makes checking a match against it a lookup rather than advancing a searcher
// per term.
type unscored struct{ query.Query }

func (u unscored) Searcher(ctx context.Context, i index.IndexReader, m mapping.IndexMapping, options search.SearcherOptions) (search.Searcher, error) {
	options.Score = "none"
	options.IncludeTermVectors = false
	options.Explain = false
	return u.Query.Searcher(ctx, i, m, options)
}
