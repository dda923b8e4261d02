package community

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"
)

// regFixture is a service with a movable clock, configured with registrations, and
// its staff.
type regFixture struct {
	t          *testing.T
	s          *Service
	now        atomic.Pointer[time.Time]
	admin, mod *Account
}

func newRegFixture(t *testing.T, db *gorm.DB, configured Registrations) *regFixture {
	f := &regFixture{t: t}
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	f.now.Store(&start)
	f.s = NewService(db, Options{Host: "tacit.test", BaseURL: "https://tacit.test", InstanceName: "Tacit", Registrations: configured,
		Now: func() time.Time { return *f.now.Load() }})
	for _, r := range []Role{RoleAdmin, RoleModerator} {
		a, _, err := f.s.CreateLocalAccount(t.Context(), NewLocalAccount{Username: "staff_" + string(r),
			Password: "a long enough passphrase", Role: r})
		if err != nil {
			t.Fatal(err)
		}
		if r == RoleAdmin {
			f.admin = a
		} else {
			f.mod = a
		}
	}
	return f
}

func (f *regFixture) advance(d time.Duration) {
	next := f.now.Load().Add(d)
	f.now.Store(&next)
}

func (f *regFixture) set(reg Registrations) {
	f.t.Helper()
	cur, err := f.s.Settings(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	cur.Registrations = reg
	if _, err := f.s.UpdateSettings(f.t.Context(), f.admin, cur); err != nil {
		f.t.Fatal(err)
	}
}

func signUpAs(name string) Registration {
	return Registration{Username: name, Email: name + "@example.com", Password: "a long sign-up phrase", Agreement: true}
}

// fieldCodes are the field errors of a RegistrationError as "field:CODE".
func fieldCodes(err error) []string {
	var re *RegistrationError
	if !errors.As(err, &re) {
		return nil
	}
	var out []string
	for _, f := range re.Fields {
		out = append(out, f.Field+":"+f.Code)
	}
	return out
}

// TestRegistrationSettings: the configured registrations apply until an admin saves
// some; a save that leaves them out keeps them; bad ones are refused.
func TestRegistrationSettings(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		f := newRegFixture(t, db, Registrations{Mode: RegistrationsInvite, ApprovalRequired: true})
		ctx := t.Context()
		got, err := f.s.Settings(ctx)
		if err != nil || got.Registrations.Mode != RegistrationsInvite || !got.Registrations.ApprovalRequired {
			t.Fatalf("configured registrations: %+v %v", got.Registrations, err)
		}
		// Saving the name alone keeps the registrations.
		got.Name, got.Registrations = "Renamed", Registrations{}
		if got, err = f.s.UpdateSettings(ctx, f.admin, got); err != nil || got.Registrations.Mode != RegistrationsInvite {
			t.Fatalf("save without registrations: %+v %v", got.Registrations, err)
		}
		f.set(Registrations{Mode: RegistrationsOpen, AllowedEmailDomains: []string{" @Example.COM", "example.com", "", "eng.example.org"}})
		got, _ = f.s.Settings(ctx)
		if r := got.Registrations; r.Mode != RegistrationsOpen || r.ApprovalRequired ||
			!slices.Equal(r.AllowedEmailDomains, []string{"example.com", "eng.example.org"}) {
			t.Fatalf("saved registrations: %+v", r)
		}
		for name, bad := range map[string]Registrations{
			"unknown mode": {Mode: "approved"},
			"bad domain":   {Mode: RegistrationsOpen, AllowedEmailDomains: []string{"alice@example.com"}},
			"no dot":       {Mode: RegistrationsOpen, AllowedEmailDomains: []string{"localhost"}},
		} {
			cur, _ := f.s.Settings(ctx)
			cur.Registrations = bad
			if _, err := f.s.UpdateSettings(ctx, f.admin, cur); KindOf(err) != KindInvalid {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
	})
}

// TestRegister walks through the modes, the invites' limits and the approval.
func TestRegister(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		f := newRegFixture(t, db, Registrations{})
		ctx := t.Context()
		if _, err := f.s.Register(ctx, signUpAs("ana")); KindOf(err) != KindForbidden {
			t.Fatalf("closed by default: %v", err)
		}

		f.set(Registrations{Mode: RegistrationsInvite})
		if _, err := f.s.Register(ctx, signUpAs("ana")); KindOf(err) != KindForbidden {
			t.Fatalf("invite mode without a code: %v", err)
		}
		alice, _, err := f.s.CreateLocalAccount(ctx, NewLocalAccount{Username: "alice", Password: "a long enough passphrase"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CreateInvite(ctx, alice, NewInvite{}); KindOf(err) != KindForbidden {
			t.Fatalf("invite by a user: %v", err)
		}
		for _, bad := range []NewInvite{{MaxUses: -1}, {ExpiresIn: time.Second}, {ExpiresIn: 400 * 24 * time.Hour}} {
			if _, err := f.s.CreateInvite(ctx, f.mod, bad); KindOf(err) != KindInvalid {
				t.Errorf("invite %+v: %v, want invalid", bad, err)
			}
		}
		inv, err := f.s.CreateInvite(ctx, f.mod, NewInvite{MaxUses: 2, ExpiresIn: time.Hour, Comment: "new hires"})
		if err != nil {
			t.Fatal(err)
		}
		r := signUpAs("ana")
		r.InviteCode, r.Agreement, r.Locale, r.Reason = inv.Code, false, "pt-BR", "I sell things"
		if _, err := f.s.Register(ctx, r); !slices.Equal(fieldCodes(err), []string{"agreement:ERR_ACCEPTED"}) || KindOf(err) != KindInvalid {
			t.Fatalf("without the agreement: %v", err)
		}
		r.Agreement = true
		reg, err := f.s.Register(ctx, r)
		if err != nil || reg.Pending || reg.User.Locale != "pt-BR" || reg.User.InviteID == nil || *reg.User.InviteID != inv.ID {
			t.Fatalf("register with an invite: %+v %v", reg, err)
		}
		if _, _, err := f.s.Authenticate(ctx, "ana", r.Password); err != nil {
			t.Fatalf("sign in after registering: %v", err)
		}

		// An hour later the invite has expired, though it has a use left.
		f.advance(time.Hour)
		r = signUpAs("ben")
		r.InviteCode = inv.Code
		if _, err := f.s.Register(ctx, r); KindOf(err) != KindForbidden {
			t.Fatalf("expired invite: %v", err)
		}
		invites, err := f.s.Invites(ctx, f.admin)
		if err != nil || len(invites) != 1 || invites[0].Uses != 1 || invites[0].State(f.s.clock()) != InviteExpired {
			t.Fatalf("invites: %+v %v", invites, err)
		}

		checkApproval(t, f, alice)

		// A rejected account is gone, its name and address free.
		reg, err = f.s.Register(ctx, signUpAs("carl"))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.RejectAccount(ctx, f.mod, reg.Account.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.LocalAccount(ctx, "carl"); KindOf(err) != KindNotFound {
			t.Fatalf("rejected account still there: %v", err)
		}
		if _, err := f.s.Register(ctx, signUpAs("carl")); err != nil {
			t.Fatalf("sign up again after rejection: %v", err)
		}
		if err := f.s.RevokeInvite(ctx, f.admin, inv.Code); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.CheckInvite(ctx, inv.Code); KindOf(err) != KindForbidden {
			t.Fatalf("revoked invite: %v", err)
		}
		log, err := f.s.ModerationLog(ctx, f.admin, ModerationLogQuery{Page: Page{Limit: 50}})
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, e := range log {
			counts[e.Action]++
		}
		for action, want := range map[string]int{ActionCreateInvite: 1, ActionRevokeInvite: 1, ActionApproveAccount: 1, ActionRejectAccount: 1} {
			if counts[action] != want {
				t.Errorf("audit log: %d %s entries, want %d (%v)", counts[action], action, want, counts)
			}
		}
	})
}

// checkApproval: open sign-up with approval: a pending account cannot sign in, nor be
// seen by others, until a moderator approves it.
func checkApproval(t *testing.T, f *regFixture, alice *Account) {
	t.Helper()
	ctx := t.Context()
	// Open with approval: a pending account cannot sign in until approved.
	f.set(Registrations{Mode: RegistrationsOpen, ApprovalRequired: true, AllowedEmailDomains: []string{"example.com"}})
	r := signUpAs("ben")
	r.Email = "ben@elsewhere.org"
	if _, err := f.s.Register(ctx, r); !slices.Equal(fieldCodes(err), []string{"email:ERR_BLOCKED"}) {
		t.Fatalf("address of another domain: %v", err)
	}
	reg, err := f.s.Register(ctx, signUpAs("ben"))
	if err != nil || !reg.Pending || reg.User.Approved {
		t.Fatalf("register while approval is required: %+v %v", reg, err)
	}
	if _, _, err := f.s.Authenticate(ctx, "ben", "a long sign-up phrase"); !errors.Is(err, ErrPendingApproval) {
		t.Fatalf("sign in while pending: %v", err)
	}
	pending, err := f.s.PendingAccounts(ctx, f.mod, Page{})
	if err != nil || len(pending) != 1 || pending[0].Account.Username != "ben" {
		t.Fatalf("pending accounts: %+v %v", pending, err)
	}
	// Nobody else sees a pending account, by id or by name, nor in lists.
	seenBy := func(v Viewer) bool { return accountSeenBy(t, f.s, v, reg.Account) }
	if seenBy(Viewer{Account: alice}) {
		t.Fatal("a pending account is seen by another account")
	}
	if !seenBy(Viewer{Account: reg.Account}) {
		t.Fatal("a pending account does not see itself")
	}
	if err := f.s.ApproveAccount(ctx, alice, reg.Account.ID); KindOf(err) != KindForbidden {
		t.Fatalf("approve by a user: %v", err)
	}
	if err := f.s.ApproveAccount(ctx, f.mod, reg.Account.ID); err != nil {
		t.Fatal(err)
	}
	if !seenBy(Viewer{Account: alice}) {
		t.Fatal("an approved account is not seen")
	}
	if _, _, err := f.s.Authenticate(ctx, "ben", "a long sign-up phrase"); err != nil {
		t.Fatalf("sign in once approved: %v", err)
	}
	if err := f.s.RejectAccount(ctx, f.mod, reg.Account.ID); KindOf(err) != KindForbidden {
		t.Fatalf("reject an approved account: %v", err)
	}
}

// TestInviteLastUse: sign-ups racing for an invite's uses make exactly as many
// accounts as it allows, and a sign-up that fails after taking a use gives it back.
func TestInviteLastUse(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		f := newRegFixture(t, db, Registrations{Mode: RegistrationsInvite})
		ctx := t.Context()
		inv, err := f.s.CreateInvite(ctx, nil, NewInvite{MaxUses: 3})
		if err != nil {
			t.Fatal(err)
		}
		var made atomic.Int32
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := signUpAs(fmt.Sprintf("racer%d", i))
				r.InviteCode = inv.Code
				_, err := f.s.Register(context.Background(), r)
				switch {
				case err == nil:
					made.Add(1)
				case KindOf(err) != KindForbidden:
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("sign-up failed otherwise than refused: %v", err)
		}
		var uses int
		if err := db.Model(&Invite{}).Where("id = ?", inv.ID).Select("uses").Scan(&uses).Error; err != nil {
			t.Fatal(err)
		}
		if made.Load() != 3 || uses != 3 {
			t.Fatalf("%d accounts, %d uses; want 3 each", made.Load(), uses)
		}

		// A sign-up refused after the checks (the name taken since) gives its use back.
		open, err := f.s.CreateInvite(ctx, nil, NewInvite{MaxUses: 1})
		if err != nil {
			t.Fatal(err)
		}
		taken, err := f.s.takeInvite(ctx, open.Code)
		if err != nil {
			t.Fatal(err)
		}
		f.s.giveBackInvite(ctx, taken.ID)
		r := signUpAs("late")
		r.InviteCode = open.Code
		if _, err := f.s.Register(ctx, r); err != nil {
			t.Fatalf("invite after a use was given back: %v", err)
		}
	})
}

// TestApproveRejectRace: a moderator approving an account while another rejects it
// ends with one decision, never an approved account deleted.
func TestApproveRejectRace(t *testing.T) {
	eachDatabase(t, func(t *testing.T, db *gorm.DB) {
		f := newRegFixture(t, db, Registrations{Mode: RegistrationsOpen, ApprovalRequired: true})
		ctx := t.Context()
		for i := range 5 {
			reg, err := f.s.Register(ctx, signUpAs(fmt.Sprintf("waiting%d", i)))
			if err != nil {
				t.Fatal(err)
			}
			var approveErr, rejectErr error
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				approveErr = f.s.ApproveAccount(context.Background(), f.admin, reg.Account.ID)
			}()
			go func() { defer wg.Done(); rejectErr = f.s.RejectAccount(context.Background(), f.mod, reg.Account.ID) }()
			wg.Wait()
			_, lookupErr := f.s.LocalAccount(ctx, reg.Account.Username)
			switch {
			case approveErr == nil && rejectErr != nil:
				if lookupErr != nil {
					t.Errorf("round %d: approved, then gone: %v", i, lookupErr)
				}
			case rejectErr == nil && approveErr != nil:
				if KindOf(lookupErr) != KindNotFound {
					t.Errorf("round %d: rejected, yet still there: %v", i, lookupErr)
				}
			default:
				t.Errorf("round %d: approve %v, reject %v; want exactly one to succeed", i, approveErr, rejectErr)
			}
		}
	})
}

// accountSeenBy reports whether viewer v finds the local account a by id, by name and
// in a list.
func accountSeenBy(t *testing.T, s *Service, v Viewer, a *Account) bool {
	t.Helper()
	ctx := t.Context()
	_, byID := s.AccountFor(ctx, v, a.ID)
	_, byName := s.LocalAccountFor(ctx, v, a.Username)
	listed, err := s.VisibleAccounts(ctx, v, []*Account{a})
	if err != nil {
		t.Fatal(err)
	}
	return byID == nil && byName == nil && len(listed) == 1
}
