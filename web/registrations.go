package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Sign-up through the API (Mastodon's POST /api/v1/accounts) and the moderators'
// approval of the accounts that wait for it. Who may sign up is the domain's decision
// (community.Service.Register, within the instance's registration settings).

// fieldProblem is one entry of Mastodon's validation details.
type fieldProblem struct {
	Error       string `json:"error"`
	Description string `json:"description"`
}

// validationError is Mastodon's answer to a registration with bad fields (HTTP 422).
type validationError struct {
	Error   string                    `json:"error"`
	Details map[string][]fieldProblem `json:"details"`
}

// register is POST /api/v1/accounts: an app's token (client credentials) signs a
// person up and receives a token of the new account with the app token's scopes. An
// account that waits for approval gets its token too, as in Mastodon; the token works
// once a moderator approves the account.
func (s *Server) register(c *gin.Context) {
	if !s.limits.allowCredentials(c) {
		tooManyRequests(c)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	agreement, _, err := p.Bool("agreement")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	reg, err := s.community.Register(ctx, community.Registration{
		Username: p.Get("username"), Email: p.Get("email"), Password: p.Get("password"),
		Agreement: agreement, Locale: p.Get("locale"), Reason: p.Get("reason"), InviteCode: p.Get("invite_code"),
	})
	var re *community.RegistrationError
	if errors.As(err, &re) {
		out := validationError{Error: re.Error(), Details: map[string][]fieldProblem{}}
		for _, f := range re.Fields {
			out.Details[f.Field] = append(out.Details[f.Field], fieldProblem{Error: f.Code, Description: f.Description})
		}
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, out)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	app := currentToken(c)
	var scopes []string
	// The administration API is never a new account's: staff are made by admins.
	for _, sc := range app.ScopeList() {
		if sc != "admin" && !strings.HasPrefix(sc, "admin:") {
			scopes = append(scopes, sc)
		}
	}
	tok, err := s.auth.IssueToken(ctx, app.ApplicationID, reg.User.ID, reg.Account.ID, scopes, false)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(ctx, "account registered", "request_id", requestID(c), "account_id", reg.Account.ID,
		"application_id", app.ApplicationID, "pending", reg.Pending, "invited", reg.User.InviteID != nil)
	c.JSON(http.StatusOK, tokenJSON{
		AccessToken: tok.AccessToken,
		TokenType:   "Bearer",
		Scope:       tok.Token.Scopes,
		CreatedAt:   tok.Token.CreatedAt.Unix(),
	})
}

// adminApprove is POST /api/v1/admin/accounts/:id/approve and …/reject: Mastodon
// answers the Admin::Account of the account (rejected: as it was before deletion).
func (s *Server) adminApprove(approve bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := pathID(c, "id")
		if err != nil {
			s.fail(c, err)
			return
		}
		ctx := c.Request.Context()
		before, err := s.community.AdminAccount(ctx, currentAccount(c), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !approve {
			if err := s.community.RejectAccount(ctx, currentAccount(c), id); err != nil {
				s.fail(c, err)
				return
			}
			c.JSON(http.StatusOK, s.adminAccountEntity(before))
			return
		}
		if err := s.community.ApproveAccount(ctx, currentAccount(c), id); err != nil {
			s.fail(c, err)
			return
		}
		after, err := s.community.AdminAccount(ctx, currentAccount(c), id)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.JSON(http.StatusOK, s.adminAccountEntity(after))
	}
}
