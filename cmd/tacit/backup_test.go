package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to create the restore's database
	"github.com/mattn/go-mastodon"
	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/media"
	"github.com/tacit-social/tacit/media/mediatest"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/store/storetest"
)

// TestBackupUnderLoadAndRestore backs up an instance with `tacit admin backup` while
// four people post, upload pictures, follow each other and vote in polls; restores it
// with `tacit admin restore` into a new data dir (a new database on PostgreSQL); and
// serves the restored instance at the original address. Everything written before the
// backup began is back, nothing begun after it ended is, the database is consistent,
// every picture has its bytes, search works from the rebuilt index, old tokens still
// sign in, and a peer accepts the restored instance's signed deliveries.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testBackupUnderLoad(t, false) })
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t)
		for _, program := range []string{"pg_dump", "pg_restore"} {
			if _, err := exec.LookPath(program); err != nil {
				t.Skipf("%s is not installed", program)
			}
		}
		testBackupUnderLoad(t, true)
	})
}

func testBackupUnderLoad(t *testing.T, postgres bool) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Postgres: postgres})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	followAcross(t, b, bob, "alice@"+a.Host())

	var writers []*instancetest.User
	for i := range 4 {
		writers = append(writers, a.CreateUser(t, fmt.Sprintf("writer%d", i), instancetest.UserOptions{}))
	}
	l := startLoad(t, a, writers)
	l.waitFor(t, 24)
	before := l.snapshot()
	backupDir := t.TempDir()
	out, errOut, err := tacit(t, instanceEnv(a.Config), "admin", "backup", backupDir)
	if err != nil {
		t.Fatalf("backup: %v\n%s%s", err, out, errOut)
	}
	l.ended.Store(true)
	l.waitFor(t, len(l.snapshot().statuses)+8)
	all := l.stop(t)
	archives, _ := filepath.Glob(filepath.Join(backupDir, "*.tar.gz"))
	if len(archives) != 1 {
		t.Fatalf("backup wrote %v, want one archive", archives)
	}
	archive := archives[0]
	t.Logf("backup under load: %d statuses before it began, %d in all; %s", len(before.statuses), len(all.statuses), strings.TrimSpace(out))

	restored := a.Config
	restored.DataDir = filepath.Join(t.TempDir(), "restored")
	if postgres {
		restored.Database = newPostgresDatabase(t, a.Config.Database)
	}
	out, errOut, err = tacit(t, instanceEnv(restored), "admin", "restore", archive)
	if err != nil || !strings.Contains(out, "the search index is rebuilt") {
		t.Fatalf("restore: %v\n%s%s", err, out, errOut)
	}
	checkRestoredRows(t, restored, a, before, all)
	if !postgres {
		checkAgainstSnapshot(t, archive, restored)
	}
	checkSameFile(t, filepath.Join(a.Config.KeysDir(), "instance.pem"), filepath.Join(restored.KeysDir(), "instance.pem"))

	// The restored instance takes the original's place at its address.
	a.Server.Close()
	r := serveAt(t, restored, a.Host())
	client := a.Client(alice.Token) // a token issued before the backup
	eventually.Holds(t, "search on the restored instance to find the writers' posts", func() bool {
		res, err := client.Search(ctx, "quokka", false)
		return err == nil && len(res.Statuses) > 0
	})
	checkPeerAccepts(t, r, b, client, bob)
}

// followAcross makes follower (on inst) follow acct on another instance and waits for
// the acceptance.
func followAcross(t *testing.T, inst *instancetest.Instance, follower *instancetest.User, acct string) {
	t.Helper()
	ctx := context.Background()
	remote, err := inst.Federator.ResolveAccount(ctx, acct)
	if err != nil {
		t.Fatalf("resolve %s: %v", acct, err)
	}
	c := inst.Client(follower.Token)
	if _, err := c.AccountFollow(ctx, mastodon.ID(community.FormatID(remote.ID))); err != nil {
		t.Fatalf("follow %s: %v", acct, err)
	}
	eventually.Holds(t, "the follow of "+acct+" to be accepted", func() bool {
		rels, err := c.GetAccountRelationships(ctx, []string{community.FormatID(remote.ID)})
		return err == nil && len(rels) == 1 && rels[0].Following
	})
}

// record is what the load wrote, each entry with whether it began after the backup
// ended.
type record struct {
	statuses, media []entry
	follows, votes  []entry
}

type entry struct {
	key   string // an id, or "a>b" for a follow or vote
	after bool
}

// load writes through the client API from one goroutine per writer until stopped.
type load struct {
	mu      sync.Mutex
	rec     record
	ended   atomic.Bool
	stopc   chan struct{}
	wg      sync.WaitGroup
	errs    atomic.Int64
	lastErr atomic.Value
	polls   chan pollRef
}

type pollRef struct {
	id    mastodon.ID
	owner int
}

func startLoad(t *testing.T, inst *instancetest.Instance, writers []*instancetest.User) *load {
	l := &load{stopc: make(chan struct{}), polls: make(chan pollRef, 1024)}
	for i, w := range writers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.write(inst, i, w, writers)
		}()
	}
	return l
}

func (l *load) add(list *[]entry, key string, after bool) {
	l.mu.Lock()
	*list = append(*list, entry{key, after})
	l.mu.Unlock()
}

func (l *load) failed(err error) {
	if err != nil {
		l.errs.Add(1)
		l.lastErr.Store(err.Error())
	}
}

// write is one writer's loop: a post every round, and in turn a picture, a poll, a
// vote in someone else's poll and a follow.
func (l *load) write(inst *instancetest.Instance, i int, w *instancetest.User, writers []*instancetest.User) {
	ctx := context.Background()
	c := inst.Client(w.Token)
	followed := 0
	for n := 0; ; n++ {
		select {
		case <-l.stopc:
			return
		default:
		}
		after := l.ended.Load()
		toot := &mastodon.Toot{Status: fmt.Sprintf("quokka round %d from writer %d", n, i)}
		switch n % 4 {
		case 0:
			att, err := c.UploadMediaFromBytes(ctx, mediatest.JPEG(mediatest.Photo(48, 32, uint64(i*1000+n)), 1))
			if l.failed(err); err == nil {
				toot.MediaIDs = []mastodon.ID{att.ID}
				l.add(&l.rec.media, string(att.ID), after)
			}
		case 1:
			toot.Poll = &mastodon.TootPoll{Options: []string{"yes", "no"}, ExpiresInSeconds: 3600}
		case 2:
			select {
			case p := <-l.polls:
				if p.owner == i { // nobody votes in their own poll here; leave it for another
					l.polls <- p
					break
				}
				_, err := c.PollVote(ctx, p.id, n%2)
				if l.failed(err); err == nil {
					l.add(&l.rec.votes, string(p.id)+">"+community.FormatID(w.Account.ID), after)
				}
			default:
			}
		case 3:
			if followed < len(writers)-1 {
				followed++
				target := writers[(i+followed)%len(writers)].Account.ID
				_, err := c.AccountFollow(ctx, mastodon.ID(community.FormatID(target)))
				if l.failed(err); err == nil {
					l.add(&l.rec.follows, community.FormatID(w.Account.ID)+">"+community.FormatID(target), after)
				}
			}
		}
		st, err := c.PostStatus(ctx, toot)
		if l.failed(err); err != nil {
			continue
		}
		l.add(&l.rec.statuses, string(st.ID), after)
		if st.Poll != nil {
			select {
			case l.polls <- pollRef{st.Poll.ID, i}:
			default:
			}
		}
	}
}

func (l *load) snapshot() record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return record{
		statuses: append([]entry(nil), l.rec.statuses...), media: append([]entry(nil), l.rec.media...),
		follows: append([]entry(nil), l.rec.follows...), votes: append([]entry(nil), l.rec.votes...),
	}
}

// waitFor waits until the writers have posted n statuses.
func (l *load) waitFor(t *testing.T, n int) {
	t.Helper()
	eventually.Holds(t, fmt.Sprintf("the writers to post %d statuses", n), func() bool {
		return len(l.snapshot().statuses) >= n
	})
}

func (l *load) stop(t *testing.T) record {
	t.Helper()
	close(l.stopc)
	l.wg.Wait()
	if n := l.errs.Load(); n > 0 {
		t.Errorf("%d client calls failed under load, the last: %v", n, l.lastErr.Load())
	}
	return l.snapshot()
}

// instanceEnv is the environment that gives a command cfg.
func instanceEnv(cfg config.Config) []string {
	return []string{"TACIT_HOST=" + cfg.Host, "TACIT_LISTEN=" + cfg.Listen, "TACIT_PROTOCOL=" + cfg.Protocol,
		"TACIT_DATA_DIR=" + cfg.DataDir, "TACIT_DATABASE=" + cfg.Database,
		"TACIT_FEDERATION_PEERS=" + strings.Join(cfg.Federation.Peers, ","),
		"TACIT_RATE_LIMIT_REQUESTS=0", "TACIT_LOG_LEVEL=error"}
}

// newPostgresDatabase creates an empty database on the test server, dropped when the
// test ends, and returns from's URL pointed at it (keeping its search_path).
func newPostgresDatabase(t *testing.T, from string) string {
	t.Helper()
	admin, err := sql.Open("pgx", storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tacit_restore_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	u, err := url.Parse(from)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func openDB(t *testing.T, cfg config.Config) *gorm.DB {
	t.Helper()
	db, err := store.OpenNoMigrate(context.Background(), cfg.Database, cfg.SQLitePath(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close(db) })
	return db
}

// checkRestoredRows compares the restored database with what the load wrote, and the
// restored pictures with the original's.
func checkRestoredRows(t *testing.T, cfg config.Config, orig *instancetest.Instance, before, all record) {
	t.Helper()
	db := openDB(t, cfg)
	has := func(what, query string, args ...any) bool {
		var n int64
		if err := db.Raw(query, args...).Scan(&n).Error; err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return n > 0
	}
	check := func(what string, entries []entry, wantAll bool, exists func(e entry) bool) {
		for _, e := range entries {
			switch {
			case wantAll && !exists(e):
				t.Errorf("%s %s, written before the backup began, is not in the restored database", what, e.key)
			case e.after && exists(e):
				t.Errorf("%s %s, written after the backup ended, is in the restored database", what, e.key)
			}
		}
	}
	id := func(s string) int64 { v, _ := strconv.ParseInt(s, 10, 64); return v }
	pair := func(e entry) (int64, int64) { x, y, _ := strings.Cut(e.key, ">"); return id(x), id(y) }
	statusExists := func(e entry) bool { return has("status", "SELECT count(*) FROM statuses WHERE id = ?", id(e.key)) }
	mediaExists := func(e entry) bool {
		return has("media", "SELECT count(*) FROM media_attachments WHERE id = ?", id(e.key))
	}
	followExists := func(e entry) bool {
		x, y := pair(e)
		return has("follow", "SELECT count(*) FROM follows WHERE account_id = ? AND target_account_id = ?", x, y)
	}
	voteExists := func(e entry) bool {
		x, y := pair(e)
		return has("vote", "SELECT count(*) FROM poll_votes WHERE poll_id = ? AND account_id = ?", x, y)
	}
	check("status", before.statuses, true, statusExists)
	check("status", all.statuses, false, statusExists)
	check("picture", before.media, true, mediaExists)
	check("picture", all.media, false, mediaExists)
	check("follow", before.follows, true, followExists)
	check("follow", all.follows, false, followExists)
	check("vote", before.votes, true, voteExists)
	check("vote", all.votes, false, voteExists)
	if len(before.media) == 0 || len(before.follows) == 0 || len(before.votes) == 0 {
		t.Errorf("the load wrote %d pictures, %d follows and %d votes before the backup: too few to check", len(before.media), len(before.follows), len(before.votes))
	}

	// A local poll's tally is recounted from its votes in the vote's transaction: a
	// snapshot that split them would show here.
	var bad []int64
	if err := db.Raw(`SELECT p.id FROM polls p WHERE p.votes_count <> (SELECT count(*) FROM poll_votes v WHERE v.poll_id = p.id)`).Scan(&bad).Error; err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Errorf("polls whose tally differs from their votes after the restore: %v", bad)
	}
	checkPictures(t, db, orig.Config.MediaDir(), cfg.MediaDir())
}

// checkPictures: every file a restored row names has the original's bytes.
func checkPictures(t *testing.T, db *gorm.DB, origDir, restoredDir string) {
	t.Helper()
	ctx := context.Background()
	var rows []struct{ FileKey, OriginalName, PreviewName string }
	if err := db.Table("media_attachments").Where("file_key <> ''").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	orig, err := media.NewDir(origDir)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := media.NewDir(restoredDir)
	if err != nil {
		t.Fatal(err)
	}
	read := func(s media.Store, key string) []byte {
		f, err := s.Open(ctx, key)
		if err != nil {
			t.Errorf("picture %s: %v", key, err)
			return nil
		}
		defer f.Close()
		data, _ := io.ReadAll(f)
		return data
	}
	for _, r := range rows {
		for _, key := range []string{r.FileKey + "/" + r.OriginalName, r.FileKey + "/" + r.PreviewName} {
			if want, got := read(orig, key), read(restored, key); !bytes.Equal(want, got) || len(got) == 0 {
				t.Errorf("picture %s: %d bytes restored, the original has %d (or they differ)", key, len(got), len(want))
			}
		}
	}
	if len(rows) == 0 {
		t.Error("the restored database names no pictures")
	}
}

// checkAgainstSnapshot: the restored SQLite database is sound, and each table holds as
// many rows as the backup's own snapshot.
func checkAgainstSnapshot(t *testing.T, archive string, cfg config.Config) {
	t.Helper()
	snapPath := filepath.Join(t.TempDir(), "snapshot.db")
	if err := os.WriteFile(snapPath, archiveFile(t, archive, "database/tacit.db"), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := openDB(t, config.Config{DataDir: filepath.Dir(snapPath)})
	db := openDB(t, cfg)
	var integrity string
	if err := db.Raw("PRAGMA integrity_check").Scan(&integrity).Error; err != nil || integrity != "ok" {
		t.Errorf("integrity_check of the restored database: %q %v", integrity, err)
	}
	var fkErrors []map[string]any
	if err := db.Raw("PRAGMA foreign_key_check").Scan(&fkErrors).Error; err != nil || len(fkErrors) > 0 {
		t.Errorf("foreign_key_check of the restored database: %v %v", fkErrors, err)
	}
	var tables []string
	if err := snap.Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var want, got int64
		snap.Table(table).Count(&want)
		db.Table(table).Count(&got)
		if want != got {
			t.Errorf("table %s: %d rows restored, %d in the snapshot", table, got, want)
		}
	}
}

// archiveFile returns one file of a backup.
func archiveFile(t *testing.T, archive, name string) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s holds no %s", archive, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

func checkSameFile(t *testing.T, want, got string) {
	t.Helper()
	a, errA := os.ReadFile(want)
	b, errB := os.ReadFile(got)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("%s differs from %s (%v, %v)", got, want, errA, errB)
	}
}

// serveAt opens the instance in cfg and serves it on host until the test ends.
func serveAt(t *testing.T, cfg config.Config, host string) *instance.Instance {
	t.Helper()
	var l net.Listener
	var err error
	eventually.Holds(t, "the original's address to be free", func() bool {
		l, err = net.Listen("tcp", host)
		return err == nil
	})
	inst, err := instance.Open(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("open the restored instance: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = inst.Serve(ctx, l)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		inst.Close()
	})
	return inst
}

// checkPeerAccepts: alice posts on the restored instance with a token issued before the
// backup; bob's instance verifies the delivery's signature with the key it fetched from
// the original and shows the post in bob's home timeline.
func checkPeerAccepts(t *testing.T, restored *instance.Instance, peer *instancetest.Instance, alice *mastodon.Client, bob *instancetest.User) {
	t.Helper()
	ctx := context.Background()
	st, err := alice.PostStatus(ctx, &mastodon.Toot{Status: "Back from the backup"})
	if err != nil {
		t.Fatalf("post on the restored instance: %v", err)
	}
	eventually.Holds(t, "the peer to accept the restored instance's delivery", func() bool {
		home, err := peer.Client(bob.Token).GetTimelineHome(ctx, nil)
		if err != nil {
			return false
		}
		for _, s := range home {
			if s.URI == st.URI {
				return true
			}
		}
		return false
	})
	acct, err := restored.Community.LocalAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	known, err := peer.Community.Unchecked().AccountByURI(ctx, acct.URI)
	if err != nil || known.PublicKeyPEM != acct.PublicKeyPEM {
		t.Errorf("the peer knows alice's key as %.40q, the restored instance has %.40q (%v)", known.PublicKeyPEM, acct.PublicKeyPEM, err)
	}
}

// TestMigrateDryRun: `tacit migrate --dry-run` lists, in order, the migrations a
// database left by an older release lacks, and applies none of them.
func TestMigrateDryRun(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := []string{"TACIT_DATA_DIR=" + dir, "TACIT_PROTOCOL=http", "TACIT_LOG_LEVEL=error"}
	if out, _, err := tacit(t, env, "migrate", "--dry-run"); err != nil || !strings.Contains(out, "no database at") {
		t.Fatalf("dry run without a database: %v %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "tacit.db")); err == nil {
		t.Error("a dry run created a database")
	}
	initialized(t, env)
	if out, _, err := tacit(t, env, "migrate", "--dry-run"); err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("dry run on a current database: %v %q", err, out)
	}

	// Roll the newest two migrations back, as if an older release had left the database.
	cfg := config.Config{DataDir: dir}
	db := openDB(t, cfg)
	all, err := store.Migrations(db)
	if err != nil || len(all) < 3 {
		t.Fatalf("migrations: %v %v", all, err)
	}
	older := all[len(all)-3].Version
	if _, err := store.MigrateDown(ctx, db, older); err != nil {
		t.Fatal(err)
	}
	out, _, err := tacit(t, env, "migrate", "--dry-run")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("database is at schema version %d; 2 migrations would run, in this order:\n  %05d %s\n  %05d %s\nnothing was applied (dry run)\n",
		older, all[len(all)-2].Version, all[len(all)-2].Name, all[len(all)-1].Version, all[len(all)-1].Name)
	if out != want {
		t.Errorf("dry run:\n%s\nwant:\n%s", out, want)
	}
	if v, err := store.Version(ctx, db); err != nil || v != older {
		t.Errorf("after the dry run the schema is at %d (%v), want %d still", v, err, older)
	}
	out, _, err = tacit(t, env, "migrate")
	if err != nil || !strings.Contains(out, fmt.Sprintf("applied migration %d", all[len(all)-1].Version)) {
		t.Errorf("migrate after the dry run: %v %q", err, out)
	}
}
