package search

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/tacit-social/tacit/community"
)

// Bleve queries. A typed term matches an indexed term exactly, as a prefix (what is
// typed so far, for as-you-type search) or within a small edit distance (typos); an
// exact match scores highest. Fields are weighted: a person's name over what they
// declare they know over the rest of their profile.

// termQuery matches one typed term in one field, in the three ways, with field weight w.
func termQuery(field, term string, w float64, prefixFrom int) query.Query {
	exact := bleve.NewTermQuery(term)
	exact.SetField(field)
	exact.SetBoost(3 * w)
	qs := []query.Query{exact}
	if utf8.RuneCountInString(term) >= prefixFrom {
		p := bleve.NewPrefixQuery(term)
		p.SetField(field)
		p.SetBoost(1.5 * w)
		qs = append(qs, p)
	}
	if fz := fuzziness(term); fz > 0 {
		f := bleve.NewFuzzyQuery(term)
		f.SetField(field)
		f.SetFuzziness(fz)
		f.SetPrefix(1)
		f.SetBoost(w)
		qs = append(qs, f)
	}
	if len(qs) == 1 {
		return exact
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// fieldWeight is a field searched with a weight.
type fieldWeight struct {
	field string
	w     float64
}

// anyField matches a term in any of the fields.
func anyField(term string, fields []fieldWeight, prefixFrom int) query.Query {
	if len(fields) == 1 {
		return termQuery(fields[0].field, term, fields[0].w, prefixFrom)
	}
	qs := make([]query.Query, 0, len(fields))
	for _, f := range fields {
		qs = append(qs, termQuery(f.field, term, f.w, prefixFrom))
	}
	return bleve.NewDisjunctionQuery(qs...)
}

// allTerms requires every term to match in some field; anyTerm requires one.
func allTerms(ts []string, fields []fieldWeight, prefixFrom int) query.Query {
	qs := make([]query.Query, 0, len(ts))
	for _, t := range ts {
		qs = append(qs, anyField(t, fields, prefixFrom))
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return bleve.NewConjunctionQuery(qs...)
}

func anyTerm(ts []string, fields []fieldWeight, prefixFrom int) query.Query {
	qs := make([]query.Query, 0, len(ts))
	for _, t := range ts {
		qs = append(qs, anyField(t, fields, prefixFrom))
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

// Fields and weights of the searches.
var (
	// Looking someone up by name: names first, but what they know finds them too.
	peopleByName = []fieldWeight{{fieldName, 4}, {fieldExpertise, 2}, {fieldAbout, 0.5}}
	// Looking for who knows something: declared expertise first.
	peopleByTopic = []fieldWeight{{fieldExpertise, 3}, {fieldAbout, 1}}
	postFields    = []fieldWeight{{fieldText, 1}, {fieldTags, 2}}
	tagFields     = []fieldWeight{{fieldName, 1}}
)

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

// audience is the prefilter of posts for one viewer: it states the domain's rule
// (community.Service.ReadableScopes and FilterVisible) so that the index returns few
// posts the viewer may not read. It never decides alone: every post found is checked
// by the domain before it is shown or counted.
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

// filter builds the prefilter query.
func (a audience) filter() (must query.Query, mustNot query.Query) {
	var scoped []query.Query
	var department bool
	var wide []string
	for _, sc := range a.scopes {
		if sc == community.ScopeDepartment {
			department = true
		} else {
			wide = append(wide, string(sc))
		}
	}
	scopeQ := keywordIn(fieldScope, wide...)
	if department {
		// Department posts are readable only where they were written.
		scopeQ = bleve.NewDisjunctionQuery(scopeQ,
			bleve.NewConjunctionQuery(keywordIn(fieldScope, string(community.ScopeDepartment)), boolIs(fieldLocal, true)))
	}
	scoped = append(scoped, bleve.NewConjunctionQuery(
		keywordIn(fieldVisibility, string(community.VisibilityPublic), string(community.VisibilityUnlisted)), scopeQ))
	switch {
	case a.me == 0:
	case len(a.following) <= maxFollowTerms:
		if len(a.following) > 0 {
			scoped = append(scoped, bleve.NewConjunctionQuery(
				keywordIn(fieldVisibility, string(community.VisibilityPrivate)), scopeQ,
				keywordIn(fieldAuthor, idStrings(a.following)...)))
		}
	default:
		// Naming hundreds of authors costs more than it saves: followers-only posts
		// all pass here, and the domain keeps those of the authors the viewer follows.
		scoped = append(scoped, bleve.NewConjunctionQuery(
			keywordIn(fieldVisibility, string(community.VisibilityPrivate)), scopeQ))
	}
	if a.me != 0 {
		scoped = append(scoped, keywordIn(fieldAuthor, community.FormatID(a.me)))
	}
	must = bleve.NewDisjunctionQuery(scoped...)
	if len(a.blockedBy) > 0 {
		mustNot = keywordIn(fieldAuthor, idStrings(a.blockedBy)...)
	}
	return must, mustNot
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
	must, not := f.audience.filter()
	conds := []query.Query{must}
	if f.author != 0 {
		conds = append(conds, keywordIn(fieldAuthor, community.FormatID(f.author)))
	}
	if f.localOnly {
		conds = append(conds, boolIs(fieldLocal, true))
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(match)
	b.AddFilter(bleve.NewConjunctionQuery(conds...))
	if not != nil {
		b.AddMustNot(not)
	}
	return b
}
