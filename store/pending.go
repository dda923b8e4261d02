package store

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/pressly/goose/v3"
	"gorm.io/gorm"
)

// Migration is one versioned schema change built into the binary.
type Migration struct {
	Version int64
	// Name is the migration file's name without its version and extension, e.g.
	// "instance_identity" for 00034_instance_identity.sql.
	Name string
}

// Migrations returns every migration built into the binary for db's dialect, oldest
// first.
func Migrations(db *gorm.DB) ([]Migration, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, s := range p.ListSources() {
		out = append(out, migrationOf(s))
	}
	return out, nil
}

// PendingMigrations returns the migrations Migrate would apply to db, in the order it
// would apply them, without applying any.
func PendingMigrations(ctx context.Context, db *gorm.DB) ([]Migration, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	status, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	var pending []Migration
	for _, s := range status {
		if s.State == goose.StatePending {
			pending = append(pending, migrationOf(s.Source))
		}
	}
	return pending, nil
}

// MigrateTo applies the pending migrations up to and including version, and returns
// the versions applied, in order. Upgrades use Migrate; MigrateTo lets a test stop at
// each schema a released binary may have left behind.
func MigrateTo(ctx context.Context, db *gorm.DB, version int64) ([]int64, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	results, err := p.UpTo(ctx, version)
	return ranVersions(results, err, fmt.Sprintf("store: migrate to %d", version))
}

func migrationOf(s *goose.Source) Migration {
	name := strings.TrimSuffix(path.Base(s.Path), path.Ext(s.Path))
	if _, rest, ok := strings.Cut(name, "_"); ok {
		name = rest
	}
	return Migration{Version: s.Version, Name: name}
}
