package auth

import "errors"

// OAuthError is a refusal at the token or revocation endpoint, named with the error
// codes of RFC 6749 section 5.2 so that every OAuth client library understands it.
type OAuthError struct {
	// Code is the RFC 6749 error code, e.g. "invalid_grant".
	Code string
	// Description is a sentence for the developer of the client.
	Description string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// The OAuth errors the service returns. Callers compare with errors.Is; the web layer
// turns them into {"error", "error_description"} bodies.
var (
	ErrInvalidClient = &OAuthError{"invalid_client",
		"Client authentication failed: the client is unknown, sent no credentials, or sent a wrong secret."}
	ErrInvalidGrant = &OAuthError{"invalid_grant",
		"The authorization grant is invalid, expired, already used or revoked, does not match the redirect URI or the PKCE verifier, or was issued to another client."}
	ErrInvalidScope = &OAuthError{"invalid_scope",
		"The requested scope is unknown, malformed, or exceeds the scopes the application registered or was granted."}
	ErrUnsupportedGrantType = &OAuthError{"unsupported_grant_type",
		"The grant type is not supported; use authorization_code, password, client_credentials or refresh_token."}
	ErrUnauthorizedClient = &OAuthError{"unauthorized_client",
		"You are not authorized to revoke this token."}
)

// InvalidRequest is an RFC 6749 invalid_request error with a specific description.
func InvalidRequest(description string) *OAuthError {
	return &OAuthError{Code: "invalid_request", Description: description}
}

// AsOAuthError returns the OAuth error in err's chain, if any.
func AsOAuthError(err error) (*OAuthError, bool) {
	var oe *OAuthError
	ok := errors.As(err, &oe)
	return oe, ok
}
