package media

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestDir(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	key := "0123456789abcdef/original.jpg"
	if err := d.Put(ctx, key, []byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, key, []byte("second version")); err != nil {
		t.Fatal(err)
	}
	f, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(f)
	f.Close()
	if string(data) != "second version" || f.Size() != int64(len("second version")) {
		t.Errorf("read %q (size %d)", data, f.Size())
	}
	if _, err := os.Stat(filepath.Join(root, "01", "0123456789abcdef", "original.jpg")); err != nil {
		t.Errorf("file not where the layout puts it: %v", err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, key); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	if _, err := d.Open(ctx, key); !errors.Is(err, ErrNotExist) {
		t.Errorf("open after delete: %v, want ErrNotExist", err)
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("empty directories left behind: %v", entries)
	}
	for _, bad := range []string{"../etc/passwd", "ab/../../x", "/abs/path", "ab/.hidden", "ab//c", "a", "ab/c d", `ab\c`} {
		if err := d.Put(ctx, bad, []byte("x")); err == nil {
			t.Errorf("Put accepted key %q", bad)
		}
		if _, err := d.Open(ctx, bad); !errors.Is(err, ErrNotExist) {
			t.Errorf("Open(%q): %v, want ErrNotExist", bad, err)
		}
	}
}
