package web_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/web/mastoschema"
)

// exAnswer is the answer of GET /api/v1/tacit/experts as the tests read it.
type exAnswer struct {
	Experts []struct {
		Account  json.RawMessage `json:"account"`
		Score    float64         `json:"score"`
		Instance string          `json:"instance"`
		Evidence []struct {
			Type, Value, Name, URL string
			Status                 *struct {
				ID         *string `json:"id"`
				URI        string  `json:"uri"`
				URL        *string `json:"url"`
				Content    string  `json:"content"`
				Visibility string  `json:"visibility"`
				Tacit      struct{ Scope string }
			} `json:"status"`
			Statuses *int `json:"statuses"`
		} `json:"evidence"`
	} `json:"experts"`
	Unanswered []string `json:"unanswered"`
}

// acct returns the handle of the i-th expert.
func (a exAnswer) acct(i int) string {
	var acc struct{ Acct string }
	_ = json.Unmarshal(a.Experts[i].Account, &acc)
	return acc.Acct
}

func (a exAnswer) accts() []string {
	out := []string{}
	for i := range a.Experts {
		out = append(out, a.acct(i))
	}
	return out
}

// contents gathers the text of every evidence post of every expert.
func (a exAnswer) contents() string {
	var b strings.Builder
	for _, e := range a.Experts {
		for _, ev := range e.Evidence {
			if ev.Status != nil {
				b.WriteString(ev.Status.Content + "\n")
			}
		}
	}
	return b.String()
}

// exExperts asks "who knows q?" and checks the answer's shape.
func exExperts(t *testing.T, inst *instancetest.Instance, token, q string) exAnswer {
	t.Helper()
	a := inst.Call(t, http.MethodGet, "/api/v1/tacit/experts?"+url.Values{"q": {q}}.Encode(), token, nil)
	if a.Code != http.StatusOK {
		t.Fatalf("experts %q: HTTP %d %s", q, a.Code, a.Body)
	}
	var out exAnswer
	if err := json.Unmarshal(a.Body, &out); err != nil {
		t.Fatalf("experts %q: %v\n%s", q, err, a.Body)
	}
	if out.Unanswered == nil || out.Experts == nil {
		t.Errorf("experts %q: lists must be [] rather than null: %s", q, a.Body)
	}
	for i, e := range out.Experts {
		if err := mastoschema.Validate("Account", e.Account); err != nil {
			t.Errorf("experts %q: account %d is not an Account: %v", q, i, err)
		}
		if e.Instance == "" || e.Score <= 0 {
			t.Errorf("experts %q: entry %d has instance %q score %v", q, i, e.Instance, e.Score)
		}
	}
	return out
}

// TestExpertsAcrossTheCompany: "who knows Kubernetes?" asked on instance C finds the
// declared expert of instance A first, by the word, a typo and a prefix, through the
// experts endpoint and people search; the evidence never shows a post the asker may
// not read; a stopped peer makes the answer smaller, not an error.
// expertsStory is what TestExpertsAcrossTheCompany's steps share: three instances
// a, b and c; kate on a, who knows Kubernetes, and colleagues who look for her.
type expertsStory struct {
	ctx                            context.Context
	insts                          []*instancetest.Instance
	a, b, c                        *instancetest.Instance
	kate, lou, mo, carl, dora, ned *instancetest.User
	kateHandle, moHandle           string
}

func TestExpertsAcrossTheCompany(t *testing.T) {
	t.Parallel()
	swDatabases(t, func(t *testing.T, opt instancetest.Options) {
		ctx := context.Background()
		opt.Configure = func(c *config.Config) {
			// Generous, so that first contacts (keys made and fetched) answer in time;
			// the deadline itself is TestExpertsDeadline's subject.
			c.Search.PeerTimeout = 10 * time.Second
			c.Search.DirectoryInterval = 0
		}
		insts := instancetest.StartCompany(t, 3, opt)
		a, b, c := insts[0], insts[1], insts[2]
		kate := a.CreateUser(t, "kate", instancetest.UserOptions{})
		lou := a.CreateUser(t, "lou", instancetest.UserOptions{})
		mo := b.CreateUser(t, "mo", instancetest.UserOptions{})
		carl := c.CreateUser(t, "carl", instancetest.UserOptions{})
		dora := c.CreateUser(t, "dora", instancetest.UserOptions{})
		ned := c.CreateUser(t, "ned", instancetest.UserOptions{})
		w := &expertsStory{ctx: ctx, insts: insts, a: a, b: b, c: c, kate: kate, lou: lou, mo: mo, carl: carl, dora: dora, ned: ned,
			kateHandle: "kate@" + a.Host(), moHandle: "mo@" + b.Host()}
		w.declareAndPost(t)
		w.rankFromC(t)
		w.peopleSearch(t)
		w.followersOnlyEvidence(t)
		w.peerStops(t)
	})
}

// Kate declares her expertise through Tacit's API.
func (w *expertsStory) declareAndPost(t *testing.T) {
	up := w.a.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", w.kate.Token,
		url.Values{"expertise[]": {"Kubernetes", "Site reliability", "kubernetes "}, "display_name": {"Kate"}})
	if up.Code != http.StatusOK {
		t.Fatalf("update_credentials: %d %s", up.Code, up.Body)
	}
	var cred struct {
		Source struct{ Expertise []string } `json:"source"`
		Tacit  struct{ Expertise []string } `json:"tacit"`
	}
	if err := json.Unmarshal(up.Body, &cred); err != nil {
		t.Fatal(err)
	}
	if want := []string{"Kubernetes", "Site reliability"}; !slices.Equal(cred.Source.Expertise, want) || !slices.Equal(cred.Tacit.Expertise, want) {
		t.Errorf("expertise after update: source %q, tacit %q, want %q", cred.Source.Expertise, cred.Tacit.Expertise, want)
	}

	w.a.PostStatus(t, w.kate.Token, url.Values{"status": {"How we run #kubernetes upgrades without downtime"}, "visibility": {"public"}})
	w.a.PostStatus(t, w.kate.Token, url.Values{"status": {"Kubernetes operators: a primer"}, "visibility": {"unlisted"}})
	w.a.PostStatus(t, w.kate.Token, url.Values{"status": {"Kubernetes secret migration plan, department eyes only"}, "scope": {"department"}})
	w.a.PostStatus(t, w.kate.Token, url.Values{"status": {"Kubernetes notes for my followers"}, "visibility": {"private"}})
	w.a.PostStatus(t, w.kate.Token, url.Values{"status": {"@lou kubernetes password rotation"}, "visibility": {"direct"}})
	w.a.PostStatus(t, w.lou.Token, url.Values{"status": {"Someone mentioned kubernetes at lunch"}})
	w.b.PostStatus(t, w.mo.Token, url.Values{"status": {"I heard about kubernetes today"}})
	w.c.PostStatus(t, w.ned.Token, url.Values{"status": {"Is kubernetes a kind of boat?"}})
	for _, inst := range w.insts {
		inst.SyncSearch(t)
	}
}

// From C: kate first, across three instances, whatever way the word is typed.
func (w *expertsStory) rankFromC(t *testing.T) {
	for _, q := range []string{"kubernetes", "Kubernetes", "kubernets", "kube"} {
		r := exExperts(t, w.c, w.carl.Token, q)
		if len(r.Experts) == 0 || r.acct(0) != w.kateHandle {
			t.Fatalf("experts %q from C: %v, want %s first", q, r.accts(), w.kateHandle)
		}
		if r.Experts[0].Instance != w.a.Host() || len(r.Unanswered) != 0 {
			t.Errorf("experts %q: instance %q, unanswered %v", q, r.Experts[0].Instance, r.Unanswered)
		}
	}
	r := exExperts(t, w.c, w.carl.Token, "kubernetes")
	if got := r.accts(); !slices.Contains(got, w.moHandle) || !slices.Contains(got, "lou@"+w.a.Host()) || !slices.Contains(got, "ned") {
		t.Errorf("those who mentioned it once are missing: %v", got)
	}
	for i := 1; i < len(r.Experts); i++ {
		if r.Experts[i].Score >= r.Experts[0].Score {
			t.Errorf("%s (%v) ranks with the declared expert (%v)", r.acct(i), r.Experts[i].Score, r.Experts[0].Score)
		}
	}
	var expertise, posts []string
	for _, ev := range r.Experts[0].Evidence {
		switch ev.Type {
		case "expertise":
			expertise = append(expertise, ev.Value)
		case "status":
			posts = append(posts, ev.Status.Content)
			if ev.Status.URI == "" || ev.Status.URL == nil || !strings.HasPrefix(ev.Status.URI, w.a.URL) {
				t.Errorf("evidence post without its address on A: %+v", ev.Status)
			}
		case "counts":
			if ev.Statuses == nil || *ev.Statuses != 2 {
				t.Errorf("kate's matching posts carl may read: %v, want 2", ev.Statuses)
			}
		}
	}
	if !slices.Equal(expertise, []string{"Kubernetes"}) || len(posts) != 2 {
		t.Errorf("kate's evidence: expertise %q, %d posts", expertise, len(posts))
	}
	for _, hidden := range []string{"department eyes only", "for my followers", "password rotation"} {
		if strings.Contains(r.contents(), hidden) {
			t.Errorf("carl sees a post he may not read (%q) in the evidence", hidden)
		}
	}
}

// People search from C finds her by what she knows, typos and prefixes included.
func (w *expertsStory) peopleSearch(t *testing.T) {
	for _, q := range []string{"kubernetes", "kubernets", "kube"} {
		sr := swMust(t, w.c, w.carl.Token, url.Values{"q": {q}, "type": {"accounts"}})
		if len(sr.Accounts) == 0 || sr.Accounts[0].Acct != w.kateHandle {
			t.Errorf("v2/search accounts %q from C: %v, want %s first", q, sr.accts(), w.kateHandle)
		}
	}
	found, err := w.c.Client(w.carl.Token).AccountsSearch(w.ctx, "kube", 5)
	if err != nil || len(found) == 0 || found[0].Acct != w.kateHandle {
		t.Errorf("accounts/search kube from C: %v %v", found, err)
	}
}

// Once carl follows kate, her followers-only post is evidence for him, and for
// him only.
func (w *expertsStory) followersOnlyEvidence(t *testing.T) {
	sr := swMust(t, w.c, w.carl.Token, url.Values{"q": {"@" + w.kateHandle}, "resolve": {"true"}})
	if len(sr.Accounts) != 1 {
		t.Fatalf("resolve kate from C: %v", sr.accts())
	}
	if _, err := w.c.Client(w.carl.Token).AccountFollow(w.ctx, mastodon.ID(sr.Accounts[0].ID)); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "A to accept carl's follow", func() bool {
		rels, err := w.c.Client(w.carl.Token).GetAccountRelationships(w.ctx, []string{sr.Accounts[0].ID})
		return err == nil && len(rels) == 1 && rels[0].Following
	})
	if got := exExperts(t, w.c, w.carl.Token, "kubernetes").contents(); !strings.Contains(got, "for my followers") {
		t.Errorf("carl follows kate but does not see her followers-only post as evidence:\n%s", got)
	}
	for _, who := range []*instancetest.User{w.dora} {
		got := exExperts(t, w.c, who.Token, "kubernetes")
		for _, hidden := range []string{"department eyes only", "for my followers", "password rotation"} {
			if strings.Contains(got.contents(), hidden) {
				t.Errorf("%s sees %q in the evidence", who.Account.Username, hidden)
			}
		}
	}
	// On A itself, a colleague reads the department post; the direct one stays
	// between kate and lou.
	onA := exExperts(t, w.a, w.lou.Token, "kubernetes")
	if !strings.Contains(onA.contents(), "department eyes only") {
		t.Errorf("a colleague on A does not see kate's department post as evidence")
	}
}

// B stops: C still answers, says B did not, and still knows kate.
func (w *expertsStory) peerStops(t *testing.T) {
	w.b.Server.Close()
	r := exExperts(t, w.c, w.carl.Token, "kubernetes")
	if !slices.Equal(r.Unanswered, []string{w.b.Host()}) {
		t.Errorf("unanswered with B stopped: %v, want [%s]", r.Unanswered, w.b.Host())
	}
	if len(r.Experts) == 0 || r.acct(0) != w.kateHandle {
		t.Errorf("with B stopped: %v", r.accts())
	}
	if sr := swMust(t, w.c, w.carl.Token, url.Values{"q": {"kube"}, "type": {"accounts"}}); len(sr.Accounts) == 0 || sr.Accounts[0].Acct != w.kateHandle {
		t.Errorf("people search with B stopped: %v", sr.accts())
	}
}

// TestExpertsDeadline: a peer that accepts connections and never answers costs the
// asker the deadline, not the answer.
func TestExpertsDeadline(t *testing.T) {
	t.Parallel()
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hang.Close() })
	go func() {
		var held []net.Conn
		for {
			conn, err := hang.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, conn) // read nothing, answer nothing
		}
	}()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(c *config.Config) {
		c.Federation.Peers = append(c.Federation.Peers, hang.Addr().String())
		c.Search.PeerTimeout = 300 * time.Millisecond
		c.Search.DirectoryInterval = 0
	}})
	a, b := insts[0], insts[1]
	ann := a.CreateUser(t, "ann", instancetest.UserOptions{})
	a.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", ann.Token, url.Values{"expertise[]": {"Erlang"}})
	bea := b.CreateUser(t, "bea", instancetest.UserOptions{})
	a.SyncSearch(t)
	eventually.Holds(t, "B to answer for ann", func() bool {
		r := exExperts(t, b, bea.Token, "erlang")
		return slices.Contains(r.accts(), "ann@"+a.Host())
	})
	r := exExperts(t, b, bea.Token, "erlang")
	if !slices.Contains(r.Unanswered, hang.Addr().String()) {
		t.Errorf("unanswered %v, want the silent peer %s", r.Unanswered, hang.Addr())
	}
}

// TestExpertiseAPI: expertise through update_credentials, in every shape clients send
// it, with Mastodon's errors, on both databases.
func TestExpertiseAPI(t *testing.T) {
	t.Parallel()
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		u := inst.CreateUser(t, "erin", instancetest.UserOptions{})
		get := func() []string {
			t.Helper()
			a := inst.Call(t, http.MethodGet, "/api/v1/accounts/"+string(accID(u.Account)), u.Token, nil)
			var acc struct{ Tacit struct{ Expertise []string } }
			if err := json.Unmarshal(a.Body, &acc); err != nil || acc.Tacit.Expertise == nil {
				t.Fatalf("account: %v %s", err, a.Body)
			}
			return acc.Tacit.Expertise
		}
		if got := get(); len(got) != 0 {
			t.Errorf("new account's expertise: %q", got)
		}
		for _, tc := range []struct {
			name string
			body any
			want []string
		}{
			{"form", url.Values{"expertise[]": {"PostgreSQL", "  query   tuning "}}, []string{"PostgreSQL", "query tuning"}},
			{"json", map[string]any{"expertise": []string{"Go", "go", "Rust"}}, []string{"Go", "Rust"}},
			{"indexed form", url.Values{"expertise[0]": {"A"}, "expertise[1]": {"B"}}, []string{"A", "B"}},
			{"other fields leave it alone", url.Values{"note": {"hello"}}, []string{"A", "B"}},
			{"cleared", url.Values{"expertise[]": {""}}, []string{}},
		} {
			a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", u.Token, tc.body)
			if a.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", tc.name, a.Code, a.Body)
			}
			if got := get(); !slices.Equal(got, tc.want) {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
		}
		many := url.Values{}
		for i := range 21 {
			many.Add("expertise[]", "topic "+string(rune('a'+i)))
		}
		a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", u.Token, many)
		a.WantError(t, "too many topics", http.StatusUnprocessableEntity, "Too many expertise topics")
		a = inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", u.Token,
			url.Values{"expertise[]": {strings.Repeat("x", 101)}})
		a.WantError(t, "too long", http.StatusUnprocessableEntity, "too long")
		me, err := inst.Client(u.Token).GetAccountCurrentUser(ctx)
		if err != nil {
			t.Fatalf("verify_credentials: %v", err)
		}
		if me.Username != "erin" {
			t.Errorf("verify_credentials: %+v", me)
		}

		// Featured tags and expertise profile fields count as expertise too.
		if _, err := inst.Client(u.Token).AccountUpdate(ctx, &mastodon.Profile{Fields: &[]mastodon.Field{{Name: "Ask me about", Value: "Terraform"}}}); err != nil {
			t.Fatal(err)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/featured_tags", u.Token, url.Values{"name": {"ansible"}}); a.Code != http.StatusOK {
			t.Fatalf("feature a tag: %d %s", a.Code, a.Body)
		}
		inst.SyncSearch(t)
		for q, kind := range map[string]string{"terraform": "profile_field", "ansible": "featured_tag"} {
			r := exExperts(t, inst, u.Token, q)
			if len(r.Experts) != 1 || r.acct(0) != "erin" {
				t.Fatalf("experts %q: %v", q, r.accts())
			}
			var kinds []string
			for _, ev := range r.Experts[0].Evidence {
				kinds = append(kinds, ev.Type)
			}
			if !slices.Contains(kinds, kind) {
				t.Errorf("experts %q: evidence %v, want %s", q, kinds, kind)
			}
		}

		// Errors.
		a = inst.Call(t, http.MethodGet, "/api/v1/tacit/experts", u.Token, nil)
		a.WantError(t, "no q", http.StatusBadRequest, "q")
		a = inst.Call(t, http.MethodGet, "/api/v1/tacit/experts?q=x&limit=many", u.Token, nil)
		a.WantError(t, "bad limit", http.StatusUnprocessableEntity, "limit")
		a = inst.Call(t, http.MethodGet, "/api/v1/tacit/experts?q=x", "", nil)
		a.WantError(t, "logged out", http.StatusUnauthorized, "")
	})
}

// TestDirectory: the people directory lists who opted into discovery, here or across
// the company, and peers' directories make every colleague known, even one who never
// posted, so that "who knows X?" finds them when their instance is down.
func TestDirectory(t *testing.T) {
	t.Parallel()
	swDatabases(t, func(t *testing.T, opt instancetest.Options) {
		ctx := context.Background()
		opt.Configure = func(c *config.Config) { c.Search.DirectoryInterval = 0 }
		insts := instancetest.StartCompany(t, 2, opt)
		a, c := insts[0], insts[1]
		quiet := a.CreateUser(t, "quiet", instancetest.UserOptions{})
		hidden := a.CreateUser(t, "hidden", instancetest.UserOptions{})
		carl := c.CreateUser(t, "carl", instancetest.UserOptions{})
		// Set directly, as an admin import would: no profile update federates it.
		topics := []string{"Erlang"}
		if _, _, err := a.Community.UpdateProfile(ctx, quiet.Account.ID, community.ProfileUpdate{Expertise: &topics}); err != nil {
			t.Fatal(err)
		}
		no := false
		if _, _, err := a.Community.UpdateProfile(ctx, hidden.Account.ID, community.ProfileUpdate{Discoverable: &no}); err != nil {
			t.Fatal(err)
		}
		if err := c.Federator.SyncDirectories(ctx); err != nil {
			t.Fatalf("pull A's directory: %v", err)
		}
		if _, err := c.Community.LookupAccount(ctx, "hidden@"+a.Host()); err != nil {
			t.Errorf("an undiscoverable colleague is still known to C: %v", err)
		}
		dir := func(inst *instancetest.Instance, q url.Values) []string {
			t.Helper()
			var list []struct{ Acct string }
			ans := inst.Call(t, http.MethodGet, "/api/v1/directory?"+q.Encode(), carl.Token, nil)
			if ans.Code != http.StatusOK || json.Unmarshal(ans.Body, &list) != nil {
				t.Fatalf("directory %v: %d %s", q, ans.Code, ans.Body)
			}
			out := []string{}
			for _, x := range list {
				out = append(out, x.Acct)
			}
			slices.Sort(out)
			return out
		}
		if got, want := dir(c, url.Values{}), []string{"carl", "quiet@" + a.Host()}; !slices.Equal(got, want) {
			t.Errorf("company directory on C: %v, want %v", got, want)
		}
		if got := dir(c, url.Values{"local": {"true"}}); !slices.Equal(got, []string{"carl"}) {
			t.Errorf("local directory on C: %v", got)
		}
		if got := dir(c, url.Values{"order": {"new"}, "limit": {"1"}}); len(got) != 1 {
			t.Errorf("limit=1: %v", got)
		}
		ans := c.Call(t, http.MethodGet, "/api/v1/directory?order=sideways", carl.Token, nil)
		ans.WantError(t, "bad order", http.StatusUnprocessableEntity, "order")

		c.SyncSearch(t)
		a.Server.Close()
		r := exExperts(t, c, carl.Token, "erlang")
		if !slices.Equal(r.accts(), []string{"quiet@" + a.Host()}) || !slices.Equal(r.Unanswered, []string{a.Host()}) {
			t.Errorf("with A down, C still knows who knows Erlang: %v, unanswered %v", r.accts(), r.Unanswered)
		}
	})
}
