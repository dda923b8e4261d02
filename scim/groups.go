package scim

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"

	elscim "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	parser "github.com/scim2/filter-parser/v2"

	"github.com/tacit-social/tacit/community"
)

// groupHandler serves /Groups. Every group the provider pushes is stored, so that it
// finds what it sent; only those role_groups names give their members a role.
type groupHandler struct {
	prov *community.Provisioning
	base string
	log  *slog.Logger
}

// Create stores a group (POST /Groups).
func (h *groupHandler) Create(r *http.Request, attrs elscim.ResourceAttributes) (elscim.Resource, error) {
	in, err := groupFrom(attrs)
	if err != nil {
		return elscim.Resource{}, err
	}
	v, err := h.prov.CreateGroup(r.Context(), actor(r), in)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, "", err)
	}
	return h.resource(v, true), nil
}

// Get answers one group (GET /Groups/{id}).
func (h *groupHandler) Get(r *http.Request, id string) (elscim.Resource, error) {
	n, err := parseID(id)
	if err != nil {
		return elscim.Resource{}, err
	}
	v, err := h.prov.Group(r.Context(), n)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	return h.resource(v, withMembers(r)), nil
}

// withMembers reports whether the answer lists groups' members: Entra ID leaves them
// out (excludedAttributes=members) when it only checks that a group exists, which
// spares reading and sending thousands of them.
func withMembers(r *http.Request) bool {
	for _, a := range strings.Split(r.URL.Query().Get("excludedAttributes"), ",") {
		if strings.EqualFold(strings.TrimSpace(a), "members") {
			return false
		}
	}
	return true
}

// GetAll lists groups (GET /Groups), filtered as users are (displayName eq…).
func (h *groupHandler) GetAll(r *http.Request, params elscim.ListRequestParams) (elscim.Page, error) {
	f, simple := simpleFilter(params.FilterValidator, "displayName")
	offset, limit := params.StartIndex-1, params.Count
	if !simple {
		f, offset, limit = community.ProvisionedFilter{}, 0, -1
	}
	views, total, err := h.prov.Groups(r.Context(), f, offset, limit)
	if err != nil {
		return elscim.Page{}, domainError(h.log, r, "", err)
	}
	all := make([]elscim.Resource, 0, len(views))
	for i := range views {
		all = append(all, h.resource(&views[i], withMembers(r)))
	}
	if !simple {
		return filterPage(params, all), nil
	}
	return elscim.Page{TotalResults: int(total), Resources: all}, nil
}

// Replace sets a group's name and members (PUT /Groups/{id}).
func (h *groupHandler) Replace(r *http.Request, id string, attrs elscim.ResourceAttributes) (elscim.Resource, error) {
	n, err := parseID(id)
	if err != nil {
		return elscim.Resource{}, err
	}
	in, err := groupFrom(attrs)
	if err != nil {
		return elscim.Resource{}, err
	}
	v, err := h.prov.ReplaceGroup(r.Context(), actor(r), n, in)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	return h.resource(v, true), nil
}

// Patch renames a group or changes its members (PATCH /Groups/{id}).
func (h *groupHandler) Patch(r *http.Request, id string, ops []elscim.PatchOperation) (elscim.Resource, error) {
	n, err := parseID(id)
	if err != nil {
		return elscim.Resource{}, err
	}
	cur, err := h.prov.Group(r.Context(), n)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	in := community.GroupProvision{DisplayName: cur.DisplayName, ExternalID: cur.ExternalID}
	for _, m := range cur.Members {
		in.Members = append(in.Members, m.ID)
	}
	for _, op := range ops {
		if err := patchGroup(&in, op); err != nil {
			return elscim.Resource{}, err
		}
	}
	v, err := h.prov.ReplaceGroup(r.Context(), actor(r), n, in)
	if err != nil {
		return elscim.Resource{}, domainError(h.log, r, id, err)
	}
	return h.resource(v, true), nil
}

// Delete removes a group (DELETE /Groups/{id}); its members lose the role it gave.
func (h *groupHandler) Delete(r *http.Request, id string) error {
	n, err := parseID(id)
	if err != nil {
		return err
	}
	if err := h.prov.DeleteGroup(r.Context(), actor(r), n); err != nil {
		return domainError(h.log, r, id, err)
	}
	return nil
}

// resource is a group in SCIM's Group shape.
func (h *groupHandler) resource(v *community.ProvisionedGroupView, withMembers bool) elscim.Resource {
	members := make([]any, 0, len(v.Members))
	for _, a := range v.Members {
		id := community.FormatID(a.ID)
		display := a.DisplayName
		if display == "" {
			display = a.Username
		}
		members = append(members, map[string]any{"value": id, "display": display, "$ref": h.base + "/Users/" + id})
	}
	created, modified := v.CreatedAt, v.UpdatedAt
	res := elscim.Resource{
		ID:         community.FormatID(v.ID),
		Attributes: elscim.ResourceAttributes{"displayName": v.DisplayName},
		Meta:       elscim.Meta{Created: &created, LastModified: &modified},
	}
	if withMembers {
		res.Attributes["members"] = members
	}
	if v.ExternalID != "" {
		res.ExternalID = optional.NewString(v.ExternalID)
	}
	return res
}

// groupFrom reads a whole Group the library has checked.
func groupFrom(attrs elscim.ResourceAttributes) (community.GroupProvision, error) {
	var in community.GroupProvision
	in.DisplayName, _ = attrs["displayName"].(string)
	in.ExternalID, _ = attrs["externalId"].(string)
	if list, ok := attrs["members"].([]any); ok {
		ids, err := memberIDs(list)
		if err != nil {
			return in, err
		}
		in.Members = ids
	}
	return in, nil
}

// memberIDs reads members ([{"value": "<user id>"}…]); an id that names no user is
// invalid.
func memberIDs(list []any) ([]int64, error) {
	var ids []int64
	for _, raw := range list {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, scimerrors.ScimErrorInvalidValue
		}
		v, _ := m["value"].(string)
		id, valid := community.ParseID(v)
		if !valid {
			return nil, scimerrors.ScimError{ScimType: scimerrors.ScimTypeInvalidValue, Status: http.StatusBadRequest,
				Detail: "Member " + v + " is not a user of this service"}
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// patchGroup applies one operation to a group.
func patchGroup(in *community.GroupProvision, op elscim.PatchOperation) error {
	if op.Path == nil {
		values, ok := op.Value.(map[string]any)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		for raw, v := range values {
			path, err := parser.ParsePath([]byte(strings.TrimPrefix(raw, schema.GroupSchema+":")))
			if err != nil {
				return scimerrors.ScimErrorInvalidPath
			}
			if err := patchGroupPath(in, op.Op, path, v); err != nil {
				return err
			}
		}
		return nil
	}
	return patchGroupPath(in, op.Op, *op.Path, op.Value)
}

// patchGroupPath applies an add, replace or remove of one path to a group: its name,
// external id, or members (all of them, those listed in value, or the one a filter
// such as members[value eq "…"] names, the shape Okta and Entra ID send).
func patchGroupPath(in *community.GroupProvision, op string, path parser.Path, value any) error {
	str, _ := value.(string)
	switch strings.ToLower(path.AttributePath.AttributeName) {
	case "displayname":
		if op == elscim.PatchOperationRemove {
			return scimerrors.ScimError{ScimType: scimerrors.ScimTypeMutability, Status: http.StatusBadRequest,
				Detail: "displayName is required"}
		}
		in.DisplayName = str
		return nil
	case "externalid":
		in.ExternalID = str
		return nil
	case "members":
	default:
		return nil // nothing else is kept
	}
	var listed []int64
	if path.ValueExpression != nil {
		id, ok := memberFilter(path.ValueExpression)
		if !ok {
			return scimerrors.ScimErrorInvalidFilter
		}
		listed = []int64{id}
	} else if list, ok := value.([]any); ok {
		ids, err := memberIDs(list)
		if err != nil {
			return err
		}
		listed = ids
	} else if m, ok := value.(map[string]any); ok {
		ids, err := memberIDs([]any{m})
		if err != nil {
			return err
		}
		listed = ids
	}
	switch op {
	case elscim.PatchOperationAdd:
		for _, id := range listed {
			if !slices.Contains(in.Members, id) {
				in.Members = append(in.Members, id)
			}
		}
	case elscim.PatchOperationReplace:
		in.Members = listed
	case elscim.PatchOperationRemove:
		if path.ValueExpression == nil && value == nil {
			in.Members = nil // every member
			return nil
		}
		in.Members = slices.DeleteFunc(in.Members, func(id int64) bool { return slices.Contains(listed, id) })
	}
	return nil
}

// memberFilter reads value eq "<user id>", the filter that names one member.
func memberFilter(e parser.Expression) (int64, bool) {
	a, ok := e.(*parser.AttributeExpression)
	if !ok || a.Operator != parser.EQ || !strings.EqualFold(a.AttributePath.AttributeName, "value") {
		return 0, false
	}
	s, _ := a.CompareValue.(string)
	id, valid := community.ParseID(s)
	if !valid {
		id = -1 // a member no one is: removing it changes nothing
	}
	return id, true
}
