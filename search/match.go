package search

import (
	"slices"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
)

// How a typed word matches an indexed one. Bleve does the matching over the whole
// index; the same rules, applied here to the few candidates it returns, say which of a
// person's declared topics matched and give scores that do not depend on an instance's
// corpus, so that peers' answers can be merged.

// Match qualities.
const (
	matchExact  = 1.0
	matchPrefix = 0.8
	matchFuzzy  = 0.6
	// minPrefix is the shortest word matched as a prefix: one letter would match half
	// the dictionary.
	minPrefix = 2
)

// fuzziness is the edit distance tolerated for a word: none for words of up to four
// letters (each is one edit away from dozens of others, and while typing they are
// prefixes anyway), one for up to seven letters, two beyond.
func fuzziness(term string) int {
	switch n := utf8.RuneCountInString(term); {
	case n < 5:
		return 0
	case n < 8:
		return 1
	default:
		return 2
	}
}

// terms analyzes text into its distinct terms, in order.
func terms(a analysis.Analyzer, text string) []string {
	if a == nil || text == "" {
		return nil
	}
	var out []string
	for _, tok := range a.Analyze([]byte(text)) {
		t := string(tok.Term)
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// termScore is how well the typed term q matches the indexed term t.
func termScore(q, t string) float64 {
	switch {
	case q == t:
		return matchExact
	case utf8.RuneCountInString(q) >= minPrefix && len(t) > len(q) && t[:len(q)] == q:
		return matchPrefix
	}
	if fz := fuzziness(q); fz > 0 && firstRune(q) == firstRune(t) && withinDistance(q, t, fz) {
		return matchFuzzy
	}
	return 0
}

// coverage is the mean, over the typed terms, of the best match each finds among the
// target's terms: 1 when every term appears as typed.
func coverage(query, target []string) float64 {
	if len(query) == 0 || len(target) == 0 {
		return 0
	}
	sum := 0.0
	for _, q := range query {
		best := 0.0
		for _, t := range target {
			best = max(best, termScore(q, t))
		}
		sum += best
	}
	return sum / float64(len(query))
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// withinDistance reports whether the Levenshtein distance between a and b is at most k.
func withinDistance(a, b string, k int) bool {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > k || -d > k {
		return false
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)] <= k
}
