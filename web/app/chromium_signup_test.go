package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web/browsertest"
)

// TestSignupInBrowser signs up in a real browser while approval is required, then
// checks the sign-up, people, invites and instance pages with axe-core as the admin
// who approves the new account.
func TestSignupInBrowser(t *testing.T) {
	b := browsertest.New(t)
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.InstanceRules = []string{"Be kind.", "No customer data in world posts."}
		c.Registrations = config.Registrations{Mode: config.RegistrationsOpen, ApprovalRequired: true,
			AllowedEmailDomains: []string{"example.com"}}
	}})
	inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})

	visit(t, b, inst.URL+"/signup", http.StatusOK, "signup", true)
	b.Do(
		chromedp.SendKeys(`#username`, "erin"),
		chromedp.SendKeys(`#email`, "erin@example.com"),
		chromedp.SendKeys(`#password`, "a long sign-up phrase"),
		chromedp.SendKeys(`#reason`, "I joined the sales team."),
		chromedp.Click(`input[name=agreement]`),
		chromedp.Click(`form.signup button[type=submit]`),
	)
	waitFor(t, b, "the page saying the account waits", `document.body.innerText.includes("waits for a moderator")`)
	b.CheckAccessibilityEverywhere("the sign-up done page")

	if _, err := inst.Community.CreateInvite(t.Context(), nil, community.NewInvite{MaxUses: 5, ExpiresIn: 7 * 24 * time.Hour,
		Comment: "new hires"}); err != nil {
		t.Fatal(err)
	}
	signInByKeyboard(t, b, inst.URL, "boss")
	visit(t, b, inst.URL+"/admin", http.StatusOK, "admin-people-pending", false)
	if !pageShows(b, "I joined the sales team.") {
		t.Fatal("the people page does not show the account waiting for approval")
	}
	visit(t, b, inst.URL+"/admin/instance", http.StatusOK, "admin-instance-registrations", false)
	visit(t, b, inst.URL+"/admin/invites", http.StatusOK, "admin-invites", true)
	press(t, b, `button.danger`) // revoke the invite
	waitFor(t, b, "the revoked invite", `document.body.innerText.includes("The invite is revoked")`)
}
