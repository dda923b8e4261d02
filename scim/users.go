package scim

import (
	"log/slog"
	"net/http"
	"strings"

	elscim "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
)

// userHandler serves /Users over the domain's provisioning. A user's SCIM id is its
// account's id.
type userHandler struct {
	prov *community.Provisioning
	auth *auth.Service
	base string
	log  *slog.Logger
}

// Create provisions a person (POST /Users).
func (h *userHandler) Create(r *http.Request, attrs elscim.ResourceAttributes) (elscim.Resource, error) {
	v, err := h.prov.CreateUser(r.Context(), actor(r), provisionFrom(attrs))
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, "", err)
	}
	if err := h.endSessions(r, v); err != nil {
		return elscim.Resource{}, err
	}
	return h.resource(v), nil
}

// Get answers one person (GET /Users/{id}).
func (h *userHandler) Get(r *http.Request, id string) (elscim.Resource, error) {
	n, err := parseID(id)
	if err != nil {
		return elscim.Resource{}, err
	}
	v, err := h.prov.User(r.Context(), n)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	return h.resource(v), nil
}

// GetAll lists people (GET /Users), with the filters providers send (userName eq,
// externalId eq) answered by the database and any other filter checked one by one.
func (h *userHandler) GetAll(r *http.Request, params elscim.ListRequestParams) (elscim.Page, error) {
	f, simple := simpleFilter(params.FilterValidator, "userName")
	if simple {
		views, total, err := h.prov.Users(r.Context(), f, params.StartIndex-1, params.Count)
		if err != nil {
			return elscim.Page{}, domainError(h.log, r, "", err)
		}
		page := elscim.Page{TotalResults: int(total), Resources: []elscim.Resource{}}
		for i := range views {
			page.Resources = append(page.Resources, h.resource(&views[i]))
		}
		return page, nil
	}
	views, _, err := h.prov.Users(r.Context(), community.ProvisionedFilter{}, 0, -1)
	if err != nil {
		return elscim.Page{}, domainError(h.log, r, "", err)
	}
	all := make([]elscim.Resource, 0, len(views))
	for i := range views {
		all = append(all, h.resource(&views[i]))
	}
	return filterPage(params, all), nil
}

// Replace sets everything about a person (PUT /Users/{id}); active false deactivates.
func (h *userHandler) Replace(r *http.Request, id string, attrs elscim.ResourceAttributes) (elscim.Resource, error) {
	n, err := parseID(id)
	if err != nil {
		return elscim.Resource{}, err
	}
	v, err := h.prov.ReplaceUser(r.Context(), actor(r), n, provisionFrom(attrs))
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	if err := h.endSessions(r, v); err != nil {
		return elscim.Resource{}, err
	}
	return h.resource(v), nil
}

// Patch changes part of a person (PATCH /Users/{id}): the operations apply to what is
// stored, and the result replaces it, so a PATCH is checked as a PUT is.
func (h *userHandler) Patch(r *http.Request, id string, ops []elscim.PatchOperation) (elscim.Resource, error) {
	n, err := parseID(id)
	if err != nil {
		return elscim.Resource{}, err
	}
	cur, err := h.prov.User(r.Context(), n)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	in := provisionOf(cur)
	for _, op := range ops {
		if err := patchUser(&in, op); err != nil {
			return elscim.Resource{}, err
		}
	}
	v, err := h.prov.ReplaceUser(r.Context(), actor(r), n, in)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	if err := h.endSessions(r, v); err != nil {
		return elscim.Resource{}, err
	}
	return h.resource(v), nil
}

// Delete removes a person (DELETE /Users/{id}): the account is suspended and kept,
// or deleted when scim.delete_accounts says so; its sessions end either way.
func (h *userHandler) Delete(r *http.Request, id string) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	if _, err := h.prov.User(r.Context(), n); err != nil {
		return domainError(h.log, r, id, err)
	}
	// Before the account goes: revocation is what ends its open streams at once.
	if _, err := h.auth.RevokeAccountTokens(r.Context(), n); err != nil {
		return domainError(h.log, r, id, err)
	}
	if _, err := h.prov.DeleteUser(r.Context(), actor(r), n); err != nil {
		return domainError(h.log, r, id, err)
	}
	return nil
}

// endSessions revokes every token of a person the provider deactivated, before the
// answer goes back: the provider's "disabled" then holds for every app at once.
func (h *userHandler) endSessions(r *http.Request, v *community.ProvisionedAccount) error {
	if v.Active {
		return nil
	}
	if _, err := h.auth.RevokeAccountTokens(r.Context(), v.AccountID); err != nil {
		return domainError(h.log, r, "", err)
	}
	return nil
}

// resource is a provisioned person in SCIM's User shape.
func (h *userHandler) resource(v *community.ProvisionedAccount) elscim.Resource {
	attrs := elscim.ResourceAttributes{
		"userName": v.UserName,
		"active":   v.Active,
	}
	name := map[string]any{}
	for k, s := range map[string]string{"givenName": v.GivenName, "familyName": v.FamilyName, "formatted": v.FormattedName} {
		if s != "" {
			name[k] = s
		}
	}
	if len(name) > 0 {
		attrs["name"] = name
	}
	if v.DisplayName != "" {
		attrs["displayName"] = v.DisplayName
	}
	if v.Email != "" {
		email := map[string]any{"value": v.Email, "primary": true}
		if v.EmailType != "" {
			email["type"] = v.EmailType
		}
		attrs["emails"] = []any{email}
	}
	if len(v.Groups) > 0 {
		groups := make([]any, 0, len(v.Groups))
		for _, g := range v.Groups {
			id := community.FormatID(g.ID)
			groups = append(groups, map[string]any{"value": id, "display": g.DisplayName, "$ref": h.base + "/Groups/" + id})
		}
		attrs["groups"] = groups
	}
	created, modified := v.CreatedAt, v.UpdatedAt
	res := elscim.Resource{
		ID:         community.FormatID(v.AccountID),
		Attributes: attrs,
		Meta:       elscim.Meta{Created: &created, LastModified: &modified},
	}
	if v.ExternalID != "" {
		res.ExternalID = optional.NewString(v.ExternalID)
	}
	return res
}

// provisionOf is what is stored of a person, as the starting point of a PATCH.
func provisionOf(v *community.ProvisionedAccount) community.UserProvision {
	return community.UserProvision{
		UserName: v.UserName, ExternalID: v.ExternalID,
		GivenName: v.GivenName, FamilyName: v.FamilyName, FormattedName: v.FormattedName, DisplayName: v.DisplayName,
		Email: v.Email, EmailType: v.EmailType, Active: v.Active,
	}
}

// provisionFrom reads a whole User the library has checked against the schema (its
// keys are the schema's names). Attributes Tacit has no use for (phone numbers,
// addresses, the enterprise extension…) are accepted and not stored. A User that
// does not say whether it is active is active.
func provisionFrom(attrs elscim.ResourceAttributes) community.UserProvision {
	in := community.UserProvision{Active: true}
	in.UserName, _ = attrs["userName"].(string)
	in.ExternalID, _ = attrs["externalId"].(string)
	in.DisplayName, _ = attrs["displayName"].(string)
	if name, ok := attrs["name"].(map[string]any); ok {
		setName(&in, "", name)
	}
	if active, ok := attrs["active"].(bool); ok {
		in.Active = active
	}
	if emails, ok := attrs["emails"].([]any); ok {
		in.Email, in.EmailType = chooseEmail(emails)
	}
	return in
}

// setName sets one part of the name (sub), or every part given in value (sub "").
func setName(in *community.UserProvision, sub string, value any) {
	if sub == "" {
		parts, _ := value.(map[string]any)
		for k, v := range parts {
			setName(in, k, v)
		}
		return
	}
	s, _ := value.(string)
	switch strings.ToLower(sub) {
	case "givenname":
		in.GivenName = s
	case "familyname":
		in.FamilyName = s
	case "formatted":
		in.FormattedName = s
	}
}

// chooseEmail picks the login's address among a User's: the primary one, else the
// work one, else the first.
func chooseEmail(emails []any) (value, typ string) {
	best := -1
	rank := func(e map[string]any) int {
		if p, _ := e["primary"].(bool); p {
			return 2
		}
		if t, _ := e["type"].(string); strings.EqualFold(t, "work") {
			return 1
		}
		return 0
	}
	for _, raw := range emails {
		e, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		v, _ := e["value"].(string)
		if v == "" {
			continue
		}
		if r := rank(e); r > best {
			best = r
			value, _ = e["value"].(string)
			typ, _ = e["type"].(string)
		}
	}
	return value, typ
}

// errNoTarget answers a PATCH whose path names nothing Tacit keeps that can change.
func errNoTarget(path string) error {
	return scimerrors.ScimError{ScimType: scimerrors.ScimTypeNoTarget, Status: http.StatusBadRequest,
		Detail: "The path " + path + " cannot be changed here"}
}
