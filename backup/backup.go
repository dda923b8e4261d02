// Package backup takes a consistent backup of a running Tacit instance and restores it
// into a new data dir.
//
// A backup is one gzip-compressed tar file holding everything an instance is:
//
//	database/tacit.db        SQLite: a snapshot taken with VACUUM INTO
//	database/tacit.pgdump    PostgreSQL: pg_dump --format=custom, when pg_dump was found
//	keys/…                   the instance actor's key (accounts' keys are in the database)
//	media/…                  uploaded pictures and local copies of remote ones
//	config/tacit.yaml        the configuration file, when the instance was started with one
//	config/effective.yaml    the configuration in effect, secrets masked
//	manifest.json            host, protocol, schema and Tacit version, time, and the
//	                         size and SHA-256 of every other file (written last)
//
// The database comes first: media files are written before the rows that name them and
// never change afterwards, so every file a row of the snapshot names is on disk when the
// media directory is read after it (unless it was deleted in between, together with its
// row: restore reports such files).
//
// The host and protocol are the instance's identity: every id it minted contains them,
// and its peers know its keys under them. Restore therefore refuses a backup of another
// host, and puts the keys back with the database.
package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
	"gorm.io/gorm"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/store"
)

// FormatVersion is the version of the backup layout this package writes and reads.
const FormatVersion = 1

// Names inside a backup.
const (
	manifestName     = "manifest.json"
	sqliteName       = "database/tacit.db"
	pgDumpName       = "database/tacit.pgdump"
	keysPrefix       = "keys/"
	mediaPrefix      = "media/"
	configFileName   = "config/tacit.yaml"
	effectiveCfgName = "config/effective.yaml"
)

// Manifest describes a backup; it is the archive's last file.
type Manifest struct {
	Format int `json:"format"`
	// Host and Protocol are the instance's identity; restore refuses another.
	Host     string `json:"host"`
	Protocol string `json:"protocol"`
	// Database is store.DialectSQLite or store.DialectPostgres.
	Database string `json:"database"`
	// DatabaseIncluded is false for a PostgreSQL instance backed up without pg_dump:
	// the operator dumps the database separately (DatabaseCommand says how).
	DatabaseIncluded bool   `json:"database_included"`
	SchemaVersion    int64  `json:"schema_version"`
	TacitVersion     string `json:"tacit_version"`
	// Schema is the PostgreSQL schema the dump holds, when the database URL named one
	// with search_path; empty means the database's default.
	Schema    string    `json:"schema,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	Files     []File    `json:"files"`
}

// File is one file of a backup.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Source is the instance to back up.
type Source struct {
	Config config.Config
	// DB is the instance's database, opened beside the running server.
	DB *gorm.DB
	// ConfigFile is the YAML file the configuration was read from; empty for none.
	ConfigFile string
	// TacitVersion is recorded in the manifest.
	TacitVersion string
}

// Options tune Create and Restore.
type Options struct {
	// Logger receives progress and warnings; nil means slog.Default().
	Logger *slog.Logger
	// PgDump and PgRestore are the PostgreSQL programs; empty means "pg_dump" and
	// "pg_restore" looked up on PATH.
	PgDump, PgRestore string
	// Force lets Restore replace the database, keys, media and index of a data dir
	// that holds an instance already.
	Force bool
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}

// Result is what Create wrote.
type Result struct {
	Path     string
	Manifest Manifest
	// DatabaseCommand, for a PostgreSQL instance backed up without pg_dump, is the
	// command that dumps its database; empty otherwise.
	DatabaseCommand string
}

// Create writes a backup of src while the instance serves. dest is the archive to
// write, or an existing directory to write tacit-<host>-<time>.tar.gz into. The archive
// appears complete or not at all: it is written to a temporary file beside dest and
// renamed. It holds private keys, so only its owner may read it.
func Create(ctx context.Context, src Source, dest string, opt Options) (*Result, error) {
	log := opt.logger()
	cfg := src.Config
	path, err := archivePath(dest, cfg.Host, time.Now())
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(filepath.Dir(path), ".tacit-backup-*")
	if err != nil {
		return nil, fmt.Errorf("backup: work directory: %w", err)
	}
	defer os.RemoveAll(work)

	m := Manifest{Format: FormatVersion, Host: cfg.Host, Protocol: cfg.Protocol,
		Database: store.Dialect(src.DB), TacitVersion: src.TacitVersion, CreatedAt: time.Now().UTC()}
	res := &Result{Path: path}
	dbFile, dbName, err := dumpDatabase(ctx, src, work, opt, &m, res)
	if err != nil {
		return nil, err
	}

	tmp, err := os.CreateTemp(filepath.Dir(path), ".tacit-backup-*.tar.gz")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	w := newArchiveWriter(tmp)
	err = writeContents(ctx, w, src, dbFile, dbName, log)
	if err == nil {
		m.Files = w.files
		err = w.writeJSON(manifestName, m)
	}
	if err == nil {
		err = w.close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("backup: write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	syncDir(filepath.Dir(path))
	res.Manifest = m
	log.InfoContext(ctx, "backup written", "path", path, "files", len(m.Files), "schema_version", m.SchemaVersion)
	return res, nil
}

// archivePath is dest, or a new file name in dest when it is a directory. It refuses to
// replace an existing file.
func archivePath(dest string, host string, now time.Time) (string, error) {
	if dest == "" {
		return "", errors.New("backup: no destination")
	}
	if fi, err := os.Stat(dest); err == nil {
		if !fi.IsDir() {
			return "", fmt.Errorf("backup: %s exists already", dest)
		}
		name := "tacit-" + strings.NewReplacer(":", "_", "/", "_").Replace(host) + "-" + now.UTC().Format("20060102T150405Z") + ".tar.gz"
		dest = filepath.Join(dest, name)
		if _, err := os.Stat(dest); err == nil {
			return "", fmt.Errorf("backup: %s exists already", dest)
		}
	}
	if _, err := os.Stat(filepath.Dir(dest)); err != nil {
		return "", fmt.Errorf("backup: destination directory: %w", err)
	}
	return dest, nil
}

// dumpDatabase writes the database into work and returns the file and its name in the
// archive ("" when the backup holds no database). It sets the manifest's schema
// version and database fields.
func dumpDatabase(ctx context.Context, src Source, work string, opt Options, m *Manifest, res *Result) (file, name string, err error) {
	if m.Database == store.DialectPostgres {
		return dumpPostgres(ctx, src, work, opt, m, res)
	}
	file = filepath.Join(work, "tacit.db")
	if err := store.SnapshotSQLite(ctx, src.DB, file); err != nil {
		return "", "", fmt.Errorf("backup: %w", err)
	}
	// The schema version of the snapshot itself, not of the live database.
	snap, err := store.OpenNoMigrate(ctx, "", file, opt.logger())
	if err != nil {
		return "", "", fmt.Errorf("backup: open snapshot: %w", err)
	}
	m.SchemaVersion, err = store.Version(ctx, snap)
	// Closing checkpoints the snapshot: it leaves no WAL file beside it.
	if cerr := store.Close(snap); err == nil {
		err = cerr
	}
	if err != nil {
		return "", "", fmt.Errorf("backup: snapshot: %w", err)
	}
	m.DatabaseIncluded = true
	return file, sqliteName, nil
}

// writeContents writes every file but the manifest: database, keys, configuration,
// media, in that order.
func writeContents(ctx context.Context, w *archiveWriter, src Source, dbFile, dbName string, log *slog.Logger) error {
	cfg := src.Config
	if dbFile != "" {
		if err := w.addFile(dbName, dbFile); err != nil {
			return err
		}
	}
	if err := w.addTree(ctx, keysPrefix, cfg.KeysDir(), nil); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if src.ConfigFile != "" {
		if err := w.addFile(configFileName, src.ConfigFile); err != nil {
			return fmt.Errorf("configuration file: %w", err)
		}
	}
	effective, err := yaml.Marshal(cfg.Redacted())
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	header := "# The configuration this instance ran with when it was backed up; passwords are masked.\n"
	if err := w.addBytes(effectiveCfgName, append([]byte(header), effective...)); err != nil {
		return err
	}
	// Media files are written once, under a temporary name that starts with a dot,
	// then renamed: skipping dot files skips only files being written.
	vanished := func(rel string) { log.InfoContext(ctx, "media file deleted during the backup", "file", rel) }
	if err := w.addTree(ctx, mediaPrefix, cfg.MediaDir(), vanished); err != nil {
		return fmt.Errorf("media: %w", err)
	}
	return nil
}

// archiveWriter writes a tar.gz and records each file's size and checksum.
type archiveWriter struct {
	gz    *gzip.Writer
	tw    *tar.Writer
	files []File
}

func newArchiveWriter(w io.Writer) *archiveWriter {
	// Media are already compressed pictures; the fastest level compresses the
	// database about as well and costs a fraction of the CPU.
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return &archiveWriter{gz: gz, tw: tar.NewWriter(gz)}
}

func (w *archiveWriter) add(name string, size int64, modTime time.Time, r io.Reader) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600, ModTime: modTime, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	h := newHasher()
	n, err := io.Copy(io.MultiWriter(w.tw, h), r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("%s: changed size while being read", name)
	}
	w.files = append(w.files, File{Path: name, Size: n, SHA256: h.sum()})
	return nil
}

func (w *archiveWriter) addFile(name, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	return w.add(name, fi.Size(), fi.ModTime(), f)
}

func (w *archiveWriter) addBytes(name string, data []byte) error {
	return w.add(name, int64(len(data)), time.Now(), strings.NewReader(string(data)))
}

func (w *archiveWriter) writeJSON(name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return w.addBytes(name, append(data, '\n'))
}

// addTree adds every regular file under root whose name does not start with a dot, as
// prefix + its slash-separated path under root. A missing root adds nothing. A file
// that disappears between listing and reading is passed to vanished when it is not
// nil, and is an error otherwise.
func (w *archiveWriter) addTree(ctx context.Context, prefix, root string, vanished func(rel string)) error {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) && vanished != nil {
				return nil
			}
			return err
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		err = w.addFile(prefix+rel, path)
		if errors.Is(err, fs.ErrNotExist) && vanished != nil {
			vanished(rel)
			return nil
		}
		return err
	})
	return err
}

func (w *archiveWriter) close() error {
	if err := w.tw.Close(); err != nil {
		return err
	}
	return w.gz.Close()
}

// syncDir makes a rename in dir durable; file systems that cannot sync a directory
// have nothing to make durable, so a failure is ignored.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
