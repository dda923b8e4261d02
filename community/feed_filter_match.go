package community

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tacit-social/tacit/markup"
)

// Matching statuses against filters: a viewer's active filters are loaded once per
// list (or kept by the streaming hub) and applied to each status in memory.

// FilterSet is one account's active filters, ready to match statuses. A nil or empty
// set matches nothing.
type FilterSet struct {
	owner   int64
	filters []activeFilter
}

type activeFilter struct {
	filter   Filter
	keywords []FilterKeyword
	statuses map[int64]bool
}

// FilterMatch is a filter a status matched, with the keywords and status ids that did.
type FilterMatch struct {
	Filter    Filter
	Keywords  []string
	StatusIDs []int64
}

// ActiveFilters loads the filters of an account that have not expired (for accountID 0,
// the logged-out viewer, an empty set). It costs one query when the account has no
// filters, three otherwise.
func (s *Service) ActiveFilters(ctx context.Context, accountID int64) (*FilterSet, error) {
	sets, err := s.ActiveFiltersOf(ctx, []int64{accountID})
	if err != nil {
		return nil, err
	}
	return sets[accountID], nil
}

// ActiveFiltersOf loads the active filters of many accounts at once (live feeds serve
// many viewers): three queries per maxBatchIDs accounts at most. Every account asked
// for has a set in the answer, possibly empty.
func (s *Service) ActiveFiltersOf(ctx context.Context, accountIDs []int64) (map[int64]*FilterSet, error) {
	out := make(map[int64]*FilterSet, len(accountIDs))
	var ids []int64
	for _, id := range accountIDs {
		out[id] = &FilterSet{owner: id}
		if id != 0 {
			ids = append(ids, id)
		}
	}
	ids = uniqueIDs(ids)
	db := s.read(ctx)
	for len(ids) > 0 {
		batch := ids[:min(len(ids), maxBatchIDs)]
		ids = ids[len(batch):]
		var filters []Filter
		if err := db.Where("account_id IN ? AND (expires_at IS NULL OR expires_at > ?)", batch, s.clock()).
			Order("id").Find(&filters).Error; err != nil {
			return nil, fmt.Errorf("load filters: %w", err)
		}
		if len(filters) == 0 {
			continue
		}
		infos, err := s.filterInfos(db, filters)
		if err != nil {
			return nil, err
		}
		for _, f := range infos {
			af := activeFilter{filter: f.Filter, keywords: f.Keywords}
			if len(f.Statuses) > 0 {
				af.statuses = make(map[int64]bool, len(f.Statuses))
				for _, st := range f.Statuses {
					af.statuses[st.StatusID] = true
				}
			}
			fs := out[f.AccountID]
			fs.filters = append(fs.filters, af)
		}
	}
	return out, nil
}

// Empty reports whether the set has no filters.
func (fs *FilterSet) Empty() bool { return fs == nil || len(fs.filters) == 0 }

// hidesIn reports whether some filter of the set hides statuses in context fc.
func (fs *FilterSet) hidesIn(fc FilterContext) bool {
	if fs == nil {
		return false
	}
	for _, f := range fs.filters {
		if f.filter.Action == FilterHide && f.filter.Context.Has(fc) {
			return true
		}
	}
	return false
}

// FilterTarget is a status about to be matched against filters. Its text is extracted
// once, when a keyword first needs it, however many filter sets look at it (the
// streaming hub matches one status for every viewer), and not at all when none has
// keywords.
type FilterTarget struct {
	st    *Status
	text  string
	ready bool
}

// NewFilterTarget prepares st for matching. st must be the status itself, not a reblog
// of it.
func NewFilterTarget(st *Status) *FilterTarget { return &FilterTarget{st: st} }

// lowerText is what keywords match: the content warning and the content as plain text,
// lowercased. (Mastodon also matches poll options and media descriptions; Tacit does
// not yet.)
func (t *FilterTarget) lowerText() string {
	if !t.ready {
		t.text = strings.ToLower(t.st.SpoilerText + "\n" + markup.PlainText(t.st.Content))
		t.ready = true
	}
	return t.text
}

// Match returns the filters the target matches, in the order the filters were created.
// Like Mastodon it returns matches in every context: clients decide where a warning
// applies. Nobody's filters apply to their own statuses, and expired filters match
// nothing.
func (fs *FilterSet) Match(t *FilterTarget, now time.Time) []FilterMatch {
	st := t.st
	if fs.Empty() || st.AccountID == fs.owner {
		return nil
	}
	var out []FilterMatch
	for _, f := range fs.filters {
		if !f.filter.Active(now) {
			continue
		}
		m := FilterMatch{Filter: f.filter}
		if f.statuses[st.ID] {
			m.StatusIDs = []int64{st.ID}
		}
		for _, k := range f.keywords {
			if keywordIn(t.lowerText(), strings.ToLower(k.Keyword), k.WholeWord) {
				m.Keywords = append(m.Keywords, k.Keyword)
			}
		}
		if len(m.Keywords) > 0 || len(m.StatusIDs) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// Hides reports whether matches include a hiding filter for context fc.
func Hides(matches []FilterMatch, fc FilterContext) bool {
	for _, m := range matches {
		if m.Filter.Action == FilterHide && m.Filter.Context.Has(fc) {
			return true
		}
	}
	return false
}

// keywordIn reports whether keyword occurs in text (both lowercased). With wholeWord, an
// occurrence counts only if it is not glued to a letter, digit or underscore at an end
// where the keyword itself begins or ends with one, Mastodon's rule, applied with
// Unicode letters so that "café" is a whole word too.
func keywordIn(text, keyword string, wholeWord bool) bool {
	if keyword == "" {
		return false
	}
	if !wholeWord {
		return strings.Contains(text, keyword)
	}
	first, _ := utf8.DecodeRuneInString(keyword)
	last, _ := utf8.DecodeLastRuneInString(keyword)
	checkStart, checkEnd := isWordRune(first), isWordRune(last)
	for from := 0; from <= len(text)-len(keyword); {
		i := strings.Index(text[from:], keyword)
		if i < 0 {
			return false
		}
		start, end := from+i, from+i+len(keyword)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		if (!checkStart || start == 0 || !isWordRune(before)) && (!checkEnd || end == len(text) || !isWordRune(after)) {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		from = start + size
	}
	return false
}

func isWordRune(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// dropHidden removes from statuses those a hiding filter of fs covers in context fc. A
// reblog is judged by the status it shares, which it loads when needed.
func (s *Service) dropHidden(ctx context.Context, fs *FilterSet, fc FilterContext, statuses []Status) ([]Status, error) {
	if !fs.hidesIn(fc) || len(statuses) == 0 {
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
		if err := s.read(ctx).Where("id IN ?", uniqueIDs(originalIDs)).Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("load reblogged statuses: %w", err)
		}
		for i := range rows {
			originals[rows[i].ID] = &rows[i]
		}
	}
	now := s.clock()
	out := statuses[:0:0]
	for i := range statuses {
		proper := &statuses[i]
		if proper.ReblogOfID != nil {
			if o := originals[*proper.ReblogOfID]; o != nil {
				proper = o
			}
		}
		if Hides(fs.Match(NewFilterTarget(proper), now), fc) {
			continue
		}
		out = append(out, statuses[i])
	}
	return out, nil
}
