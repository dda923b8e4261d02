package federation

import (
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/config"
)

// WebFinger answers come from peers and WebFinger resources from anyone: both parsers
// must hold whatever they are given.

// FuzzParseJRD checks the WebFinger answer parser never panics and only ever returns
// an absolute http(s) URL with a host and no user information as the actor.
func FuzzParseJRD(f *testing.F) {
	for _, s := range []string{
		// Mastodon
		`{"subject":"acct:maud@mastodon.example","aliases":["https://mastodon.example/@maud","https://mastodon.example/users/maud"],"links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://mastodon.example/@maud"},{"rel":"self","type":"application/activity+json","href":"https://mastodon.example/users/maud"},{"rel":"http://ostatus.org/schema/1.0/subscribe","template":"https://mastodon.example/authorize_interaction?uri={uri}"}]}`,
		// GoToSocial
		`{"subject":"acct:gus@gts.example","aliases":["https://gts.example/users/gus","https://gts.example/@gus"],"links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://gts.example/@gus"},{"rel":"self","type":"application/activity+json","href":"https://gts.example/users/gus"}]}`,
		// Pleroma / Akkoma: the ld+json form with the ActivityStreams profile
		`{"aliases":["https://pleroma.example/users/pia"],"links":[{"href":"https://pleroma.example/users/pia","rel":"http://webfinger.net/rel/profile-page","type":"text/html"},{"href":"https://pleroma.example/users/pia","rel":"self","type":"application/activity+json"},{"href":"https://pleroma.example/users/pia","rel":"self","type":"application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\""}],"subject":"acct:pia@pleroma.example"}`,
		// Misskey: the actor is addressed by id
		`{"subject":"acct:miko@misskey.example","links":[{"rel":"self","type":"application/activity+json","href":"https://misskey.example/users/9k2x7q1abc"},{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://misskey.example/@miko"}]}`,
		// Lemmy
		`{"subject":"acct:lem@lemmy.example","links":[{"rel":"http://webfinger.net/rel/profile-page","type":"text/html","href":"https://lemmy.example/u/lem"},{"rel":"self","type":"application/activity+json","href":"https://lemmy.example/u/lem","properties":{"https://www.w3.org/ns/activitystreams#type":"Person"}}]}`,
		`{"links":[{"rel":"self","type":"application/activity+json","href":"javascript:alert(1)"},{"rel":"self","type":"application/activity+json","href":"https://user:pw@x.example/a"}]}`,
		`{"links":null}`, `[]`, `{"links":[1,"x",{}]}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		self, ok, err := parseJRD(body)
		if err != nil || !ok {
			if self != "" {
				t.Fatalf("no actor, yet %q", self)
			}
			return
		}
		u, err := url.Parse(self)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			t.Fatalf("actor %q is not an absolute http(s) URL", self)
		}
	})
}

// FuzzWebFingerResource checks the resource parser of the WebFinger endpoint: never a
// panic, a username only for this host and without a path, and the instance actor
// only by its own name or id.
func FuzzWebFingerResource(f *testing.F) {
	fed := &Federator{cfg: config.Config{Host: "tacit.example", Protocol: "https"}, base: "https://tacit.example"}
	for _, s := range []string{
		"acct:alice@tacit.example", "alice@tacit.example", "@alice@TACIT.example", "acct:alice@other.example",
		"https://tacit.example/users/alice", "https://tacit.example/@alice", "https://tacit.example/users/a/b",
		"acct:tacit.example@tacit.example", "https://tacit.example/actor", "acct:@tacit.example", "acct:a@b@tacit.example", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, resource string) {
		if name, ok := fed.localUsername(resource); ok {
			if name == "" || strings.Contains(name, "/") {
				t.Fatalf("%q gave username %q", resource, name)
			}
			if !strings.Contains(strings.ToLower(resource), "tacit.example") {
				t.Fatalf("%q does not name this host, yet gave %q", resource, name)
			}
		}
		if fed.isInstanceActor(resource) {
			r := strings.ToLower(resource)
			if r != "https://tacit.example/actor" && !strings.HasSuffix(r, "tacit.example@tacit.example") {
				t.Fatalf("%q taken for the instance actor", resource)
			}
		}
	})
}
