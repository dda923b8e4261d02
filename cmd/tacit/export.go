package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/web"
)

// adminExport runs `tacit admin export USER DEST.zip`: an admin exports a person's
// archive on their request, as the person would download it from /settings/export.
func adminExport(ctx context.Context, a adminArgs, args []string) error {
	if err := a.parse(args); err != nil {
		return err
	}
	rest := a.flags.Args()
	username := *a.username
	if username == "" && len(rest) > 0 {
		username, rest = rest[0], rest[1:]
	}
	if username == "" || len(rest) != 1 {
		return errors.New("export: give the account and the file to write, e.g. tacit admin export alice alice.zip")
	}
	dest := rest[0]
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		acct, err := inst.Community.LocalAccount(ctx, username)
		if err != nil {
			return fmt.Errorf("export: account %q: %w", username, err)
		}
		// Written beside the destination and renamed once complete, so that a failed
		// export never leaves a file that looks whole.
		tmp, err := os.CreateTemp(filepath.Dir(dest), ".tacit-export-*.zip")
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		defer os.Remove(tmp.Name())
		if err := web.Archiver(inst.Community).Write(ctx, tmp, acct); err != nil {
			tmp.Close()
			return fmt.Errorf("export: %w", err)
		}
		if err := tmp.Close(); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := os.Rename(tmp.Name(), dest); err != nil {
			return fmt.Errorf("export: %w", err)
		}
		a.log.Info("admin exported an account's archive", "account_id", acct.ID, "file", dest)
		fmt.Fprintf(a.stdout, "wrote the archive of %s to %s\n", username, dest)
		return nil
	})
}
