//go:build !unix

package search

import (
	"fmt"
	"os"
)

// lockFile creates the lock file; on systems without flock, Bleve's own lock on its
// files is what keeps a second writer out.
func lockFile(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("search: open lock %s: %w", path, err)
	}
	return f.Close, nil
}
