package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tacit-social/tacit/instance"
)

// adminRetention runs `tacit admin retention [--dry-run]`: with --dry-run it prints how
// many posts each configured rule would delete now; without, it runs one pass as the
// server's job would, at most retention.batch posts.
func adminRetention(ctx context.Context, a adminArgs, args []string) error {
	dryRun := a.flags.Bool("dry-run", false, "count what would be deleted, delete nothing")
	if err := a.parse(args); err != nil {
		return err
	}
	rules := instance.RetentionRules(a.cfg)
	if len(rules) == 0 {
		fmt.Fprintln(a.stdout, "no retention rules are configured (retention.rules): every post is kept")
		return nil
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		plan, err := inst.Community.RetentionPlanNow(ctx, rules)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		for _, c := range plan.Rules {
			fmt.Fprintf(a.stdout, "%-32s %d posts\n", c.Rule, c.Posts)
		}
		if *dryRun {
			fmt.Fprintf(a.stdout, "%d posts would be deleted now (a post matching two rules counts once)\n", plan.Total)
			return nil
		}
		res, err := inst.Community.ApplyRetention(ctx, rules, a.cfg.Retention.Batch)
		fmt.Fprintf(a.stdout, "deleted %d posts; %d remain for the next pass; the server tells the peers as soon as it runs\n",
			res.Deleted, res.Remaining)
		if err != nil {
			return fmt.Errorf("retention: %w", err)
		}
		return nil
	})
}

// adminLegalHold runs `tacit admin legal-hold USER on|off [--reason TEXT]`.
func adminLegalHold(ctx context.Context, a adminArgs, args []string) error {
	reason := a.flags.String("reason", "", "why the account is held (kept in the moderation log)")
	if err := a.parse(args); err != nil {
		return err
	}
	// Flags may follow the account and the state too.
	rest := a.flags.Args()
	var positional []string
	for len(rest) > 0 {
		positional = append(positional, rest[0])
		if err := a.parse(rest[1:]); err != nil {
			return err
		}
		rest = a.flags.Args()
	}
	username := *a.username
	if username == "" && len(positional) > 0 {
		username, positional = positional[0], positional[1:]
	}
	if username == "" || len(positional) != 1 {
		return errors.New("legal-hold: give the account and on or off, e.g. tacit admin legal-hold alice on")
	}
	var on bool
	switch strings.ToLower(positional[0]) {
	case "on":
		on = true
	case "off":
	default:
		return fmt.Errorf("legal-hold: %q is neither on nor off", positional[0])
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		acct, err := inst.Community.LocalAccount(ctx, username)
		if err != nil {
			return fmt.Errorf("legal-hold: account %q: %w", username, err)
		}
		if err := inst.Community.SetLegalHold(ctx, nil, acct.ID, on, *reason); err != nil {
			return fmt.Errorf("legal-hold: %w", err)
		}
		if on {
			fmt.Fprintf(a.stdout, "%s is under legal hold: retention rules no longer delete its posts\n", username)
		} else {
			fmt.Fprintf(a.stdout, "%s is no longer under legal hold\n", username)
		}
		return nil
	})
}
