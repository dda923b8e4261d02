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

// ResolveAccount finds an account by handle ("user@host") or actor URL: the stored one,
// or, through WebFinger and the actor document, a fresh copy. Only hosts the policy
// allows are asked.
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
	q := url.Values{"resource": {"acct:" + user + "@" + host}}
	body, err := f.client.Get(ctx, f.cfg.Protocol+"://"+host+"/.well-known/webfinger?"+q.Encode(), f.instanceSigner())
	if err != nil {
		return nil, fmt.Errorf("webfinger %s@%s: %w", user, host, err)
	}
	var jrd struct {
		Links []struct{ Rel, Type, Href string } `json:"links"`
	}
	if err := json.Unmarshal(body, &jrd); err != nil {
		return nil, fmt.Errorf("webfinger %s@%s: %w", user, host, err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (strings.Contains(l.Type, "activity+json") || strings.Contains(l.Type, "ld+json")) {
			if hostOf(l.Href) != host {
				return nil, fmt.Errorf("webfinger %s@%s points to another host", user, host)
			}
			return f.account(ctx, l.Href)
		}
	}
	return nil, community.ErrNotFound
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
	st, err := f.c.StatusByURL(ctx, rawURL)
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
		if st, err := f.c.StatusByURI(ctx, o.ID); err == nil {
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
	st, err = f.c.StatusByURI(ctx, o.ID)
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
