package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
)

// OOBRedirect is the redirect URI that asks the authorize page to show the code
// instead of redirecting (command-line clients).
const OOBRedirect = "urn:ietf:wg:oauth:2.0:oob"

// Limits on what an application may register, the same as Mastodon's so that clients
// that work there work here.
const (
	MaxAppNameLen     = 60
	MaxAppWebsiteLen  = 2000
	MaxRedirectURILen = 2000
)

// forbiddenSchemes could run code or show attacker content if a browser were sent there.
var forbiddenSchemes = []string{"javascript", "data", "vbscript", "file"}

// NewApplication is what POST /api/v1/apps registers.
type NewApplication struct {
	Name    string
	Website string
	// RedirectURIs may hold one URI per element or several separated by whitespace,
	// as clients send them either way.
	RedirectURIs []string
	// Scopes may likewise hold several space-separated scopes per element; none
	// means "read".
	Scopes []string
}

// CreateApplication validates and registers an OAuth client with fresh credentials.
// Validation failures are community.Invalid errors whose message is meant for the
// client's developer.
func (s *Service) CreateApplication(ctx context.Context, in NewApplication) (*Application, error) {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return nil, community.Invalid("Validation failed: Application name can't be blank")
	case utf8.RuneCountInString(name) > MaxAppNameLen:
		return nil, community.Invalid("Validation failed: Application name is too long (maximum is %d characters)", MaxAppNameLen)
	}
	website := strings.TrimSpace(in.Website)
	if website != "" {
		if err := validateWebsite(website); err != nil {
			return nil, err
		}
	}
	var redirects []string
	for _, field := range in.RedirectURIs {
		for _, uri := range strings.Fields(field) {
			if !slices.Contains(redirects, uri) {
				redirects = append(redirects, uri)
			}
		}
	}
	if len(redirects) == 0 {
		return nil, community.Invalid("Validation failed: Redirect URI can't be blank")
	}
	for _, uri := range redirects {
		if err := ValidateRedirectURI(uri); err != nil {
			return nil, err
		}
	}
	if n := len(strings.Join(redirects, "\n")); n > MaxRedirectURILen {
		return nil, community.Invalid("Validation failed: Redirect URI is too long (maximum is %d characters)", MaxRedirectURILen)
	}
	scopes, unknown := ParseScopes(strings.Join(in.Scopes, " "))
	if len(unknown) > 0 {
		return nil, community.Invalid("Validation failed: Scopes contain unknown scope %q; known scopes are: %s",
			unknown[0], strings.Join(AllScopes(), " "))
	}
	if len(scopes) == 0 {
		scopes = []string{"read"}
	}
	app := &Application{
		ID:           community.NewID(),
		Name:         name,
		Website:      website,
		RedirectURIs: strings.Join(redirects, "\n"),
		Scopes:       strings.Join(scopes, " "),
		ClientID:     newSecret(32),
		ClientSecret: newSecret(32),
		CreatedAt:    s.clock(),
	}
	if err := s.db.WithContext(ctx).Create(app).Error; err != nil {
		return nil, fmt.Errorf("create application: %w", err)
	}
	return app, nil
}

func validateWebsite(website string) error {
	if len(website) > MaxAppWebsiteLen {
		return community.Invalid("Validation failed: Website is too long (maximum is %d characters)", MaxAppWebsiteLen)
	}
	u, err := url.Parse(website)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return community.Invalid("Validation failed: Website must be an http(s) URL")
	}
	return nil
}

// ValidateRedirectURI checks one redirect URI as RFC 6749 section 3.1.2 asks: an
// absolute URI without a fragment. Native apps' private schemes ("elk://callback",
// "org.joinmastodon.android://oauth") and the out-of-band URN are allowed.
func ValidateRedirectURI(uri string) error {
	if uri == OOBRedirect {
		return nil
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" || strings.ContainsAny(uri, " \t\r\n") {
		return community.Invalid("Validation failed: Redirect URI must be an absolute URI: %q", uri)
	}
	if u.Fragment != "" || strings.Contains(uri, "#") {
		return community.Invalid("Validation failed: Redirect URI cannot contain a fragment: %q", uri)
	}
	scheme := strings.ToLower(u.Scheme)
	if slices.Contains(forbiddenSchemes, scheme) {
		return community.Invalid("Validation failed: Redirect URI must not use the %s scheme: %q", scheme, uri)
	}
	if (scheme == "http" || scheme == "https") && u.Host == "" {
		return community.Invalid("Validation failed: Redirect URI must be an absolute URI: %q", uri)
	}
	return nil
}

// RedirectURIList returns the application's registered redirect URIs.
func (a *Application) RedirectURIList() []string { return strings.Fields(a.RedirectURIs) }

// ScopeList returns the scopes the application registered.
func (a *Application) ScopeList() []string { return strings.Fields(a.Scopes) }

// AllowsRedirect reports whether uri is one of the application's redirect URIs. The
// match is exact, except that a registered loopback URI ("http://127.0.0.1/cb") admits
// any port, because a native app listens on whatever port it gets (RFC 8252 7.3).
func (a *Application) AllowsRedirect(uri string) bool {
	registered := a.RedirectURIList()
	if slices.Contains(registered, uri) {
		return true
	}
	got, err := url.Parse(uri)
	if err != nil || got.Scheme != "http" || !isLoopback(got.Hostname()) {
		return false
	}
	for _, r := range registered {
		want, err := url.Parse(r)
		if err != nil || want.Scheme != "http" || !isLoopback(want.Hostname()) {
			continue
		}
		if want.Hostname() == got.Hostname() && want.Path == got.Path && want.RawQuery == got.RawQuery &&
			got.User == nil && want.User == nil {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ApplicationByClientID finds a registered client.
func (s *Service) ApplicationByClientID(ctx context.Context, clientID string) (*Application, error) {
	if clientID == "" {
		return nil, community.ErrNotFound
	}
	var app Application
	err := s.db.WithContext(ctx).Where("client_id = ?", clientID).Take(&app).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, community.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load application: %w", err)
	}
	return &app, nil
}

// ApplicationByID loads an application by its id, e.g. the one a token belongs to.
func (s *Service) ApplicationByID(ctx context.Context, id int64) (*Application, error) {
	var app Application
	err := s.db.WithContext(ctx).Take(&app, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, community.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load application: %w", err)
	}
	return &app, nil
}

// AuthenticateClient checks a client's credentials and returns its application, or
// ErrInvalidClient without saying which part was wrong.
func (s *Service) AuthenticateClient(ctx context.Context, clientID, clientSecret string) (*Application, error) {
	if clientID == "" || clientSecret == "" {
		return nil, ErrInvalidClient
	}
	app, err := s.ApplicationByClientID(ctx, clientID)
	if community.KindOf(err) == community.KindNotFound {
		return nil, ErrInvalidClient
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(clientSecret)) != 1 {
		return nil, ErrInvalidClient
	}
	return app, nil
}

// ApplicationsByID loads several applications at once, keyed by id, to show which app
// each status in a page was posted with.
func (s *Service) ApplicationsByID(ctx context.Context, ids []int64) (map[int64]*Application, error) {
	out := make(map[int64]*Application, len(ids))
	var missing []int64
	for _, id := range ids {
		if _, done := out[id]; done || slices.Contains(missing, id) {
			continue
		}
		if a, ok := s.apps.Get(id); ok {
			copied := *a
			out[id] = &copied
		} else {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	ticket := s.apps.Begin()
	var rows []Application
	if err := s.db.WithContext(ctx).Where("id IN ?", missing).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load applications: %w", err)
	}
	for i := range rows {
		copied := rows[i]
		s.apps.Put(ticket, rows[i].ID, &copied)
		out[rows[i].ID] = &rows[i]
	}
	return out, nil
}
