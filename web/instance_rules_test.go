package web_test

import (
	"net/http"
	"testing"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestInstanceRules: the configured rules reach Mastodon apps in order, numbered from
// 1, in the rules list and in both instance documents; no rules is an empty list.
func TestInstanceRules(t *testing.T) {
	type rule struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	}
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.InstanceRules = []string{"Be kind.", "No customer data in world posts."}
	}})
	want := []rule{{"1", "Be kind."}, {"2", "No customer data in world posts."}}
	check := func(what string, got []rule) {
		t.Helper()
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: rules %+v, want %+v", what, got, want)
		}
	}
	var list []rule
	inst.Call(t, http.MethodGet, "/api/v1/instance/rules", "", nil).Decode(t, http.StatusOK, &list)
	check("/api/v1/instance/rules", list)
	var doc struct {
		Rules []rule `json:"rules"`
	}
	inst.Call(t, http.MethodGet, "/api/v1/instance", "", nil).Decode(t, http.StatusOK, &doc)
	check("/api/v1/instance", doc.Rules)
	doc.Rules = nil
	inst.Call(t, http.MethodGet, "/api/v2/instance", "", nil).Decode(t, http.StatusOK, &doc)
	check("/api/v2/instance", doc.Rules)

	bare := instancetest.Start(t, instancetest.Options{})
	a := bare.Call(t, http.MethodGet, "/api/v1/instance/rules", "", nil)
	if a.Code != http.StatusOK || string(a.Body) != "[]" {
		t.Errorf("no rules: HTTP %d %s, want []", a.Code, a.Body)
	}
}
