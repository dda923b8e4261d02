package search_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/search"
	"github.com/tacit-social/tacit/store"
)

// Search benchmarks over a synthetic company: by default 100,000 people and 1,000,000
// posts on one instance, and the same split over five instances for the company-wide
// query. Building a corpus (database and index) takes minutes on two cores, so it is
// built once into a cache directory and reused by later runs:
//
//	go test ./search -run '^$' -bench . -benchtime=2000x -timeout 2h
//	go test ./search -run '^$' -bench . -search.people=10000 -search.posts=100000   # smaller
//
// The cache lives in $TACIT_BENCH_DIR (default: the system temp dir); delete it to
// rebuild. BenchmarkIndexBuild always indexes afresh and reports documents/s. The query
// benchmarks report wall-time percentiles per query (p50-ms, p99-ms). docs/performance.md
// has the figures.

var (
	benchPeople = flag.Int("search.people", 100_000, "people in the benchmark corpus")
	benchPosts  = flag.Int("search.posts", 1_000_000, "posts in the benchmark corpus")
)

const benchInstances = 5

// Vocabulary of the corpus: expertise topics, and a dictionary of made-up words with a
// Zipf-like use, so that the index has the term statistics of real text.
var benchTopics = []string{
	"kubernetes", "terraform", "postgres", "billing", "payroll", "onboarding", "security", "compliance",
	"observability", "networking", "react", "golang", "python", "rust", "kafka", "redis", "elasticsearch",
	"accessibility", "design", "pricing", "procurement", "contracts", "recruiting", "benefits", "forecasting",
	"marketing", "seo", "analytics", "datawarehouse", "machinelearning", "android", "ios", "testing", "ansible",
	"linux", "windows", "vpn", "identity", "oauth", "graphql", "grpc", "caching", "cdn", "dns", "storage",
	"backup", "incident", "oncall", "sla", "localization", "typography", "logistics", "warehouse", "invoicing",
	"tax", "audit", "legal", "privacy", "gdpr", "sales", "support", "training", "mentoring", "architecture",
}

var syllables = []string{"ka", "lo", "mi", "ne", "ru", "ta", "vi", "so", "de", "pa", "qui", "ber", "tan", "gor",
	"lin", "mas", "pe", "zu", "fa", "ho", "wen", "dri", "cal", "om", "ix"}

func word(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	return b.String()
}

type vocabulary struct {
	words  []string
	zipf   *rand.Zipf
	first  []string
	last   []string
	random *rand.Rand
}

func newVocabulary(seed uint64) *vocabulary {
	r := rand.New(rand.NewPCG(seed, 7))
	v := &vocabulary{random: r}
	seen := map[string]bool{}
	for len(v.words) < 30_000 {
		w := word(r, 2+r.IntN(3))
		if !seen[w] {
			seen[w] = true
			v.words = append(v.words, w)
		}
	}
	for range 800 {
		v.first = append(v.first, strings.ToUpper(word(r, 1)[:1])+word(r, 2)[1:])
	}
	for range 3000 {
		v.last = append(v.last, strings.ToUpper(word(r, 1)[:1])+word(r, 3)[1:])
	}
	v.zipf = rand.NewZipf(r, 1.1, 2, uint64(len(v.words)-1))
	return v
}

func (v *vocabulary) sentence(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = v.words[v.zipf.Uint64()]
	}
	return strings.Join(parts, " ")
}

// corpus is a database and an index of a synthetic department, cached on disk.
type corpus struct {
	dir    string
	db     *gorm.DB
	c      *community.Service
	viewer *community.Account
}

func cacheDir(b *testing.B, name string) string {
	root := os.Getenv("TACIT_BENCH_DIR")
	if root == "" {
		root = os.TempDir()
	}
	return filepath.Join(root, "tacit-search-bench-v1", name)
}

// openCorpus opens (building it first when missing) the corpus in dir: people and posts
// of one instance, with a viewer who follows 150 of them.
func openCorpus(b *testing.B, dir, host string, people, posts int, seed uint64) *corpus {
	b.Helper()
	ctx := context.Background()
	ready := filepath.Join(dir, "READY")
	_, err := os.Stat(ready)
	built := err == nil
	if !built {
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := store.Open(ctx, "", filepath.Join(dir, "tacit.db"), quiet)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close(db) })
	co := &corpus{dir: dir, db: db, c: community.NewService(db, community.Options{Host: host, BaseURL: "http://" + host})}
	if !built {
		start := time.Now()
		fillCorpus(b, co, people, posts, seed)
		b.Logf("corpus %s: %d people, %d posts stored in %s", filepath.Base(dir), people, posts, time.Since(start).Round(time.Second))
		ix, err := search.Open(filepath.Join(dir, "index"))
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		if err := search.Build(ctx, ix, co.c, nil); err != nil {
			b.Fatal(err)
		}
		b.Logf("corpus %s indexed in %s", filepath.Base(dir), time.Since(start).Round(time.Second))
		if err := ix.Compact(ctx); err != nil {
			b.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(ready, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	viewer, err := co.c.LocalAccount(ctx, "viewer")
	if err != nil {
		b.Fatal(err)
	}
	co.viewer = viewer
	return co
}

// fillCorpus writes the synthetic rows straight into the database, in big batches: the
// domain's one-post-at-a-time path would take hours for a million posts, and what is
// measured here is search.
func fillCorpus(b *testing.B, co *corpus, people, posts int, seed uint64) {
	b.Helper()
	v := newVocabulary(seed)
	r := v.random
	now := time.Now().UTC().Truncate(time.Microsecond)
	base := "http://" + co.c.Host()
	accounts := make([]community.Account, 0, people+1)
	add := func(username, display string, expertise community.Topics, note string) {
		id := community.NewID()
		accounts = append(accounts, community.Account{
			ID: id, Username: username, DisplayName: display, Note: "<p>" + note + "</p>", Fields: community.Fields{},
			Expertise: expertise, Discoverable: true, URI: base + "/users/" + username, URL: base + "/@" + username,
			InboxURL: base + "/users/" + username + "/inbox", CreatedAt: now, UpdatedAt: now,
			FollowersCount: int64(r.IntN(200)),
		})
	}
	add("viewer", "The Viewer", community.Topics{}, "")
	for i := range people {
		first, last := v.first[r.IntN(len(v.first))], v.last[r.IntN(len(v.last))]
		topics := community.Topics{}
		if r.IntN(10) < 3 {
			for range 1 + r.IntN(3) {
				topics = append(topics, benchTopics[r.IntN(len(benchTopics))])
			}
		}
		add(fmt.Sprintf("%s_%s%d", strings.ToLower(first), strings.ToLower(last), i), first+" "+last, topics, v.sentence(8))
	}
	insert(b, co.db, accounts, 500)

	tags := make([]community.Tag, len(benchTopics))
	for i, name := range benchTopics {
		tags[i] = community.Tag{ID: community.NewID(), Name: name, CreatedAt: now}
	}
	insert(b, co.db, tags, 500)

	// The viewer follows 150 people, and 5 people block the viewer.
	var follows []community.Follow
	var blocks []community.Block
	for i := 1; i <= 155; i++ {
		target := accounts[1+r.IntN(people)].ID
		if i <= 150 {
			follows = append(follows, community.Follow{ID: community.NewID(), AccountID: accounts[0].ID, TargetAccountID: target, ShowReblogs: true, CreatedAt: now})
		} else {
			blocks = append(blocks, community.Block{ID: community.NewID(), AccountID: target, TargetAccountID: accounts[0].ID, CreatedAt: now})
		}
	}
	insert(b, co.db, uniqueBy(follows, func(f community.Follow) int64 { return f.TargetAccountID }), 500)
	insert(b, co.db, uniqueBy(blocks, func(x community.Block) int64 { return x.AccountID }), 500)

	const chunk = 20_000
	authors := rand.NewZipf(r, 1.2, 4, uint64(people-1))
	start := now.Add(-365 * 24 * time.Hour)
	for done := 0; done < posts; done += chunk {
		n := min(chunk, posts-done)
		statuses := make([]community.Status, 0, n)
		var links []community.StatusTag
		for i := range n {
			author := accounts[1+int(authors.Uint64())]
			at := start.Add(time.Duration(float64(365*24*time.Hour) * float64(done+i) / float64(posts)))
			id := community.IDForTime(at)
			text := v.sentence(8 + r.IntN(25))
			if r.IntN(10) < 3 {
				text += " " + benchTopics[r.IntN(len(benchTopics))]
			}
			if len(author.Expertise) > 0 && r.IntN(3) == 0 {
				text += " " + author.Expertise[0]
			}
			if r.IntN(5) == 0 {
				t := r.IntN(len(tags))
				text += " #" + tags[t].Name
				links = append(links, community.StatusTag{StatusID: id, TagID: tags[t].ID})
			}
			vis, sc := community.VisibilityPublic, community.ScopeCompany
			switch x := r.IntN(100); {
			case x < 15:
				vis = community.VisibilityUnlisted
			case x < 25:
				vis = community.VisibilityPrivate
			case x < 28:
				vis = community.VisibilityDirect
			}
			switch x := r.IntN(100); {
			case x < 20:
				sc = community.ScopeWorld
			case x < 30:
				sc = community.ScopeDepartment
			}
			statuses = append(statuses, community.Status{
				ID: id, AccountID: author.ID, URI: fmt.Sprintf("%s/users/%s/statuses/%d", base, author.Username, id),
				URL: fmt.Sprintf("%s/@%s/%d", base, author.Username, id), Text: text, Content: "<p>" + text + "</p>",
				Visibility: vis, Scope: sc, Local: true, FavouritesCount: int64(r.IntN(4) * r.IntN(4)),
				CreatedAt: at, UpdatedAt: at,
			})
		}
		insert(b, co.db, statuses, 1000)
		insert(b, co.db, links, 2000)
	}
}

func uniqueBy[T any](list []T, key func(T) int64) []T {
	seen := map[int64]bool{}
	return slices.DeleteFunc(list, func(x T) bool {
		k := key(x)
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	})
}

func insert[T any](b *testing.B, db *gorm.DB, rows []T, batch int) {
	b.Helper()
	if len(rows) == 0 {
		return
	}
	if err := db.Transaction(func(tx *gorm.DB) error { return tx.CreateInBatches(rows, batch).Error }); err != nil {
		b.Fatal(err)
	}
}

func benchCorpus(b *testing.B) *corpus {
	name := fmt.Sprintf("one-%d-%d", *benchPeople, *benchPosts)
	return openCorpus(b, cacheDir(b, name), "search.example", *benchPeople, *benchPosts, 1)
}

// percentiles runs query b.N times and reports the median and 99th percentile of wall
// time, and the CPU time this process spent per query (user + system: the cost of a
// query whatever else the machine is doing; with the five instances of the company
// benchmark in this process, all of theirs).
func percentiles(b *testing.B, query func(i int)) {
	b.Helper()
	times := make([]time.Duration, 0, b.N)
	cpu := processCPU(b)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		query(i)
		times = append(times, time.Since(start))
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
	slices.Sort(times)
	at := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkIndexBuild indexes the whole corpus from its database into a fresh index,
// as `tacit admin reindex` does, and reports documents per second.
func BenchmarkIndexBuild(b *testing.B) {
	co := benchCorpus(b)
	ctx := context.Background()
	for range b.N {
		dir := filepath.Join(b.TempDir(), "index")
		ix, err := search.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		var total int64
		start := time.Now()
		if err := search.Build(ctx, ix, co.c, func(done, all int64) { total = all }); err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.ReportMetric(float64(total)/took.Seconds(), "docs/s")
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// searcher opens the corpus's index for queries (no indexer: it does not change).
func (co *corpus) searcher(b *testing.B) *search.Searcher {
	ix, err := search.Open(filepath.Join(co.dir, "index"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ix.Close() })
	if !ix.Complete() {
		// Cached under an older mapping: Open started it afresh.
		start := time.Now()
		if err := search.Build(context.Background(), ix, co.c, nil); err != nil {
			b.Fatal(err)
		}
		b.Logf("corpus %s indexed again (new mapping) in %s", filepath.Base(co.dir), time.Since(start).Round(time.Second))
	}
	// Measured on a merged index, as a server runs after the first minutes.
	start := time.Now()
	if err := ix.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Logf("corpus %s compacted in %s", filepath.Base(co.dir), time.Since(start).Round(time.Second))
	return search.NewSearcher(search.Options{Index: ix, Community: co.c})
}

// peopleQueries are what people type looking for someone: a topic, a topic with a typo,
// the start of a name, a full name.
func peopleQueries(v *vocabulary) []string {
	var qs []string
	for i := range 500 {
		switch i % 4 {
		case 0:
			qs = append(qs, benchTopics[i%len(benchTopics)])
		case 1:
			t := benchTopics[i%len(benchTopics)]
			if len(t) > 5 {
				t = t[:2] + t[3:] // a letter missed
			}
			qs = append(qs, t)
		case 2:
			qs = append(qs, strings.ToLower(v.first[i%len(v.first)][:3]))
		case 3:
			qs = append(qs, v.first[i%len(v.first)]+" "+v.last[i%len(v.last)][:4])
		}
	}
	return qs
}

func BenchmarkQueryPeople(b *testing.B) {
	co := benchCorpus(b)
	s := co.searcher(b)
	qs := peopleQueries(newVocabulary(1))
	ctx := context.Background()
	percentiles(b, func(i int) {
		if _, err := s.Accounts(ctx, search.AccountQuery{Text: qs[i%len(qs)], Viewer: community.AsAccount(co.viewer), Limit: 20}); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkQueryPosts(b *testing.B) {
	co := benchCorpus(b)
	s := co.searcher(b)
	v := newVocabulary(1)
	var qs []string
	for i := range 500 {
		if i%2 == 0 {
			qs = append(qs, benchTopics[i%len(benchTopics)])
		} else {
			qs = append(qs, v.words[50+i*7]) // a word of middling frequency
		}
	}
	ctx := context.Background()
	percentiles(b, func(i int) {
		if _, err := s.Statuses(ctx, search.StatusQuery{Text: qs[i%len(qs)], Viewer: community.AsAccount(co.viewer), Limit: 20}); err != nil {
			b.Fatal(err)
		}
	})
}

func BenchmarkQueryExpertsLocal(b *testing.B) {
	co := benchCorpus(b)
	s := co.searcher(b)
	ctx := context.Background()
	percentiles(b, func(i int) {
		if _, err := s.LocalExperts(ctx, community.AsAccount(co.viewer), benchTopics[i%len(benchTopics)], 10, false); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkQueryExpertsCompany asks "who knows X?" over HTTP on the first of five
// instances on loopback, each holding a fifth of the corpus: the query fans out to the
// four others (signed requests, their own searches and visibility checks) and merges.
func BenchmarkQueryExpertsCompany(b *testing.B) {
	people, posts := *benchPeople/benchInstances, *benchPosts/benchInstances
	dirs := make([]string, benchInstances)
	for i := range dirs {
		dirs[i] = cacheDir(b, fmt.Sprintf("company%d-%d-%d", i, people, posts))
		// Built under a placeholder host; the instances serve it under their own.
		co := openCorpus(b, dirs[i], fmt.Sprintf("dept%d.example", i), people, posts, uint64(10+i))
		sqlDB, _ := co.db.DB()
		_ = sqlDB.Close()
	}
	n := 0
	insts := instancetest.StartCompany(b, benchInstances, instancetest.Options{Configure: func(c *config.Config) {
		c.DataDir = dirs[n]
		n++
		c.Search.PeerTimeout = 10 * time.Second
		c.Search.DirectoryInterval = 0
	}})
	// The corpora were written under placeholder hosts; ids and addresses must name the
	// instances' real ones, which change from run to run.
	for i, inst := range insts {
		hostFile := filepath.Join(dirs[i], "HOST")
		old := fmt.Sprintf("http://dept%d.example", i)
		if raw, err := os.ReadFile(hostFile); err == nil {
			old = string(raw)
		}
		for _, stmt := range []string{
			"UPDATE accounts SET uri = replace(uri, @old, @new), url = replace(url, @old, @new), inbox_url = replace(inbox_url, @old, @new) WHERE domain = ''",
			"UPDATE statuses SET uri = replace(uri, @old, @new), url = replace(url, @old, @new)",
		} {
			if err := inst.DB.Exec(stmt, map[string]any{"old": old, "new": inst.URL}).Error; err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(hostFile, []byte(inst.URL), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	// An index of an older mapping is rebuilt first, which takes a while.
	for _, inst := range insts {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		for {
			err := inst.Indexer.Sync(ctx)
			if err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := inst.Index.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	asker := insts[0].CreateUser(b, fmt.Sprintf("asker%d", time.Now().UnixNano()%1e6), instancetest.UserOptions{})
	client := &http.Client{Timeout: 30 * time.Second}
	ask := func(q string) int {
		req, _ := http.NewRequest(http.MethodGet, insts[0].URL+"/api/v1/tacit/experts?"+url.Values{"q": {q}}.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+asker.Token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Experts    []json.RawMessage
			Unanswered []string
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("experts: %d %v", resp.StatusCode, err)
		}
		return len(out.Unanswered)
	}
	// First contacts: keys are made and fetched.
	ask("warmup")
	unanswered := 0
	percentiles(b, func(i int) { unanswered += ask(benchTopics[i%len(benchTopics)]) })
	b.ReportMetric(float64(unanswered)/float64(b.N), "unanswered/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
