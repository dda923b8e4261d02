package scim

import (
	"net/http"
	"strings"

	elscim "github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/schema"
	parser "github.com/scim2/filter-parser/v2"

	"github.com/tacit-social/tacit/community"
)

// PATCH (RFC 7644 section 3.5.2) as providers send it. The library has parsed and
// checked each operation against the schema: op is lowercase whatever the provider
// sent ("Replace" from Entra ID), booleans sent as strings are booleans, and a
// path-less operation's value is a map from paths ("active", "name.givenName",
// `emails[type eq "work"].value`) to checked values. Here each operation is applied
// to the stored state; the result is then stored as a whole.

// patchUser applies one operation to a person.
func patchUser(in *community.UserProvision, op elscim.PatchOperation) error {
	if op.Path == nil {
		values, ok := op.Value.(map[string]any)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		for raw, v := range values {
			if strings.HasPrefix(raw, "urn:") && !strings.HasPrefix(raw, schema.UserSchema+":") {
				continue // an extension's attributes, which Tacit does not keep
			}
			path, err := parser.ParsePath([]byte(strings.TrimPrefix(raw, schema.UserSchema+":")))
			if err != nil {
				return scimerrors.ScimErrorInvalidPath
			}
			if err := patchUserPath(in, op.Op, path, v); err != nil {
				return err
			}
		}
		return nil
	}
	return patchUserPath(in, op.Op, *op.Path, op.Value)
}

// patchUserPath applies an add, replace or remove of one path to a person.
func patchUserPath(in *community.UserProvision, op string, path parser.Path, value any) error {
	if uri := path.AttributePath.URI(); uri != "" && uri != schema.UserSchema {
		return nil // an extension's attribute
	}
	remove := op == elscim.PatchOperationRemove
	str, _ := value.(string)
	sub := path.AttributePath.SubAttributeName()
	if sub == "" {
		sub = path.SubAttributeName()
	}
	switch strings.ToLower(path.AttributePath.AttributeName) {
	case "username":
		if remove || str == "" {
			return scimerrors.ScimError{ScimType: scimerrors.ScimTypeMutability, Status: http.StatusBadRequest,
				Detail: "userName is required"}
		}
		in.UserName = str
	case "externalid":
		in.ExternalID = str
	case "displayname":
		in.DisplayName = str
	case "active":
		if remove {
			return nil
		}
		b, ok := value.(bool)
		if !ok {
			return scimerrors.ScimErrorInvalidValue
		}
		in.Active = b
	case "name":
		if remove && sub == "" {
			in.GivenName, in.FamilyName, in.FormattedName = "", "", ""
			return nil
		}
		if remove {
			value = ""
		}
		setName(in, sub, value)
	case "emails":
		return patchEmail(in, op, path, sub, value)
	case "groups":
		// Membership is the group's to change (PATCH /Groups), as RFC 7643 makes
		// groups read-only on a User.
		return scimerrors.ScimErrorMutability
	}
	// Other attributes (title, phone numbers, addresses…) are not kept: accepted and
	// left alone, as on creation.
	return nil
}

// patchEmail changes the login's address: the emails list as a whole, or the entry
// a filter names (emails[type eq "work"].value, the shape Entra ID sends).
func patchEmail(in *community.UserProvision, op string, path parser.Path, sub string, value any) error {
	if path.ValueExpression != nil {
		typ, ok := emailTypeFilter(path.ValueExpression)
		if !ok {
			return scimerrors.ScimErrorInvalidFilter
		}
		matches := typ == "" || strings.EqualFold(typ, in.EmailType) || in.EmailType == ""
		switch {
		case op == elscim.PatchOperationRemove:
			if matches {
				in.Email, in.EmailType = "", ""
			}
		case sub == "" || strings.EqualFold(sub, "value"):
			v, _ := value.(string)
			if m, ok := value.(map[string]any); ok {
				v, _ = m["value"].(string)
			}
			in.Email = v
			if typ != "" {
				in.EmailType = typ
			}
		}
		return nil
	}
	if op == elscim.PatchOperationRemove {
		in.Email, in.EmailType = "", ""
		return nil
	}
	list, ok := value.([]any)
	if !ok {
		return scimerrors.ScimErrorInvalidValue
	}
	if v, typ := chooseEmail(list); v != "" {
		in.Email, in.EmailType = v, typ
	}
	return nil
}

// emailTypeFilter reads the filters providers put on emails: type eq "work", or
// primary eq true (which matches the one address kept: typ "").
func emailTypeFilter(e parser.Expression) (typ string, ok bool) {
	a, isAttr := e.(*parser.AttributeExpression)
	if !isAttr || a.Operator != parser.EQ {
		return "", false
	}
	switch strings.ToLower(a.AttributePath.AttributeName) {
	case "type":
		s, isString := a.CompareValue.(string)
		return s, isString
	case "primary":
		b, isBool := a.CompareValue.(bool)
		return "", isBool && b
	}
	return "", false
}

// simpleFilter reads the filters providers send before they create or update
// (attribute eq "value", on the resource's name attribute, externalId or id) as a
// domain filter that the database answers; ok is false for any other filter.
func simpleFilter(v *filter.Validator, nameAttr string) (f community.ProvisionedFilter, ok bool) {
	if v == nil {
		return f, true
	}
	a, isAttr := v.GetFilter().(*parser.AttributeExpression)
	if !isAttr || a.Operator != parser.EQ || a.AttributePath.SubAttribute != nil {
		return f, false
	}
	value, isString := a.CompareValue.(string)
	if !isString || value == "" {
		return f, false
	}
	switch name := a.AttributePath.AttributeName; {
	case strings.EqualFold(name, nameAttr):
		f.Name = value
	case strings.EqualFold(name, "externalId"):
		f.ExternalID = value
	case strings.EqualFold(name, "id"):
		id, valid := community.ParseID(value)
		if !valid {
			id = -1 // names nothing
		}
		f.ID = id
	default:
		return f, false
	}
	return f, true
}

// filterPage applies any filter the library checked to every resource, and cuts the
// page the request asked for.
func filterPage(params elscim.ListRequestParams, all []elscim.Resource) elscim.Page {
	page := elscim.Page{Resources: []elscim.Resource{}}
	for _, res := range all {
		if params.FilterValidator != nil {
			attrs := make(map[string]any, len(res.Attributes)+2)
			for k, v := range res.Attributes {
				attrs[k] = v
			}
			attrs["id"] = res.ID
			if res.ExternalID.Present() {
				attrs["externalId"] = res.ExternalID.Value()
			}
			if params.FilterValidator.PassesFilter(attrs) != nil {
				continue
			}
		}
		page.TotalResults++
		if page.TotalResults >= params.StartIndex && len(page.Resources) < params.Count {
			page.Resources = append(page.Resources, res)
		}
	}
	return page
}
