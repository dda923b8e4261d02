// Package sso signs people in through the company's OpenID Connect provider
// (Keycloak, authentik, Entra ID, Okta…): the authorization code flow with PKCE, state
// and nonce, the ID token verified against the provider's published keys, and its
// claims turned into community.ExternalClaims for Service.SignInExternal. Discovery,
// key sets and their rotation, and ID token verification are coreos/go-oidc's; the
// token request is golang.org/x/oauth2's.
//
// The flow keeps nothing on the server between its two legs but the states already
// used: what it must remember (state, nonce, PKCE verifier, where to go afterwards)
// travels in a short-lived cookie signed with the instance's key, bound to the browser
// that started the flow, and good once.
package sso

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
)

// CallbackPath is where the provider sends the browser back; register
// <instance URL>/auth/sso/callback as the client's redirect URI at the provider.
const CallbackPath = "/auth/sso/callback"

// FlowTTL is how long a started sign-in may take at the provider.
const FlowTTL = 10 * time.Minute

// Errors of a sign-in that does not complete. Each has words for the person.
var (
	// ErrFlow: the flow's cookie is missing, expired or forged, or the state the
	// provider sent back is not the one this browser started with, or was used.
	ErrFlow = errors.New("this sign-in expired or was already used; start again")
	// ErrProvider: the provider refused or failed (the person cancelled, is disabled
	// there, or the provider answered with an error).
	ErrProvider = errors.New("the identity provider did not sign you in")
	// ErrToken: the provider's tokens did not verify (signature, issuer, audience,
	// expiry or nonce).
	ErrToken = errors.New("the identity provider's answer could not be verified")
	// ErrNotAllowed: the person is not among those this instance admits.
	ErrNotAllowed = errors.New("your company account is not allowed to sign in here")
)

// Provider is this instance as a relying party of the company's OpenID provider.
type Provider struct {
	cfg         config.SSO
	roles       config.RoleGroups
	redirectURL string
	key         []byte
	client      *http.Client
	log         *slog.Logger
	now         func() time.Time

	mu sync.Mutex
	// discovered is the provider's metadata and key set, fetched at the first
	// sign-in and kept: go-oidc refreshes the keys itself when they rotate.
	discovered *oidc.Provider
	// used holds the states already finished, until their flow would have expired.
	used map[string]time.Time
	// pruned is when expired states were last dropped from used.
	pruned time.Time
}

// Options are what New needs besides the configuration.
type Options struct {
	// Key signs the flow's cookie; derive it from a secret the instance keeps.
	Key []byte
	// Client makes the requests to the provider; nil uses a client with a timeout.
	Client *http.Client
	Logger *slog.Logger
}

// New prepares single sign-on for cfg; nil when it is not configured. Nothing is
// fetched from the provider until the first sign-in, so that an instance starts while
// its provider is down.
func New(cfg config.Config, opt Options) *Provider {
	if !cfg.SSO.Enabled() {
		return nil
	}
	p := &Provider{
		cfg:         cfg.SSO,
		roles:       cfg.RoleGroups,
		redirectURL: cfg.BaseURL() + CallbackPath,
		key:         opt.Key,
		client:      opt.Client,
		log:         opt.Logger,
		now:         time.Now,
		used:        map[string]time.Time{},
	}
	if p.client == nil {
		p.client = &http.Client{Timeout: 15 * time.Second}
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	return p
}

// Label is the text of the sign-in button.
func (p *Provider) Label() string { return p.cfg.ButtonLabel }

// PasswordLogin reports whether local passwords still sign in beside the provider.
func (p *Provider) PasswordLogin() bool { return p.cfg.PasswordLogin }

// provider returns the discovered provider, discovering it on first use. A failed
// discovery is tried again at the next sign-in.
func (p *Provider) provider() (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.discovered != nil {
		return p.discovered, nil
	}
	// The key set go-oidc builds keeps this context for its later fetches, so it must
	// outlive the request; the client's timeout bounds each fetch.
	bg := oidc.ClientContext(context.Background(), p.client)
	op, err := oidc.NewProvider(bg, p.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover %s: %w", p.cfg.Issuer, err)
	}
	p.discovered = op
	return op, nil
}

func (p *Provider) oauth2Config(op *oidc.Provider) *oauth2.Config {
	scopes := p.cfg.Scopes
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     op.Endpoint(),
		RedirectURL:  p.redirectURL,
		Scopes:       scopes,
	}
}

// flow is what the cookie carries from the start of a sign-in to its callback.
type flow struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Expires  time.Time `json:"e"`
}

// Begin starts a sign-in that returns to next (a local path) afterwards: it returns
// the provider's address to send the browser to and the value of the cookie to set
// for the callback (good for FlowTTL).
func (p *Provider) Begin(ctx context.Context, next string) (authURL, cookie string, err error) {
	op, err := p.provider()
	if err != nil {
		return "", "", err
	}
	f := flow{
		State:    randomString(),
		Nonce:    randomString(),
		Verifier: oauth2.GenerateVerifier(),
		Next:     next,
		Expires:  p.now().Add(FlowTTL),
	}
	authURL = p.oauth2Config(op).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier))
	return authURL, p.seal(f), nil
}

// Result is a finished sign-in: who the provider vouches for, and where to go next.
type Result struct {
	Claims community.ExternalClaims
	Next   string
}

// Finish completes a sign-in at the callback: cookie is the value Begin returned (as
// the browser sent it back), query the callback's query string. The state is checked
// against the cookie and used up, the code exchanged with the PKCE verifier, the ID
// token verified (signature, issuer, audience, expiry, nonce) and its claims read.
func (p *Provider) Finish(ctx context.Context, cookie string, query url.Values) (*Result, error) {
	f, ok := p.open(cookie)
	if !ok {
		p.log.WarnContext(ctx, "sso: callback refused: the flow's cookie is missing, forged or expired")
		return nil, ErrFlow
	}
	state := query.Get("state")
	if subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 || !p.useState(f) {
		p.log.WarnContext(ctx, "sso: callback refused: its state is not this browser's, or was used")
		return nil, ErrFlow
	}
	if e := query.Get("error"); e != "" {
		p.log.WarnContext(ctx, "sso: the provider refused the sign-in", "error", e, "description", query.Get("error_description"))
		return nil, fmt.Errorf("%w (%s)", ErrProvider, e)
	}
	code := query.Get("code")
	if code == "" {
		return nil, fmt.Errorf("%w: no code in its answer", ErrProvider)
	}
	op, err := p.provider()
	if err != nil {
		return nil, err
	}
	tok, err := p.oauth2Config(op).Exchange(oidc.ClientContext(ctx, p.client), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		p.log.WarnContext(ctx, "sso: code exchange failed", "err", err)
		return nil, fmt.Errorf("%w: %v", ErrProvider, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: no ID token", ErrToken)
	}
	idToken, err := p.VerifyIDToken(ctx, raw, f.Nonce)
	if err != nil {
		return nil, err
	}
	claims, err := p.claims(ctx, op, idToken, tok)
	if err != nil {
		return nil, err
	}
	ext, err := p.externalClaims(idToken, claims)
	if err != nil {
		return nil, err
	}
	return &Result{Claims: ext, Next: f.Next}, nil
}

// VerifyIDToken checks an ID token as the callback does: signed by one of the
// provider's keys, issued by it, for this instance's client id, not expired, and
// carrying the nonce this sign-in sent.
func (p *Provider) VerifyIDToken(ctx context.Context, raw, nonce string) (*oidc.IDToken, error) {
	op, err := p.provider()
	if err != nil {
		return nil, err
	}
	idToken, err := op.Verifier(&oidc.Config{ClientID: p.cfg.ClientID, Now: p.now}).Verify(oidc.ClientContext(ctx, p.client), raw)
	if err != nil {
		p.log.WarnContext(ctx, "sso: ID token refused", "err", err)
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if subtle.ConstantTimeCompare([]byte(idToken.Nonce), []byte(nonce)) != 1 || nonce == "" {
		p.log.WarnContext(ctx, "sso: ID token refused: its nonce is not this sign-in's")
		return nil, fmt.Errorf("%w: wrong nonce", ErrToken)
	}
	return idToken, nil
}

// claims are the ID token's claims, completed by the userinfo endpoint's when the
// provider has one: some providers (Okta's org server, Entra ID) put only a few
// claims in the ID token. The ID token's own claims win.
func (p *Provider) claims(ctx context.Context, op *oidc.Provider, idToken *oidc.IDToken, tok *oauth2.Token) (map[string]any, error) {
	claims := map[string]any{}
	if err := idToken.Claims(&claims); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrToken, err)
	}
	if op.UserInfoEndpoint() == "" {
		return claims, nil
	}
	info, err := op.UserInfo(oidc.ClientContext(ctx, p.client), oauth2.StaticTokenSource(tok))
	if err != nil {
		// The ID token alone still signs the person in.
		p.log.WarnContext(ctx, "sso: userinfo unavailable; using the ID token's claims", "err", err)
		return claims, nil
	}
	if info.Subject != idToken.Subject {
		return nil, fmt.Errorf("%w: userinfo is about another subject", ErrToken)
	}
	extra := map[string]any{}
	if err := info.Claims(&extra); err != nil {
		return claims, nil
	}
	for k, v := range extra {
		if _, ok := claims[k]; !ok {
			claims[k] = v
		}
	}
	return claims, nil
}

// externalClaims reads the configured claims and applies the instance's admission
// rule (allowed e-mail domains, against a verified address only).
func (p *Provider) externalClaims(idToken *oidc.IDToken, claims map[string]any) (community.ExternalClaims, error) {
	ext := community.ExternalClaims{
		Issuer:        idToken.Issuer,
		Subject:       idToken.Subject,
		Username:      stringClaim(claims, p.cfg.UsernameClaim),
		Email:         stringClaim(claims, p.cfg.EmailClaim),
		EmailVerified: boolClaim(claims, "email_verified"),
		DisplayName:   stringClaim(claims, p.cfg.NameClaim),
	}
	if p.cfg.ProvisioningClaim != "" {
		ext.ProvisionedID = stringClaim(claims, p.cfg.ProvisioningClaim)
	}
	if groups, ok := listClaim(claims, p.cfg.GroupsClaim); ok {
		ext.Role = community.Role(p.roles.RoleOf(groups))
	}
	if len(p.cfg.AllowedEmailDomains) > 0 {
		_, domain, _ := strings.Cut(strings.ToLower(strings.TrimSpace(ext.Email)), "@")
		if !ext.EmailVerified || !slices.Contains(p.cfg.AllowedEmailDomains, domain) {
			p.log.Warn("sso: sign-in refused by allowed_email_domains", "subject", ext.Subject, "email_verified", ext.EmailVerified)
			return ext, ErrNotAllowed
		}
	}
	return ext, nil
}

func stringClaim(claims map[string]any, name string) string {
	if name == "" {
		return ""
	}
	s, _ := claims[name].(string)
	return strings.TrimSpace(s)
}

// boolClaim reads a boolean claim; some providers send "true" as a string.
func boolClaim(claims map[string]any, name string) bool {
	switch v := claims[name].(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// listClaim reads a list of strings (or a single string); ok is false when the claim
// is absent, which is not the same as an empty list.
func listClaim(claims map[string]any, name string) ([]string, bool) {
	if name == "" {
		return nil, false
	}
	switch v := claims[name].(type) {
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			if s, ok := item.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	case string:
		return []string{v}, true
	}
	return nil, false
}

// seal signs the flow for its cookie: base64url(JSON) "." base64url(HMAC-SHA256).
func (p *Provider) seal(f flow) string {
	body, _ := json.Marshal(f)
	enc := base64.RawURLEncoding.EncodeToString(body)
	return enc + "." + base64.RawURLEncoding.EncodeToString(p.mac(enc))
}

// open checks the cookie's signature and expiry.
func (p *Provider) open(cookie string) (flow, bool) {
	var f flow
	enc, sig, ok := strings.Cut(cookie, ".")
	if !ok {
		return f, false
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, p.mac(enc)) {
		return f, false
	}
	body, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || json.Unmarshal(body, &f) != nil {
		return f, false
	}
	return f, f.State != "" && p.now().Before(f.Expires)
}

func (p *Provider) mac(s string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte("tacit sso flow\n"))
	m.Write([]byte(s))
	return m.Sum(nil)
}

// useState marks the flow's state used; false when it was already.
func (p *Provider) useState(f flow) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	// Expired states are dropped once a minute, or when the bound is reached, rather
	// than on every callback: a state's cookie expires with it, so an expired state
	// still remembered refuses nothing that would otherwise pass.
	if len(p.used) >= maxUsedStates || now.Sub(p.pruned) >= time.Minute {
		for s, exp := range p.used {
			if now.After(exp) {
				delete(p.used, s)
			}
		}
		p.pruned = now
	}
	if _, done := p.used[f.State]; done {
		return false
	}
	// Anyone may start sign-ins and bring their callbacks back: the memory of used
	// states is bounded, and past the bound sign-ins are refused until flows expire.
	if len(p.used) >= maxUsedStates {
		p.log.Warn("sso: too many sign-ins finished in the last minutes; refusing until some expire")
		return false
	}
	p.used[f.State] = f.Expires
	return true
}

// maxUsedStates bounds the states remembered as used: a FlowTTL's worth of sign-ins
// of a large company, a few megabytes.
const maxUsedStates = 50_000

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
