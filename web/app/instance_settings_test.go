package app_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestAdminEditsInstanceSettings: an admin edits the instance's name, description,
// rules and default audience on the admin page; the landing page, the instance
// documents and posts without a scope follow at once. Moderators and forms without
// the CSRF token are refused, and a refused value is shown again with the reason.
func TestAdminEditsInstanceSettings(t *testing.T) {
	instancetest.Each(t, instancetest.Options{Configure: func(c *config.Config) {
		c.InstanceName, c.InstanceDescription, c.InstanceRules = "Research", "Where ideas start.", []string{"Be kind."}
	}}, testAdminEditsInstanceSettings)
}

func testAdminEditsInstanceSettings(t *testing.T, inst *instancetest.Instance) {
	inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
	inst.CreateUser(t, "mod", instancetest.UserOptions{Role: community.RoleModerator})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})

	b := newBrowser(t, inst)
	b.signIn("admin")
	p := b.get("/admin/instance")
	for _, want := range []string{`value="Research"`, "Where ideas start.", "Be kind.", "configuration file",
		`name="default_scope" value="company" checked`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the instance page lacks %q:\n%s", want, p.Body)
		}
	}
	csrf := b.csrf("/admin/instance")
	form := url.Values{"csrf": {csrf}, "name": {"Research lab"}, "description": {"Ideas & experiments."},
		"rules": {"Be kind.\r\nNo customer data in world posts.\r\n"}, "default_scope": {"department"}}

	// Refusals first: without the CSRF token, from a moderator, and a value the domain refuses.
	noToken := url.Values{}
	for k, v := range form {
		if k != "csrf" {
			noToken[k] = v
		}
	}
	if p := b.post("/admin/instance", noToken); p.Code != http.StatusForbidden {
		t.Errorf("a save without the CSRF token: %d", p.Code)
	}
	m := newBrowser(t, inst)
	m.signIn("mod")
	modForm := url.Values{"csrf": {m.csrf("/")}}
	for k, v := range form {
		if k != "csrf" {
			modForm[k] = v
		}
	}
	if p := m.post("/admin/instance", modForm); p.Code != http.StatusForbidden {
		t.Errorf("a moderator's save: %d", p.Code)
	}
	bad := url.Values{"csrf": {csrf}, "name": {"Typed name"}, "description": {strings.Repeat("d", 501)},
		"rules": {"A typed rule."}, "default_scope": {"world"}}
	if p := b.post("/admin/instance", bad); p.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(p.Body, "at most 500 characters") || !strings.Contains(p.Body, `value="Typed name"`) ||
		!strings.Contains(p.Body, "A typed rule.") || !strings.Contains(p.Body, `value="world" checked`) {
		t.Errorf("a refused save: %d\n%s", p.Code, p.Body)
	}
	if s, err := inst.Community.Settings(t.Context()); err != nil || s.Name != "Research" {
		t.Fatalf("the settings after refusals: %+v %v", s, err)
	}

	if p := b.post("/admin/instance", form); p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/admin/instance?done=saved" {
		t.Fatalf("save: %d %q\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	p = b.get("/admin/instance?done=saved")
	for _, want := range []string{"settings are saved", `value="Research lab"`, "No customer data in world posts.",
		`name="default_scope" value="department" checked`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the instance page after saving lacks %q:\n%s", want, p.Body)
		}
	}

	landing := newBrowser(t, inst).get("/")
	for _, want := range []string{"Research lab", "Ideas &amp; experiments.", "No customer data in world posts."} {
		if !strings.Contains(landing.Body, want) {
			t.Errorf("the landing page lacks %q:\n%s", want, landing.Body)
		}
	}

	var v1 struct {
		Title            string `json:"title"`
		ShortDescription string `json:"short_description"`
		Rules            []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"rules"`
	}
	inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil).Decode(t, http.StatusOK, &v1)
	if v1.Title != "Research lab" || v1.ShortDescription != "Ideas & experiments." || len(v1.Rules) != 2 ||
		v1.Rules[1].ID != "2" || v1.Rules[1].Text != "No customer data in world posts." {
		t.Errorf("/api/v1/instance: %+v", v1)
	}
	var rules []struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	a := inst.Call(t, http.MethodGet, "/api/v1/instance/rules", "", nil)
	if err := json.Unmarshal(a.Body, &rules); err != nil || a.Code != http.StatusOK || len(rules) != 2 || rules[0].Text != "Be kind." {
		t.Errorf("/api/v1/instance/rules: %d %s", a.Code, a.Body)
	}

	st := inst.PostStatus(t, alice.Token, url.Values{"status": {"Hello"}})
	if st.Tacit.Scope != "department" {
		t.Errorf("a post without a scope: scope %q, want department", st.Tacit.Scope)
	}
}
