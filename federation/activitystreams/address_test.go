package activitystreams

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/tacit-social/tacit/community"
)

const (
	followers = "https://tacit.example.com/users/alice/followers"
	company   = "https://tacit.example.com/ap/company"
	bob       = "https://sales.example.com/users/bob"
	carol     = "https://social.example.org/users/carol"
)

var mentions = []string{bob, carol}

func TestAddress(t *testing.T) {
	t.Parallel()
	cases := []struct {
		vis    community.Visibility
		scope  community.Scope
		to, cc []string
	}{
		{community.VisibilityPublic, community.ScopeWorld, []string{PublicURI}, []string{followers, bob, carol}},
		{community.VisibilityUnlisted, community.ScopeWorld, []string{followers}, []string{PublicURI, bob, carol}},
		{community.VisibilityPrivate, community.ScopeWorld, []string{followers}, []string{bob, carol}},
		{community.VisibilityDirect, community.ScopeWorld, []string{bob, carol}, []string{}},
		{community.VisibilityPublic, community.ScopeCompany, []string{company}, []string{followers, bob, carol}},
		{community.VisibilityUnlisted, community.ScopeCompany, []string{followers}, []string{company, bob, carol}},
		{community.VisibilityPrivate, community.ScopeCompany, []string{followers}, []string{bob, carol}},
		{community.VisibilityDirect, community.ScopeCompany, []string{bob, carol}, []string{}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s", c.vis, c.scope), func(t *testing.T) {
			a, err := Address(c.vis, c.scope, followers, company, mentions)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.To, c.to) || !slices.Equal(a.Cc, c.cc) {
				t.Errorf("got to=%v cc=%v, want to=%v cc=%v", a.To, a.Cc, c.to, c.cc)
			}
		})
	}
	for _, vis := range []community.Visibility{community.VisibilityPublic, community.VisibilityUnlisted, community.VisibilityPrivate, community.VisibilityDirect} {
		t.Run(fmt.Sprintf("%s/department", vis), func(t *testing.T) {
			a, err := Address(vis, community.ScopeDepartment, followers, company, mentions)
			if !errors.Is(err, ErrNotFederated) {
				t.Fatalf("err = %v, want ErrNotFederated", err)
			}
			if len(a.To)+len(a.Cc) != 0 {
				t.Errorf("department post addressed to %v %v", a.To, a.Cc)
			}
		})
	}
}

func TestAddressEdges(t *testing.T) {
	t.Parallel()
	// A mention of someone already addressed is not repeated, and a direct post
	// without mentions reaches nobody rather than failing.
	a, err := Address(community.VisibilityPublic, community.ScopeWorld, followers, company, []string{bob, bob, followers, ""})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{followers, bob}; !slices.Equal(a.Cc, want) {
		t.Errorf("cc = %v, want %v", a.Cc, want)
	}
	a, err = Address(community.VisibilityDirect, community.ScopeCompany, followers, company, nil)
	if err != nil || a.To == nil || a.Cc == nil || len(a.To)+len(a.Cc) != 0 {
		t.Errorf("direct without mentions = %+v, %v; want empty lists", a, err)
	}

	bad := []struct {
		name               string
		vis                community.Visibility
		scope              community.Scope
		followers, company string
	}{
		{"unknown visibility", "limited", community.ScopeWorld, followers, company},
		{"unknown scope", community.VisibilityPublic, "galaxy", followers, company},
		{"empty scope", community.VisibilityPublic, "", followers, company},
		{"no followers", community.VisibilityPrivate, community.ScopeCompany, "", company},
		{"no company collection", community.VisibilityUnlisted, community.ScopeCompany, followers, ""},
	}
	for _, c := range bad {
		if _, err := Address(c.vis, c.scope, c.followers, c.company, mentions); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	// The company collection is only needed where it is addressed.
	if _, err := Address(community.VisibilityPrivate, community.ScopeCompany, followers, "", mentions); err != nil {
		t.Errorf("private company post without company collection: %v", err)
	}
}

func isPeerCompany(s string) bool {
	return s == company || s == "https://sales.example.com/ap/company"
}

func TestAudienceOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		to, cc []string
		vis    community.Visibility
		scope  community.Scope
	}{
		{"public in to", []string{PublicURI}, []string{followers}, community.VisibilityPublic, community.ScopeWorld},
		{"as:Public in to", []string{"as:Public"}, nil, community.VisibilityPublic, community.ScopeWorld},
		{"bare Public in to", []string{bob, "Public"}, nil, community.VisibilityPublic, community.ScopeWorld},
		{"public in cc", []string{followers}, []string{PublicURI}, community.VisibilityUnlisted, community.ScopeWorld},
		{"public beats company", []string{company, PublicURI}, nil, community.VisibilityPublic, community.ScopeWorld},
		{"public in cc beats company in to", []string{company}, []string{PublicURI}, community.VisibilityUnlisted, community.ScopeWorld},
		{"company in to", []string{company}, []string{followers}, community.VisibilityPublic, community.ScopeCompany},
		{"other peer's company in to", []string{"https://sales.example.com/ap/company"}, nil, community.VisibilityPublic, community.ScopeCompany},
		{"company in cc", []string{followers}, []string{company}, community.VisibilityUnlisted, community.ScopeCompany},
		{"followers in to", []string{followers}, []string{bob}, community.VisibilityPrivate, community.ScopeCompany},
		{"followers in cc", []string{bob}, []string{followers}, community.VisibilityPrivate, community.ScopeCompany},
		{"mentions only", []string{bob}, []string{carol}, community.VisibilityDirect, community.ScopeCompany},
		{"nobody", nil, nil, community.VisibilityDirect, community.ScopeCompany},
		{"unknown company collection is just an address", []string{"https://evil.example/ap/company"}, nil, community.VisibilityDirect, community.ScopeCompany},
	}
	for _, c := range cases {
		vis, scope := AudienceOf(c.to, c.cc, followers, isPeerCompany)
		if vis != c.vis || scope != c.scope {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, vis, scope, c.vis, c.scope)
		}
	}
	// Without a followers URI or a company test nothing is mistaken for them.
	if vis, scope := AudienceOf([]string{followers}, []string{company}, "", nil); vis != community.VisibilityDirect || scope != community.ScopeCompany {
		t.Errorf("no followers, no company test: got %s/%s", vis, scope)
	}
}

// TestAddressRoundTrip checks that what Address writes AudienceOf reads back. Public
// and unlisted come back exactly; private and direct come back as company scope, as
// nothing on the wire marks them world (see AudienceOf), which admits the same readers
// on a peer instance.
func TestAddressRoundTrip(t *testing.T) {
	t.Parallel()
	for _, scope := range []community.Scope{community.ScopeWorld, community.ScopeCompany} {
		for _, vis := range []community.Visibility{community.VisibilityPublic, community.VisibilityUnlisted, community.VisibilityPrivate, community.VisibilityDirect} {
			a, err := Address(vis, scope, followers, company, mentions)
			if err != nil {
				t.Fatalf("%s/%s: %v", vis, scope, err)
			}
			wantScope := scope
			if vis == community.VisibilityPrivate || vis == community.VisibilityDirect {
				wantScope = community.ScopeCompany
			}
			gotVis, gotScope := AudienceOf(a.To, a.Cc, followers, isPeerCompany)
			if gotVis != vis || gotScope != wantScope {
				t.Errorf("%s/%s: addressed %v %v, read back as %s/%s", vis, scope, a.To, a.Cc, gotVis, gotScope)
			}
			// The tacit:scope a Tacit peer adds agrees with the addressing.
			o := &ParsedObject{To: a.To, Cc: a.Cc, Scope: string(scope)}
			gotVis, gotScope = o.Audience(followers, isPeerCompany)
			if gotVis != vis || gotScope != wantScope {
				t.Errorf("%s/%s with scope claim: read back as %s/%s", vis, scope, gotVis, gotScope)
			}
		}
	}
}

func TestAudienceScopeClaim(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		to, cc []string
		claim  string
		vis    community.Visibility
		scope  community.Scope
	}{
		{"company claim narrows a Public post", []string{PublicURI}, nil, "company", community.VisibilityPublic, community.ScopeCompany},
		{"company claim narrows an unlisted post", []string{followers}, []string{PublicURI}, "company", community.VisibilityUnlisted, community.ScopeCompany},
		{"department claim is read as company", []string{PublicURI}, nil, "department", community.VisibilityPublic, community.ScopeCompany},
		{"world claim does not widen a company post", []string{company}, nil, "world", community.VisibilityPublic, community.ScopeCompany},
		{"world claim does not widen a followers post", []string{followers}, nil, "world", community.VisibilityPrivate, community.ScopeCompany},
		{"nonsense claim is ignored", []string{PublicURI}, nil, "galaxy", community.VisibilityPublic, community.ScopeWorld},
	}
	for _, c := range cases {
		o := &ParsedObject{To: c.to, Cc: c.cc, Scope: c.claim}
		vis, scope := o.Audience(followers, isPeerCompany)
		if vis != c.vis || scope != c.scope {
			t.Errorf("%s: got %s/%s, want %s/%s", c.name, vis, scope, c.vis, c.scope)
		}
	}
}
