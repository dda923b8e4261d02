package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// regWorld is an instance whose registration settings a test changes, an admin who
// changes them and moderates, and a registered app's client-credentials token.
type regWorld struct {
	t        *testing.T
	inst     *instancetest.Instance
	admin    *instancetest.User
	appToken string
}

func newRegWorld(t *testing.T, inst *instancetest.Instance) *regWorld {
	t.Helper()
	ctx := context.Background()
	w := &regWorld{t: t, inst: inst,
		admin: inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin, Scopes: staffScopes})}
	app, err := mastodon.RegisterApp(ctx, &mastodon.AppConfig{Server: inst.URL, ClientName: "signup", Scopes: "read write follow"})
	if err != nil {
		t.Fatalf("register app: %v", err)
	}
	// go-mastodon's GetAppAccessToken asks for no scope, which grants read only; a
	// sign-up needs write, as on Mastodon.
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	inst.Call(t, http.MethodPost, "/oauth/token", "", url.Values{"grant_type": {"client_credentials"},
		"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"read write follow"}}).
		Decode(t, http.StatusOK, &tok)
	w.appToken = tok.AccessToken
	return w
}

// set saves the registration settings as the admin.
func (w *regWorld) set(mode community.RegistrationMode, approval bool, domains ...string) {
	w.t.Helper()
	ctx := context.Background()
	cur, err := w.inst.Community.Settings(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	cur.Registrations = community.Registrations{Mode: mode, ApprovalRequired: approval, AllowedEmailDomains: domains}
	if _, err := w.inst.Community.UpdateSettings(ctx, w.admin.Account, cur); err != nil {
		w.t.Fatalf("save registrations: %v", err)
	}
}

// signUp posts a registration with the app token; extra overrides the defaults.
func (w *regWorld) signUp(username string, extra url.Values) instancetest.Answer {
	w.t.Helper()
	form := url.Values{"username": {username}, "email": {username + "@example.com"},
		"password": {"a long sign-up phrase"}, "agreement": {"true"}, "locale": {"en"}}
	for k, v := range extra {
		form[k] = v
	}
	return w.inst.Call(w.t, http.MethodPost, "/api/v1/accounts", w.appToken, form)
}

// token decodes a successful registration's Token entity.
func (w *regWorld) token(a instancetest.Answer) string {
	w.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		Scope       string `json:"scope"`
	}
	a.Decode(w.t, http.StatusOK, &tok)
	if tok.AccessToken == "" || tok.TokenType != "Bearer" || tok.Scope != "read write follow" {
		w.t.Fatalf("registration token %+v", tok)
	}
	return tok.AccessToken
}

// me is verify_credentials with token, through go-mastodon: the account or the
// HTTP status of the refusal.
func (w *regWorld) me(token string) (*mastodon.Account, int) {
	acct, err := w.inst.Client(token).GetAccountCurrentUser(context.Background())
	return acct, accAPIStatus(err)
}

// invite makes an invite as the admin.
func (w *regWorld) invite(maxUses int) string {
	w.t.Helper()
	inv, err := w.inst.Community.CreateInvite(context.Background(), w.admin.Account, community.NewInvite{MaxUses: maxUses, ExpiresIn: time.Hour})
	if err != nil {
		w.t.Fatal(err)
	}
	return inv.Code
}

// fieldErrors decodes Mastodon's 422 validation answer into field → error codes.
func fieldErrors(t *testing.T, a instancetest.Answer) map[string][]string {
	t.Helper()
	var body struct {
		Error   string `json:"error"`
		Details map[string][]struct {
			Error       string `json:"error"`
			Description string `json:"description"`
		} `json:"details"`
	}
	a.Decode(t, http.StatusUnprocessableEntity, &body)
	if !strings.HasPrefix(body.Error, "Validation failed: ") {
		t.Errorf("error %q, want Mastodon's \"Validation failed: …\"", body.Error)
	}
	out := map[string][]string{}
	for field, list := range body.Details {
		for _, e := range list {
			if e.Description == "" {
				t.Errorf("%s: %s without a description", field, e.Error)
			}
			out[field] = append(out[field], e.Error)
		}
	}
	return out
}

// TestRegistrationModes signs up through the API in each mode: closed refuses, invite
// needs a valid code, open takes the allowed domains only.
func TestRegistrationModes(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		w := newRegWorld(t, inst)
		w.signUp("ana", nil).WantError(t, "closed", http.StatusForbidden, "Registrations are closed")
		inst.Call(t, http.MethodPost, "/api/v1/accounts", "", url.Values{"username": {"ana"}}).
			WantError(t, "without a token", http.StatusUnauthorized, "")
		w.instanceSays(false, false, true)

		w.set(community.RegistrationsInvite, false)
		w.instanceSays(false, false, false)
		w.signUp("ana", nil).WantError(t, "no invite", http.StatusForbidden, "needs an invite")
		w.signUp("ana", url.Values{"invite_code": {"nosuchcode"}}).WantError(t, "unknown invite", http.StatusForbidden, "not valid")

		expired := w.invite(0)
		if err := inst.DB.Model(&community.Invite{}).Where("code = ?", expired).
			Update("expires_at", time.Now().Add(-time.Minute).UTC()).Error; err != nil {
			t.Fatal(err)
		}
		w.signUp("ana", url.Values{"invite_code": {expired}}).WantError(t, "expired invite", http.StatusForbidden, "expired")

		once := w.invite(1)
		tok := w.token(w.signUp("ana", url.Values{"invite_code": {once}}))
		if me, code := w.me(tok); code != 0 || me.Username != "ana" {
			t.Fatalf("verify_credentials with the new token: %v, HTTP %d", me, code)
		}
		w.signUp("ben", url.Values{"invite_code": {once}}).WantError(t, "used-up invite", http.StatusForbidden, "as many times")
		if err := inst.Community.RevokeInvite(context.Background(), w.admin.Account, w.invite(0)); err != nil {
			t.Fatal(err)
		}

		// Field errors come in Mastodon's shape, all at once.
		open := w.invite(0)
		got := fieldErrors(t, w.signUp("ANA", url.Values{"invite_code": {open}, "agreement": {"false"},
			"email": {"ana@example.com"}, "password": {"short"}, "locale": {"not a locale"}}))
		want := map[string]string{"username": "ERR_TAKEN", "email": "ERR_TAKEN", "password": "ERR_TOO_SHORT",
			"agreement": "ERR_ACCEPTED", "locale": "ERR_INCLUSION"}
		for field, code := range want {
			if len(got[field]) != 1 || got[field][0] != code {
				t.Errorf("details[%s] = %v, want [%s]", field, got[field], code)
			}
		}
		got = fieldErrors(t, w.signUp("admin", url.Values{"invite_code": {open}, "email": {"not an address"}}))
		if got["username"][0] != "ERR_RESERVED" || got["email"][0] != "ERR_INVALID" {
			t.Errorf("reserved name and bad address: %v", got)
		}

		w.set(community.RegistrationsOpen, false, "example.com")
		w.instanceSays(true, false, false)
		got = fieldErrors(t, w.signUp("carl", url.Values{"email": {"carl@elsewhere.org"}}))
		if len(got["email"]) != 1 || got["email"][0] != "ERR_BLOCKED" {
			t.Errorf("address of another domain: %v, want email ERR_BLOCKED", got)
		}
		w.token(w.signUp("carl", url.Values{"email": {"carl@eng.example.com"}}))
		// An invite lets in an address of any domain.
		w.token(w.signUp("dora", url.Values{"email": {"dora@partner.org"}, "invite_code": {open}}))
	})
}

// instanceSays checks what the instance documents say of registrations.
func (w *regWorld) instanceSays(open, approval, closed bool) {
	w.t.Helper()
	var v1 struct {
		Registrations    bool `json:"registrations"`
		ApprovalRequired bool `json:"approval_required"`
		InvitesEnabled   bool `json:"invites_enabled"`
	}
	w.inst.Call(w.t, http.MethodGet, "/api/v1/instance", "", nil).Decode(w.t, http.StatusOK, &v1)
	if v1.Registrations != open || v1.ApprovalRequired != approval || v1.InvitesEnabled == closed {
		w.t.Errorf("v1 instance: %+v; want registrations %t, approval %t, invites %t", v1, open, approval, !closed)
	}
	var v2 struct {
		Registrations struct {
			Enabled          bool    `json:"enabled"`
			ApprovalRequired bool    `json:"approval_required"`
			Message          *string `json:"message"`
		} `json:"registrations"`
	}
	w.inst.Call(w.t, http.MethodGet, "/api/v2/instance", "", nil).Decode(w.t, http.StatusOK, &v2)
	if r := v2.Registrations; r.Enabled != open || r.ApprovalRequired != approval || (!open && r.Message == nil) {
		w.t.Errorf("v2 instance registrations: %+v; want enabled %t, approval %t", r, open, approval)
	}
}

// TestRegistrationApproval: while approval is required, a new account's token and
// password are refused until a moderator approves it; a rejected account is gone and
// its name free again.
func TestRegistrationApproval(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		w := newRegWorld(t, inst)
		mod := inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator, Scopes: staffScopes})
		w.set(community.RegistrationsOpen, true)
		w.instanceSays(true, true, false)

		tok := w.token(w.signUp("erin", url.Values{"reason": {"I joined the sales team"}}))
		if _, code := w.me(tok); code != http.StatusForbidden {
			t.Fatalf("pending account's token: HTTP %d, want 403", code)
		}
		inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", tok, nil).
			WantError(t, "pending token", http.StatusForbidden, "pending approval")
		if _, _, err := inst.Community.Authenticate(context.Background(), "erin", "a long sign-up phrase"); err == nil ||
			!strings.Contains(err.Error(), "pending approval") {
			t.Fatalf("password of a pending account: %v", err)
		}

		var pending []struct {
			ID            string  `json:"id"`
			Username      string  `json:"username"`
			Approved      bool    `json:"approved"`
			InviteRequest *string `json:"invite_request"`
		}
		inst.Call(t, http.MethodGet, "/api/v2/admin/accounts?status=pending", mod.Token, nil).Decode(t, http.StatusOK, &pending)
		if len(pending) != 1 || pending[0].Username != "erin" || pending[0].Approved ||
			pending[0].InviteRequest == nil || *pending[0].InviteRequest != "I joined the sales team" {
			t.Fatalf("pending accounts: %+v", pending)
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+pending[0].ID+"/approve", tok, nil).
			WantError(t, "approve with the pending token", http.StatusForbidden, "")
		var approved struct {
			Approved bool `json:"approved"`
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+pending[0].ID+"/approve", mod.Token, nil).
			Decode(t, http.StatusOK, &approved)
		if !approved.Approved {
			t.Error("approve answered an account that is not approved")
		}
		if me, code := w.me(tok); code != 0 || me.Username != "erin" {
			t.Fatalf("token after approval: %v, HTTP %d", me, code)
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+pending[0].ID+"/reject", mod.Token, nil).
			WantError(t, "reject an approved account", http.StatusForbidden, "not waiting")

		tok = w.token(w.signUp("fred", nil))
		inst.Call(t, http.MethodGet, "/api/v1/admin/accounts?pending=true", mod.Token, nil).Decode(t, http.StatusOK, &pending)
		if len(pending) != 1 || pending[0].Username != "fred" {
			t.Fatalf("pending accounts (v1): %+v", pending)
		}
		inst.Call(t, http.MethodPost, "/api/v1/admin/accounts/"+pending[0].ID+"/reject", mod.Token, nil).Decode(t, http.StatusOK, nil)
		inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", tok, nil).
			WantError(t, "rejected account's token", http.StatusUnauthorized, "")
		// The name and the address are free again.
		w.token(w.signUp("fred", nil))

		log, err := inst.Community.ModerationLog(context.Background(), mod.Account, community.ModerationLogQuery{Page: community.Page{Limit: 20}})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, e := range log {
			actions[e.Action] = true
		}
		if !actions[community.ActionApproveAccount] || !actions[community.ActionRejectAccount] {
			t.Errorf("moderation log lacks the approval or the rejection: %v", actions)
		}
	})
}

// TestRegistrationInviteRace: twenty sign-ups race for the one use of an invite;
// exactly one gets an account.
func TestRegistrationInviteRace(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		w := newRegWorld(t, inst)
		w.set(community.RegistrationsInvite, false)
		code := w.invite(1)
		const n = 20
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				form := url.Values{"username": {fmt.Sprintf("racer%d", i)}, "email": {fmt.Sprintf("racer%d@example.com", i)},
					"password": {"a long sign-up phrase"}, "agreement": {"true"}, "invite_code": {code}}
				req, _ := http.NewRequest(http.MethodPost, inst.URL+"/api/v1/accounts", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Authorization", "Bearer "+w.appToken)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		won := 0
		for i, c := range codes {
			switch c {
			case http.StatusOK:
				won++
			case http.StatusForbidden:
			default:
				t.Errorf("sign-up %d: HTTP %d, want 200 or 403", i, c)
			}
		}
		var accounts int64
		if err := inst.DB.Model(&community.Account{}).Where("username LIKE 'racer%'").Count(&accounts).Error; err != nil {
			t.Fatal(err)
		}
		var inv community.Invite
		if err := inst.DB.Where("code = ?", code).Take(&inv).Error; err != nil {
			t.Fatal(err)
		}
		if won != 1 || accounts != 1 || inv.Uses != 1 {
			t.Errorf("%d sign-ups succeeded, %d accounts, invite used %d times; want 1 each", won, accounts, inv.Uses)
		}
	})
}

// TestMastodonPyCreateAccount signs up with Mastodon.py's create_account.
func TestMastodonPyCreateAccount(t *testing.T) {
	needClients(t)
	inst := instancetest.Start(t, instancetest.Options{})
	w := newRegWorld(t, inst)
	w.set(community.RegistrationsOpen, false)
	script := filepath.Join("testdata", "create_account.py")
	out, err := run(t, "", nil, python, script, inst.URL)
	if err != nil {
		t.Fatalf("create_account.py: %v\n%s", err, out)
	}
	var res struct {
		Username string `json:"username"`
	}
	line := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if err := json.Unmarshal([]byte(line), &res); err != nil || res.Username != "pyuser" {
		t.Fatalf("create_account.py printed %q (%v)", out, err)
	}
}

// TestRegistrationRateLimit: sign-ups count against the credentials limit per
// address, with app registrations and token requests, in the API and the web app.
func TestRegistrationRateLimit(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.RateLimit.Requests = 1000
		c.RateLimit.Credentials = 4
		c.RateLimit.Window = time.Hour
		c.Registrations.Mode = config.RegistrationsOpen
	}})
	w := newRegWorld(t, inst) // an app registration and a token request
	w.token(w.signUp("gail", nil))
	w.token(w.signUp("hank", nil))
	w.signUp("ivan", nil).WantError(t, "fifth credentials request", http.StatusTooManyRequests, "")
	a := inst.Call(t, http.MethodPost, "/signup", "", url.Values{"username": {"jane"}})
	if a.Code != http.StatusTooManyRequests {
		t.Errorf("web sign-up past the limit: HTTP %d, want 429", a.Code)
	}
}
