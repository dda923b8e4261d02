package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Store keeps media files by key ("<random token>/original.jpg"). The filesystem is the
// one implementation today; an object store can take its place without the rest of
// Tacit knowing.
type Store interface {
	// Put stores data under key, replacing what was there. A reader never sees a
	// partly written file.
	Put(ctx context.Context, key string, data []byte) error
	// Open returns the file under key, or an error wrapping ErrNotExist.
	Open(ctx context.Context, key string) (File, error)
	// Delete removes the file under key; deleting a missing file is not an error.
	Delete(ctx context.Context, key string) error
}

// File is a stored file being read.
type File interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// ErrNotExist is returned (wrapped) by Open for a key without a file.
var ErrNotExist = errors.New("media: no such file")

// Dir is a Store in a directory of the local filesystem. Files are spread over
// subdirectories named after the first two characters of their key, so that no
// directory grows to millions of entries.
type Dir struct{ root string }

// NewDir returns a Store rooted at root, creating the directory if needed.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("create media dir %s: %w", root, err)
	}
	return &Dir{root: root}, nil
}

// validKey accepts keys made of slash-separated segments of letters, digits, '.', '_'
// and '-', none starting with a dot, so that a key can never name a path outside the
// directory.
func validKey(key string) bool {
	if len(key) < 3 || len(key) > 255 {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for _, r := range seg {
			ok := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '.' || r == '_' || r == '-'
			if !ok {
				return false
			}
		}
	}
	return true
}

func (d *Dir) path(key string) (string, error) {
	if !validKey(key) {
		return "", fmt.Errorf("media: invalid key %q", key)
	}
	return filepath.Join(d.root, key[:2], filepath.FromSlash(key)), nil
}

// Put writes to a temporary file, syncs it and renames it into place.
func (d *Dir) Put(ctx context.Context, key string, data []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("media: create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".put-*")
	if err != nil {
		return fmt.Errorf("media: store %s: %w", key, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("media: write %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("media: sync %s: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("media: close %s: %w", key, err)
	}
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return fmt.Errorf("media: chmod %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("media: store %s: %w", key, err)
	}
	return nil
}

type dirFile struct {
	*os.File
	info os.FileInfo
}

func (f dirFile) Size() int64        { return f.info.Size() }
func (f dirFile) ModTime() time.Time { return f.info.ModTime() }

// Open opens the file under key.
func (d *Dir) Open(ctx context.Context, key string) (File, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotExist, err)
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotExist, key)
	}
	if err != nil {
		return nil, fmt.Errorf("media: open %s: %w", key, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("media: stat %s: %w", key, err)
	}
	return dirFile{File: f, info: info}, nil
}

// Delete removes the file under key and the directories it leaves empty.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	// Remove now-empty parents up to the root; a directory still in use refuses.
	for dir := filepath.Dir(p); dir != d.root && strings.HasPrefix(dir, d.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}
