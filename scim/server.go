// Package scim serves SCIM 2.0 (RFC 7643/7644) at /scim/v2, so that the company's
// identity provider (Entra ID, Okta…) creates, updates, deactivates and removes the
// instance's accounts and puts them in the groups that give them a role. The protocol
// is github.com/elimity-com/scim's; the Users and Groups handlers here translate it to
// the domain's provisioning (community.Provisioning), and the provider authenticates
// with a bearer token an admin made with `tacit admin scim-token`.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	elscim "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
)

// Prefix is where the SCIM service answers.
const Prefix = "/scim/v2"

// maxBody bounds a request body: a group of ten thousand members fits well within it.
const maxBody = 4 << 20

// pageSize is the most resources one list answers.
const pageSize = 200

// allowStringValues sets the library's string-values switch once per process.
var allowStringValues sync.Once

// Deps are what the SCIM service needs.
type Deps struct {
	Config    config.Config
	Community *community.Service
	Auth      *auth.Service
	Logger    *slog.Logger
}

// Server is the SCIM service of one instance, an http.Handler for the paths under
// Prefix.
type Server struct {
	auth *auth.Service
	log  *slog.Logger
	scim elscim.Server
}

// New builds the SCIM service.
func New(d Deps) (*Server, error) {
	// Entra ID sends booleans as strings ("value": "False"), which the library refuses
	// unless told otherwise; the setting is the library's own, for the whole process,
	// and only ever widens what is accepted. Set once: instances started side by side
	// (tests) would otherwise write it while another serves requests.
	allowStringValues.Do(func() { schema.SetAllowStringValues(true) })
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	prov := d.Community.Provisioning(community.ProvisioningOptions{
		RoleOf:         func(groups []string) community.Role { return community.Role(d.Config.RoleGroups.RoleOf(groups)) },
		DeleteAccounts: d.Config.SCIM.DeleteAccounts,
	})
	base := d.Config.BaseURL() + Prefix
	users := &userHandler{prov: prov, auth: d.Auth, base: base, log: log}
	groups := &groupHandler{prov: prov, base: base, log: log}
	srv, err := elscim.NewServer(&elscim.ServerArgs{
		ServiceProviderConfig: &elscim.ServiceProviderConfig{
			DocumentationURI: optional.NewString("https://github.com/tacit-social/tacit/blob/main/docs/scim.md"),
			AuthenticationSchemes: []elscim.AuthenticationScheme{{
				Type: elscim.AuthenticationTypeOauthBearerToken, Name: "Bearer token", Primary: true,
				Description: "A token made with `tacit admin scim-token`, sent as Authorization: Bearer <token>",
			}},
			MaxResults:       pageSize,
			SupportFiltering: true,
			SupportPatch:     true,
		},
		ResourceTypes: []elscim.ResourceType{
			{
				ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
				Description: optional.NewString("People of this instance"),
				Schema:      schema.CoreUserSchema(),
				SchemaExtensions: []elscim.SchemaExtension{
					{Schema: schema.ExtensionEnterpriseUser()},
				},
				Handler: users,
			},
			{
				ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
				Description: optional.NewString("Groups of the identity provider; role_groups names those that give a role"),
				Schema:      schema.CoreGroupSchema(),
				Handler:     groups,
			},
		},
	}, elscim.WithBaseURL(base), elscim.WithLogger(libraryLogger{log}))
	if err != nil {
		return nil, fmt.Errorf("build SCIM server: %w", err)
	}
	return &Server{auth: d.Auth, log: log, scim: srv}, nil
}

// Handles reports whether path is the SCIM service's.
func Handles(path string) bool { return path == Prefix || strings.HasPrefix(path, Prefix+"/") }

// ServeHTTP authenticates the provider's token and hands the request to the SCIM
// server, logging one line per request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start, method, path := time.Now(), r.Method, r.URL.Path
	ctx := r.Context()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	tokenName := ""
	defer func() {
		s.log.InfoContext(ctx, "scim request", "method", method, "path", path, "status", rec.status,
			"token", tokenName, "duration", time.Since(start).Round(time.Microsecond))
	}()
	tok, err := s.auth.LookupSCIMToken(ctx, bearerToken(r))
	if errors.Is(err, auth.ErrInvalidToken) {
		rec.Header().Set("WWW-Authenticate", `Bearer realm="SCIM"`)
		writeError(rec, scimerrors.ScimError{Status: http.StatusUnauthorized,
			Detail: "A SCIM token is required: Authorization: Bearer <token from `tacit admin scim-token`>"})
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "scim: check token", "err", err)
		writeError(rec, scimerrors.ScimErrorInternal)
		return
	}
	tokenName = tok.Name
	r = r.WithContext(context.WithValue(ctx, actorKey{}, "scim:"+tok.Name))
	r.Body = http.MaxBytesReader(rec, r.Body, maxBody)
	// The library routes on paths that start at its /v2.
	r.URL.Path = strings.TrimPrefix(r.URL.Path, "/scim")
	r.URL.RawPath = ""
	s.scim.ServeHTTP(rec, r)
}

// actorKey carries, in a request's context, the name provisioning acts under.
type actorKey struct{}

// actor is the name the request's changes are recorded under: the SCIM token's.
func actor(r *http.Request) string {
	if name, ok := r.Context().Value(actorKey{}).(string); ok {
		return name
	}
	return "scim"
}

func bearerToken(r *http.Request) string {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// writeError answers with an RFC 7644 error document.
func writeError(w http.ResponseWriter, e scimerrors.ScimError) {
	body, _ := json.Marshal(e)
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// statusRecorder remembers the status of the answer, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// libraryLogger hands the library's error reports to slog.
type libraryLogger struct{ log *slog.Logger }

func (l libraryLogger) Error(args ...any) { l.log.Error("scim library", "detail", fmt.Sprint(args...)) }

// domainError turns the domain's errors into RFC 7644 errors: not found (404),
// conflict (409 uniqueness), invalid (400 invalidValue); anything else is logged and
// answered 500 without detail.
func domainError(log *slog.Logger, r *http.Request, id string, err error) error {
	var e scimerrors.ScimError
	if errors.As(err, &e) {
		return e
	}
	switch community.KindOf(err) {
	case community.KindNotFound:
		return scimerrors.ScimErrorResourceNotFound(id)
	case community.KindConflict:
		return scimerrors.ScimError{ScimType: scimerrors.ScimTypeUniqueness, Detail: err.Error(), Status: http.StatusConflict}
	case community.KindInvalid:
		return scimerrors.ScimError{ScimType: scimerrors.ScimTypeInvalidValue, Detail: err.Error(), Status: http.StatusBadRequest}
	case community.KindForbidden:
		return scimerrors.ScimError{Detail: err.Error(), Status: http.StatusForbidden}
	}
	log.ErrorContext(r.Context(), "scim: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	return scimerrors.ScimError{Status: http.StatusInternalServerError, Detail: "Internal server error"}
}

// parseID reads a resource id (the account's or group's id); one that cannot be an
// id names nothing.
func parseID(id string) (int64, error) {
	n, ok := community.ParseID(id)
	if !ok {
		return 0, scimerrors.ScimErrorResourceNotFound(id)
	}
	return n, nil
}
