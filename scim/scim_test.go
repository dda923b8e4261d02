package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// provider is an identity provider talking SCIM to an instance with its token.
type provider struct {
	t     *testing.T
	inst  *instancetest.Instance
	token string
	vars  map[string]string
}

func newProvider(t *testing.T, inst *instancetest.Instance, name string) *provider {
	t.Helper()
	secret, _, err := inst.Auth.CreateSCIMToken(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return &provider{t: t, inst: inst, token: secret, vars: map[string]string{}}
}

// answer is a SCIM answer: its status and its JSON document.
type answer struct {
	status int
	doc    map[string]any
	raw    string
}

// fixture is a request body from testdata, with its {{placeholders}} filled in.
func (p *provider) fixture(name string) string {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		p.t.Fatal(err)
	}
	s := string(b)
	for k, v := range p.vars {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if strings.Contains(s, "{{") {
		p.t.Fatalf("fixture %s has an unfilled placeholder", name)
	}
	return s
}

// do sends a request with the provider's token.
func (p *provider) do(method, path, body string) answer {
	p.t.Helper()
	return send(p.t, p.inst, p.token, method, path, body)
}

func send(t *testing.T, inst *instancetest.Instance, token, method, path, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, inst.URL+"/scim/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, raw: string(raw)}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &a.doc); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, path, raw)
		}
	}
	return a
}

func (a answer) want(t *testing.T, what string, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, a.status, status, a.raw)
	}
	return a
}

func (a answer) str(key string) string {
	s, _ := a.doc[key].(string)
	return s
}

// wantError checks an RFC 7644 error document.
func (a answer) wantError(t *testing.T, what string, status int, scimType string) {
	t.Helper()
	a.want(t, what, status)
	schemas, _ := a.doc["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("%s: schemas %v", what, a.doc["schemas"])
	}
	if got := a.str("status"); got != strconv.Itoa(status) {
		t.Errorf("%s: status member %q, want the string %q", what, got, strconv.Itoa(status))
	}
	if got := a.str("scimType"); got != scimType {
		t.Errorf("%s: scimType %q, want %q", what, got, scimType)
	}
}

// filter is the query of a filtered list.
func filter(expr string) string { return "?filter=" + url.QueryEscape(expr) }

// person is what a test checks of a provisioned account, read through the domain.
type person struct {
	acct      *community.Account
	user      *community.User
	suspended bool
}

func lookPerson(t *testing.T, inst *instancetest.Instance, id string) person {
	t.Helper()
	ctx := context.Background()
	n, ok := community.ParseID(id)
	if !ok {
		t.Fatalf("id %q", id)
	}
	acct, err := inst.Community.Unchecked().AccountByID(ctx, n)
	if err != nil {
		t.Fatalf("account %s: %v", id, err)
	}
	user, err := inst.Community.UserByAccountID(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	suspended, err := inst.Community.IsSuspended(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	return person{acct: acct, user: user, suspended: suspended}
}

// signIn issues an access token for a provisioned account, as the company's sign-in
// would, and opens its user stream; the channel closes when the server ends it.
func signIn(t *testing.T, inst *instancetest.Instance, id string) (token string, streamEnded <-chan struct{}) {
	t.Helper()
	ctx := context.Background()
	p := lookPerson(t, inst, id)
	app, err := inst.Auth.CreateApplication(ctx, auth.NewApplication{Name: "app", RedirectURIs: []string{auth.OOBRedirect},
		Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := inst.Auth.IssueToken(ctx, app.ID, p.user.ID, p.acct.ID, []string{"read", "write"}, false)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(sctx, http.MethodGet, inst.URL+"/api/v1/streaming/user", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("open stream: %d", resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	return tok.AccessToken, ended
}

// streamEnded waits for the server to end a stream. Deprovisioning ends it before
// its answer returns; the wait only gives the client time to read the end, and fails
// the test if it never comes.
func streamEnded(t *testing.T, what string, ended <-chan struct{}) {
	t.Helper()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the stream is still open", what)
	}
}

func streamOpen(t *testing.T, what string, ended <-chan struct{}) {
	t.Helper()
	select {
	case <-ended:
		t.Fatalf("%s: the stream ended", what)
	default:
	}
}

// tokenWorks reports whether the Mastodon API accepts a token.
func tokenWorks(t *testing.T, inst *instancetest.Instance, token string) bool {
	t.Helper()
	_, err := inst.Client(token).GetAccountCurrentUser(context.Background())
	if err == nil {
		return true
	}
	var apiErr *mastodon.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		return false
	}
	t.Fatalf("verify credentials: %v", err)
	return false
}

// roleOf is the role of a provisioned account.
func roleOf(t *testing.T, inst *instancetest.Instance, id string) community.Role {
	t.Helper()
	return lookPerson(t, inst, id).user.Role
}

// groupIDs are the ids in a User's groups.
func groupIDs(a answer) []string {
	var out []string
	list, _ := a.doc["groups"].([]any)
	for _, g := range list {
		if m, ok := g.(map[string]any); ok {
			s, _ := m["value"].(string)
			out = append(out, s)
		}
	}
	return out
}

// firstEmail is the value of a User's first address.
func firstEmail(a answer) string {
	list, _ := a.doc["emails"].([]any)
	if len(list) == 0 {
		return ""
	}
	m, _ := list[0].(map[string]any)
	s, _ := m["value"].(string)
	return s
}

// moderationActors are the audit log's entries on an account, newest first, as
// "action by actor", read by admin.
func moderationActors(t *testing.T, inst *instancetest.Instance, admin, acct *community.Account) []string {
	t.Helper()
	entries, err := inst.Community.ModerationLog(context.Background(), admin, community.ModerationLogQuery{ObjectURI: acct.URI})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+" by "+e.ActorURI)
	}
	return out
}
