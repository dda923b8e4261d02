// Package search is Tacit's full-text search: Bleve indexes of people, posts and
// hashtags on disk, kept in step with the domain by its events, and the queries the
// client API asks of them, "who knows X?" first among them, across the company's
// instances. The index only finds candidates: results are loaded from the database and
// pass the domain's visibility rules before anyone sees them.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/tacit-social/tacit/community"
)

// ErrLocked reports that another process (usually the running server) holds the index.
var ErrLocked = errors.New("search: the index is in use by another process (is tacit serve running?)")

// Internal keys each Bleve index keeps beside its documents.
var (
	// keyState holds the index's indexState.
	keyState = []byte("tacit.state")
	// keyOpen is "1" while a process has the index open; finding it set at open time
	// means the last process did not close it (a crash), so deletions may be missing.
	keyOpen = []byte("tacit.open")
)

// indexState is what an index knows about its own contents.
type indexState struct {
	Version int `json:"version"`
	// Complete is set once a full build from the database has finished; an index
	// without it is rebuilt when opened.
	Complete bool `json:"complete"`
	// Cursor is the position in the database's change stream up to which every change
	// is in the index (see community.ChangeCursor).
	Cursor community.ChangeCursor `json:"cursor"`
}

// Kinds of documents, one Bleve index each, so that each has its own term statistics.
const (
	kindPeople = "people"
	kindPosts  = "posts"
	kindTags   = "tags"
)

var kinds = []string{kindPeople, kindPosts, kindTags}

// Index is one instance's search indexes, in one directory. One process at a time may
// open it.
type Index struct {
	dir    string
	unlock func() error
	idx    map[string]bleve.Index
	words  analysis.Analyzer
	text   analysis.Analyzer

	mu     sync.Mutex
	state  map[string]indexState
	closed bool
	// needsSweep is set when the index was not closed cleanly: deletions may have
	// been lost and documents of rows that no longer exist are looked for.
	needsSweep bool
}

// rebuiltSuffix names the directory a rebuild made beside the live index, and
// readyFile the file that says it is finished and may replace it.
const (
	rebuiltSuffix = ".rebuilt"
	readyFile     = "READY"
)

// Open opens (or creates) the indexes in dir. A finished rebuild waiting beside it
// (see Rebuild) replaces it first. It fails with ErrLocked when another process holds
// the index.
func Open(dir string) (*Index, error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return nil, fmt.Errorf("search: create %s: %w", filepath.Dir(dir), err)
	}
	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, err
	}
	ix, err := openLocked(dir, unlock)
	if err != nil {
		_ = unlock()
		return nil, err
	}
	return ix, nil
}

func openLocked(dir string, unlock func() error) (*Index, error) {
	if err := swapRebuilt(dir); err != nil {
		return nil, err
	}
	ix := &Index{dir: dir, unlock: unlock, idx: map[string]bleve.Index{}, state: map[string]indexState{}}
	for _, kind := range kinds {
		b, st, dirty, err := openKind(filepath.Join(dir, kind), kind)
		if err != nil {
			ix.closeIndexes()
			return nil, err
		}
		ix.idx[kind], ix.state[kind] = b, st
		ix.needsSweep = ix.needsSweep || dirty
		if err := b.SetInternal(keyOpen, []byte("1")); err != nil {
			ix.closeIndexes()
			return nil, fmt.Errorf("search: mark %s open: %w", kind, err)
		}
	}
	m := ix.idx[kindPeople].Mapping()
	ix.words = m.AnalyzerNamed(analyzerWords)
	ix.text = ix.idx[kindPosts].Mapping().AnalyzerNamed(analyzerText)
	if ix.words == nil || ix.text == nil {
		ix.closeIndexes()
		return nil, errors.New("search: analyzers missing from the index mapping")
	}
	return ix, nil
}

// swapRebuilt moves a finished rebuild into place.
func swapRebuilt(dir string) error {
	rebuilt := dir + rebuiltSuffix
	if _, err := os.Stat(filepath.Join(rebuilt, readyFile)); err != nil {
		return nil
	}
	old := dir + ".old"
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("search: remove %s: %w", old, err)
	}
	if _, err := os.Stat(dir); err == nil {
		if err := os.Rename(dir, old); err != nil {
			return fmt.Errorf("search: set the old index aside: %w", err)
		}
	}
	if err := os.Rename(rebuilt, dir); err != nil {
		return fmt.Errorf("search: move the rebuilt index into place: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, readyFile)); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return os.RemoveAll(old)
}

func mappingFor(kind string) (*mapping.IndexMappingImpl, error) {
	switch kind {
	case kindPeople:
		return peopleMapping()
	case kindPosts:
		return postsMapping()
	case kindTags:
		return tagsMapping()
	}
	return nil, fmt.Errorf("search: unknown index %q", kind)
}

// openKind opens one Bleve index, or creates it when it is missing, unreadable or of
// another mapping version (it is then empty and not Complete, so it gets rebuilt).
func openKind(path, kind string) (bleve.Index, indexState, bool, error) {
	var st indexState
	b, err := bleve.Open(path)
	if err == nil {
		raw, ierr := b.GetInternal(keyState)
		if ierr == nil && len(raw) > 0 && json.Unmarshal(raw, &st) == nil && st.Version == mappingVersion {
			open, _ := b.GetInternal(keyOpen)
			return b, st, string(open) == "1", nil
		}
		_ = b.Close()
	}
	// Missing, unreadable or outdated: start afresh.
	if err := os.RemoveAll(path); err != nil {
		return nil, st, false, fmt.Errorf("search: remove %s: %w", path, err)
	}
	m, err := mappingFor(kind)
	if err != nil {
		return nil, st, false, err
	}
	b, err = bleve.New(path, m)
	if err != nil {
		return nil, st, false, fmt.Errorf("search: create %s index: %w", kind, err)
	}
	st = indexState{Version: mappingVersion}
	if err := putState(b, st); err != nil {
		_ = b.Close()
		return nil, st, false, err
	}
	return b, st, false, nil
}

func putState(b bleve.Index, st indexState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := b.SetInternal(keyState, raw); err != nil {
		return fmt.Errorf("search: save index state: %w", err)
	}
	return nil
}

// Complete reports whether every index has been fully built from the database.
func (ix *Index) Complete() bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for _, kind := range kinds {
		if !ix.state[kind].Complete {
			return false
		}
	}
	return true
}

// cursor returns where an index's change stream stands.
func (ix *Index) cursor(kind string) community.ChangeCursor {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.state[kind].Cursor
}

// DocCount is the number of documents of each kind.
func (ix *Index) DocCount() (people, posts, tags uint64, err error) {
	if people, err = ix.idx[kindPeople].DocCount(); err != nil {
		return
	}
	if posts, err = ix.idx[kindPosts].DocCount(); err != nil {
		return
	}
	tags, err = ix.idx[kindTags].DocCount()
	return
}

// Close records a clean shutdown and releases the index.
func (ix *Index) Close() error {
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return nil
	}
	ix.closed = true
	ix.mu.Unlock()
	var errs []error
	for _, kind := range kinds {
		if b := ix.idx[kind]; b != nil {
			errs = append(errs, b.SetInternal(keyOpen, []byte("0")))
		}
	}
	errs = append(errs, ix.closeIndexes())
	if ix.unlock != nil {
		errs = append(errs, ix.unlock())
	}
	return errors.Join(errs...)
}

func (ix *Index) closeIndexes() error {
	var errs []error
	for kind, b := range ix.idx {
		if err := b.Close(); err != nil {
			errs = append(errs, fmt.Errorf("search: close %s index: %w", kind, err))
		}
	}
	return errors.Join(errs...)
}

// batch collects changes to the three indexes, applied together by Index.apply.
type batch struct {
	b     map[string]*bleve.Batch
	state map[string]indexState
	n     int
}

func (ix *Index) newBatch() *batch {
	bt := &batch{b: map[string]*bleve.Batch{}, state: map[string]indexState{}}
	for _, kind := range kinds {
		bt.b[kind] = ix.idx[kind].NewBatch()
	}
	return bt
}

func (bt *batch) put(kind string, id int64, doc map[string]any) error {
	bt.n++
	return bt.b[kind].Index(community.FormatID(id), doc)
}

func (bt *batch) remove(kind string, id int64) {
	bt.n++
	bt.b[kind].Delete(community.FormatID(id))
}

// setState records, in the same Bleve batch as the documents, a new state of an index:
// a cursor moves only together with the documents it covers.
func (bt *batch) setState(kind string, st indexState) {
	bt.state[kind] = st
}

// apply writes a batch; each index's documents and state are written atomically (and
// durably: Bleve waits for them to be persisted).
func (ix *Index) apply(bt *batch) error {
	for _, kind := range kinds {
		b := bt.b[kind]
		st, hasState := bt.state[kind]
		if hasState {
			raw, err := json.Marshal(st)
			if err != nil {
				return err
			}
			b.SetInternal(keyState, raw)
		}
		if b.Size() == 0 && !hasState {
			continue
		}
		if err := ix.idx[kind].Batch(b); err != nil {
			return fmt.Errorf("search: write %s index: %w", kind, err)
		}
		if hasState {
			ix.mu.Lock()
			ix.state[kind] = st
			ix.mu.Unlock()
		}
	}
	return nil
}

// Compact merges each index's segments as far as Bleve's default merge plan goes and
// waits for it. Bleve merges in the background anyway; a freshly built index has many
// small segments, and until they are merged, queries visit all of them. A rebuild
// compacts before it is put in place, so that the server starts on a merged index.
func (ix *Index) Compact(ctx context.Context) error {
	for _, kind := range kinds {
		adv, err := ix.idx[kind].Advanced()
		if err != nil {
			return fmt.Errorf("search: compact %s: %w", kind, err)
		}
		sc, ok := adv.(*scorch.Scorch)
		if !ok {
			continue
		}
		opts := mergeplan.DefaultMergePlanOptions
		if err := sc.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("search: compact %s: %w", kind, err)
		}
	}
	return nil
}
