package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance"
)

// Password is the password CreateUsers gives every account.
const Password = "correct horse battery staple"

// CreateUsers creates n local accounts named <prefix>0 … <prefix>(n-1) on inst, each
// with a token (read, write, follow), as if each had logged in with an app. Accounts
// are created through the domain, not the API, so that sign-up rules and rate limits
// do not shape the run.
func CreateUsers(ctx context.Context, inst *instance.Instance, prefix string, n int) ([]User, error) {
	scopes := []string{"read", "write", "follow"}
	app, err := inst.Auth.CreateApplication(ctx, auth.NewApplication{
		Name: "load", RedirectURIs: []string{auth.OOBRedirect}, Scopes: scopes})
	if err != nil {
		return nil, fmt.Errorf("load: create app: %w", err)
	}
	users := make([]User, 0, n)
	for i := range n {
		name := prefix + strconv.Itoa(i)
		acct, user, err := inst.Community.CreateLocalAccount(ctx, community.NewLocalAccount{
			Username: name, Password: Password, Email: name + "@example.com"})
		if err != nil {
			return nil, fmt.Errorf("load: create user %s: %w", name, err)
		}
		tok, err := inst.Auth.IssueToken(ctx, app.ID, user.ID, acct.ID, scopes, false)
		if err != nil {
			return nil, fmt.Errorf("load: token for %s: %w", name, err)
		}
		users = append(users, User{AccountID: strconv.FormatInt(acct.ID, 10), Token: tok.AccessToken})
	}
	return users, nil
}

// FollowRing makes each user follow the next k users (wrapping around) through the
// API at baseURL, so that posts reach home timelines and favourites make
// notifications.
func FollowRing(ctx context.Context, baseURL string, users []User, k int) error {
	if err := checkLoopback(baseURL); err != nil {
		return err
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for i, u := range users {
		for j := 1; j <= k && j < len(users); j++ {
			target := users[(i+j)%len(users)]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost,
				baseURL+"/api/v1/accounts/"+target.AccountID+"/follow", nil)
			if err != nil {
				return fmt.Errorf("load: follow: %w", err)
			}
			req.Header.Set("Authorization", "Bearer "+u.Token)
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("load: follow: %w", err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("load: follow %s: HTTP %d %s", target.AccountID, resp.StatusCode, body)
			}
		}
	}
	return nil
}
