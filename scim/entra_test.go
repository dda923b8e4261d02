package scim_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestEntraIDProvisioning replays Entra ID's documented requests: look the user up,
// create them, put them in a role group, update their address and name, disable them
// (with "Replace" and "False" as Entra ID sends them), enable them again, and delete
// them; after each step it checks the account, its role, its tokens and its streams.
func TestEntraIDProvisioning(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		admin := inst.CreateUser(t, "admin", instancetest.UserOptions{Role: community.RoleAdmin})
		p := newProvider(t, inst, "entra")
		p.vars["userName"] = "Alice.Martin@corp.example"
		id := entraCreate(t, p)
		token, stream := signIn(t, inst, id)
		posted := inst.PostStatus(t, token, url.Values{"status": {"Notes from the planning meeting"}})
		entraGroupAndUpdate(t, p, id, token, stream)
		token, stream = entraDisableEnable(t, p, admin.Account, id, token, stream)
		entraDelete(t, p, id, posted.ID, token, stream)
	})
}

// entraCreate looks the person up, creates them and finds them, as Entra ID does.
func entraCreate(t *testing.T, p *provider) (id string) {
	t.Helper()
	ctx := context.Background()
	list := p.do(http.MethodGet, "/Users"+filter(`userName eq "Alice.Martin@corp.example"`), "").want(t, "lookup", http.StatusOK)
	if list.doc["totalResults"] != float64(0) {
		t.Fatalf("lookup before creation: %s", list.raw)
	}
	if res, ok := list.doc["Resources"].([]any); !ok || len(res) != 0 {
		t.Fatalf("an empty list must be []: %s", list.raw)
	}
	created := p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).want(t, "create", http.StatusCreated)
	id = created.str("id")
	p.vars["userId"] = id
	if created.str("externalId") != "a5b1c7e2-3f4d-4a8b-9c0d-1e2f3a4b5c6d" || created.doc["active"] != true {
		t.Fatalf("created: %s", created.raw)
	}
	alice := lookPerson(t, p.inst, id)
	if alice.acct.Username != "alice_martin" || alice.acct.DisplayName != "Alice Martin" ||
		alice.user.Email != "alice.martin@corp.example" || alice.user.Role != community.RoleUser || alice.suspended {
		t.Fatalf("account after creation: %+v %+v suspended=%v", alice.acct, alice.user, alice.suspended)
	}
	if _, _, err := p.inst.Community.Authenticate(ctx, "alice_martin", ""); err == nil {
		t.Fatal("a provisioned account signs in with an empty password")
	}
	found := p.do(http.MethodGet, "/Users"+filter(`userName eq "alice.martin@CORP.example"`), "").want(t, "lookup", http.StatusOK)
	if found.doc["totalResults"] != float64(1) {
		t.Fatalf("lookup by userName (any case): %s", found.raw)
	}
	byExternal := p.do(http.MethodGet, "/Users"+filter(`externalId eq "a5b1c7e2-3f4d-4a8b-9c0d-1e2f3a4b5c6d"`), "")
	if byExternal.want(t, "lookup by externalId", http.StatusOK).doc["totalResults"] != float64(1) {
		t.Fatalf("lookup by externalId: %s", byExternal.raw)
	}
	return id
}

// entraGroupAndUpdate puts the person in a role group and updates their address and
// names; their session goes on.
func entraGroupAndUpdate(t *testing.T, p *provider, id, token string, stream <-chan struct{}) {
	t.Helper()
	inst := p.inst
	group := p.do(http.MethodPost, "/Groups", p.fixture("entra/create_group.json")).want(t, "create group", http.StatusCreated)
	p.vars["groupId"] = group.str("id")
	p.do(http.MethodPatch, "/Groups/"+p.vars["groupId"], p.fixture("entra/add_member.json")).want(t, "add member", http.StatusOK)
	if got := roleOf(t, inst, id); got != community.RoleModerator {
		t.Fatalf("role in tacit-moderators: %s", got)
	}
	if got := groupIDs(p.do(http.MethodGet, "/Users/"+id, "")); !slices.Equal(got, []string{p.vars["groupId"]}) {
		t.Fatalf("user's groups: %v", got)
	}
	byName := p.do(http.MethodGet, "/Groups"+filter(`displayName eq "tacit-moderators"`)+"&excludedAttributes=members", "").
		want(t, "group lookup", http.StatusOK)
	if res, _ := byName.doc["Resources"].([]any); len(res) != 1 || res[0].(map[string]any)["members"] != nil {
		t.Fatalf("group lookup without members: %s", byName.raw)
	}
	full := p.do(http.MethodGet, "/Groups/"+p.vars["groupId"], "").want(t, "get group", http.StatusOK)
	if members, _ := full.doc["members"].([]any); len(members) != 1 || members[0].(map[string]any)["value"] != id {
		t.Fatalf("group's members: %s", full.raw)
	}
	updated := p.do(http.MethodPatch, "/Users/"+id, p.fixture("entra/update_user_multi.json")).want(t, "update", http.StatusOK)
	if firstEmail(updated) != "alice.dupont@corp.example" {
		t.Fatalf("update: %s", updated.raw)
	}
	p.do(http.MethodPatch, "/Users/"+id, p.fixture("entra/update_user_single.json")).want(t, "rename", http.StatusOK)
	alice := lookPerson(t, inst, id)
	if alice.acct.Username != "alice_martin" || alice.acct.DisplayName != "Alice Dupont" || alice.user.Email != "alice.dupont@corp.example" {
		t.Fatalf("account after update: %+v %+v", alice.acct, alice.user)
	}
	if !tokenWorks(t, inst, token) {
		t.Fatal("an update ended the person's session")
	}
	streamOpen(t, "after update", stream)
}

// entraDisableEnable disables the person as Entra ID does ("Replace", "False"), checks
// that they are gone, and enables them again (a path-less "Replace" of "True"). It
// returns the new session the person opens after.
func entraDisableEnable(t *testing.T, p *provider, admin *community.Account, id, token string, stream <-chan struct{}) (string, <-chan struct{}) {
	t.Helper()
	inst := p.inst
	disabled := p.do(http.MethodPatch, "/Users/"+id, p.fixture("entra/disable_user.json")).want(t, "disable", http.StatusOK)
	if disabled.doc["active"] != false {
		t.Fatalf("disable: %s", disabled.raw)
	}
	alice := lookPerson(t, inst, id)
	if !alice.suspended || !alice.user.Disabled {
		t.Fatalf("after disable: suspended=%v disabled=%v", alice.suspended, alice.user.Disabled)
	}
	if tokenWorks(t, inst, token) {
		t.Fatal("the token still works after disable")
	}
	streamEnded(t, "after disable", stream)
	colleague := inst.CreateUser(t, "colleague", instancetest.UserOptions{})
	if _, err := inst.Client(colleague.Token).AccountLookup(context.Background(), "alice_martin"); err == nil {
		t.Fatal("colleagues still find a disabled account")
	}
	if log := moderationActors(t, inst, admin, alice.acct); len(log) == 0 || log[0] != "suspend by scim:entra" {
		t.Fatalf("audit log: %v", log)
	}

	enabled := p.do(http.MethodPatch, "/Users/"+id, p.fixture("entra/enable_user.json")).want(t, "enable", http.StatusOK)
	if enabled.doc["active"] != true {
		t.Fatalf("enable: %s", enabled.raw)
	}
	alice = lookPerson(t, inst, id)
	if alice.suspended || alice.user.Disabled || alice.user.Role != community.RoleModerator {
		t.Fatalf("after enable: suspended=%v disabled=%v role=%s", alice.suspended, alice.user.Disabled, alice.user.Role)
	}
	if tokenWorks(t, inst, token) {
		t.Fatal("a token revoked on disable works again")
	}
	if _, err := inst.Client(colleague.Token).AccountLookup(context.Background(), "alice_martin"); err != nil {
		t.Fatalf("colleagues do not find the enabled account: %v", err)
	}
	token, stream = signIn(t, inst, id)
	if !tokenWorks(t, inst, token) {
		t.Fatal("a new sign-in does not work after enable")
	}
	return token, stream
}

// entraDelete takes the person out of the group and deletes them: the account stays,
// suspended, with its post, and comes back when the same person is created again.
func entraDelete(t *testing.T, p *provider, id, postID, token string, stream <-chan struct{}) {
	t.Helper()
	inst := p.inst
	p.do(http.MethodPatch, "/Groups/"+p.vars["groupId"], p.fixture("entra/remove_member.json")).want(t, "remove member", http.StatusOK)
	if got := roleOf(t, inst, id); got != community.RoleUser {
		t.Fatalf("role after leaving the group: %s", got)
	}
	p.do(http.MethodDelete, "/Users/"+id, "").want(t, "delete", http.StatusNoContent)
	p.do(http.MethodGet, "/Users/"+id, "").wantError(t, "get after delete", http.StatusNotFound, "")
	if tokenWorks(t, inst, token) {
		t.Fatal("the token still works after delete")
	}
	streamEnded(t, "after delete", stream)
	alice := lookPerson(t, inst, id)
	if !alice.suspended || !alice.user.Disabled {
		t.Fatalf("after delete: suspended=%v disabled=%v", alice.suspended, alice.user.Disabled)
	}
	statusID, _ := community.ParseID(postID)
	if _, err := inst.Community.Unchecked().StatusByID(context.Background(), statusID); err != nil {
		t.Fatalf("the person's post is gone after delete: %v", err)
	}
	// The same person hired again gets their account back, with their posts.
	p.vars["userName"] = "alice.dupont@corp.example"
	again := p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).want(t, "create again", http.StatusCreated)
	if again.str("id") != id {
		t.Fatalf("re-created as %s, want the account %s back", again.str("id"), id)
	}
	if alice = lookPerson(t, inst, id); alice.suspended || alice.user.Disabled {
		t.Fatalf("after re-creation: suspended=%v disabled=%v", alice.suspended, alice.user.Disabled)
	}
}
