package backup_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/tacit-social/tacit/backup"
	"github.com/tacit-social/tacit/store"
)

// BenchmarkCreateSQLite backs up a SQLite instance holding 50,000 posts and 200
// pictures of 100 KiB; MB/s is of the database and media read.
func BenchmarkCreateSQLite(b *testing.B) {
	cfg, db := newInstance(b, nil)
	ctx := context.Background()
	if err := db.Exec("INSERT INTO accounts (id, username, created_at, updated_at) VALUES (1, 'writer', ?, ?)", store.Now(), store.Now()).Error; err != nil {
		b.Fatal(err)
	}
	tx := db.Begin()
	for i := range 50_000 {
		text := fmt.Sprintf("post %d about kubernetes, release trains and the quarterly numbers, with enough words to look like a real post", i)
		if err := tx.Exec("INSERT INTO statuses (id, account_id, text, content, visibility, scope, created_at, updated_at) VALUES (?, 1, ?, ?, 'public', 'company', ?, ?)",
			1000+i, text, "<p>"+text+"</p>", store.Now(), store.Now()).Error; err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit().Error; err != nil {
		b.Fatal(err)
	}
	picture := make([]byte, 100<<10)
	for i := range 200 {
		_, _ = rand.Read(picture) // like a JPEG, it does not compress
		dir := filepath.Join(cfg.MediaDir(), fmt.Sprintf("%02d", i%100))
		if err := os.MkdirAll(dir, 0o750); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d%030d.jpg", i%100, i)), picture, 0o640); err != nil {
			b.Fatal(err)
		}
	}
	fi, err := os.Stat(cfg.SQLitePath())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size() + 200*int64(len(picture)))
	b.ResetTimer()
	for b.Loop() {
		res, err := backup.Create(ctx, backup.Source{Config: cfg, DB: db}, b.TempDir(), backup.Options{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if fi, err := os.Stat(res.Path); err == nil {
			b.ReportMetric(float64(fi.Size())/(1<<20), "archive-MiB")
		}
		_ = os.Remove(res.Path)
		b.StartTimer()
	}
}
