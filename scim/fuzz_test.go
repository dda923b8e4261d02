package scim_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// FuzzSCIMRequests sends what an identity provider, or anyone holding its token, might
// send: any body to the Users and Groups endpoints, and any filter. The answer is
// never a server error, and it is always SCIM's JSON (a resource, a list or an error).
func FuzzSCIMRequests(f *testing.F) {
	inst := instancetest.Start(f, instancetest.Options{})
	secret, _, err := inst.Auth.CreateSCIMToken(context.Background(), "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	request := func(method, path, body string) (int, []byte, error) {
		req, err := http.NewRequest(method, inst.URL+"/scim/v2"+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		return resp.StatusCode, raw, err
	}
	status, raw, err := request(http.MethodPost, "/Users",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fuzz@corp.example","active":true}`)
	var created struct{ ID string }
	if err != nil || json.Unmarshal(raw, &created) != nil || created.ID == "" {
		f.Fatalf("create the seed user: %d %s %v", status, raw, err)
	}
	id := created.ID
	for _, seed := range []struct {
		method, path, body string
	}{
		{"PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`},
		{"PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true,"displayName":"F"}}]}`},
		{"PATCH", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"emails[type eq \"work\"].value","value":"f@corp.example"}]}`},
		{"PUT", "/Users/" + id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"fuzz@corp.example","name":{"givenName":"F"},"active":true}`},
		{"POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"other@corp.example","emails":[{"value":"o@corp.example","primary":true}]}`},
		{"POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"tacit-admins","members":[{"value":"` + id + `"}]}`},
		{"GET", "/Users?filter=" + `userName%20eq%20%22fuzz%40corp.example%22`, ""},
		{"GET", "/Users?filter=" + `userName%20eq`, ""},
	} {
		f.Add(seed.method, seed.path, seed.body)
	}
	f.Fuzz(func(t *testing.T, method, path, body string) {
		switch method {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			return
		}
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t\r\n#") {
			return
		}
		if _, err := http.NewRequest(method, inst.URL+"/scim/v2"+path, nil); err != nil {
			return // not a request a client can send
		}
		status, raw, err := request(method, path, body)
		if err != nil {
			t.Fatal(err)
		}
		if status >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, path, body, status, raw)
		}
		if len(raw) > 0 && !json.Valid(raw) {
			t.Fatalf("%s %s: an answer that is not JSON: %d %s", method, path, status, raw)
		}
	})
}
