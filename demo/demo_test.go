package demo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/auth"
)

// TestDemoCompany starts the demo on random loopback ports, seeds it, and checks
// through the Mastodon API what a visitor of the demo should find; then starts it again
// on the same dir, which must not seed twice.
func TestDemoCompany(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	company, err := Start(ctx, Options{Dir: dir, Ports: []int{0, 0, 0}})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := company.Wait(); err != nil {
				t.Errorf("stop the demo: %v", err)
			}
		}
	}
	t.Cleanup(stop)
	seeded, err := company.Seed(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !seeded {
		t.Fatal("a new demo dir was not seeded")
	}
	eng, sales, ops := company.Departments[0], company.Departments[1], company.Departments[2]

	checkCompanyPostCrosses(t, eng, sales, ops)
	checkThread(t, eng, sales, ops)
	checkDirectMessage(t, eng, sales, ops)
	checkExperts(t, eng, sales, ops)
	checkBoard(t, eng, sales, ops)
	checkReport(t, eng, sales, ops)

	// A second start on the same dir reuses the company.
	stop()
	ctx2, cancel2 := context.WithCancel(context.Background())
	again, err := Start(ctx2, Options{Dir: dir})
	if err != nil {
		cancel2()
		t.Fatal(err)
	}
	defer func() {
		cancel2()
		if err := again.Wait(); err != nil {
			t.Errorf("stop the demo again: %v", err)
		}
	}()
	if again.Departments[0].URL != eng.URL {
		t.Errorf("the second start serves Engineering at %s, the first at %s", again.Departments[0].URL, eng.URL)
	}
	seeded, err = again.Seed(ctx2, nil)
	if err != nil || seeded {
		t.Errorf("second Seed: seeded %v, %v; want false, nil", seeded, err)
	}
}

// Sales sees Engineering's company post in its public timeline, and not
// Engineering's department post, neither there nor by its address.
func checkCompanyPostCrosses(t *testing.T, eng, sales, ops *Department) {
	deptPost := containing(publicTimeline(t, eng, "ada"), "Engineering only: the December on-call rota")
	if deptPost == nil {
		t.Fatal("Engineering's own department post is missing from its public timeline")
	}
	salesTimeline := publicTimeline(t, sales, "grace")
	if containing(salesTimeline, "The production clusters move") == nil {
		t.Errorf("Engineering's company post is missing from Sales' public timeline (%d posts)", len(salesTimeline))
	}
	if containing(salesTimeline, "Engineering only") != nil {
		t.Error("Engineering's department post is in Sales' public timeline")
	}
	found, err := client(t, sales, "grace").Search(context.Background(), deptPost.URL, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Statuses) != 0 {
		t.Errorf("searching Sales for Engineering's department post found %d statuses", len(found.Statuses))
	}
}

// The question from Sales has its answers from Engineering and Operations.
func checkThread(t *testing.T, eng, sales, ops *Department) {
	salesTimeline := publicTimeline(t, sales, "grace")
	question := containing(salesTimeline, "A customer asks how we run")
	if question == nil {
		t.Fatal("the thread's question is missing from Sales' public timeline")
	}
	thread, err := client(t, sales, "grace").GetStatusContext(context.Background(), question.ID)
	if err != nil {
		t.Fatal(err)
	}
	answered := map[string]bool{}
	for _, st := range thread.Descendants {
		answered[string(st.Account.Acct)] = true
	}
	for _, who := range []string{"ada@" + eng.Host(), "lea@" + ops.Host(), "farid"} {
		if !answered[who] {
			t.Errorf("no reply from %s in the thread on Sales; replies from %v", who, answered)
		}
	}
}

// Lea's direct message from Operations reached Ada in Engineering.
func checkDirectMessage(t *testing.T, eng, sales, ops *Department) {
	notes, err := client(t, eng, "ada").GetNotifications(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mentioned := false
	for _, n := range notes {
		mentioned = mentioned || (n.Type == "mention" && string(n.Account.Acct) == "lea@"+ops.Host() &&
			n.Status != nil && n.Status.Visibility == "direct")
	}
	if !mentioned {
		t.Errorf("Ada has no direct mention from Lea among %d notifications", len(notes))
	}
}

// "Who knows Kubernetes?", asked in Sales, names people of at least two departments.
func checkExperts(t *testing.T, eng, sales, ops *Department) {
	var experts struct {
		Experts []struct {
			Account mastodon.Account `json:"account"`
		} `json:"experts"`
	}
	getJSON(t, sales, "grace", "/api/v1/tacit/experts?q=kubernetes", &experts)
	hosts := map[string]bool{}
	for _, e := range experts.Experts {
		host := sales.Host()
		if _, h, ok := strings.Cut(string(e.Account.Acct), "@"); ok {
			host = h
		}
		hosts[host] = true
	}
	if len(hosts) < 2 {
		t.Errorf("experts on Kubernetes come from %d departments (%v), want at least 2", len(hosts), hosts)
	}
}

// The workplace board on Operations: the bike racks idea has votes from Sales and
// Engineering, and the moderator's last decision with its comment.
func checkBoard(t *testing.T, eng, sales, ops *Department) {
	var boards []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	getJSON(t, ops, "jonas", "/api/v1/tacit/boards", &boards)
	boardID := ""
	for _, b := range boards {
		if b.Name == "workplace" {
			boardID = b.ID
		}
	}
	if boardID == "" {
		t.Fatalf("no workplace board on Operations: %+v", boards)
	}
	var ideas []struct {
		ID            string `json:"id"`
		Title         string `json:"title"`
		Status        string `json:"status"`
		StatusComment string `json:"status_comment"`
		Votes         int64  `json:"votes"`
	}
	getJSON(t, ops, "jonas", "/api/v1/tacit/boards/"+boardID+"/ideas", &ideas)
	var bikes string
	for _, i := range ideas {
		if i.Title == "Bike racks at every office" {
			bikes = i.ID
			if i.Votes != 5 || i.Status != "planned" || i.StatusComment == "" {
				t.Errorf("the bike racks idea on Operations: %+v", i)
			}
		}
	}
	if bikes == "" {
		t.Fatalf("no bike racks idea on Operations: %+v", ideas)
	}
	voters, err := client(t, ops, "jonas").GetFavouritedBy(context.Background(), mastodon.ID(bikes), nil)
	if err != nil {
		t.Fatal(err)
	}
	remoteVoters := 0
	for _, v := range voters {
		if strings.Contains(string(v.Acct), "@") {
			remoteVoters++
		}
	}
	if remoteVoters == 0 {
		t.Errorf("no vote from another department among %d voters", len(voters))
	}
}

// A report waits for Operations' moderators.
func checkReport(t *testing.T, eng, sales, ops *Department) {
	var reports []struct {
		ActionTaken bool   `json:"action_taken"`
		Comment     string `json:"comment"`
	}
	getJSON(t, ops, "jonas", "/api/v1/admin/reports", &reports)
	if len(reports) == 0 || reports[0].ActionTaken {
		t.Errorf("open reports on Operations: %+v", reports)
	}
}

// token logs a person in, as an app would after OAuth, with the scopes a moderator's
// client asks for.
func token(t *testing.T, d *Department, username string) string {
	t.Helper()
	ctx := context.Background()
	acct, err := d.Instance.Community.LocalAccount(ctx, username)
	if err != nil {
		t.Fatal(err)
	}
	user, err := d.Instance.Community.UserByAccountID(ctx, acct.ID)
	if err != nil {
		t.Fatal(err)
	}
	scopes := []string{"read", "write", "admin:read"}
	app, err := d.Instance.Auth.CreateApplication(ctx, auth.NewApplication{Name: "demo test", RedirectURIs: []string{auth.OOBRedirect}, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := d.Instance.Auth.IssueToken(ctx, app.ID, user.ID, acct.ID, scopes, false)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func client(t *testing.T, d *Department, username string) *mastodon.Client {
	c := mastodon.NewClient(&mastodon.Config{Server: d.URL, AccessToken: token(t, d, username)})
	c.Timeout = 30 * time.Second
	return c
}

// publicTimeline is a department's public timeline as a person sees it.
func publicTimeline(t *testing.T, d *Department, username string) []*mastodon.Status {
	t.Helper()
	list, err := client(t, d, username).GetTimelinePublic(context.Background(), false, &mastodon.Pagination{Limit: 40})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// containing is the first status whose text contains text.
func containing(list []*mastodon.Status, text string) *mastodon.Status {
	for _, st := range list {
		if strings.Contains(st.Content, text) {
			return st
		}
	}
	return nil
}

func getJSON(t *testing.T, d *Department, username, path string, into any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token(t, d, username))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s on %s: HTTP %d", path, d.Name, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatalf("GET %s on %s: %v", path, d.Name, err)
	}
}
