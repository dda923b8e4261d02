package activitystreams

import (
	"errors"
	"fmt"

	"github.com/tacit-social/tacit/community"
)

// PublicURI is the ActivityStreams special collection meaning "everyone". Incoming
// documents may also spell it "as:Public" or "Public" (both are the same IRI once the
// JSON-LD context is applied); IsPublic accepts all three.
const PublicURI = "https://www.w3.org/ns/activitystreams#Public"

// ErrNotFederated is returned by Address for department-scope posts: they belong to
// this instance alone and must never be addressed to, or fetched by, another server.
var ErrNotFederated = errors.New("activitystreams: department-scope content is never federated")

// IsPublic reports whether an addressing entry is the Public collection.
func IsPublic(uri string) bool {
	return uri == PublicURI || uri == "as:Public" || uri == "Public"
}

// Addressing is the audience of an object expressed as ActivityPub to/cc lists.
type Addressing struct {
	To []string
	Cc []string
}

// Address expresses a status's audience (DESIGN.md §2) in ActivityPub terms:
//
//	visibility  scope    to                        cc
//	public      world    Public                    followers, mentions
//	unlisted    world    followers                 Public, mentions
//	public      company  company collection        followers, mentions
//	unlisted    company  followers                 company collection, mentions
//	private     world    followers                 mentions
//	private     company  followers                 mentions
//	direct      any      mentions                  -
//	any         department → ErrNotFederated
//
// companyURI is the collection standing for "every account of the company" on the
// origin instance (e.g. https://<host>/ap/company); peers treat any peer's company
// collection as "visible to all my users", and delivery sends company-scope posts to
// peer instances only. Private and direct posts carry no company marker: whom they
// reach is decided by followers and mentions, and a peer stores them as company scope
// (see AudienceOf). Entries are de-duplicated, first occurrence wins.
func Address(vis community.Visibility, scope community.Scope, followersURI, companyURI string, mentionURIs []string) (Addressing, error) {
	switch scope {
	case community.ScopeDepartment:
		return Addressing{}, ErrNotFederated
	case community.ScopeWorld, community.ScopeCompany:
	default:
		return Addressing{}, fmt.Errorf("activitystreams: address: unknown scope %q", scope)
	}
	needFollowers := vis == community.VisibilityPublic || vis == community.VisibilityUnlisted || vis == community.VisibilityPrivate
	if needFollowers && followersURI == "" {
		return Addressing{}, fmt.Errorf("activitystreams: address %s status: no followers collection", vis)
	}
	needCompany := scope == community.ScopeCompany && (vis == community.VisibilityPublic || vis == community.VisibilityUnlisted)
	if needCompany && companyURI == "" {
		return Addressing{}, fmt.Errorf("activitystreams: address %s company status: no company collection", vis)
	}
	// The collection that marks the post as widely readable: Public for world scope,
	// the company collection for company scope.
	wide := PublicURI
	if scope == community.ScopeCompany {
		wide = companyURI
	}
	var a Addressing
	switch vis {
	case community.VisibilityPublic:
		a.To = []string{wide}
		a.Cc = append([]string{followersURI}, mentionURIs...)
	case community.VisibilityUnlisted:
		a.To = []string{followersURI}
		a.Cc = append([]string{wide}, mentionURIs...)
	case community.VisibilityPrivate:
		a.To = []string{followersURI}
		a.Cc = append([]string(nil), mentionURIs...)
	case community.VisibilityDirect:
		a.To = append([]string(nil), mentionURIs...)
	default:
		return Addressing{}, fmt.Errorf("activitystreams: address: unknown visibility %q", vis)
	}
	a.To, a.Cc = dedupe(a.To, nil), dedupe(a.Cc, a.To)
	if a.To == nil {
		a.To = []string{}
	}
	if a.Cc == nil {
		a.Cc = []string{}
	}
	return a, nil
}

// dedupe drops empty entries, repeats, and entries already in seen.
func dedupe(list, seen []string) []string {
	var out []string
	have := make(map[string]bool, len(list)+len(seen))
	for _, s := range seen {
		have[s] = true
	}
	for _, s := range list {
		if s == "" || have[s] {
			continue
		}
		have[s] = true
		out = append(out, s)
	}
	return out
}

// AudienceOf derives the (visibility, scope) of an incoming object from its addressing.
// It is the inverse of Address, read the way a peer instance must read it:
//
//	addressing (first rule that matches)                  visibility  scope
//	Public in to                                          public      world
//	Public in cc                                          unlisted    world
//	a peer's company collection in to                     public      company
//	a peer's company collection in cc                     unlisted    company
//	the sender's followers in to or cc                    private     company
//	anything else (mentions only, or nothing)             direct      company
//
// followersURI is the sending actor's followers collection; isCompanyCollection tells
// whether a URI is the company collection of an allowlisted peer (nil: none is).
// Public wins over a company collection when both appear, as the wider audience was
// stated by the sender anyway. Private and direct posts come back as company scope
// because on the wire they carry no scope marker: a followers-only or mentions-only post
// received from a peer is at least company-internal, and on the receiving instance,
// where every viewer is a company account, private/world and private/company admit the
// same readers. The scope is never department: that scope never leaves its instance.
// ParsedObject.Audience additionally applies a "tacit:scope" claim, which may only
// narrow the result.
func AudienceOf(to, cc []string, followersURI string, isCompanyCollection func(string) bool) (community.Visibility, community.Scope) {
	has := func(list []string, match func(string) bool) bool {
		for _, s := range list {
			if match(s) {
				return true
			}
		}
		return false
	}
	company := func(s string) bool { return isCompanyCollection != nil && isCompanyCollection(s) }
	followers := func(s string) bool { return followersURI != "" && s == followersURI }
	switch {
	case has(to, IsPublic):
		return community.VisibilityPublic, community.ScopeWorld
	case has(cc, IsPublic):
		return community.VisibilityUnlisted, community.ScopeWorld
	case has(to, company):
		return community.VisibilityPublic, community.ScopeCompany
	case has(cc, company):
		return community.VisibilityUnlisted, community.ScopeCompany
	case has(to, followers) || has(cc, followers):
		return community.VisibilityPrivate, community.ScopeCompany
	default:
		return community.VisibilityDirect, community.ScopeCompany
	}
}

// Audience is AudienceOf for a parsed object, with its "tacit:scope" claim applied: a
// Tacit peer states the scope it meant, and a claim of company scope narrows a
// Public-addressed object to the company. A claim never widens what the addressing
// says, so a peer cannot make a followers-only post world-readable by labelling it.
func (o *ParsedObject) Audience(followersURI string, isCompanyCollection func(string) bool) (community.Visibility, community.Scope) {
	vis, scope := AudienceOf(o.To, o.Cc, followersURI, isCompanyCollection)
	if scope == community.ScopeWorld && (o.Scope == string(community.ScopeCompany) || o.Scope == string(community.ScopeDepartment)) {
		scope = community.ScopeCompany
	}
	return vis, scope
}
