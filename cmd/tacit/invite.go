package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance"
)

// adminInvite is `tacit admin invite`: it makes an invite and prints its sign-up
// link, or with --list shows the invites, or with --revoke ends one. The operator acts
// as the server itself, so the audit log records the invite without a staff account.
func adminInvite(ctx context.Context, a adminArgs, args []string) error {
	maxUses := a.flags.Int("max-uses", 0, "how many accounts may sign up with it (0: any number)")
	expires := a.flags.String("expires", "", "how long it lasts, e.g. 30m, 12h, 7d (empty: for ever)")
	comment := a.flags.String("comment", "", "a note for staff, such as whom it is for")
	list := a.flags.Bool("list", false, "list the invites instead")
	revoke := a.flags.String("revoke", "", "revoke the invite with this code instead")
	if err := a.parse(args); err != nil {
		return err
	}
	lifetime, err := parseLifetime(*expires)
	if err != nil {
		return fmt.Errorf("invite: --expires: %w", err)
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		switch {
		case *list:
			return listInvites(ctx, a, inst)
		case *revoke != "":
			if err := inst.Community.RevokeInvite(ctx, nil, *revoke); err != nil {
				return fmt.Errorf("invite: %w", err)
			}
			fmt.Fprintf(a.stdout, "invite %s revoked\n", strings.ToLower(strings.TrimSpace(*revoke)))
			return nil
		}
		inv, err := inst.Community.CreateInvite(ctx, nil, community.NewInvite{MaxUses: *maxUses, ExpiresIn: lifetime, Comment: *comment})
		if err != nil {
			return fmt.Errorf("invite: %w", err)
		}
		settings, err := inst.Community.Settings(ctx)
		if err != nil {
			return fmt.Errorf("invite: %w", err)
		}
		fmt.Fprintln(a.stdout, inst.Community.InviteURL(inv.Code))
		if settings.Registrations.Mode == community.RegistrationsClosed {
			fmt.Fprintln(a.stderr(), "note: registrations are closed, so the invite works once an admin sets them to invite or open")
		}
		return nil
	})
}

// stderr is where admin commands write remarks that are not their output.
func (a adminArgs) stderr() io.Writer { return a.flags.Output() }

func listInvites(ctx context.Context, a adminArgs, inst *instance.Instance) error {
	invites, err := inst.Community.Invites(ctx, nil)
	if err != nil {
		return fmt.Errorf("invite: %w", err)
	}
	if len(invites) == 0 {
		fmt.Fprintln(a.stdout, "no invites")
		return nil
	}
	w := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CODE\tSTATE\tUSES\tEXPIRES\tCOMMENT")
	now := time.Now()
	for _, inv := range invites {
		uses := strconv.Itoa(inv.Uses) + "/"
		if inv.MaxUses == 0 {
			uses += "any"
		} else {
			uses += strconv.Itoa(inv.MaxUses)
		}
		expires := "never"
		if inv.ExpiresAt != nil {
			expires = inv.ExpiresAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", inv.Code, inv.State(now), uses, expires, inv.Comment)
	}
	return w.Flush()
}

// parseLifetime reads a duration in Go's syntax, or in days ("7d").
func parseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q is not a number of days such as 7d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("use a positive duration such as 30m, 12h or 7d")
	}
	return d, nil
}
