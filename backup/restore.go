package backup

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/media"
	"github.com/tacit-social/tacit/store"
)

// RestoreResult is what Restore did.
type RestoreResult struct {
	Manifest Manifest
	// Migrated lists the migrations applied to bring a backup of an older Tacit up to
	// this binary's schema.
	Migrated []int64
	// MissingMedia lists files that rows of the restored database name but the backup
	// did not hold: deleted, with their rows, while the backup was being written.
	MissingMedia []string
	// DatabaseCommand, for PostgreSQL when the database could not be restored here
	// (no dump in the backup, or no pg_restore), says what to run; empty otherwise.
	DatabaseCommand string
}

// Restore puts the backup at archive back under cfg: the database (SQLite, or
// PostgreSQL through pg_restore into an empty database), the instance key and the
// media, after checking the manifest, every checksum, and that the backup is of the
// host and protocol cfg names. The data dir must be empty (or missing) unless
// opt.Force; then the database, keys, media and search index found there are replaced.
// Stop the server first. Restore leaves the search index for the caller to rebuild
// from the restored database.
func Restore(ctx context.Context, archive string, cfg config.Config, opt Options) (*RestoreResult, error) {
	if err := checkTarget(cfg, opt.Force); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("restore: create data dir: %w", err)
	}
	stage := filepath.Join(cfg.DataDir, ".restore-"+randomSuffix())
	if err := os.Mkdir(stage, 0o700); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)

	m, err := extract(ctx, archive, stage)
	if err != nil {
		return nil, err
	}
	if err := checkManifest(m, cfg); err != nil {
		return nil, err
	}
	// Everything that can refuse the restore runs before anything is replaced.
	switch {
	case m.Database == store.DialectSQLite:
		err = checkSQLite(ctx, filepath.Join(stage, filepath.FromSlash(sqliteName)), cfg, opt)
	case m.DatabaseIncluded:
		err = checkPostgresTarget(ctx, cfg.Database, m, opt)
	}
	if err != nil {
		return nil, err
	}
	if opt.Force {
		if err := clearTarget(cfg); err != nil {
			return nil, err
		}
	}
	res := &RestoreResult{Manifest: m}
	// The keys and media first, the database last: a restore cut short leaves no
	// database, which serve and the admin commands take for no instance at all.
	if err := moveTree(filepath.Join(stage, "keys"), cfg.KeysDir(), 0o700, 0o600); err != nil {
		return nil, fmt.Errorf("restore: keys: %w", err)
	}
	if err := moveTree(filepath.Join(stage, "media"), cfg.MediaDir(), 0o750, 0o640); err != nil {
		return nil, fmt.Errorf("restore: media: %w", err)
	}
	switch {
	case m.Database == store.DialectSQLite:
		if err := moveFile(filepath.Join(stage, filepath.FromSlash(sqliteName)), cfg.SQLitePath(), 0o640); err != nil {
			return nil, fmt.Errorf("restore: database: %w", err)
		}
	case !m.DatabaseIncluded:
		res.DatabaseCommand = "the backup holds no database: restore the pg_dump taken beside it with pg_restore --no-owner --no-privileges --dbname=DATABASE_URL FILE"
		return res, nil
	default:
		res.DatabaseCommand, err = restorePostgres(ctx, filepath.Join(stage, filepath.FromSlash(pgDumpName)), cfg.Database, opt)
		if err != nil || res.DatabaseCommand != "" {
			return res, err
		}
	}
	if err := finishDatabase(ctx, cfg, opt, res); err != nil {
		return nil, err
	}
	return res, nil
}

// checkTarget refuses a data dir (or media dir) that holds anything, unless force.
func checkTarget(cfg config.Config, force bool) error {
	if force {
		return nil
	}
	for _, dir := range []string{cfg.DataDir, cfg.MediaDir()} {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if len(entries) > 0 {
			return fmt.Errorf("restore: %s is not empty: restore into a new data dir, or add --force to replace the instance there (stop its server first)", dir)
		}
	}
	return nil
}

// clearTarget removes what a restore replaces: the SQLite database and its journal
// files, the keys, the media and the search index.
func clearTarget(cfg config.Config) error {
	db := cfg.SQLitePath()
	for _, p := range []string{db, db + "-wal", db + "-shm", db + "-journal", cfg.KeysDir(), cfg.MediaDir(), cfg.IndexDir()} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("restore: remove %s: %w", p, err)
		}
	}
	return nil
}

// extract writes the archive's files under stage, checking each against the manifest,
// and returns the manifest. The configuration files are checked but not kept: the
// restored instance runs with the configuration it is given.
func extract(ctx context.Context, archive, stage string) (Manifest, error) {
	var m Manifest
	f, err := os.Open(archive)
	if err != nil {
		return m, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return m, fmt.Errorf("restore: %s is not a Tacit backup: %w", archive, err)
	}
	tr := tar.NewReader(gz)
	got := map[string]File{}
	var manifest []byte
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return m, fmt.Errorf("restore: read %s: %w", archive, err)
		}
		if err := ctx.Err(); err != nil {
			return m, err
		}
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		name, err := entryName(hdr)
		if err != nil {
			return m, err
		}
		if _, dup := got[name]; dup || (name == manifestName && manifest != nil) {
			return m, fmt.Errorf("restore: %s appears twice in the backup", name)
		}
		if name == manifestName {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return m, fmt.Errorf("restore: read manifest: %w", err)
			}
			continue
		}
		file, err := extractFile(tr, hdr, name, stage)
		if err != nil {
			return m, err
		}
		got[name] = file
	}
	if manifest == nil {
		return m, fmt.Errorf("restore: %s holds no %s: not a complete Tacit backup", archive, manifestName)
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return m, fmt.Errorf("restore: manifest: %w", err)
	}
	if m.Format != FormatVersion {
		return m, fmt.Errorf("restore: backup format %d; this Tacit reads format %d", m.Format, FormatVersion)
	}
	return m, checkFiles(m.Files, got)
}

// entryName validates an archive entry: a regular file, at a relative path inside one
// of the backup's folders, that cannot escape the staging directory.
func entryName(hdr *tar.Header) (string, error) {
	name := hdr.Name
	if hdr.Typeflag != tar.TypeReg || name != path.Clean(name) || path.IsAbs(name) ||
		name == ".." || strings.HasPrefix(name, "../") || strings.Contains(name, "\\") {
		return "", fmt.Errorf("restore: unexpected entry %q in the backup", name)
	}
	for _, prefix := range []string{"database/", keysPrefix, mediaPrefix, "config/"} {
		if strings.HasPrefix(name, prefix) {
			return name, nil
		}
	}
	if name == manifestName {
		return name, nil
	}
	return "", fmt.Errorf("restore: unexpected entry %q in the backup", name)
}

func extractFile(r io.Reader, hdr *tar.Header, name, stage string) (File, error) {
	h := newHasher()
	var dst io.Writer = h
	if !strings.HasPrefix(name, "config/") {
		p := filepath.Join(stage, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return File{}, fmt.Errorf("restore: %w", err)
		}
		out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return File{}, fmt.Errorf("restore: %w", err)
		}
		defer out.Close()
		dst = io.MultiWriter(out, h)
	}
	n, err := io.Copy(dst, r)
	if err != nil {
		return File{}, fmt.Errorf("restore: extract %s: %w", name, err)
	}
	if n != hdr.Size {
		return File{}, fmt.Errorf("restore: %s is truncated", name)
	}
	return File{Path: name, Size: n, SHA256: h.sum()}, nil
}

// checkFiles compares the files found with the manifest's list.
func checkFiles(want []File, got map[string]File) error {
	seen := map[string]bool{}
	for _, w := range want {
		g, ok := got[w.Path]
		switch {
		case !ok:
			return fmt.Errorf("restore: %s is missing from the backup", w.Path)
		case g.Size != w.Size || g.SHA256 != w.SHA256:
			return fmt.Errorf("restore: %s is damaged (its checksum differs from the manifest's)", w.Path)
		}
		seen[w.Path] = true
	}
	for name := range got {
		if !seen[name] {
			return fmt.Errorf("restore: %s is in the backup but not in its manifest", name)
		}
	}
	return nil
}

// checkManifest refuses a backup of another instance or of another kind of database.
func checkManifest(m Manifest, cfg config.Config) error {
	if m.Host != cfg.Host || m.Protocol != cfg.Protocol {
		return fmt.Errorf("restore: the backup is of %s://%s, but the configuration says %s://%s: "+
			"an instance keeps its host for good (every id and key its peers know names it); set TACIT_HOST and TACIT_PROTOCOL to the backup's",
			m.Protocol, m.Host, cfg.Protocol, cfg.Host)
	}
	want := store.DialectSQLite
	if cfg.UsesPostgres() {
		want = store.DialectPostgres
	}
	if m.Database != want {
		return fmt.Errorf("restore: the backup is of a %s instance, but the configuration names a %s database", m.Database, want)
	}
	return nil
}

// checkSQLite checks the staged database: its recorded identity, and that its schema
// is not newer than this binary's.
func checkSQLite(ctx context.Context, file string, cfg config.Config, opt Options) error {
	db, err := store.OpenNoMigrate(ctx, "", file, opt.logger())
	if err != nil {
		return fmt.Errorf("restore: open the backup's database: %w", err)
	}
	defer store.Close(db)
	if err := store.CheckIdentity(ctx, db, store.Identity{Host: cfg.Host, Protocol: cfg.Protocol}, false); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	v, err := store.Version(ctx, db)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	latest, err := store.LatestVersion(db)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return checkSchemaVersion(v, latest)
}

func checkSchemaVersion(backup, latest int64) error {
	if backup > latest {
		return fmt.Errorf("restore: the backup's schema (version %d) is newer than this Tacit's (%d): restore it with the Tacit release that wrote it, or a newer one", backup, latest)
	}
	return nil
}

// finishDatabase migrates the restored database to this binary's schema, checks its
// recorded identity, and lists the media files its rows name but the backup lacked.
func finishDatabase(ctx context.Context, cfg config.Config, opt Options, res *RestoreResult) error {
	db, err := store.OpenNoMigrate(ctx, cfg.Database, cfg.SQLitePath(), opt.logger())
	if err != nil {
		return fmt.Errorf("restore: open the restored database: %w", err)
	}
	defer store.Close(db)
	if res.Migrated, err = store.Migrate(ctx, db); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := store.CheckIdentity(ctx, db, store.Identity{Host: cfg.Host, Protocol: cfg.Protocol}, false); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	var rows []struct{ FileKey, OriginalName, PreviewName string }
	if err := db.WithContext(ctx).Table("media_attachments").Select("file_key, original_name, preview_name").
		Where("file_key <> ''").Order("id").Scan(&rows).Error; err != nil {
		return fmt.Errorf("restore: list media: %w", err)
	}
	files, err := media.NewDir(cfg.MediaDir())
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, r := range rows {
		keys := []string{r.FileKey + "/" + r.OriginalName}
		if r.PreviewName != "" {
			keys = append(keys, r.FileKey+"/"+r.PreviewName)
		}
		for _, key := range keys {
			f, err := files.Open(ctx, key)
			if err != nil {
				res.MissingMedia = append(res.MissingMedia, key)
				continue
			}
			_ = f.Close()
		}
	}
	if len(res.MissingMedia) > 0 {
		opt.logger().WarnContext(ctx, "media files named by the database are not in the backup", "count", len(res.MissingMedia))
	}
	return nil
}

// moveTree moves every file under src to the same place under dst, creating
// directories with dirMode and giving files fileMode. A missing src moves nothing.
func moveTree(src, dst string, dirMode, fileMode os.FileMode) error {
	if err := os.MkdirAll(dst, dirMode); err != nil {
		return err
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == src {
				return fs.SkipAll
			}
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if err := os.MkdirAll(target, dirMode); err != nil {
				return err
			}
			return os.Chmod(target, dirMode)
		}
		return moveFile(p, target, fileMode)
	})
}

// moveFile renames src to dst, or copies it when they are on different file systems.
func moveFile(src, dst string, mode os.FileMode) error {
	if err := os.Chmod(src, mode); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

type hasher struct{ hash.Hash }

func newHasher() hasher { return hasher{sha256.New()} }

func (h hasher) sum() string { return hex.EncodeToString(h.Sum(nil)) }
