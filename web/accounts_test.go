package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/media"
	"github.com/tacit-social/tacit/store/storetest"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// accDo sends a request Call cannot build (a multipart upload).
func accDo(t *testing.T, inst *instancetest.Instance, req *http.Request) instancetest.Answer {
	t.Helper()
	resp, err := inst.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return instancetest.Answer{Code: resp.StatusCode, Header: resp.Header, Body: b}
}

// accAPIStatus is the HTTP status of a go-mastodon error, or 0.
func accAPIStatus(err error) int {
	if e, ok := err.(*mastodon.APIError); ok {
		return e.StatusCode
	}
	return 0
}

func accRelationship(t *testing.T, inst *instancetest.Instance, token string, id mastodon.ID) mastodon.Relationship {
	t.Helper()
	rels, err := inst.Client(token).GetAccountRelationships(context.Background(), []string{string(id)})
	if err != nil || len(rels) != 1 {
		t.Fatalf("relationships: %v (%d)", err, len(rels))
	}
	return *rels[0]
}

func accID(a *community.Account) mastodon.ID { return mastodon.ID(community.FormatID(a.ID)) }

// accCounts reloads an account's followers and following counters through the API.
func accCounts(t *testing.T, inst *instancetest.Instance, a *community.Account) (followers, following int64) {
	t.Helper()
	// Read as the account itself: in company mode, logged-out visitors see no profile.
	got, err := inst.Community.Unchecked().AccountByID(context.Background(), a.ID)
	if err != nil {
		t.Fatalf("get account %s: %v", a.Username, err)
	}
	return got.FollowersCount, got.FollowingCount
}

func TestProfileRoundTrip(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		cl := inst.Client(alice.Token)

		me, err := cl.GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatalf("verify_credentials: %v", err)
		}
		if me.Username != "alice" || me.Source == nil || me.Source.Privacy == nil || *me.Source.Privacy != "public" {
			t.Errorf("verify_credentials = %+v", me)
		}

		name, note, locked := "Alice Liddell", "Tea & <b>cake</b> with #Go", true
		fields := []mastodon.Field{{Name: "Team", Value: "Sales"}, {Name: "Site", Value: "https://example.com"}}
		updated, err := cl.AccountUpdate(ctx, &mastodon.Profile{DisplayName: &name, Note: &note, Locked: &locked, Fields: &fields})
		if err != nil {
			t.Fatalf("update_credentials: %v", err)
		}
		if updated.DisplayName != name || !updated.Locked {
			t.Errorf("updated = %q locked=%v", updated.DisplayName, updated.Locked)
		}
		if strings.Contains(updated.Note, "<b>") || !strings.Contains(updated.Note, "&lt;b&gt;cake&lt;/b&gt;") ||
			!strings.Contains(updated.Note, "&amp;") || !strings.Contains(updated.Note, `class="mention hashtag"`) {
			t.Errorf("note not rendered safely: %s", updated.Note)
		}
		if updated.Source == nil || updated.Source.Note == nil || *updated.Source.Note != note {
			t.Errorf("source.note = %+v, want the text as typed", updated.Source)
		}
		if len(updated.Fields) != 2 || updated.Fields[0].Name != "Team" || updated.Fields[0].Value != "Sales" ||
			!strings.Contains(updated.Fields[1].Value, `href="https://example.com"`) {
			t.Errorf("fields = %+v", updated.Fields)
		}
		if updated.Source.Fields == nil || (*updated.Source.Fields)[1].Value != "https://example.com" {
			t.Errorf("source.fields = %+v, want the values as typed", updated.Source.Fields)
		}

		// What others see. Logged out, nothing in company mode (the default): a stranger
		// must not learn who works here.
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		if _, err := inst.Client("").GetAccount(ctx, updated.ID); accAPIStatus(err) != http.StatusUnauthorized {
			t.Errorf("get account logged out in company mode: %v, want 401", err)
		}
		for _, tok := range []string{bob.Token} {
			got, err := inst.Client(tok).GetAccount(ctx, updated.ID)
			if err != nil {
				t.Fatalf("get account: %v", err)
			}
			if got.DisplayName != name || got.Note != updated.Note || len(got.Fields) != 2 || got.Source != nil {
				t.Errorf("public account = %+v", got)
			}
		}
		ans := inst.Call(t, "GET", "/api/v1/accounts/"+string(updated.ID), bob.Token, nil)
		if ans.Code != http.StatusOK {
			t.Fatalf("get account: %d", ans.Code)
		}
		if err := mastoschema.Validate("Account", ans.Body); err != nil {
			t.Error(err)
		}
		if strings.Contains(string(ans.Body), `"source"`) {
			t.Errorf("public account shows its source: %s", ans.Body)
		}
		if _, err := inst.Client("").AccountLookup(ctx, "alice"); accAPIStatus(err) != http.StatusUnauthorized {
			t.Errorf("lookup logged out in company mode: %v, want 401", err)
		}
		found, err := inst.Client(bob.Token).AccountLookup(ctx, "@alice@"+inst.Host())
		if err != nil || found.ID != updated.ID {
			t.Errorf("lookup = %v, %v", found, err)
		}
		found, err = inst.Client(bob.Token).AccountLookup(ctx, "ALICE")
		if err != nil || found.ID != updated.ID {
			t.Errorf("lookup ignoring case = %v, %v", found, err)
		}

		// Posting defaults, including Tacit's scope, through a JSON body.
		ans = inst.Call(t, "PATCH", "/api/v1/accounts/update_credentials", alice.Token, map[string]any{
			"source": map[string]any{"privacy": "private", "sensitive": true, "language": "fr", "scope": "department"},
			"bot":    true,
		})
		if ans.Code != http.StatusOK {
			t.Fatalf("update source: %d %s", ans.Code, ans.Body)
		}
		if err := mastoschema.Validate("CredentialAccount", ans.Body); err != nil {
			t.Error(err)
		}
		var cred struct {
			Bot    bool `json:"bot"`
			Source struct {
				Privacy   string `json:"privacy"`
				Sensitive bool   `json:"sensitive"`
				Language  string `json:"language"`
				Scope     string `json:"scope"`
				Note      string `json:"note"`
			} `json:"source"`
		}
		if err := json.Unmarshal(ans.Body, &cred); err != nil {
			t.Fatal(err)
		}
		if !cred.Bot || cred.Source.Privacy != "private" || !cred.Source.Sensitive || cred.Source.Language != "fr" ||
			cred.Source.Scope != "department" || cred.Source.Note != note {
			t.Errorf("after source update: %+v", cred)
		}
		// The same as form keys, as most clients send them.
		ans = inst.Call(t, "PATCH", "/api/v1/accounts/update_credentials", alice.Token, url.Values{"source[privacy]": {"unlisted"}, "source[scope]": {"world"}})
		if ans.Code != http.StatusOK || !strings.Contains(string(ans.Body), `"privacy":"unlisted"`) || !strings.Contains(string(ans.Body), `"scope":"world"`) {
			t.Errorf("form source update: %d %s", ans.Code, ans.Body)
		}
		// An image URL is refused: pictures are uploaded (see TestMediaProfileImageURLsRefused).
		ans = inst.Call(t, "PATCH", "/api/v1/accounts/update_credentials", alice.Token, url.Values{"avatar": {"https://cdn.example.com/alice.png"}})
		if ans.Code != http.StatusUnprocessableEntity || strings.Contains(string(ans.Body), "cdn.example.com") {
			t.Errorf("avatar URL: %d %s", ans.Code, ans.Body)
		}
	})
}

func TestProfileUpdateErrors(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	ctx := context.Background()
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	readOnly := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})
	profileOnly := inst.CreateUser(t, "profiler", instancetest.UserOptions{Scopes: []string{"profile"}})
	statusesOnly := inst.CreateUser(t, "poster", instancetest.UserOptions{Scopes: []string{"read:statuses"}})
	upd := "/api/v1/accounts/update_credentials"

	cases := []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"display name too long", url.Values{"display_name": {strings.Repeat("x", 31)}}, 422, "Display name"},
		{"note too long", url.Values{"note": {strings.Repeat("x", 501)}}, 422, "Note"},
		{"avatar not a URL", url.Values{"avatar": {"not a url"}}, 422, "Avatar"},
		{"header not http", url.Values{"header": {"javascript:alert(1)"}}, 422, "Header"},
		{"avatar as a data URI that is no picture", url.Values{"avatar": {"data:image/png;base64,iVBORw0KGgo="}}, 422, "could not be read"},
		{"avatar as a data URI that is not base64", url.Values{"avatar": {"data:image/png,abc"}}, 422, "base64"},
		{"bad boolean", url.Values{"locked": {"maybe"}}, 422, "locked"},
		{"bad privacy", url.Values{"source[privacy]": {"everyone"}}, 422, "Visibility"},
		{"bad scope", url.Values{"source[scope]": {"galaxy"}}, 422, "Scope"},
		{"too many fields", url.Values{
			"fields_attributes[0][name]": {"a"}, "fields_attributes[0][value]": {"1"},
			"fields_attributes[1][name]": {"b"}, "fields_attributes[1][value]": {"2"},
			"fields_attributes[2][name]": {"c"}, "fields_attributes[2][value]": {"3"},
			"fields_attributes[3][name]": {"d"}, "fields_attributes[3][value]": {"4"},
			"fields_attributes[4][name]": {"e"}, "fields_attributes[4][value]": {"5"},
		}, 422, "fields"},
	}
	for _, tc := range cases {
		ans := inst.Call(t, "PATCH", upd, alice.Token, tc.form)
		ans.WantError(t, tc.name, tc.status, tc.msg)
	}

	// go-mastodon sends avatars as base64 data URIs: one that is no picture is refused,
	// not dropped.
	_, err := inst.Client(alice.Token).AccountUpdate(ctx, &mastodon.Profile{Avatar: "data:image/png;base64,AAAA"})
	if accAPIStatus(err) != http.StatusUnprocessableEntity {
		t.Errorf("go-mastodon avatar upload: %v, want 422", err)
	}
	// A real client's multipart file upload.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("display_name", "With picture")
	fw, _ := mw.CreateFormFile("avatar", "me.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\nnot really"))
	_ = mw.Close()
	req, _ := http.NewRequest("PATCH", inst.URL+upd, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	ans := accDo(t, inst, req)
	ans.WantError(t, "multipart avatar that is no picture", 422, "could not be read")
	// A large file that is no picture is refused for what it is.
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	fw, _ = mw.CreateFormFile("header", "big.jpg")
	_, _ = fw.Write(bytes.Repeat([]byte{0xff}, 2<<20))
	_ = mw.Close()
	req, _ = http.NewRequest("PATCH", inst.URL+upd, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	ans = accDo(t, inst, req)
	ans.WantError(t, "large multipart header", 422, "not supported")
	// Larger than any picture may be: refused before it is read.
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	fw, _ = mw.CreateFormFile("header", "huge.jpg")
	_, _ = fw.Write(bytes.Repeat([]byte{0xff}, 3*media.MaxImageBytes+1))
	_ = mw.Close()
	req, _ = http.NewRequest("PATCH", inst.URL+upd, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	ans = accDo(t, inst, req)
	ans.WantError(t, "huge multipart header", 413, "too large")

	me, err := inst.Client(alice.Token).GetAccountCurrentUser(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.DisplayName != "" || me.Avatar == "" || strings.Contains(me.Avatar, "not a url") {
		t.Errorf("a refused update changed the profile: %+v", me)
	}

	// Authentication and scopes.
	ans = inst.Call(t, "GET", "/api/v1/accounts/verify_credentials", "", nil)
	ans.WantError(t, "verify_credentials logged out", 401, "")
	ans = inst.Call(t, "GET", "/api/v1/accounts/verify_credentials", "nonsense", nil)
	ans.WantError(t, "verify_credentials bad token", 401, "")
	ans = inst.Call(t, "GET", "/api/v1/accounts/verify_credentials", statusesOnly.Token, nil)
	ans.WantError(t, "verify_credentials without read:accounts", 403, "")
	if ans = inst.Call(t, "GET", "/api/v1/accounts/verify_credentials", profileOnly.Token, nil); ans.Code != 200 {
		t.Errorf("verify_credentials with profile scope: %d %s", ans.Code, ans.Body)
	}
	ans = inst.Call(t, "PATCH", upd, readOnly.Token, url.Values{"display_name": {"x"}})
	ans.WantError(t, "update with read-only token", 403, "")
	ans = inst.Call(t, "PATCH", upd, "", url.Values{"display_name": {"x"}})
	ans.WantError(t, "update logged out", 401, "")
	// A token is never ignored: one without read:accounts may not read an account either.
	ans = inst.Call(t, "GET", "/api/v1/accounts/"+community.FormatID(alice.Account.ID), statusesOnly.Token, nil)
	ans.WantError(t, "get account with wrong scope", 403, "")

	// Unknown accounts.
	for _, path := range []string{"/api/v1/accounts/12345", "/api/v1/accounts/nope", "/api/v1/accounts/lookup?acct=nobody",
		"/api/v1/accounts/lookup?acct=alice@elsewhere.example", "/api/v1/accounts/lookup", "/api/v1/accounts/12345/statuses",
		"/api/v1/accounts/12345/followers", "/api/v1/accounts/12345/following", "/api/v1/accounts/12345/featured_tags"} {
		ans := inst.Call(t, "GET", path, alice.Token, nil)
		ans.WantError(t, path, 404, "")
	}
}

// lockedFollow is what TestFollowLockedAccount's steps share: alice and carol, who
// ask to follow locked bob.
type lockedFollow struct {
	ctx               context.Context
	inst              *instancetest.Instance
	alice, bob, carol *instancetest.User
	ca, cb, cc        *mastodon.Client
}

func TestFollowLockedAccount(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{Locked: true})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		w := &lockedFollow{ctx: ctx, inst: inst, alice: alice, bob: bob, carol: carol,
			ca: inst.Client(alice.Token), cb: inst.Client(bob.Token), cc: inst.Client(carol.Token)}
		w.request(t)
		w.authorize(t)
		w.rejectAndWithdraw(t)
		w.unlocked(t)
		w.newFollowAndErrors(t)
	})
}

// request: alice asks to follow locked bob, once however often she asks.
func (w *lockedFollow) request(t *testing.T) {
	rel, err := w.ca.AccountFollow(w.ctx, accID(w.bob.Account))
	if err != nil {
		t.Fatalf("follow: %v", err)
	}
	if rel.Following || !rel.Requested || rel.ID != accID(w.bob.Account) {
		t.Errorf("follow a locked account: %+v, want requested", rel)
	}
	// Asking twice changes nothing.
	if _, err := w.ca.AccountFollow(w.ctx, accID(w.bob.Account)); err != nil {
		t.Fatal(err)
	}
	reqs, err := w.cb.GetFollowRequests(w.ctx, nil)
	if err != nil || len(reqs) != 1 || reqs[0].ID != accID(w.alice.Account) {
		t.Fatalf("follow requests = %v, %v", reqs, err)
	}
	ans := w.inst.Call(t, "GET", "/api/v1/accounts/verify_credentials", w.bob.Token, nil)
	if ans.Code != 200 || !strings.Contains(string(ans.Body), `"follow_requests_count":1`) {
		t.Errorf("follow_requests_count: %s", ans.Body)
	}
	var n int64
	w.inst.DB.Model(&community.Notification{}).Where("account_id = ? AND type = ?", w.bob.Account.ID, "follow_request").Count(&n)
	if n != 1 {
		t.Errorf("follow_request notifications = %d, want 1", n)
	}
	ans = w.inst.Call(t, "GET", "/api/v1/accounts/relationships?id[]="+community.FormatID(w.alice.Account.ID), w.bob.Token, nil)
	if ans.Code != 200 || !strings.Contains(string(ans.Body), `"requested_by":true`) {
		t.Errorf("requested_by: %s", ans.Body)
	}
	if f, g := accCounts(t, w.inst, w.bob.Account); f != 0 || g != 0 {
		t.Errorf("counters before approval: followers %d following %d", f, g)
	}
}

// Authorize: the request becomes a follow, counted on both sides.
func (w *lockedFollow) authorize(t *testing.T) {
	ans := w.inst.Call(t, "POST", "/api/v1/follow_requests/"+community.FormatID(w.alice.Account.ID)+"/authorize", w.bob.Token, nil)
	if ans.Code != 200 {
		t.Fatalf("authorize: %d %s", ans.Code, ans.Body)
	}
	var r struct {
		ID          string `json:"id"`
		FollowedBy  bool   `json:"followed_by"`
		RequestedBy bool   `json:"requested_by"`
	}
	_ = json.Unmarshal(ans.Body, &r)
	if r.ID != community.FormatID(w.alice.Account.ID) || !r.FollowedBy || r.RequestedBy {
		t.Errorf("authorize answered %s", ans.Body)
	}
	if rel := accRelationship(t, w.inst, w.alice.Token, accID(w.bob.Account)); !rel.Following || rel.Requested || !rel.ShowingReblogs {
		t.Errorf("after authorize alice sees %+v", rel)
	}
	if f, _ := accCounts(t, w.inst, w.bob.Account); f != 1 {
		t.Errorf("bob followers = %d, want 1", f)
	}
	if _, g := accCounts(t, w.inst, w.alice.Account); g != 1 {
		t.Errorf("alice following = %d, want 1", g)
	}
	if reqs, _ := w.cb.GetFollowRequests(w.ctx, nil); len(reqs) != 0 {
		t.Errorf("requests left after authorize: %d", len(reqs))
	}
	var n int64
	w.inst.DB.Model(&community.Notification{}).Where("account_id = ? AND type = ?", w.bob.Account.ID, "follow_request").Count(&n)
	if n != 0 {
		t.Errorf("the answered request's notification is still there")
	}
	w.inst.DB.Model(&community.Notification{}).Where("account_id = ?", w.alice.Account.ID).Count(&n)
	if n != 0 {
		t.Errorf("alice got %d notifications for the approval; Mastodon sends none", n)
	}
	if err := w.cb.FollowRequestAuthorize(w.ctx, accID(w.alice.Account)); accAPIStatus(err) != 404 {
		t.Errorf("authorize twice: %v, want 404", err)
	}
	followers, err := w.cc.GetAccountFollowers(w.ctx, accID(w.bob.Account), nil)
	if err != nil || len(followers) != 1 || followers[0].ID != accID(w.alice.Account) {
		t.Errorf("bob's followers = %v, %v", followers, err)
	}
}

// Reject: carol's request goes away and nothing is counted.
func (w *lockedFollow) rejectAndWithdraw(t *testing.T) {
	if _, err := w.cc.AccountFollow(w.ctx, accID(w.bob.Account)); err != nil {
		t.Fatal(err)
	}
	if err := w.cb.FollowRequestReject(w.ctx, accID(w.carol.Account)); err != nil {
		t.Fatalf("reject: %v", err)
	}
	if rel := accRelationship(t, w.inst, w.carol.Token, accID(w.bob.Account)); rel.Following || rel.Requested {
		t.Errorf("after reject carol sees %+v", rel)
	}
	if f, _ := accCounts(t, w.inst, w.bob.Account); f != 1 {
		t.Errorf("bob followers after reject = %d, want 1", f)
	}
	ans := w.inst.Call(t, "POST", "/api/v1/follow_requests/"+community.FormatID(w.carol.Account.ID)+"/reject", w.bob.Token, nil)
	ans.WantError(t, "reject twice", 404, "")
	// Withdrawing a request: unfollow cancels it.
	if _, err := w.cc.AccountFollow(w.ctx, accID(w.bob.Account)); err != nil {
		t.Fatal(err)
	}
	if rel, err := w.cc.AccountUnfollow(w.ctx, accID(w.bob.Account)); err != nil || rel.Requested {
		t.Errorf("withdraw request: %+v %v", rel, err)
	}
	if reqs, _ := w.cb.GetFollowRequests(w.ctx, nil); len(reqs) != 0 {
		t.Errorf("withdrawn request still listed")
	}
}

// An unlocked account is followed at once and notified with "follow".
func (w *lockedFollow) unlocked(t *testing.T) {
	rel, err := w.ca.AccountFollow(w.ctx, accID(w.carol.Account))
	if err != nil || !rel.Following || rel.Requested {
		t.Fatalf("follow unlocked: %+v %v", rel, err)
	}
	var n int64
	w.inst.DB.Model(&community.Notification{}).Where("account_id = ? AND type = ? AND from_account_id = ?",
		w.carol.Account.ID, "follow", w.alice.Account.ID).Count(&n)
	if n != 1 {
		t.Errorf("follow notifications = %d, want 1", n)
	}
	// Following again only changes the options; counters stay.
	ans := w.inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(w.carol.Account.ID)+"/follow", w.alice.Token, url.Values{"reblogs": {"false"}, "notify": {"true"}})
	if ans.Code != 200 || !strings.Contains(string(ans.Body), `"showing_reblogs":false`) || !strings.Contains(string(ans.Body), `"notifying":true`) {
		t.Errorf("follow options: %d %s", ans.Code, ans.Body)
	}
	if f, _ := accCounts(t, w.inst, w.carol.Account); f != 1 {
		t.Errorf("carol followers after re-follow = %d, want 1", f)
	}
	ans = w.inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(w.carol.Account.ID)+"/follow", w.alice.Token, map[string]any{"reblogs": true})
	if ans.Code != 200 || !strings.Contains(string(ans.Body), `"showing_reblogs":true`) || !strings.Contains(string(ans.Body), `"notifying":true`) {
		t.Errorf("follow options (JSON): %d %s", ans.Code, ans.Body)
	}
	rel, err = w.ca.AccountUnfollow(w.ctx, accID(w.carol.Account))
	if err != nil || rel.Following {
		t.Errorf("unfollow: %+v %v", rel, err)
	}
	if f, _ := accCounts(t, w.inst, w.carol.Account); f != 0 {
		t.Errorf("carol followers after unfollow = %d", f)
	}
	if _, g := accCounts(t, w.inst, w.alice.Account); g != 1 {
		t.Errorf("alice following after unfollowing carol = %d, want 1 (bob)", g)
	}
}

// A new follow keeps the options it was asked with.
func (w *lockedFollow) newFollowAndErrors(t *testing.T) {
	ans := w.inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(w.alice.Account.ID)+"/follow", w.carol.Token, url.Values{"reblogs": {"false"}})
	if ans.Code != 200 || !strings.Contains(string(ans.Body), `"following":true`) || !strings.Contains(string(ans.Body), `"showing_reblogs":false`) {
		t.Errorf("new follow without reblogs: %d %s", ans.Code, ans.Body)
	}

	// Errors.
	ans = w.inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(w.alice.Account.ID)+"/follow", w.alice.Token, nil)
	ans.WantError(t, "follow oneself", 422, "")
	ans = w.inst.Call(t, "POST", "/api/v1/accounts/999/follow", w.alice.Token, nil)
	ans.WantError(t, "follow unknown", 404, "")
	ans = w.inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(w.carol.Account.ID)+"/follow", "", nil)
	ans.WantError(t, "follow logged out", 401, "")
	ans = w.inst.Call(t, "POST", "/api/v1/follow_requests/999/authorize", w.bob.Token, nil)
	ans.WantError(t, "authorize unknown", 404, "")
}

func TestFollowScopes(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	target := inst.CreateUser(t, "target", instancetest.UserOptions{})
	legacy := inst.CreateUser(t, "legacy", instancetest.UserOptions{Scopes: []string{"read:accounts", "follow"}})
	reader := inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read", "write:statuses"}})
	id := community.FormatID(target.Account.ID)

	// The deprecated "follow" scope still grants follows, blocks and mutes.
	for _, action := range []string{"follow", "unfollow", "block", "unblock", "mute", "unmute"} {
		if ans := inst.Call(t, "POST", "/api/v1/accounts/"+id+"/"+action, legacy.Token, nil); ans.Code != 200 {
			t.Errorf("%s with follow scope: %d %s", action, ans.Code, ans.Body)
		}
		ans := inst.Call(t, "POST", "/api/v1/accounts/"+id+"/"+action, reader.Token, nil)
		ans.WantError(t, action+" without write scope", 403, "")
	}
	for _, path := range []string{"/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests", "/api/v1/accounts/relationships?id[]=" + id} {
		if ans := inst.Call(t, "GET", path, legacy.Token, nil); ans.Code != 200 {
			t.Errorf("%s with follow scope: %d %s", path, ans.Code, ans.Body)
		}
		ans := inst.Call(t, "GET", path, "", nil)
		ans.WantError(t, path+" logged out", 401, "")
	}
	noFollows := inst.CreateUser(t, "nofollows", instancetest.UserOptions{Scopes: []string{"read:statuses", "read:accounts"}})
	for _, path := range []string{"/api/v1/blocks", "/api/v1/mutes", "/api/v1/follow_requests", "/api/v1/accounts/relationships"} {
		ans := inst.Call(t, "GET", path, noFollows.Token, nil)
		ans.WantError(t, path+" without scope", 403, "")
	}
}

func TestBlock(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{Locked: true})
		ca, cb := inst.Client(alice.Token), inst.Client(bob.Token)

		if _, err := ca.AccountFollow(ctx, accID(bob.Account)); err != nil {
			t.Fatal(err)
		}
		if _, err := cb.AccountFollow(ctx, accID(alice.Account)); err != nil {
			t.Fatal(err)
		}
		// A pending request towards the blocker goes too.
		if _, err := cb.AccountFollow(ctx, accID(carol.Account)); err != nil {
			t.Fatal(err)
		}
		postID := inst.PostStatus(t, alice.Token, url.Values{"status": {"hello"}, "visibility": {"public"}, "scope": {"world"}}).ID

		rel, err := ca.AccountBlock(ctx, accID(bob.Account))
		if err != nil {
			t.Fatalf("block: %v", err)
		}
		if !rel.Blocking || rel.Following || rel.FollowedBy {
			t.Errorf("after block: %+v", rel)
		}
		for _, a := range []*community.Account{alice.Account, bob.Account} {
			if f, g := accCounts(t, inst, a); f != 0 || g != 0 {
				t.Errorf("%s counters after block: followers %d following %d", a.Username, f, g)
			}
		}
		ans := inst.Call(t, "GET", "/api/v1/accounts/relationships?id[]="+community.FormatID(alice.Account.ID), bob.Token, nil)
		if ans.Code != 200 || !strings.Contains(string(ans.Body), `"blocked_by":true`) || !strings.Contains(string(ans.Body), `"following":false`) ||
			!strings.Contains(string(ans.Body), `"blocking":false`) {
			t.Errorf("bob's view of alice: %s", ans.Body)
		}
		// Neither may follow the other now.
		if _, err := cb.AccountFollow(ctx, accID(alice.Account)); accAPIStatus(err) != http.StatusForbidden {
			t.Errorf("blocked user follows: %v, want 403", err)
		}
		if _, err := ca.AccountFollow(ctx, accID(bob.Account)); accAPIStatus(err) != http.StatusForbidden {
			t.Errorf("blocker follows: %v, want 403", err)
		}
		blocks, err := ca.GetBlocks(ctx, nil)
		if err != nil || len(blocks) != 1 || blocks[0].ID != accID(bob.Account) {
			t.Errorf("blocks = %v, %v", blocks, err)
		}
		// The blocked user sees nothing of the blocker's lists and posts.
		if st, err := cb.GetAccountStatuses(ctx, accID(alice.Account), nil); err != nil || len(st) != 0 {
			t.Errorf("blocked user reads %d statuses (%v)", len(st), err)
		}
		if st, err := inst.Client(carol.Token).GetAccountStatuses(ctx, accID(alice.Account), nil); err != nil || len(st) != 1 || string(st[0].ID) != postID {
			t.Errorf("a colleague reads %v (%v), want the public post", st, err)
		}
		if _, err := cb.AccountFollow(ctx, accID(carol.Account)); err != nil {
			t.Fatal(err)
		}
		cc := inst.Client(carol.Token)
		if _, err := cc.AccountBlock(ctx, accID(bob.Account)); err != nil {
			t.Fatal(err)
		}
		if reqs, _ := cc.GetFollowRequests(ctx, nil); len(reqs) != 0 {
			t.Errorf("carol still has %d requests from the user she blocked", len(reqs))
		}
		if _, err := cc.AccountFollow(ctx, accID(alice.Account)); err != nil {
			t.Fatal(err)
		}
		if got, err := ca.GetAccountFollowing(ctx, accID(carol.Account), nil); err != nil || len(got) != 1 {
			t.Errorf("carol's following seen by alice: %d (%v), want 1", len(got), err)
		}
		if got, err := cb.GetAccountFollowing(ctx, accID(carol.Account), nil); err != nil || len(got) != 0 {
			t.Errorf("carol's following seen by the user she blocked: %d (%v), want none", len(got), err)
		}
		if got, err := cb.GetAccountFollowers(ctx, accID(alice.Account), nil); err != nil || len(got) != 0 {
			t.Errorf("alice's followers seen by the user she blocked: %d (%v), want none", len(got), err)
		}
		if got, err := inst.Client(carol.Token).GetAccountFollowers(ctx, accID(alice.Account), nil); err != nil || len(got) != 1 {
			t.Errorf("alice's followers seen by carol: %d (%v), want 1", len(got), err)
		}
		ans = inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(alice.Account.ID)+"/block", alice.Token, nil)
		ans.WantError(t, "block oneself", 422, "")

		rel, err = ca.AccountUnblock(ctx, accID(bob.Account))
		if err != nil || rel.Blocking || rel.Following {
			t.Errorf("unblock: %+v %v (follows must not come back)", rel, err)
		}
		if blocks, _ := ca.GetBlocks(ctx, nil); len(blocks) != 0 {
			t.Errorf("blocks after unblock: %d", len(blocks))
		}
		if rel, err := cb.AccountFollow(ctx, accID(alice.Account)); err != nil || !rel.Following {
			t.Errorf("follow after unblock: %+v %v", rel, err)
		}
	})
}

func TestMute(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		ca := inst.Client(alice.Token)

		rel, err := ca.AccountMute(ctx, accID(bob.Account))
		if err != nil || !rel.Muting || !rel.MutingNotifications {
			t.Fatalf("mute: %+v %v, want muting with notifications", rel, err)
		}
		start := time.Now()
		ans := inst.Call(t, "POST", "/api/v1/accounts/"+community.FormatID(carol.Account.ID)+"/mute", alice.Token, url.Values{"notifications": {"false"}, "duration": {"3600"}})
		var r struct {
			Muting              bool       `json:"muting"`
			MutingNotifications bool       `json:"muting_notifications"`
			MutingExpiresAt     *time.Time `json:"muting_expires_at"`
		}
		if err := json.Unmarshal(ans.Body, &r); err != nil || ans.Code != 200 {
			t.Fatalf("timed mute: %d %s", ans.Code, ans.Body)
		}
		if !r.Muting || r.MutingNotifications || r.MutingExpiresAt == nil ||
			r.MutingExpiresAt.Before(start.Add(59*time.Minute)) || r.MutingExpiresAt.After(start.Add(61*time.Minute)) {
			t.Errorf("timed mute: %s", ans.Body)
		}
		mutes, err := ca.GetMutes(ctx, nil)
		if err != nil || len(mutes) != 2 || mutes[0].ID != accID(carol.Account) || mutes[1].ID != accID(bob.Account) {
			t.Errorf("mutes = %v, %v (newest first)", mutes, err)
		}
		// An expired mute is no mute.
		if err := inst.DB.Model(&community.Mute{}).Where("target_account_id = ?", carol.Account.ID).
			Update("expires_at", time.Now().Add(-time.Minute).UTC()).Error; err != nil {
			t.Fatal(err)
		}
		if r := accRelationship(t, inst, alice.Token, accID(carol.Account)); r.Muting {
			t.Errorf("expired mute still shown: %+v", r)
		}
		if mutes, _ := ca.GetMutes(ctx, nil); len(mutes) != 1 || mutes[0].ID != accID(bob.Account) {
			t.Errorf("mutes with one expired = %v", mutes)
		}
		// Muting does not touch follows.
		if _, err := ca.AccountFollow(ctx, accID(bob.Account)); err != nil {
			t.Fatal(err)
		}
		if r := accRelationship(t, inst, alice.Token, accID(bob.Account)); !r.Muting || !r.Following {
			t.Errorf("mute and follow: %+v", r)
		}
		rel, err = ca.AccountUnmute(ctx, accID(bob.Account))
		if err != nil || rel.Muting || !rel.Following {
			t.Errorf("unmute: %+v %v", rel, err)
		}
		for _, tc := range []struct {
			name string
			form url.Values
			path string
			want int
		}{
			{"negative duration", url.Values{"duration": {"-5"}}, community.FormatID(bob.Account.ID), 422},
			{"duration not a number", url.Values{"duration": {"soon"}}, community.FormatID(bob.Account.ID), 422},
			{"mute oneself", nil, community.FormatID(alice.Account.ID), 422},
			{"mute unknown", nil, "4242", 404},
		} {
			ans := inst.Call(t, "POST", "/api/v1/accounts/"+tc.path+"/mute", alice.Token, tc.form)
			ans.WantError(t, tc.name, tc.want, "")
		}
	})
}

func TestRelationshipsBatch(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		me := inst.CreateUser(t, "me", instancetest.UserOptions{})
		followed := inst.CreateUser(t, "followed", instancetest.UserOptions{})
		follower := inst.CreateUser(t, "follower", instancetest.UserOptions{})
		locked := inst.CreateUser(t, "locked", instancetest.UserOptions{Locked: true})
		blocked := inst.CreateUser(t, "blocked", instancetest.UserOptions{})
		cm := inst.Client(me.Token)
		must := func(_ *mastodon.Relationship, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(cm.AccountFollow(ctx, accID(followed.Account)))
		must(inst.Client(follower.Token).AccountFollow(ctx, accID(me.Account)))
		must(cm.AccountFollow(ctx, accID(locked.Account)))
		must(cm.AccountBlock(ctx, accID(blocked.Account)))
		must(cm.AccountMute(ctx, accID(follower.Account)))

		ids := []string{
			community.FormatID(blocked.Account.ID), community.FormatID(followed.Account.ID), "999999",
			community.FormatID(follower.Account.ID), "bogus", community.FormatID(locked.Account.ID),
			community.FormatID(followed.Account.ID), community.FormatID(me.Account.ID),
		}
		q := url.Values{"id[]": ids}
		ans := inst.Call(t, "GET", "/api/v1/accounts/relationships?"+q.Encode(), me.Token, nil)
		if ans.Code != 200 {
			t.Fatalf("relationships: %d %s", ans.Code, ans.Body)
		}
		if err := mastoschema.ValidateList("Relationship", ans.Body); err != nil {
			t.Error(err)
		}
		var rels []map[string]any
		if err := json.Unmarshal(ans.Body, &rels); err != nil {
			t.Fatal(err)
		}
		var gotIDs []string
		for _, r := range rels {
			gotIDs = append(gotIDs, r["id"].(string))
			if langs, ok := r["languages"].([]any); !ok || len(langs) != 0 {
				t.Errorf("languages = %v, want []", r["languages"])
			}
		}
		wantIDs := []string{ids[0], ids[1], ids[3], ids[5], ids[7]}
		if !slices.Equal(gotIDs, wantIDs) {
			t.Fatalf("ids = %v, want %v (asked order, unknown and duplicates left out)", gotIDs, wantIDs)
		}
		want := []map[string]bool{
			{"blocking": true},
			{"following": true, "showing_reblogs": true},
			{"followed_by": true, "muting": true, "muting_notifications": true},
			{"requested": true, "showing_reblogs": true},
			{},
		}
		for i, r := range rels {
			for _, k := range []string{"following", "showing_reblogs", "notifying", "followed_by", "blocking", "blocked_by",
				"muting", "muting_notifications", "requested", "requested_by", "domain_blocking", "endorsed"} {
				if r[k] != want[i][k] {
					t.Errorf("%s: %s = %v, want %v", gotIDs[i], k, r[k], want[i][k])
				}
			}
		}
		// go-mastodon reads the same thing.
		list, err := cm.GetAccountRelationships(ctx, []string{ids[1], ids[3]})
		if err != nil || len(list) != 2 || !list[0].Following || !list[1].FollowedBy {
			t.Errorf("go-mastodon relationships: %v %v", list, err)
		}
		if ans := inst.Call(t, "GET", "/api/v1/accounts/relationships", me.Token, nil); ans.Code != 200 || string(ans.Body) != "[]" {
			t.Errorf("no ids: %d %s, want []", ans.Code, ans.Body)
		}
	})
}

// accStatusIDs lists the ids of an account's statuses as the token's owner sees them.
func accStatusIDs(t *testing.T, inst *instancetest.Instance, token string, account *community.Account, query string) []string {
	t.Helper()
	path := "/api/v1/accounts/" + community.FormatID(account.ID) + "/statuses"
	if query != "" {
		path += "?" + query
	}
	ans := inst.Call(t, "GET", path, token, nil)
	if ans.Code != 200 {
		t.Fatalf("GET %s: %d %s", path, ans.Code, ans.Body)
	}
	if err := mastoschema.ValidateList("Status", ans.Body); err != nil {
		t.Error(err)
	}
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(ans.Body, &list); err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}

func TestAccountStatuses(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		poster := inst.CreateUser(t, "poster", instancetest.UserOptions{})
		follower := inst.CreateUser(t, "follower", instancetest.UserOptions{})
		stranger := inst.CreateUser(t, "stranger", instancetest.UserOptions{})
		if _, err := inst.Client(follower.Token).AccountFollow(ctx, accID(poster.Account)); err != nil {
			t.Fatal(err)
		}
		other := inst.PostStatus(t, stranger.Token, url.Values{"status": {"a question"}, "visibility": {"public"}, "scope": {"world"}}).ID

		world := inst.PostStatus(t, poster.Token, url.Values{"status": {"hello #Tacit world"}, "visibility": {"public"}, "scope": {"world"}}).ID
		company := inst.PostStatus(t, poster.Token, url.Values{"status": {"company news #tacit"}, "visibility": {"public"}, "scope": {"company"}}).ID
		unlisted := inst.PostStatus(t, poster.Token, url.Values{"status": {"quiet"}, "visibility": {"unlisted"}, "scope": {"world"}}).ID
		private := inst.PostStatus(t, poster.Token, url.Values{"status": {"for followers"}, "visibility": {"private"}}).ID
		direct := inst.PostStatus(t, poster.Token, url.Values{"status": {"@follower secret"}, "visibility": {"direct"}}).ID
		selfReply := inst.PostStatus(t, poster.Token, url.Values{"status": {"thread 2/2"}, "in_reply_to_id": {world}, "visibility": {"public"}, "scope": {"world"}}).ID
		reply := inst.PostStatus(t, poster.Token, url.Values{"status": {"@stranger an answer"}, "in_reply_to_id": {other}, "visibility": {"public"}, "scope": {"world"}}).ID
		reblog, err := inst.Client(poster.Token).Reblog(ctx, mastodon.ID(other))
		if err != nil {
			t.Fatalf("reblog: %v", err)
		}

		all := []string{string(reblog.ID), reply, selfReply, direct, private, unlisted, company, world}
		views := []struct {
			name  string
			token string
			want  []string
		}{
			{"author", poster.Token, all},
			{"follower", follower.Token, []string{string(reblog.ID), reply, selfReply, direct, private, unlisted, company, world}},
			{"stranger", stranger.Token, []string{string(reblog.ID), reply, selfReply, unlisted, company, world}},
		}
		// Logged out, a profile's posts are refused in company mode (the default); open
		// mode shows the world-scope ones (TestAudienceMatrix).
		if ans := inst.Call(t, "GET", "/api/v1/accounts/"+community.FormatID(poster.Account.ID)+"/statuses", "", nil); ans.Code != http.StatusUnauthorized {
			t.Errorf("account statuses logged out in company mode: %d %s, want 401", ans.Code, ans.Body)
		}
		for _, v := range views {
			if got := accStatusIDs(t, inst, v.token, poster.Account, ""); !slices.Equal(got, v.want) {
				t.Errorf("%s sees %v, want %v", v.name, got, v.want)
			}
		}
		if got := accStatusIDs(t, inst, stranger.Token, poster.Account, "exclude_replies=true"); !slices.Equal(got,
			[]string{string(reblog.ID), selfReply, unlisted, company, world}) {
			t.Errorf("exclude_replies: %v (self-replies stay, replies to others go)", got)
		}
		if got := accStatusIDs(t, inst, stranger.Token, poster.Account, "exclude_reblogs=1"); slices.Contains(got, string(reblog.ID)) || len(got) != 5 {
			t.Errorf("exclude_reblogs: %v", got)
		}
		if got := accStatusIDs(t, inst, stranger.Token, poster.Account, "tagged=TACIT"); !slices.Equal(got, []string{company, world}) {
			t.Errorf("tagged in capitals: %v, want the company and world posts", got)
		}
		if got := accStatusIDs(t, inst, stranger.Token, poster.Account, "tagged=%23tacit"); !slices.Equal(got, []string{company, world}) {
			t.Errorf("tagged: %v", got)
		}
		if got := accStatusIDs(t, inst, poster.Token, poster.Account, "only_media=true"); len(got) != 0 {
			t.Errorf("only_media: %v, want none (no media yet)", got)
		}

		// Pinned: most recently pinned first, still filtered by audience.
		cp := inst.Client(poster.Token)
		for _, id := range []string{world, private, unlisted} {
			ans := inst.Call(t, "POST", "/api/v1/statuses/"+id+"/pin", poster.Token, nil)
			if ans.Code != 200 {
				t.Fatalf("pin: %d %s", ans.Code, ans.Body)
			}
		}
		pinned, err := cp.GetAccountPinnedStatuses(ctx, accID(poster.Account))
		if err != nil || len(pinned) != 3 || string(pinned[0].ID) != unlisted || string(pinned[2].ID) != world {
			t.Errorf("pinned for the author: %v %v", pinned, err)
		}
		if got := accStatusIDs(t, inst, stranger.Token, poster.Account, "pinned=true"); !slices.Equal(got, []string{unlisted, world}) {
			t.Errorf("pinned for a stranger: %v", got)
		}
		if got := accStatusIDs(t, inst, follower.Token, poster.Account, "pinned=true&limit=1"); !slices.Equal(got, []string{unlisted}) {
			t.Errorf("pinned limit 1: %v", got)
		}

		// Pages through go-mastodon's Link handling: limit 3, newest first, no gaps.
		var seen []string
		pg := &mastodon.Pagination{Limit: 3}
		for i := 0; i < 10; i++ {
			page, err := inst.Client(follower.Token).GetAccountStatuses(ctx, accID(poster.Account), pg)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, s := range page {
				seen = append(seen, string(s.ID))
			}
			if pg.MaxID == "" {
				break
			}
		}
		if want := views[1].want; !slices.Equal(seen, want) {
			t.Errorf("paged: %v, want %v", seen, want)
		}
		ans := inst.Call(t, "GET", "/api/v1/accounts/"+community.FormatID(poster.Account.ID)+"/statuses?pinned=perhaps", stranger.Token, nil)
		ans.WantError(t, "bad boolean", 422, "")
	})
}

// accPageIDs follows a list's Link headers with limit=2 and returns the account ids in
// the order served, and how many pages it took.
func accPageIDs(t *testing.T, inst *instancetest.Instance, token, path string) ([]string, int) {
	t.Helper()
	var ids []string
	next := inst.URL + path + "?limit=2"
	pages := 0
	for next != "" && pages < 20 {
		req, _ := http.NewRequest("GET", next, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := inst.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var list []struct {
			ID string `json:"id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %v", next, resp.StatusCode, err)
		}
		if len(list) == 0 {
			if link := resp.Header.Get("Link"); link != "" {
				t.Errorf("empty page has a Link header: %s", link)
			}
			break
		}
		pages++
		if len(list) > 2 {
			t.Errorf("page of %d with limit=2", len(list))
		}
		for _, a := range list {
			ids = append(ids, a.ID)
		}
		next = ""
		for _, part := range strings.Split(resp.Header.Get("Link"), ",") {
			if strings.Contains(part, `rel="next"`) {
				u := strings.TrimSpace(part)
				next = u[1:strings.Index(u, ">")]
			}
		}
		if next == "" {
			t.Fatalf("page without a next link: %s", resp.Header.Get("Link"))
		}
		if !strings.Contains(next, "limit=2") {
			t.Errorf("next link drops the limit: %s", next)
		}
	}
	return ids, pages
}

func TestAccountListsPagination(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		hub := inst.CreateUser(t, "hub", instancetest.UserOptions{Locked: true})
		ch := inst.Client(hub.Token)
		var others []*instancetest.User
		for i := range 5 {
			others = append(others, inst.CreateUser(t, fmt.Sprintf("user%d", i), instancetest.UserOptions{}))
		}
		// hub follows, blocks and mutes all five; they all ask to follow hub.
		var want []string
		for _, o := range others {
			if _, err := ch.AccountFollow(ctx, accID(o.Account)); err != nil {
				t.Fatal(err)
			}
			if _, err := inst.Client(o.Token).AccountFollow(ctx, accID(hub.Account)); err != nil {
				t.Fatal(err)
			}
			want = append([]string{community.FormatID(o.Account.ID)}, want...) // newest first
		}
		hubID := community.FormatID(hub.Account.ID)
		check := func(name, token, path string) {
			t.Helper()
			got, pages := accPageIDs(t, inst, token, path)
			if !slices.Equal(got, want) || pages != 3 {
				t.Errorf("%s: %v in %d pages, want %v in 3", name, got, pages, want)
			}
		}
		check("following", hub.Token, "/api/v1/accounts/"+hubID+"/following")
		check("follow requests", hub.Token, "/api/v1/follow_requests")
		for _, o := range others {
			if err := ch.FollowRequestAuthorize(ctx, accID(o.Account)); err != nil {
				t.Fatal(err)
			}
		}
		// Followers are ordered by when the follow began: the order of approval.
		check("followers", others[0].Token, "/api/v1/accounts/"+hubID+"/followers")
		if f, g := accCounts(t, inst, hub.Account); f != 5 || g != 5 {
			t.Errorf("hub counters: %d followers, %d following", f, g)
		}
		for _, o := range others {
			if _, err := ch.AccountMute(ctx, accID(o.Account)); err != nil {
				t.Fatal(err)
			}
		}
		check("mutes", hub.Token, "/api/v1/mutes")
		for _, o := range others {
			if _, err := ch.AccountBlock(ctx, accID(o.Account)); err != nil {
				t.Fatal(err)
			}
		}
		check("blocks", hub.Token, "/api/v1/blocks")
		if f, g := accCounts(t, inst, hub.Account); f != 0 || g != 0 {
			t.Errorf("hub counters after blocking everyone: %d followers, %d following", f, g)
		}

		// go-mastodon follows the same links.
		var viaClient []string
		pg := &mastodon.Pagination{Limit: 2}
		for range 5 {
			page, err := ch.GetBlocks(ctx, pg)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, a := range page {
				viaClient = append(viaClient, string(a.ID))
			}
		}
		if !slices.Equal(viaClient, want) {
			t.Errorf("go-mastodon blocks: %v, want %v", viaClient, want)
		}
		// The prev link of the second page (min_id) leads back to the first page.
		first, firstLinks := accGetLinked(t, inst, hub.Token, inst.URL+"/api/v1/blocks?limit=2")
		second, secondLinks := accGetLinked(t, inst, hub.Token, firstLinks["next"])
		back, _ := accGetLinked(t, inst, hub.Token, secondLinks["prev"])
		if !slices.Equal(first, want[:2]) || !slices.Equal(second, want[2:4]) || !slices.Equal(back, first) {
			t.Errorf("first %v, second %v, back %v; want %v", first, second, back, want)
		}
		if !strings.Contains(secondLinks["prev"], "min_id=") {
			t.Errorf("prev link %q has no min_id", secondLinks["prev"])
		}
	})
}

// featuredTags is what TestFeaturedTags's steps share: alice, who features tags, bob,
// who reads them, and her featured rust tag.
type featuredTags struct {
	inst       *instancetest.Instance
	started    time.Time
	alice, bob *instancetest.User
	aliceID    string
	rust       struct{ ID string }
}

func TestFeaturedTags(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		started := time.Now()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		aliceID := community.FormatID(alice.Account.ID)

		inst.PostStatus(t, alice.Token, url.Values{"status": {"#golang and #sql"}, "visibility": {"public"}, "scope": {"world"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"more #GoLang"}, "visibility": {"unlisted"}, "scope": {"world"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"private #golang"}, "visibility": {"private"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"company #golang"}, "visibility": {"public"}, "scope": {"company"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"#sql again, and #sql"}, "visibility": {"public"}})
		inst.PostStatus(t, alice.Token, url.Values{"status": {"#sql #rust"}, "visibility": {"public"}})
		inst.PostStatus(t, bob.Token, url.Values{"status": {"#golang from bob"}, "visibility": {"public"}})
		w := &featuredTags{inst: inst, started: started, alice: alice, bob: bob, aliceID: aliceID}
		w.suggestAndFeature(t)
		w.othersSee(t)
		w.limits(t)
		w.deleting(t)
		w.scopes(t)
	})
}

// suggestAndFeature: the tags alice uses most are suggested; she features golang, rust and one never used.
func (w *featuredTags) suggestAndFeature(t *testing.T) {
	ans := w.inst.Call(t, "GET", "/api/v1/featured_tags/suggestions", w.alice.Token, nil)
	if ans.Code != 200 {
		t.Fatalf("suggestions: %d %s", ans.Code, ans.Body)
	}
	if err := mastoschema.ValidateList("Tag", ans.Body); err != nil {
		t.Error(err)
	}
	var tags []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	_ = json.Unmarshal(ans.Body, &tags)
	if len(tags) != 3 || tags[0].Name != "golang" || tags[1].Name != "sql" || tags[2].Name != "rust" {
		t.Errorf("suggestions = %+v, want golang, sql, rust", tags)
	}

	ans = w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, url.Values{"name": {"#GoLang"}})
	if ans.Code != 200 {
		t.Fatalf("feature: %d %s", ans.Code, ans.Body)
	}
	if err := mastoschema.Validate("FeaturedTag", ans.Body); err != nil {
		t.Error(err)
	}
	var ft struct {
		ID            string  `json:"id"`
		Name          string  `json:"name"`
		URL           string  `json:"url"`
		StatusesCount string  `json:"statuses_count"`
		LastStatusAt  *string `json:"last_status_at"`
	}
	if err := json.Unmarshal(ans.Body, &ft); err != nil {
		t.Fatalf("featured tag %s: %v", ans.Body, err)
	}
	storetest.SkipIfCrossed(t, w.started, storetest.Day)
	today := time.Now().UTC().Format("2006-01-02")
	if ft.Name != "golang" || ft.StatusesCount != "3" || ft.LastStatusAt == nil || *ft.LastStatusAt != today ||
		ft.URL != w.alice.Account.URL+"/tagged/golang" {
		t.Errorf("featured tag = %s (owner counts public and unlisted posts: 3)", ans.Body)
	}
	ans = w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, map[string]string{"name": "rust"})
	if ans.Code != 200 {
		t.Fatalf("feature rust: %d %s", ans.Code, ans.Body)
	}
	_ = json.Unmarshal(ans.Body, &w.rust)
	w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, url.Values{"name": {"nothing_yet"}})
}

// Others see the same list, counted over what they may read.
func (w *featuredTags) othersSee(t *testing.T) {
	type listed struct {
		Name          string  `json:"name"`
		StatusesCount string  `json:"statuses_count"`
		LastStatusAt  *string `json:"last_status_at"`
	}
	for _, v := range []struct {
		name, token, golang, rust string
	}{{"owner", w.alice.Token, "3", "1"}, {"colleague", w.bob.Token, "3", "1"}} {
		ans := w.inst.Call(t, "GET", "/api/v1/accounts/"+w.aliceID+"/featured_tags", v.token, nil)
		if ans.Code != 200 {
			t.Fatalf("%s: %d %s", v.name, ans.Code, ans.Body)
		}
		var got []listed
		_ = json.Unmarshal(ans.Body, &got)
		if len(got) != 3 || got[0].Name != "golang" || got[0].StatusesCount != v.golang || got[1].Name != "rust" ||
			got[1].StatusesCount != v.rust || (v.rust == "0") != (got[1].LastStatusAt == nil) || got[2].Name != "nothing_yet" || got[2].StatusesCount != "0" || got[2].LastStatusAt != nil {
			t.Errorf("%s sees %s", v.name, ans.Body)
		}
	}
	if ans := w.inst.Call(t, "GET", "/api/v1/accounts/"+w.aliceID+"/featured_tags", "", nil); ans.Code != http.StatusUnauthorized {
		t.Errorf("featured tags logged out in company mode: %d %s, want 401", ans.Code, ans.Body)
	}
	ans := w.inst.Call(t, "GET", "/api/v1/featured_tags", w.alice.Token, nil)
	if ans.Code != 200 || !strings.Contains(string(ans.Body), `"name":"rust"`) {
		t.Errorf("own featured tags: %d %s", ans.Code, ans.Body)
	}
	ans = w.inst.Call(t, "GET", "/api/v1/featured_tags/suggestions", w.alice.Token, nil)
	var tags []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	}
	_ = json.Unmarshal(ans.Body, &tags)
	if ans.Code != 200 || len(tags) != 1 || tags[0].Name != "sql" || tags[0].URL != w.inst.Community.TagURL("sql") {
		t.Errorf("suggestions leave out featured tags: %s", ans.Body)
	}
}

// Validation and limits.
func (w *featuredTags) limits(t *testing.T) {
	for _, tc := range []struct {
		name string
		want int
	}{{"", 422}, {"two words", 422}, {"1234", 422}, {"dash-ed", 422}, {strings.Repeat("a", 101), 422}, {"GOLANG", 422}} {
		ans := w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, url.Values{"name": {tc.name}})
		ans.WantError(t, "feature "+tc.name, tc.want, "")
	}
	for i := 3; i < community.MaxFeaturedTags; i++ {
		if ans := w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, url.Values{"name": {fmt.Sprintf("tag%d", i)}}); ans.Code != 200 {
			t.Fatalf("feature tag %d: %d %s", i, ans.Code, ans.Body)
		}
	}
	ans := w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, url.Values{"name": {"onetoomany"}})
	ans.WantError(t, "eleventh featured tag", 422, "10")
}

// Deleting: only one's own.
func (w *featuredTags) deleting(t *testing.T) {
	ans := w.inst.Call(t, "DELETE", "/api/v1/featured_tags/"+w.rust.ID, w.bob.Token, nil)
	ans.WantError(t, "delete someone else's", 404, "")
	ans = w.inst.Call(t, "DELETE", "/api/v1/featured_tags/"+w.rust.ID, w.alice.Token, nil)
	if ans.Code != 200 || string(ans.Body) != "{}" {
		t.Errorf("delete: %d %s", ans.Code, ans.Body)
	}
	ans = w.inst.Call(t, "DELETE", "/api/v1/featured_tags/"+w.rust.ID, w.alice.Token, nil)
	ans.WantError(t, "delete twice", 404, "")
	if ans := w.inst.Call(t, "POST", "/api/v1/featured_tags", w.alice.Token, url.Values{"name": {"rust"}}); ans.Code != 200 {
		t.Errorf("feature again after delete: %d %s", ans.Code, ans.Body)
	}
}

// Scopes.
func (w *featuredTags) scopes(t *testing.T) {
	reader := w.inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read"}})
	ans := w.inst.Call(t, "POST", "/api/v1/featured_tags", reader.Token, url.Values{"name": {"x"}})
	ans.WantError(t, "feature with read token", 403, "")
	ans = w.inst.Call(t, "GET", "/api/v1/featured_tags", "", nil)
	ans.WantError(t, "own list logged out", 401, "")
	if ans := w.inst.Call(t, "GET", "/api/v1/featured_tags", reader.Token, nil); ans.Code != 200 {
		t.Errorf("own list with read token: %d", ans.Code)
	}
}

// accGetLinked reads a list of ids and its Link header, keyed by rel.
func accGetLinked(t *testing.T, inst *instancetest.Instance, token, u string) ([]string, map[string]string) {
	t.Helper()
	if u == "" {
		t.Fatal("no link to follow")
	}
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := inst.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	ids := []string{}
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	links := map[string]string{}
	for _, part := range strings.Split(resp.Header.Get("Link"), ",") {
		part = strings.TrimSpace(part)
		start, end := strings.Index(part, "<"), strings.Index(part, ">")
		if start < 0 || end < start {
			continue
		}
		if i := strings.Index(part, `rel="`); i >= 0 {
			rel := strings.TrimSuffix(part[i+5:], `"`)
			links[rel] = part[start+1 : end]
		}
	}
	return ids, links
}
