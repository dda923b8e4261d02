package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/tacit-social/tacit/community"
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
