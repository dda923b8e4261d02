package scim_test

import (
	"net/http"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestOktaProvisioning replays Okta's SCIM 2.0 reference flow: look the user up,
// create them, read them, replace them (PUT), deactivate and reactivate them (PATCH
// with a path-less replace), and manage a group: create it, rename it to a role
// group, add and remove the member by filter, delete it. Okta never deletes users; it
// deactivates them.
func TestOktaProvisioning(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		p := newProvider(t, inst, "okta")
		p.vars["userName"] = "bob.okafor@corp.example"

		lookup := p.do(http.MethodGet, "/Users"+filter(`userName eq "bob.okafor@corp.example"`)+"&startIndex=1&count=100", "")
		if lookup.want(t, "lookup", http.StatusOK).doc["totalResults"] != float64(0) {
			t.Fatalf("lookup: %s", lookup.raw)
		}
		created := p.do(http.MethodPost, "/Users", p.fixture("okta/create_user.json")).want(t, "create", http.StatusCreated)
		id := created.str("id")
		p.vars["userId"] = id
		bob := lookPerson(t, inst, id)
		if bob.acct.Username != "bob_okafor" || bob.acct.DisplayName != "Bob Okafor" || bob.user.Email != "bob.okafor@corp.example" {
			t.Fatalf("account after creation: %+v %+v", bob.acct, bob.user)
		}
		if bob.user.PasswordHash != "" {
			t.Fatal("the password Okta sends was kept: provisioned people sign in through the provider")
		}
		got := p.do(http.MethodGet, "/Users/"+id, "").want(t, "get", http.StatusOK)
		if got.str("userName") != "bob.okafor@corp.example" || got.str("externalId") != "00ujl29u0le5T6Aj10h7" {
			t.Fatalf("get: %s", got.raw)
		}
		if meta, _ := got.doc["meta"].(map[string]any); meta["location"] != inst.URL+"/scim/v2/Users/"+id || meta["resourceType"] != "User" {
			t.Fatalf("meta: %v", got.doc["meta"])
		}

		p.do(http.MethodPut, "/Users/"+id, p.fixture("okta/replace_user.json")).want(t, "replace", http.StatusOK)
		bob = lookPerson(t, inst, id)
		if bob.acct.DisplayName != "Robert Okafor" || bob.user.Email != "robert.okafor@corp.example" || bob.suspended {
			t.Fatalf("account after replace: %+v %+v suspended=%v", bob.acct, bob.user, bob.suspended)
		}

		token, stream := signIn(t, inst, id)
		p.do(http.MethodPatch, "/Users/"+id, p.fixture("okta/deactivate_user.json")).want(t, "deactivate", http.StatusOK)
		if bob = lookPerson(t, inst, id); !bob.suspended || !bob.user.Disabled {
			t.Fatalf("after deactivate: suspended=%v disabled=%v", bob.suspended, bob.user.Disabled)
		}
		if tokenWorks(t, inst, token) {
			t.Fatal("the token still works after deactivation")
		}
		streamEnded(t, "after deactivate", stream)
		// Okta reads the user back before it reconciles: inactive.
		inactive := p.do(http.MethodGet, "/Users/"+id, "").want(t, "get inactive", http.StatusOK)
		if inactive.doc["active"] != false {
			t.Fatalf("inactive user: %s", inactive.raw)
		}

		p.do(http.MethodPatch, "/Users/"+id, p.fixture("okta/reactivate_user.json")).want(t, "reactivate", http.StatusOK)
		if bob = lookPerson(t, inst, id); bob.suspended || bob.user.Disabled {
			t.Fatalf("after reactivate: suspended=%v disabled=%v", bob.suspended, bob.user.Disabled)
		}
		token, stream = signIn(t, inst, id)

		group := p.do(http.MethodPost, "/Groups", p.fixture("okta/create_group.json")).want(t, "create group", http.StatusCreated)
		p.vars["groupId"] = group.str("id")
		p.do(http.MethodPatch, "/Groups/"+p.vars["groupId"], p.fixture("okta/add_member.json")).want(t, "add member", http.StatusOK)
		if role := roleOf(t, inst, id); role != community.RoleUser {
			t.Fatalf("a group role_groups does not name gave the role %s", role)
		}
		renamed := p.do(http.MethodPatch, "/Groups/"+p.vars["groupId"], p.fixture("okta/rename_group.json")).want(t, "rename", http.StatusOK)
		if renamed.str("displayName") != "tacit-admins" {
			t.Fatalf("rename: %s", renamed.raw)
		}
		if role := roleOf(t, inst, id); role != community.RoleAdmin {
			t.Fatalf("role after the group became tacit-admins: %s", role)
		}
		p.do(http.MethodPatch, "/Groups/"+p.vars["groupId"], p.fixture("okta/remove_member.json")).want(t, "remove member", http.StatusOK)
		if role := roleOf(t, inst, id); role != community.RoleUser {
			t.Fatalf("role after removal: %s", role)
		}
		p.do(http.MethodPatch, "/Groups/"+p.vars["groupId"], p.fixture("okta/add_member.json")).want(t, "add member again", http.StatusOK)
		p.do(http.MethodDelete, "/Groups/"+p.vars["groupId"], "").want(t, "delete group", http.StatusNoContent)
		if role := roleOf(t, inst, id); role != community.RoleUser {
			t.Fatalf("role after the group's deletion: %s", role)
		}
		p.do(http.MethodGet, "/Groups/"+p.vars["groupId"], "").wantError(t, "deleted group", http.StatusNotFound, "")
		if !tokenWorks(t, inst, token) {
			t.Fatal("group changes ended the person's session")
		}
		streamOpen(t, "after group changes", stream)
	})
}

// TestSCIMErrors: what the provider gets wrong is answered with RFC 7644 errors.
func TestSCIMErrors(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		p := newProvider(t, inst, "entra")
		p.vars["userName"] = "carol@corp.example"

		send(t, inst, "", http.MethodGet, "/Users", "").wantError(t, "no token", http.StatusUnauthorized, "")
		send(t, inst, "not-a-token", http.MethodGet, "/Users", "").wantError(t, "wrong token", http.StatusUnauthorized, "")
		mastodonUser := inst.CreateUser(t, "dave", instancetest.UserOptions{})
		send(t, inst, mastodonUser.Token, http.MethodGet, "/Users", "").wantError(t, "an access token", http.StatusUnauthorized, "")

		p.do(http.MethodGet, "/Users?filter="+`userName%20eq`, "").wantError(t, "bad filter", http.StatusBadRequest, "invalidFilter")
		p.do(http.MethodGet, "/Users"+filter(`nosuch eq "x"`), "").wantError(t, "unknown attribute", http.StatusBadRequest, "invalidFilter")

		created := p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).want(t, "create", http.StatusCreated)
		p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).wantError(t, "same userName", http.StatusConflict, "uniqueness")
		// Another userName that gives the same username, and a local account's name.
		p.vars["userName"] = "Carol@other.example"
		p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).wantError(t, "same username", http.StatusConflict, "uniqueness")
		p.vars["userName"] = "dave@corp.example"
		p.do(http.MethodPost, "/Users", p.fixture("entra/create_user.json")).wantError(t, "local account's name", http.StatusConflict, "uniqueness")

		p.do(http.MethodGet, "/Users/1234567", "").wantError(t, "unknown id", http.StatusNotFound, "")
		p.do(http.MethodGet, "/Users/not-an-id", "").wantError(t, "malformed id", http.StatusNotFound, "")
		p.do(http.MethodPatch, "/Users/1234567", p.fixture("entra/disable_user.json")).wantError(t, "patch unknown", http.StatusNotFound, "")
		p.do(http.MethodDelete, "/Users/1234567", "").wantError(t, "delete unknown", http.StatusNotFound, "")
		p.do(http.MethodPatch, "/Users/"+created.str("id"), `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"maybe"}]}`).
			wantError(t, "not a boolean", http.StatusBadRequest, "invalidValue")
		p.do(http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"+++@corp.example"}`).
			wantError(t, "no usable username", http.StatusBadRequest, "invalidValue")
		p.vars["userId"] = "99999"
		group := p.do(http.MethodPost, "/Groups", p.fixture("entra/create_group.json")).want(t, "create group", http.StatusCreated)
		p.do(http.MethodPatch, "/Groups/"+group.str("id"), p.fixture("entra/add_member.json")).
			wantError(t, "unknown member", http.StatusBadRequest, "invalidValue")
		p.do(http.MethodPost, "/Groups", p.fixture("entra/create_group.json")).wantError(t, "same group name", http.StatusConflict, "uniqueness")

		// A revoked token is refused from the next request on.
		if _, err := inst.Auth.RevokeSCIMToken(t.Context(), "entra"); err != nil {
			t.Fatal(err)
		}
		p.do(http.MethodGet, "/Users", "").wantError(t, "revoked token", http.StatusUnauthorized, "")
	})
}

// TestDiscovery: the discovery endpoints describe what the service supports.
func TestDiscovery(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	p := newProvider(t, inst, "discovery")
	spc := p.do(http.MethodGet, "/ServiceProviderConfig", "").want(t, "ServiceProviderConfig", http.StatusOK)
	if patch, _ := spc.doc["patch"].(map[string]any); patch["supported"] != true {
		t.Fatalf("ServiceProviderConfig: %s", spc.raw)
	}
	types := p.do(http.MethodGet, "/ResourceTypes", "").want(t, "ResourceTypes", http.StatusOK)
	if types.doc["totalResults"] != float64(2) {
		t.Fatalf("ResourceTypes: %s", types.raw)
	}
	schemas := p.do(http.MethodGet, "/Schemas", "").want(t, "Schemas", http.StatusOK)
	if n, _ := schemas.doc["totalResults"].(float64); n < 3 {
		t.Fatalf("Schemas: %s", schemas.raw)
	}
	p.do(http.MethodGet, "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "").want(t, "User schema", http.StatusOK)
}

// TestSCIMPaging: lists page with startIndex and count, with the filters the database
// answers and with others checked one by one.
func TestSCIMPaging(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		p := newProvider(t, inst, "okta")
		var ids []string
		for _, name := range []string{"pat.one@corp.example", "pat.two@corp.example", "quinn@corp.example"} {
			p.vars["userName"] = name
			ids = append(ids, p.do(http.MethodPost, "/Users", p.fixture("okta/create_user.json")).
				want(t, "create "+name, http.StatusCreated).str("id"))
			// The fixture's address is one person's; each needs their own.
			p.do(http.MethodPatch, "/Users/"+ids[len(ids)-1], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],`+
				`"Operations":[{"op":"replace","path":"emails","value":[{"value":"`+name+`","primary":true}]}]}`).
				want(t, "address of "+name, http.StatusOK)
			ext := `{"op":"replace","path":"externalId","value":"x-` + name + `"}`
			if name == "quinn@corp.example" {
				ext = `{"op":"remove","path":"externalId"}`
			}
			p.do(http.MethodPatch, "/Users/"+ids[len(ids)-1], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],`+
				`"Operations":[`+ext+`]}`).want(t, "externalId", http.StatusOK)
		}
		page := func(query string) (total float64, got []string) {
			t.Helper()
			a := p.do(http.MethodGet, "/Users"+query, "").want(t, "list "+query, http.StatusOK)
			res, _ := a.doc["Resources"].([]any)
			for _, r := range res {
				got = append(got, r.(map[string]any)["id"].(string))
			}
			total, _ = a.doc["totalResults"].(float64)
			return total, got
		}
		if total, got := page("?startIndex=2&count=1"); total != 3 || len(got) != 1 || got[0] != ids[1] {
			t.Fatalf("second page of one: %v of %v", got, total)
		}
		if total, got := page("?count=0"); total != 3 || len(got) != 0 {
			t.Fatalf("count=0: %v of %v", got, total)
		}
		if total, got := page(filter(`userName sw "pat"`) + "&startIndex=2"); total != 2 || len(got) != 1 || got[0] != ids[1] {
			t.Fatalf("filter evaluated one by one: %v of %v", got, total)
		}
		if total, got := page(filter(`externalId pr`)); total != 2 || len(got) != 2 {
			t.Fatalf("externalId pr: %v of %v", got, total)
		}
		if total, got := page(filter(`id eq "` + ids[2] + `"`)); total != 1 || got[0] != ids[2] {
			t.Fatalf("id eq: %v of %v", got, total)
		}
	})
}
