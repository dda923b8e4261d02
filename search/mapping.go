package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/edgengram"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
)

// mappingVersion changes whenever a mapping or the documents change shape; an index
// written with another version is rebuilt from the database when it is opened.
const mappingVersion = 4

// maxIndexedPrefix is the longest name prefix indexed as a term; longer ones are
// matched by expanding the prefix.
const maxIndexedPrefix = 15

// Analyzers. Words are split on Unicode word boundaries, lowercased, and folded to ASCII
// ("José" is found as "jose"); post text also drops English stop words, which are most
// of its terms and carry no expertise. Nothing is stemmed: prefix and fuzzy queries
// already find "deploying" from "deploy", and stems would make them less predictable.
const (
	analyzerWords     = "tacit_words"
	analyzerText      = "tacit_text"
	analyzerPrefixes  = "tacit_prefixes"
	filterPrefixes    = "tacit_edge_ngrams"
	analyzerKeyword   = keyword.Name
	fieldName         = "name"
	fieldNamePrefix   = "name_prefix"
	fieldExpertise    = "expertise"
	fieldAbout        = "about"
	fieldLocal        = "local"
	fieldDiscoverable = "discoverable"
	fieldText         = "text"
	fieldTags         = "tags"
	fieldAuthor       = "author"
	fieldVisibility   = "visibility"
	fieldScope        = "scope"
)

func addAnalyzers(m *mapping.IndexMappingImpl) error {
	if err := m.AddCustomAnalyzer(analyzerWords, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name},
	}); err != nil {
		return fmt.Errorf("search: analyzer %s: %w", analyzerWords, err)
	}
	// Names are typed a few letters at a time: every prefix of every word of a name is
	// indexed as a term of its own, so that looking up "kat" is one term, not an
	// expansion to every name starting with it.
	if err := m.AddCustomTokenFilter(filterPrefixes, map[string]any{
		"type": edgengram.Name, "min": float64(minPrefix), "max": float64(maxIndexedPrefix),
	}); err != nil {
		return fmt.Errorf("search: token filter %s: %w", filterPrefixes, err)
	}
	if err := m.AddCustomAnalyzer(analyzerPrefixes, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name, filterPrefixes},
	}); err != nil {
		return fmt.Errorf("search: analyzer %s: %w", analyzerPrefixes, err)
	}
	if err := m.AddCustomAnalyzer(analyzerText, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": []any{lowercase.Name, en.StopName},
	}); err != nil {
		return fmt.Errorf("search: analyzer %s: %w", analyzerText, err)
	}
	return nil
}

// A lean mapping: nothing is stored (results are loaded from the database, which stays
// the authority on content and visibility), no _all field, no term vectors except where
// a field is searched with phrases (none are). Each field is declared; anything else in
// a document is ignored.
func newMapping(fields func(doc *mapping.DocumentMapping)) (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if err := addAnalyzers(m); err != nil {
		return nil, err
	}
	m.DefaultAnalyzer = analyzerWords
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	doc := bleve.NewDocumentStaticMapping()
	fields(doc)
	m.DefaultMapping = doc
	return m, nil
}

func textField(analyzer string) *mapping.FieldMapping {
	f := bleve.NewTextFieldMapping()
	f.Analyzer = analyzer
	f.Store = false
	f.IncludeInAll = false
	f.IncludeTermVectors = false
	f.DocValues = false
	return f
}

func keywordField() *mapping.FieldMapping {
	f := textField(analyzerKeyword)
	return f
}

func boolField() *mapping.FieldMapping {
	f := bleve.NewBooleanFieldMapping()
	f.Store = false
	f.IncludeInAll = false
	f.DocValues = false
	return f
}

// peopleMapping: accounts, local and remote.
func peopleMapping() (*mapping.IndexMappingImpl, error) {
	return newMapping(func(doc *mapping.DocumentMapping) {
		doc.AddFieldMappingsAt(fieldName, textField(analyzerWords))
		doc.AddFieldMappingsAt(fieldNamePrefix, textField(analyzerPrefixes))
		doc.AddFieldMappingsAt(fieldExpertise, textField(analyzerWords))
		doc.AddFieldMappingsAt(fieldAbout, textField(analyzerWords))
		doc.AddFieldMappingsAt(fieldLocal, boolField())
		doc.AddFieldMappingsAt(fieldDiscoverable, boolField())
	})
}

// postsMapping: statuses (not reblogs), with the audience fields the prefilter uses.
func postsMapping() (*mapping.IndexMappingImpl, error) {
	return newMapping(func(doc *mapping.DocumentMapping) {
		doc.AddFieldMappingsAt(fieldText, textField(analyzerText))
		doc.AddFieldMappingsAt(fieldTags, keywordField())
		doc.AddFieldMappingsAt(fieldAuthor, keywordField())
		doc.AddFieldMappingsAt(fieldVisibility, keywordField())
		doc.AddFieldMappingsAt(fieldScope, keywordField())
		doc.AddFieldMappingsAt(fieldLocal, boolField())
	})
}

// tagsMapping: hashtag names.
func tagsMapping() (*mapping.IndexMappingImpl, error) {
	return newMapping(func(doc *mapping.DocumentMapping) {
		doc.AddFieldMappingsAt(fieldName, textField(analyzerWords))
	})
}
