package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/tacit-social/tacit/instance"
)

// adminSCIMToken is `tacit admin scim-token`: it makes a bearer token for the
// company's identity provider, which provisions accounts with it over SCIM
// (docs/scim.md), and prints the token once; --list shows the tokens, --revoke ends
// one.
func adminSCIMToken(ctx context.Context, a adminArgs, args []string) error {
	name := a.flags.String("name", "identity-provider", "the token's name, which the audit log shows for what it does")
	revoke := a.flags.String("revoke", "", "revoke the live token with this name or id")
	list := a.flags.Bool("list", false, "list the tokens")
	if err := a.parse(args); err != nil {
		return err
	}
	if *list && *revoke != "" {
		return errors.New("scim-token: --list and --revoke do not go together")
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		switch {
		case *list:
			return listSCIMTokens(ctx, a, inst)
		case *revoke != "":
			t, err := inst.Auth.RevokeSCIMToken(ctx, *revoke)
			if err != nil {
				return fmt.Errorf("scim-token: %q: %w", *revoke, err)
			}
			fmt.Fprintf(a.stdout, "SCIM token %s (id %d) revoked\n", t.Name, t.ID)
			return nil
		}
		secret, t, err := inst.Auth.CreateSCIMToken(ctx, *name)
		if err != nil {
			return fmt.Errorf("scim-token: %w", err)
		}
		fmt.Fprintf(a.stdout, "SCIM token %s (id %d) for %s/scim/v2 — shown only now:\n%s\n",
			t.Name, t.ID, a.cfg.BaseURL(), secret)
		return nil
	})
}

func listSCIMTokens(ctx context.Context, a adminArgs, inst *instance.Instance) error {
	tokens, err := inst.Auth.SCIMTokens(ctx)
	if err != nil {
		return fmt.Errorf("scim-token: %w", err)
	}
	if len(tokens) == 0 {
		fmt.Fprintln(a.stdout, "no SCIM tokens")
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED\tLAST USED\tREVOKED")
	when := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range tokens {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), when(t.LastUsedAt), when(t.RevokedAt))
	}
	return w.Flush()
}
