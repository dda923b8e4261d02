package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tacit-social/tacit/community"
)

// Rebuilding (tacit admin reindex).
//
// Only one process may write an index, and the server holds its index while it runs.
// A rebuild therefore never touches the live index: it builds a complete new one in a
// directory beside it (dir + ".rebuilt") and then puts it in place, at once when no
// server holds the live index, otherwise at the server's next start (Open swaps a
// finished rebuild in before opening). The rebuilt index catches up with what changed
// after it was built like any index that was closed while the server ran: its cursors
// date from before the build, and it is swept for deleted rows when first opened.

// ErrRebuildRunning reports that another rebuild is writing the rebuilt index.
var ErrRebuildRunning = errors.New("search: another rebuild of this index is running")

// Rebuild builds a fresh index of everything in the database and puts it in place of
// the one in dir. pending is true when the server holds the live index: the new one
// then replaces it when the server next starts.
func Rebuild(ctx context.Context, dir string, c *community.Service, progress func(done, total int64)) (pending bool, err error) {
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return false, fmt.Errorf("search: create %s: %w", filepath.Dir(dir), err)
	}
	unlockLive, err := lockFile(dir + ".lock")
	switch {
	case errors.Is(err, ErrLocked):
		pending = true
	case err != nil:
		return false, err
	default:
		defer unlockLive()
	}
	staging := dir + rebuiltSuffix
	unlockStaging, err := lockFile(staging + ".lock")
	if errors.Is(err, ErrLocked) {
		return false, ErrRebuildRunning
	}
	if err != nil {
		return false, err
	}
	defer unlockStaging()
	if err := os.RemoveAll(staging); err != nil {
		return false, fmt.Errorf("search: clear %s: %w", staging, err)
	}
	ix, err := openLocked(staging, nil)
	if err != nil {
		return false, err
	}
	err = Build(ctx, ix, c, progress)
	if err == nil {
		err = ix.Compact(ctx)
	}
	if err != nil {
		ix.Close()
		os.RemoveAll(staging)
		return false, err
	}
	// Left marked as open, so that its first opening sweeps for rows deleted since.
	ix.unlock = nil
	ix.closed = true
	if err := ix.closeIndexes(); err != nil {
		return false, err
	}
	if err := os.WriteFile(filepath.Join(staging, readyFile), []byte("ready\n"), 0o600); err != nil {
		return false, fmt.Errorf("search: mark the rebuilt index ready: %w", err)
	}
	if pending {
		return true, nil
	}
	return false, swapRebuilt(dir)
}
