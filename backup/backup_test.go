package backup_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/backup"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/store/storetest"
)

var quiet = slog.New(slog.DiscardHandler)

// newInstance creates an instance in a new data dir, as `tacit init` does, with a
// stray file in its media dir, and returns its configuration and database, closed when
// the test ends or by closeInstance.
func newInstance(t testing.TB, configure func(*config.Config)) (config.Config, *gorm.DB) {
	t.Helper()
	cfg := config.Default()
	cfg.Host, cfg.Protocol = "sales.example", "https"
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	if configure != nil {
		configure(&cfg)
	}
	inst, err := instance.Open(context.Background(), cfg, quiet, instance.WithoutSearch())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closers[inst.DB] = func() { once.Do(func() { inst.Close() }) }
	t.Cleanup(closers[inst.DB])
	if err := os.WriteFile(filepath.Join(cfg.MediaDir(), "ab"), []byte("not a key: a stray file is kept too"), 0o640); err != nil {
		t.Fatal(err)
	}
	return cfg, inst.DB
}

// closers close the instances newInstance opened, by database.
var closers = map[*gorm.DB]func(){}

func create(t *testing.T, cfg config.Config, db *gorm.DB, configFile string) string {
	t.Helper()
	res, err := backup.Create(context.Background(), backup.Source{Config: cfg, DB: db, ConfigFile: configFile, TacitVersion: "test"},
		t.TempDir(), backup.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return res.Path
}

// rewrite copies the archive src, passing every file through edit (which may change its
// name and bytes, or drop it with ""), adds the files named extra, and returns the copy.
func rewrite(t *testing.T, src string, edit func(name string, data []byte) (string, []byte), extra ...string) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	gzw := gzip.NewWriter(&out)
	tw := tar.NewWriter(gzw)
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		name, data := edit(hdr.Name, data)
		if name == "" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: int64(len(data)), Mode: 0o600}); err != nil {
			t.Fatal(err)
		}
		_, _ = tw.Write(data)
	}
	for _, name := range extra {
		_ = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: 2, Mode: 0o600})
		_, _ = tw.Write([]byte("hi"))
	}
	_ = tw.Close()
	_ = gzw.Close()
	dst := filepath.Join(t.TempDir(), "edited.tar.gz")
	if err := os.WriteFile(dst, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return dst
}

func unchanged(name string, data []byte) (string, []byte) { return name, data }

func TestRestoreRefuses(t *testing.T) {
	cfg, db := newInstance(t, nil)
	archive := create(t, cfg, db, "")
	fresh := func(edit func(*config.Config)) config.Config {
		c := cfg
		c.DataDir = filepath.Join(t.TempDir(), "restored")
		if edit != nil {
			edit(&c)
		}
		return c
	}
	cases := []struct {
		name    string
		archive string
		cfg     config.Config
		want    string
	}{
		{"a data dir that holds an instance", archive, cfg, "is not empty"},
		{"another host", archive, fresh(func(c *config.Config) { c.Host = "marketing.example" }), "the backup is of https://sales.example"},
		{"another protocol", archive, fresh(func(c *config.Config) { c.Protocol = "http" }), "the backup is of https://sales.example"},
		{"another kind of database", archive, fresh(func(c *config.Config) { c.Database = "postgres://db.example/tacit" }), "names a postgres database"},
		{"a damaged file", rewrite(t, archive, func(name string, data []byte) (string, []byte) {
			if name == "keys/instance.pem" {
				data = bytes.Replace(data, []byte("A"), []byte("B"), 1)
			}
			return name, data
		}), fresh(nil), "keys/instance.pem is damaged"},
		{"a missing file", rewrite(t, archive, func(name string, data []byte) (string, []byte) {
			if name == "keys/instance.pem" {
				return "", nil
			}
			return name, data
		}), fresh(nil), "keys/instance.pem is missing"},
		{"a file the manifest does not list", rewrite(t, archive, unchanged, "media/cd"), fresh(nil), "media/cd is in the backup but not in its manifest"},
		{"a path out of the data dir", rewrite(t, archive, func(name string, data []byte) (string, []byte) {
			if name == "media/ab" {
				return "media/../../ab", data
			}
			return name, data
		}), fresh(nil), "unexpected entry"},
		{"no manifest", rewrite(t, archive, func(name string, data []byte) (string, []byte) {
			if name == "manifest.json" {
				return "", nil
			}
			return name, data
		}), fresh(nil), "holds no manifest.json"},
		{"a newer format", rewrite(t, archive, func(name string, data []byte) (string, []byte) {
			if name == "manifest.json" {
				data = bytes.Replace(data, []byte(`"format": 1`), []byte(`"format": 2`), 1)
			}
			return name, data
		}), fresh(nil), "backup format 2"},
		{"not a backup", filepath.Join(cfg.KeysDir(), "instance.pem"), fresh(nil), "not a Tacit backup"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := backup.Restore(context.Background(), tc.archive, tc.cfg, backup.Options{Logger: quiet})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("restore: %v, want an error saying %q", err, tc.want)
			}
			if tc.cfg.DataDir != cfg.DataDir {
				if _, err := os.Stat(tc.cfg.SQLitePath()); err == nil {
					t.Error("a refused restore left a database behind")
				}
			}
		})
	}
}

// TestRestoreNewerSchema: a backup written by a newer release, whose schema this binary
// does not know, is refused rather than run with the wrong code.
func TestRestoreNewerSchema(t *testing.T) {
	cfg, db := newInstance(t, nil)
	var latest int64
	if err := db.Raw("SELECT max(version_id) FROM goose_db_version").Scan(&latest).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", latest+1000, true).Error; err != nil {
		t.Fatal(err)
	}
	archive := create(t, cfg, db, "")
	restored := cfg
	restored.DataDir = filepath.Join(t.TempDir(), "restored")
	_, err := backup.Restore(context.Background(), archive, restored, backup.Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "is newer than this Tacit's") {
		t.Fatalf("restore of a newer schema: %v", err)
	}
}

// TestBackupContents: the configuration file and a stray media file travel, a
// destination that exists is never replaced, and --force restores over an instance.
func TestBackupContents(t *testing.T) {
	ctx := context.Background()
	cfg, db := newInstance(t, nil)
	yamlFile := filepath.Join(t.TempDir(), "tacit.yaml")
	if err := os.WriteFile(yamlFile, []byte("host: sales.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	archive := create(t, cfg, db, yamlFile)
	if fi, err := os.Stat(archive); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("archive mode: %v %v, want 0600", fi.Mode(), err)
	}
	files := map[string][]byte{}
	rewrite(t, archive, func(name string, data []byte) (string, []byte) {
		files[name] = data
		return name, data
	})
	if string(files["config/tacit.yaml"]) != "host: sales.example\n" {
		t.Errorf("config/tacit.yaml = %q", files["config/tacit.yaml"])
	}
	var m backup.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.Host != "sales.example" || m.SchemaVersion == 0 || !m.DatabaseIncluded {
		t.Errorf("manifest: %+v %v", m, err)
	}
	if _, err := backup.Create(ctx, backup.Source{Config: cfg, DB: db}, archive, backup.Options{Logger: quiet}); err == nil {
		t.Error("backup replaced an existing file")
	}

	// The instance is damaged after the backup; --force puts it back as it was.
	if err := db.Exec("DELETE FROM instance_identity").Error; err != nil {
		t.Fatal(err)
	}
	closers[db]()
	res, err := backup.Restore(ctx, archive, cfg, backup.Options{Logger: quiet, Force: true})
	if err != nil {
		t.Fatalf("restore --force: %v", err)
	}
	if string(mustRead(t, filepath.Join(cfg.MediaDir(), "ab"))) != "not a key: a stray file is kept too" || len(res.MissingMedia) != 0 {
		t.Errorf("media after restore: missing %v", res.MissingMedia)
	}
	if _, err := instance.Open(ctx, cfg, quiet, instance.WithoutSearch(), instance.Existing()); err != nil {
		t.Errorf("open the restored instance: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestPostgresWithoutPgDump: without pg_dump the backup holds keys, media and
// configuration, and says how to dump the database, without its password.
func TestPostgresWithoutPgDump(t *testing.T) {
	dsn := storetest.PostgresSchema(t)
	cfg, db := newInstance(t, func(c *config.Config) { c.Database = dsn })
	res, err := backup.Create(context.Background(), backup.Source{Config: cfg, DB: db}, t.TempDir(),
		backup.Options{Logger: quiet, PgDump: "pg_dump-not-installed"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.DatabaseIncluded || !strings.Contains(res.DatabaseCommand, "pg_dump --format=custom --schema=") {
		t.Errorf("without pg_dump: included %v, command %q", res.Manifest.DatabaseIncluded, res.DatabaseCommand)
	}
	if !strings.Contains(res.DatabaseCommand, "PGOPTIONS=") || strings.Contains(res.DatabaseCommand, "?search_path") {
		t.Errorf("the command passes search_path to libpq in the URL: %q", res.DatabaseCommand)
	}
	restored := cfg
	restored.DataDir = filepath.Join(t.TempDir(), "restored")
	rr, err := backup.Restore(context.Background(), res.Path, restored, backup.Options{Logger: quiet})
	if err != nil || rr.DatabaseCommand == "" {
		t.Fatalf("restore without a database: %v %+v", err, rr)
	}
	if !bytes.Equal(mustRead(t, filepath.Join(cfg.KeysDir(), "instance.pem")), mustRead(t, filepath.Join(restored.KeysDir(), "instance.pem"))) {
		t.Error("the instance key was not restored")
	}
}

// TestPostgresRestoreRefusesNonEmpty: a restore, even with --force, refuses a
// PostgreSQL database that holds tables, before it replaces anything.
func TestPostgresRestoreRefusesNonEmpty(t *testing.T) {
	dsn := storetest.PostgresSchema(t)
	if _, err := exec.LookPath("pg_dump"); err != nil {
		t.Skip("pg_dump is not installed")
	}
	cfg, db := newInstance(t, func(c *config.Config) { c.Database = dsn })
	archive := create(t, cfg, db, "")
	closers[db]()
	_, err := backup.Restore(context.Background(), archive, cfg, backup.Options{Logger: quiet, Force: true})
	if err == nil || !strings.Contains(err.Error(), "tables already") {
		t.Fatalf("restore into a database in use: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.KeysDir(), "instance.pem")); err != nil {
		t.Errorf("the refused restore removed the instance key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.MediaDir(), "ab")); err != nil {
		t.Errorf("the refused restore removed media: %v", err)
	}
}
