package federation

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/markup"
	"github.com/tacit-social/tacit/search"
)

// A peer's answer to a search is untrusted input: whatever it holds, decoding keeps
// only that peer's people and posts, of an audience that may leave it, sanitized and
// bounded.

const fuzzHost = "a.example"

func fuzzProfile(t testing.TB, host, username string) json.RawMessage {
	t.Helper()
	base := "https://" + host + "/users/" + username
	b, err := activitystreams.ActorJSON(activitystreams.Actor{
		Account: &community.Account{Username: username, URI: base, URL: "https://" + host + "/@" + username,
			InboxURL: base + "/inbox", Discoverable: true, Expertise: community.Topics{"Kubernetes"},
			CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		KeyOptional: true, FeaturedTags: []string{"kubernetes"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fuzzSeeds(t testing.TB) [][]byte {
	good := wireAnswer{Experts: []wireExpert{{
		Actor: fuzzProfile(t, fuzzHost, "kate"), Score: 6.5,
		Evidence: wireEvidence{
			Expertise: []string{"Kubernetes"}, FeaturedTags: []string{"#Kubernetes"},
			Fields: []wireField{{Name: "Skills", Value: `<b onclick="x()">k8s</b>`}},
			Statuses: []wireStatus{
				{ID: "https://a.example/users/kate/statuses/1", URL: "https://a.example/@kate/1",
					Content: `<p>kubernetes <script>alert(1)</script></p>`, Visibility: "public", Scope: "company",
					Published: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), Favourites: 3, Tags: []string{"kubernetes"}},
				{ID: "https://a.example/users/kate/statuses/2", Content: "secret", Visibility: "public", Scope: "department"},
				{ID: "https://a.example/users/kate/statuses/3", Content: "dm", Visibility: "direct", Scope: "company"},
				{ID: "https://elsewhere.example/statuses/4", Content: "not A's", Visibility: "public", Scope: "company"},
			},
			StatusesCount: 2, FavouritesCount: -5,
		},
	}, {
		Actor: fuzzProfile(t, "elsewhere.example", "mallory"), Score: 999,
	}}, Accounts: []json.RawMessage{fuzzProfile(t, fuzzHost, "lou"), fuzzProfile(t, "elsewhere.example", "eve")}}
	b, err := json.Marshal(good)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{b, []byte(`{}`), []byte(`{"experts":null}`), []byte(`{"experts":[{"actor":1,"score":-1}]}`),
		[]byte(`[]`), []byte(`{"experts":[{"actor":{"type":"Person"},"score":1e308}]}`), []byte("\x00")}
}

// checkDecoded states what decoding guarantees, whatever the input.
func checkDecoded(t *testing.T, body []byte) ([]peerExpert, []peerProfile) {
	experts, err := decodeExperts(body, fuzzHost)
	if err != nil {
		return nil, nil
	}
	if len(experts) > search.MaxExperts {
		t.Fatalf("%d experts kept", len(experts))
	}
	for _, e := range experts {
		if hostOf(e.profile.id) != fuzzHost || !httpURL(e.profile.id) {
			t.Fatalf("a person of %s in %s's answer", e.profile.id, fuzzHost)
		}
		if math.IsNaN(e.score) || e.score < 0 || e.score > maxAnswerScore {
			t.Fatalf("score %v kept", e.score)
		}
		ev := e.evidence
		if len(ev.Statuses) > search.MaxEvidencePosts || ev.StatusesCount < 0 || ev.FavouritesCount < 0 || ev.HashtagCount < 0 {
			t.Fatalf("evidence out of bounds: %+v", ev)
		}
		for _, f := range ev.Fields {
			if markup.Sanitize(f.Value) != f.Value {
				t.Fatalf("field value not sanitized: %q", f.Value)
			}
		}
		for _, st := range ev.Statuses {
			if st.Scope == community.ScopeDepartment || st.Visibility == community.VisibilityDirect {
				t.Fatalf("a %s/%s post kept", st.Visibility, st.Scope)
			}
			if st.Scope != community.ScopeWorld && st.Scope != community.ScopeCompany {
				t.Fatalf("unknown scope %q kept", st.Scope)
			}
			if hostOf(st.URI) != fuzzHost {
				t.Fatalf("a post of another server kept: %s", st.URI)
			}
			if markup.Sanitize(st.Content) != st.Content {
				t.Fatalf("content not sanitized: %q", st.Content)
			}
		}
	}
	accounts, err := decodeAccounts(body, fuzzHost)
	if err != nil {
		t.Fatalf("decodeAccounts failed where decodeExperts did not: %v", err)
	}
	for _, p := range accounts {
		if hostOf(p.id) != fuzzHost {
			t.Fatalf("a person of %s in %s's answer", p.id, fuzzHost)
		}
	}
	return experts, accounts
}

func FuzzDecodeExperts(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecoded(t, body) })
}

// TestDecodeExpertsSeeds runs the fuzz seeds as a test, and checks what the good seed
// keeps.
func TestDecodeExpertsSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	for _, s := range seeds {
		checkDecoded(t, s)
	}
	experts, accounts := checkDecoded(t, seeds[0])
	if len(experts) != 1 || experts[0].profile.id != "https://a.example/users/kate" {
		t.Fatalf("experts kept: %+v", experts)
	}
	ev := experts[0].evidence
	if len(ev.Statuses) != 1 || strings.Contains(ev.Statuses[0].Content, "script") || ev.Statuses[0].FavouritesCount != 3 {
		t.Errorf("evidence posts: %+v", ev.Statuses)
	}
	if len(ev.FeaturedTags) != 1 || ev.FeaturedTags[0] != "kubernetes" || ev.FavouritesCount != 0 {
		t.Errorf("evidence: %+v", ev)
	}
	if len(ev.Fields) != 1 || strings.Contains(ev.Fields[0].Value, "onclick") {
		t.Errorf("fields: %+v", ev.Fields)
	}
	if len(accounts) != 1 || accounts[0].id != "https://a.example/users/lou" {
		t.Errorf("accounts kept: %+v", accounts)
	}
	p, err := activitystreams.ParseProfile(experts[0].profile.raw)
	if err != nil || !p.Discoverable || len(p.Expertise) != 1 || len(p.Hashtags) != 1 {
		t.Errorf("profile: %+v %v", p, err)
	}
}
