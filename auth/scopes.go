// Package auth is Tacit's OAuth 2 authorization server state: registered client
// applications, authorization codes, access and refresh tokens, and the Mastodon
// scope rules that decide what a token may do.
package auth

import (
	"slices"
	"strings"
)

// TopScopes are the scopes an application may ask for as a whole.
var TopScopes = []string{"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}

// SubScopes lists Mastodon's granular scopes under each parent.
var SubScopes = map[string][]string{
	"read": {"read:accounts", "read:blocks", "read:bookmarks", "read:favourites", "read:filters",
		"read:follows", "read:lists", "read:mutes", "read:notifications", "read:search", "read:statuses"},
	"write": {"write:accounts", "write:blocks", "write:bookmarks", "write:conversations", "write:favourites",
		"write:filters", "write:follows", "write:lists", "write:media", "write:mutes", "write:notifications",
		"write:reports", "write:statuses"},
	"admin:read": {"admin:read:accounts", "admin:read:reports", "admin:read:domain_allows",
		"admin:read:domain_blocks", "admin:read:ip_blocks", "admin:read:email_domain_blocks", "admin:read:canonical_email_blocks"},
	"admin:write": {"admin:write:accounts", "admin:write:reports", "admin:write:domain_allows",
		"admin:write:domain_blocks", "admin:write:ip_blocks", "admin:write:email_domain_blocks", "admin:write:canonical_email_blocks"},
}

// followScopes are what Mastodon's deprecated "follow" scope still grants.
var followScopes = []string{"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}

// ParseScopes splits a space- or plus-separated scope string, keeping only known scopes
// in order without duplicates. It returns the unknown ones separately so callers can
// refuse them.
func ParseScopes(s string) (known, unknown []string) {
	for _, sc := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '+' || r == ',' }) {
		switch {
		case !ValidScope(sc):
			unknown = append(unknown, sc)
		case !slices.Contains(known, sc):
			known = append(known, sc)
		}
	}
	return known, unknown
}

// ValidScope reports whether sc is a scope Tacit knows.
func ValidScope(sc string) bool {
	if slices.Contains(TopScopes, sc) {
		return true
	}
	for _, subs := range SubScopes {
		if slices.Contains(subs, sc) {
			return true
		}
	}
	return false
}

// Grants reports whether a token with the granted scopes may use an endpoint that
// requires the scope required: the scope itself, its parent ("read" covers
// "read:statuses"), or for relationship scopes the legacy "follow".
func Grants(granted []string, required string) bool {
	for _, g := range granted {
		if g == required {
			return true
		}
		if slices.Contains(SubScopes[g], required) {
			return true
		}
		if g == "follow" && slices.Contains(followScopes, required) {
			return true
		}
		// "profile" (Mastodon 4.3) is a narrow read of one's own account only; callers ask
		// for it explicitly, so it grants nothing else.
	}
	return false
}

// Subset reports whether every requested scope is covered by the allowed ones: an
// authorization may not ask for more than its application registered.
func Subset(requested, allowed []string) bool {
	for _, r := range requested {
		if !Grants(allowed, r) {
			return false
		}
	}
	return true
}

// AllScopes lists every scope Tacit knows, each parent followed by its granular
// scopes, as the authorization server metadata advertises them.
func AllScopes() []string {
	var out []string
	for _, top := range TopScopes {
		out = append(out, top)
		out = append(out, SubScopes[top]...)
	}
	return out
}
