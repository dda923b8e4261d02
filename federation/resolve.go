package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// jrdAccept is the Accept header of WebFinger requests. GoToSocial, Pleroma and
// Akkoma answer 406 to one that offers only ActivityPub types.
const jrdAccept = "application/jrd+json, application/json"

// maxJRDLinks bounds the links read from a WebFinger answer.
const maxJRDLinks = 64

// jrd is a WebFinger answer (RFC 7033 §4.4), as much of it as Tacit reads.
type jrd struct {
	Subject string   `json:"subject"`
	Aliases []string `json:"aliases"`
	Links   []struct {
		Rel  string `json:"rel"`
		Type string `json:"type"`
		Href string `json:"href"`
	} `json:"links"`
}

// parseJRD reads a WebFinger answer and returns the actor id of its self link: the
// first link with rel "self" and an ActivityPub media type, whose href is an
// absolute http(s) URL. ok is false when there is none.
func parseJRD(body []byte) (self string, ok bool, err error) {
	var d jrd
	if err := json.Unmarshal(body, &d); err != nil {
		return "", false, fmt.Errorf("not a JRD document: %w", err)
	}
	for i, l := range d.Links {
		if i == maxJRDLinks {
			break
		}
		if l.Rel != "self" || !isActivityPubType(l.Type) {
			continue
		}
		u, err := url.Parse(l.Href)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			continue
		}
		return l.Href, true, nil
	}
	return "", false, nil
}

// isActivityPubType reports whether a link's media type names ActivityPub JSON:
// application/activity+json, or application/ld+json with the ActivityStreams
// profile (parameters and case vary between servers).
func isActivityPubType(t string) bool {
	mt, params, _ := strings.Cut(strings.ToLower(t), ";")
	switch strings.TrimSpace(mt) {
	case "application/activity+json":
		return true
	case "application/ld+json":
		return params == "" || strings.Contains(params, "https://www.w3.org/ns/activitystreams")
	}
	return false
}

// fingerAccount asks host who acct:user@host is and returns the actor id of the answer.
func (f *Federator) fingerAccount(ctx context.Context, user, host string) (string, error) {
	q := url.Values{"resource": {"acct:" + user + "@" + host}}
	body, err := f.client.GetAccepting(ctx, f.cfg.Protocol+"://"+host+"/.well-known/webfinger?"+q.Encode(), jrdAccept, f.instanceSigner())
	if err != nil {
		return "", fmt.Errorf("webfinger %s@%s: %w", user, host, err)
	}
	self, ok, err := parseJRD(body)
	if err != nil {
		return "", fmt.Errorf("webfinger %s@%s: %w", user, host, err)
	}
	if !ok {
		return "", fmt.Errorf("webfinger %s@%s: no ActivityPub self link: %w", user, host, community.ErrNotFound)
	}
	return self, nil
}

// ResolveAccount finds an account by handle ("user@host") or actor URL: the stored one,
// or, through WebFinger and the actor document, a fresh copy. Only hosts the policy
// allows are asked.
//
// A handle's WebFinger may name an actor on another host (a split domain: handles
// at example.com, server at social.example.com). As Mastodon does, such an answer is
// believed only when the actor confirms it: its preferredUsername is the handle's user
// and its own host's WebFinger for that name names the same actor.
func (f *Federator) ResolveAccount(ctx context.Context, handle string) (*community.Account, error) {
	handle = strings.TrimPrefix(strings.TrimSpace(handle), "@")
	if strings.HasPrefix(handle, "https://") || strings.HasPrefix(handle, "http://") {
		return f.account(ctx, handle)
	}
	user, host, ok := strings.Cut(handle, "@")
	if !ok || user == "" || host == "" {
		return nil, community.Invalid("%q is not a user@host handle", handle)
	}
	host = strings.ToLower(host)
	if host == f.cfg.Host {
		return f.c.LocalAccount(ctx, user)
	}
	if a, err := f.c.LookupAccount(ctx, user+"@"+host); err == nil {
		return a, nil
	}
	if !f.policy.Allowed(host) {
		return nil, community.ErrNotFound
	}
	self, err := f.fingerAccount(ctx, user, host)
	if err != nil {
		return nil, err
	}
	actorHost := hostOf(self)
	if actorHost == host {
		return f.account(ctx, self)
	}
	if actorHost == "" || strings.EqualFold(actorHost, f.cfg.Host) || !f.policy.Allowed(actorHost) {
		return nil, fmt.Errorf("webfinger %s@%s points to %s, which is not allowed", user, host, self)
	}
	a, err := f.account(ctx, self)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(a.Username, user) {
		return nil, fmt.Errorf("webfinger %s@%s points to %s, whose name is %q", user, host, self, a.Username)
	}
	confirmed, err := f.fingerAccount(ctx, a.Username, actorHost)
	if err != nil {
		return nil, fmt.Errorf("confirm %s@%s at %s: %w", user, host, actorHost, err)
	}
	if confirmed != self {
		return nil, fmt.Errorf("webfinger %s@%s points to %s, but %s says %s", user, host, self, actorHost, confirmed)
	}
	return a, nil
}

// ResolveStatus finds a status by its ActivityPub id or web address: the stored one,
// or, when its host is one this instance federates with, the object fetched from there
// (signed by the instance actor, so the origin answers only with what any of our
// accounts may read) and stored like a delivered post. The object must live on the
// host asked and be written by an account of that host: a server vouches only for its
// own objects. The status is returned only when v may see it; otherwise, as when there
// is nothing, the error is community.ErrNotFound.
func (f *Federator) ResolveStatus(ctx context.Context, rawURL string, v community.Viewer) (*community.Status, error) {
	rawURL = strings.TrimSpace(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, community.Invalid("%q is not an http(s) URL", rawURL)
	}
	st, err := f.c.Unchecked().StatusByURL(ctx, rawURL)
	if community.KindOf(err) != community.KindNotFound {
		if err != nil {
			return nil, err
		}
		return f.visibleTo(ctx, v, st)
	}
	host := strings.ToLower(u.Host)
	if host == strings.ToLower(f.cfg.Host) || !f.policy.Allowed(host) {
		return nil, community.ErrNotFound
	}
	body, err := f.client.Get(ctx, rawURL, f.instanceSigner())
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone ||
			se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden) {
			// The origin does not show it to us: to the searcher it does not exist.
			return nil, community.ErrNotFound
		}
		return nil, fmt.Errorf("resolve status %s: %w", rawURL, err)
	}
	o, err := activitystreams.ParseObject(body)
	if err != nil {
		return nil, fmt.Errorf("resolve status %s: %w", rawURL, err)
	}
	if o.Type == "Tombstone" {
		return nil, community.ErrNotFound
	}
	if hostOf(o.ID) != host {
		return nil, community.Forbidden("%s answered with an object of another server", host)
	}
	if hostOf(o.AttributedTo) != host {
		return nil, community.Forbidden("%s answered with an object written on another server", host)
	}
	// Fetched by its web address, the object may be one already stored under its id.
	if o.ID != rawURL {
		if st, err := f.c.Unchecked().StatusByURI(ctx, o.ID); err == nil {
			return f.visibleTo(ctx, v, st)
		}
	}
	author, err := f.account(ctx, o.AttributedTo)
	if err != nil {
		return nil, fmt.Errorf("resolve status %s: author: %w", rawURL, err)
	}
	if err := f.receiveObject(ctx, author, o); err != nil {
		return nil, fmt.Errorf("resolve status %s: %w", rawURL, err)
	}
	st, err = f.c.Unchecked().StatusByURI(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	return f.visibleTo(ctx, v, st)
}

// visibleTo returns st when v may see it, and community.ErrNotFound otherwise, so that a
// hidden status cannot be told from a missing one.
func (f *Federator) visibleTo(ctx context.Context, v community.Viewer, st *community.Status) (*community.Status, error) {
	ok, err := f.c.CanSee(ctx, v, st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, community.ErrNotFound
	}
	return st, nil
}
