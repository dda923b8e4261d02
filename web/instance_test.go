package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/store/storetest"
	"github.com/tacit-social/tacit/web"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// iwConfigure gives a test instance the metadata the discovery documents publish.
func iwConfigure(c *config.Config) {
	c.InstanceName = "Sales"
	c.InstanceDescription = "The sales department's <instance>."
	c.ContactEmail = "it@sales.example"
	c.Department = "Sales"
	c.Location = "Lyon"
	c.Federation.Peers = []string{"hq.example", c.Host}
}

// iwJSON fetches a document and decodes it into a generic map.
func iwJSON(t *testing.T, inst *instancetest.Instance, path, token string) (map[string]any, instancetest.Answer) {
	t.Helper()
	a := inst.Call(t, http.MethodGet, path, token, nil)
	if a.Code != http.StatusOK {
		t.Fatalf("%s: %d %s", path, a.Code, a.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(a.Body, &out); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out, a
}

// iwAt walks a decoded JSON document along keys.
func iwAt(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

// instanceStory is what TestInstanceAPI's steps share: an instance where alice and
// the admin posted and alice signed in, started at started.
type instanceStory struct {
	ctx     context.Context
	inst    *instancetest.Instance
	started time.Time
	alice   *instancetest.User
}

func TestInstanceAPI(t *testing.T) {
	instancetest.Each(t, instancetest.Options{Configure: iwConfigure}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		started := time.Now()
		admin := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		inst.PostStatus(t, alice.Token, twText("hello"))
		inst.PostStatus(t, admin.Token, twText("welcome"))
		twRemotePost(t, inst, "pat", "remote.example", "from afar")
		if _, _, err := inst.Community.Authenticate(ctx, "alice", instancetest.Password("alice")); err != nil {
			t.Fatalf("sign in: %v", err)
		}
		w := &instanceStory{ctx: ctx, inst: inst, started: started, alice: alice}
		w.v1(t)
		w.v2(t)
		w.cached(t)
		w.peers(t)
		w.activity(t)
		w.emptyLists(t)
	})
}

// v1: the v1 entity, raw and through go-mastodon, with the configured names and the counted figures.
func (w *instanceStory) v1(t *testing.T) {
	v1, a := iwJSON(t, w.inst, "/api/v1/instance", "")
	if err := mastoschema.Validate("V1Instance", a.Body); err != nil {
		t.Errorf("v1: %v", err)
	}
	checks := map[string]any{
		"uri": w.inst.Host(), "title": "Sales", "email": "it@sales.example", "version": web.MastodonVersion,
		"registrations": false, "approval_required": false,
	}
	for k, want := range checks {
		if v1[k] != want {
			t.Errorf("v1 %s = %v, want %v", k, v1[k], want)
		}
	}
	if got := iwAt(v1, "urls", "streaming_api"); got != "ws://"+w.inst.Host() {
		t.Errorf("v1 streaming_api = %v", got)
	}
	// Two local users and their two statuses; one other server.
	for k, want := range map[string]float64{"user_count": 2, "status_count": 2, "domain_count": 1} {
		if got := iwAt(v1, "stats", k); got != want {
			t.Errorf("v1 stats.%s = %v, want %v", k, got, want)
		}
	}
	if got := iwAt(v1, "contact_account", "username"); got != "boss" {
		t.Errorf("v1 contact_account = %v, want the admin", got)
	}
	if got := iwAt(v1, "tacit", "department"); got != "Sales" {
		t.Errorf("v1 tacit = %v", v1["tacit"])
	}
	if !strings.Contains(v1["description"].(string), "&lt;instance&gt;") {
		t.Errorf("v1 description %q is not escaped HTML", v1["description"])
	}

	viaClient, err := w.inst.Client("").GetInstance(w.ctx)
	if err != nil || viaClient.URI != w.inst.Host() || viaClient.Stats.UserCount != 2 || viaClient.Configuration == nil {
		t.Errorf("go-mastodon instance: %+v, %v", viaClient, err)
	}
}

// v2: the v2 entity, its configuration, and the thumbnail it points to.
func (w *instanceStory) v2(t *testing.T) {
	v2, a := iwJSON(t, w.inst, "/api/v2/instance", "")
	if err := mastoschema.Validate("Instance", a.Body); err != nil {
		t.Errorf("v2: %v", err)
	}
	for path, want := range map[string]any{
		"domain":                                w.inst.Host(),
		"title":                                 "Sales",
		"version":                               web.MastodonVersion,
		"registrations/enabled":                 false,
		"contact/email":                         "it@sales.example",
		"contact/account/acct":                  "boss",
		"usage/users/active_month":              float64(2), // alice signed in, boss posted
		"api_versions/mastodon":                 float64(2),
		"configuration/urls/streaming":          "ws://" + w.inst.Host(),
		"configuration/statuses/max_characters": float64(500),
		"configuration/media_attachments/video_size_limit": float64(0),
		"configuration/translation/enabled":                false,
		"configuration/limited_federation":                 true,
		"configuration/lists/max_lists":                    float64(community.MaxLists),
		"configuration/filters/max_keywords":               float64(community.MaxFilterKeywords),
		"configuration/scheduled_statuses/max_per_day":     float64(25),
		"configuration/scheduled_statuses/min_offset":      float64(300),
		"tacit/location":                                   "Lyon",
		"tacit/default_scope":                              "company",
		"tacit/federation_mode":                            "company",
	} {
		if got := iwAt(v2, strings.Split(path, "/")...); got != want {
			t.Errorf("v2 %s = %v, want %v", path, got, want)
		}
	}
	mimes, _ := iwAt(v2, "configuration", "media_attachments", "supported_mime_types").([]any)
	for _, m := range mimes {
		if !strings.HasPrefix(m.(string), "image/") {
			t.Errorf("v2 advertises %v, but Tacit takes images only", m)
		}
	}
	thumb, _ := iwAt(v2, "thumbnail", "url").(string)
	if img := w.inst.Call(t, http.MethodGet, thumb, "", nil); img.Code != http.StatusOK || img.Header.Get("Content-Type") != "image/png" {
		t.Errorf("thumbnail %s: %d %s", thumb, img.Code, img.Header.Get("Content-Type"))
	}
}

// Figures are cached: a new status shows after the cache expires, not at once.
func (w *instanceStory) cached(t *testing.T) {
	w.inst.PostStatus(t, w.alice.Token, twText("one more"))
	v1, _ := iwJSON(t, w.inst, "/api/v1/instance", "")
	if got := iwAt(v1, "stats", "status_count"); got != float64(2) {
		t.Errorf("status_count right after a post = %v; want the cached 2", got)
	}
}

// Peer host names are the company's: logged out, they are refused in company mode.
func (w *instanceStory) peers(t *testing.T) {
	if _, err := w.inst.Client("").GetInstancePeers(w.ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("peers logged out in company mode: %v, want 401", err)
	}
	peers, err := w.inst.Client(w.alice.Token).GetInstancePeers(w.ctx)
	if err != nil || !slices.Equal(peers, []string{"hq.example", "remote.example"}) {
		t.Errorf("peers = %q, %v; want the other peer and the known domain, not this instance", peers, err)
	}
}

// activity: twelve weeks of figures, Monday to Monday, this week first.
func (w *instanceStory) activity(t *testing.T) {
	activity, err := w.inst.Client("").GetInstanceActivity(w.ctx)
	if err != nil || len(activity) != 12 {
		t.Fatalf("activity: %d weeks, %v", len(activity), err)
	}
	storetest.SkipIfCrossed(t, w.started, storetest.Week)
	if activity[0].Statuses != 3 || activity[0].Registrations != 2 || activity[0].Logins != 1 {
		t.Errorf("this week: %+v; want 3 statuses, 2 registrations, 1 login", activity[0])
	}
	if week := time.Time(activity[0].Week); week.Weekday() != time.Monday || week.After(time.Now()) {
		t.Errorf("first week starts %v", week)
	}
	if !time.Time(activity[1].Week).Equal(time.Time(activity[0].Week).AddDate(0, 0, -7)) {
		t.Errorf("weeks are not a week apart: %v, %v", activity[0].Week, activity[1].Week)
	}
}

// emptyLists: rules, emojis and announcements are empty lists; announcements need a login.
func (w *instanceStory) emptyLists(t *testing.T) {
	for _, path := range []string{"/api/v1/instance/rules", "/api/v1/custom_emojis"} {
		if a := w.inst.Call(t, http.MethodGet, path, "", nil); a.Code != http.StatusOK || string(a.Body) != "[]" {
			t.Errorf("%s: %d %s, want []", path, a.Code, a.Body)
		}
	}
	if a := w.inst.Call(t, http.MethodGet, "/api/v1/announcements", w.alice.Token, nil); a.Code != http.StatusOK || string(a.Body) != "[]" {
		t.Errorf("announcements: %d %s", a.Code, a.Body)
	}
	w.inst.Call(t, http.MethodGet, "/api/v1/announcements", "", nil).WantError(t, "announcements logged out", http.StatusUnauthorized, "")
}

func TestInstanceContactEmailOnlyWhenConfigured(t *testing.T) {
	t.Parallel()
	// Without a configured contact address there is none: the admin's own login
	// address is personal and is not published.
	inst := instancetest.Start(t, instancetest.Options{})
	boss := inst.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})
	v2, a := iwJSON(t, inst, "/api/v2/instance", "")
	if err := mastoschema.Validate("Instance", a.Body); err != nil {
		t.Error(err)
	}
	if got := iwAt(v2, "contact", "email"); got != "" {
		t.Errorf("contact email = %v, want none", got)
	}
	if strings.Contains(string(a.Body), "boss@example.com") {
		t.Error("the admin's login address is published")
	}
	v1, a := iwJSON(t, inst, "/api/v1/instance", "")
	if v1["email"] != "" || strings.Contains(string(a.Body), "boss@example.com") {
		t.Errorf("v1 email = %v, want none", v1["email"])
	}
	if peers, _ := inst.Client(boss.Token).GetInstancePeers(context.Background()); peers == nil || len(peers) != 0 {
		t.Errorf("peers of a lone instance = %#v, want []", peers)
	}

	// A configured address is published.
	configured := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.ContactEmail = "it-desk@example.com" }})
	configured.CreateUser(t, "boss", instancetest.UserOptions{Role: community.RoleAdmin})
	v2, _ = iwJSON(t, configured, "/api/v2/instance", "")
	if got := iwAt(v2, "contact", "email"); got != "it-desk@example.com" {
		t.Errorf("configured contact email = %v", got)
	}
}

func TestPreferencesAPI(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.DefaultScope = "department" }})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	noAccounts := inst.CreateUser(t, "limited", instancetest.UserOptions{Scopes: []string{"read:statuses"}})
	prefs, a := iwJSON(t, inst, "/api/v1/preferences", alice.Token)
	if err := mastoschema.Validate("Preferences", a.Body); err != nil {
		t.Error(err)
	}
	for k, want := range map[string]any{
		"posting:default:visibility": "public", "posting:default:sensitive": false, "posting:default:language": nil,
		"reading:expand:media": "default", "reading:expand:spoilers": false, "tacit:default_scope": "department",
	} {
		if v, ok := prefs[k]; !ok || v != want {
			t.Errorf("%s = %v, want %v", k, v, want)
		}
	}
	inst.Call(t, http.MethodGet, "/api/v1/preferences", "", nil).WantError(t, "preferences logged out", http.StatusUnauthorized, "")
	inst.Call(t, http.MethodGet, "/api/v1/preferences", noAccounts.Token, nil).WantError(t, "preferences without read:accounts", http.StatusForbidden, "")
}

func TestNodeInfoAndHostMeta(t *testing.T) {
	instancetest.Each(t, instancetest.Options{Configure: iwConfigure}, func(t *testing.T, inst *instancetest.Instance) {
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		inst.PostStatus(t, alice.Token, twText("hello"))

		links, _ := iwJSON(t, inst, "/.well-known/nodeinfo", "")
		list, _ := links["links"].([]any)
		var hrefs []string
		for _, l := range list {
			hrefs = append(hrefs, iwAt(l, "rel").(string)+" "+iwAt(l, "href").(string))
		}
		want := []string{
			"http://nodeinfo.diaspora.software/ns/schema/2.0 " + inst.URL + "/nodeinfo/2.0",
			"http://nodeinfo.diaspora.software/ns/schema/2.1 " + inst.URL + "/nodeinfo/2.1",
		}
		twSame(t, "nodeinfo links", hrefs, want)

		for _, version := range []string{"2.0", "2.1"} {
			doc, a := iwJSON(t, inst, "/nodeinfo/"+version, "")
			if ct := a.Header.Get("Content-Type"); !strings.Contains(ct, "schema/"+version+"#") {
				t.Errorf("nodeinfo %s content type %q", version, ct)
			}
			for path, want := range map[string]any{
				"version":                  version,
				"software/name":            "tacit",
				"software/version":         web.Version,
				"openRegistrations":        false,
				"usage/users/total":        float64(1),
				"usage/users/activeMonth":  float64(1),
				"usage/localPosts":         float64(1),
				"metadata/nodeName":        "Sales",
				"metadata/department":      "Sales",
				"metadata/location":        "Lyon",
				"metadata/federationMode":  "company",
				"metadata/nodeDescription": "The sales department's <instance>.",
			} {
				if got := iwAt(doc, strings.Split(path, "/")...); got != want {
					t.Errorf("nodeinfo %s: %s = %v, want %v", version, path, got, want)
				}
			}
			if protocols, _ := doc["protocols"].([]any); len(protocols) != 1 || protocols[0] != "activitypub" {
				t.Errorf("nodeinfo %s protocols = %v", version, doc["protocols"])
			}
			if _, ok := iwAt(doc, "services", "inbound").([]any); !ok {
				t.Errorf("nodeinfo %s services = %v", version, doc["services"])
			}
			if repo := iwAt(doc, "software", "repository"); (version == "2.1") != (repo != nil) {
				t.Errorf("nodeinfo %s software.repository = %v", version, repo)
			}
		}

		a := inst.Call(t, http.MethodGet, "/.well-known/host-meta", "", nil)
		if a.Code != http.StatusOK || !strings.HasPrefix(a.Header.Get("Content-Type"), "application/xrd+xml") {
			t.Fatalf("host-meta: %d %s", a.Code, a.Header.Get("Content-Type"))
		}
		var xrd struct {
			XMLName xml.Name
			Links   []struct {
				Rel      string `xml:"rel,attr"`
				Template string `xml:"template,attr"`
			} `xml:"Link"`
		}
		if err := xml.Unmarshal(a.Body, &xrd); err != nil {
			t.Fatalf("host-meta is not XML: %v\n%s", err, a.Body)
		}
		if xrd.XMLName.Space != "http://docs.oasis-open.org/ns/xri/xrd-1.0" || xrd.XMLName.Local != "XRD" ||
			len(xrd.Links) != 1 || xrd.Links[0].Rel != "lrdd" ||
			xrd.Links[0].Template != inst.URL+"/.well-known/webfinger?resource={uri}" {
			t.Errorf("host-meta = %+v", xrd)
		}
	})
}

func TestDefaultImages(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	var acct struct{ Avatar, Header string }
	json.Unmarshal(inst.Call(t, http.MethodGet, "/api/v1/accounts/verify_credentials", alice.Token, nil).Body, &acct)
	if acct.Avatar != inst.URL+"/avatars/original/missing.png" || acct.Header != inst.URL+"/headers/original/missing.png" {
		t.Fatalf("default avatar and header: %+v", acct)
	}
	for _, c := range []struct {
		url  string
		w, h int
	}{{acct.Avatar, 400, 400}, {acct.Header, 1500, 500}, {inst.URL + "/instance/thumbnail.png", 1200, 630}} {
		a := inst.Call(t, http.MethodGet, c.url, "", nil)
		if a.Code != http.StatusOK || a.Header.Get("Content-Type") != "image/png" {
			t.Errorf("%s: %d %q", c.url, a.Code, a.Header.Get("Content-Type"))
			continue
		}
		if !strings.Contains(a.Header.Get("Cache-Control"), "max-age=31536000") {
			t.Errorf("%s: Cache-Control %q", c.url, a.Header.Get("Cache-Control"))
		}
		img, err := png.Decode(bytes.NewReader(a.Body))
		if err != nil || img.Bounds().Dx() != c.w || img.Bounds().Dy() != c.h {
			t.Errorf("%s: %v, %v; want a %dx%d PNG", c.url, img.Bounds(), err, c.w, c.h)
		}
		req, _ := http.NewRequest(http.MethodGet, c.url, nil)
		req.Header.Set("If-None-Match", a.Header.Get("ETag"))
		resp, err := inst.HTTPClient().Do(req)
		if err != nil || resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its ETag: %v, %v; want 304", c.url, resp.StatusCode, err)
		}
		resp.Body.Close()
		head := inst.Call(t, http.MethodHead, c.url, "", nil)
		if head.Code != http.StatusOK || len(head.Body) != 0 || head.Header.Get("Content-Length") != a.Header.Get("Content-Length") {
			t.Errorf("HEAD %s: %d, %d bytes, length %q", c.url, head.Code, len(head.Body), head.Header.Get("Content-Length"))
		}
	}
	// The silhouette is grey on grey: the centre of the head differs from a corner.
	a := inst.Call(t, http.MethodGet, acct.Avatar, "", nil)
	img, _ := png.Decode(bytes.NewReader(a.Body))
	if img.At(200, 160) == img.At(5, 5) {
		t.Error("the default avatar is a flat colour; want a silhouette")
	}
}
