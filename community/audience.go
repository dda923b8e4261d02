package community

import "regexp"

// ValidateVisibility checks a visibility name.
func ValidateVisibility(v Visibility) error {
	switch v {
	case VisibilityPublic, VisibilityUnlisted, VisibilityPrivate, VisibilityDirect:
		return nil
	}
	return Invalid("Visibility %q is not one of public, unlisted, private, direct", v)
}

// ValidateScope checks a scope name.
func ValidateScope(sc Scope) error {
	switch sc {
	case ScopeWorld, ScopeCompany, ScopeDepartment:
		return nil
	}
	return Invalid("Scope %q is not one of world, company, department", sc)
}

var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)

func validateLanguage(l string) error {
	if l == "" || languagePattern.MatchString(l) {
		return nil
	}
	return Invalid("Language %q is not an ISO 639 code", l)
}

// AudienceRequest is what an author (through their client) asked for. Empty fields
// fall back to the author's defaults, then the instance's.
type AudienceRequest struct {
	Visibility Visibility
	Scope      Scope
	// LocalOnly is glitch-soc/Hometown's flag; true means department scope.
	LocalOnly bool
}

// resolveAudience turns a request into the post's visibility and scope, narrowed to
// the parent's audience for a reply.
func (s *Service) resolveAudience(req AudienceRequest, user *User, parent *Status) (Visibility, Scope, error) {
	vis := req.Visibility
	if vis == "" && user != nil {
		vis = user.DefaultVisibility
	}
	if vis == "" {
		vis = VisibilityPublic
	}
	if err := ValidateVisibility(vis); err != nil {
		return "", "", err
	}
	sc := req.Scope
	if sc != "" {
		if err := ValidateScope(sc); err != nil {
			return "", "", err
		}
	}
	if req.LocalOnly {
		if sc != "" && sc != ScopeDepartment {
			return "", "", Invalid("local_only contradicts scope %q", sc)
		}
		sc = ScopeDepartment
	}
	if sc == "" && user != nil {
		sc = user.DefaultScope
	}
	if sc == "" {
		sc = s.DefaultScope()
	}
	if parent != nil {
		sc = narrowerScope(sc, parent.Scope)
		vis = narrowerVisibility(vis, parent.Visibility)
	}
	return vis, sc, nil
}
