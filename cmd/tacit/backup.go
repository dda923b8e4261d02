package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tacit-social/tacit/backup"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/web"
)

// adminBackup runs `tacit admin backup DEST` beside the running server.
func adminBackup(ctx context.Context, a adminArgs, args []string) error {
	if err := a.parse(args); err != nil {
		return err
	}
	if a.flags.NArg() != 1 {
		return errors.New("backup: name the destination: tacit admin backup FILE.tar.gz (or a directory to write it in)")
	}
	dest := a.flags.Arg(0)
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		src := backup.Source{Config: a.cfg, DB: inst.DB, ConfigFile: a.configFile, TacitVersion: web.Version}
		res, err := backup.Create(ctx, src, dest, backup.Options{Logger: a.log})
		if err != nil {
			return err
		}
		m := res.Manifest
		fmt.Fprintf(a.stdout, "backup of %s://%s written to %s (%d files, schema version %d)\n",
			m.Protocol, m.Host, res.Path, len(m.Files), m.SchemaVersion)
		if res.DatabaseCommand != "" {
			fmt.Fprintf(a.stdout, "pg_dump was not found: the backup holds the keys, media and configuration, not the database.\n"+
				"Dump the database beside it, at the same time:\n  %s\n", res.DatabaseCommand)
		}
		fmt.Fprintln(a.stdout, "the backup holds the instance's private key: keep it as safe as the server")
		return nil
	})
}

// adminRestore runs `tacit admin restore BACKUP`, then rebuilds the search index from
// the restored database.
func adminRestore(ctx context.Context, a adminArgs, args []string) error {
	force := a.flags.Bool("force", false, "replace the database, keys, media and index of the instance in the data dir (stop its server first)")
	if err := a.parse(args); err != nil {
		return err
	}
	if a.flags.NArg() != 1 {
		return errors.New("restore: name the backup: tacit admin restore FILE.tar.gz")
	}
	res, err := backup.Restore(ctx, a.flags.Arg(0), a.cfg, backup.Options{Logger: a.log, Force: *force})
	if err != nil {
		return err
	}
	m := res.Manifest
	fmt.Fprintf(a.stdout, "restored the backup of %s://%s taken %s by Tacit %s (schema version %d) into %s\n",
		m.Protocol, m.Host, m.CreatedAt.Format("2006-01-02 15:04:05 MST"), m.TacitVersion, m.SchemaVersion, a.cfg.DataDir)
	if res.DatabaseCommand != "" {
		fmt.Fprintf(a.stdout, "the keys and media are back; the database is not. Restore it with:\n  %s\n"+
			"then run `tacit admin reindex`\n", res.DatabaseCommand)
		return nil
	}
	if len(res.Migrated) > 0 {
		fmt.Fprintf(a.stdout, "migrated the database to this release's schema: %s\n", joinVersions(res.Migrated))
	}
	if n := len(res.MissingMedia); n > 0 {
		fmt.Fprintf(a.stdout, "%d media files named by the database were deleted while the backup was written: %s\n",
			n, strings.Join(res.MissingMedia[:min(n, 5)], ", "))
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		return reindex(ctx, a.cfg, inst, a.stdout)
	})
}

func joinVersions(vs []int64) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprint(v)
	}
	return strings.Join(parts, ", ")
}

// configFileOf is the configuration file config.Load reads: --config, or TACIT_CONFIG.
func configFileOf(flagValue string, environ []string) string {
	if flagValue != "" {
		return flagValue
	}
	file := ""
	for _, kv := range environ {
		if name, value, ok := strings.Cut(kv, "="); ok && name == config.EnvConfigFile {
			file = value // the last one wins, as in config.Load
		}
	}
	return file
}
