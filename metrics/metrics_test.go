package metrics_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/metrics"
	"github.com/tacit-social/tacit/store/storetest"
)

// families is one scrape, parsed.
type families map[string]*dto.MetricFamily

// scrape fetches and parses inst's /metrics with Prometheus' own text parser.
func scrape(t *testing.T, inst *instancetest.Instance, token string) families {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, inst.URL+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	return fams
}

// value adds up the samples of name whose labels include want: a counter's or
// gauge's value, a histogram's count of observations.
func (f families) value(name string, want map[string]string) float64 {
	fam := f[name]
	if fam == nil {
		return 0
	}
	var sum float64
	for _, m := range fam.Metric {
		if !hasLabels(m, want) {
			continue
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

// has reports whether name has a series with the labels in want.
func (f families) has(name string, want map[string]string) bool {
	fam := f[name]
	if fam == nil {
		return false
	}
	for _, m := range fam.Metric {
		if hasLabels(m, want) {
			return true
		}
	}
	return false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.Label {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

type labels = map[string]string

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 32, 24))
	for x := range 32 {
		for y := range 24 {
			img.Set(x, y, color.RGBA{uint8(x * 8), uint8(y * 10), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func withMetrics(c *config.Config) { c.Metrics.OnListen = true }

// TestMetricsMoveUnderWorkload drives two federating instances through the client API
// and federation, and checks that every family moved by exactly what was done.
func TestMetricsMoveUnderWorkload(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		if storetest.PostgresByDefault() {
			t.Skipf("%s=postgres", storetest.EnvDatabase)
		}
		workload(t, instancetest.Options{Configure: withMetrics})
	})
	t.Run("postgres", func(t *testing.T) {
		storetest.PostgresURL(t) // skips when PostgreSQL is not configured
		workload(t, instancetest.Options{Configure: withMetrics, Postgres: true})
	})
}

func workload(t *testing.T, opt instancetest.Options) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, opt)
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	b.CreateUser(t, "bob", instancetest.UserOptions{})
	client := a.Client(alice.Token)
	before := scrape(t, a, "")

	// Client API: statuses posted, a route with a parameter, a page that does not exist.
	const posts = 3
	for i := range posts {
		if _, err := client.PostStatus(ctx, &mastodon.Toot{Status: "Release notes #" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.GetAccount(ctx, mastodon.ID(community.FormatID(alice.Account.ID))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/no/such/page/1", "/no/such/page/2"} {
		resp, err := http.Get(a.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// A picture, and a file that is none.
	if _, err := client.UploadMediaFromBytes(ctx, pngBytes(t)); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if _, err := client.UploadMediaFromBytes(ctx, []byte("not a picture")); err == nil {
		t.Fatal("an upload that is no picture was accepted")
	}
	// A search, once the index holds the posts.
	a.SyncSearch(t)
	if _, err := client.Search(ctx, "release", false); err != nil {
		t.Fatalf("search: %v", err)
	}
	// An unsigned delivery to the inbox.
	resp, err := http.Post(a.URL+"/inbox", "application/activity+json", strings.NewReader(`{"type":"Follow"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned delivery: %s, want 401", resp.Status)
	}
	// Federation: alice follows bob on B (a Follow delivered to B, an Accept received).
	bobOnA, err := a.Federator.ResolveAccount(ctx, "bob@"+b.Host())
	if err != nil {
		t.Fatalf("resolve bob: %v", err)
	}
	if _, err := client.AccountFollow(ctx, mastodon.ID(community.FormatID(bobOnA.ID))); err != nil {
		t.Fatal(err)
	}
	// A streaming connection held open.
	streamCtx, closeStream := context.WithCancel(ctx)
	defer closeStream()
	if _, err := client.StreamingUser(streamCtx); err != nil {
		t.Fatalf("streaming: %v", err)
	}

	var after families
	eventually.Holds(t, "the follow delivered, the Accept received and the stream open", func() bool {
		after = scrape(t, a, "")
		return after.value("tacit_federation_jobs_total", labels{"kind": "deliver", "peer": b.Host(), "outcome": "ok"}) >= 1 &&
			after.value("tacit_federation_jobs_total", labels{"kind": "inbox", "peer": b.Host(), "outcome": "ok"}) >= 1 &&
			after.value("tacit_streaming_connections", nil) == 1
	})
	diff := func(name string, l labels) float64 { return after.value(name, l) - before.value(name, l) }

	checks := []struct {
		what    string
		got     float64
		want    float64
		atLeast bool
	}{
		{"POST /api/v1/statuses 200", diff("tacit_http_requests_total", labels{"method": "POST", "route": "/api/v1/statuses", "status": "200"}), posts, false},
		{"POST /api/v1/statuses latency observations", diff("tacit_http_request_duration_seconds", labels{"method": "POST", "route": "/api/v1/statuses"}), posts, false},
		{"GET /api/v1/accounts/:id by its template", diff("tacit_http_requests_total", labels{"method": "GET", "route": "/api/v1/accounts/:id", "status": "200"}), 1, false},
		{"unmatched 404s", diff("tacit_http_requests_total", labels{"route": metrics.UnmatchedRoute, "status": "404"}), 2, false},
		{"unsigned inbox delivery", diff("tacit_federation_signature_failures_total", labels{"reason": "missing"}), 1, false},
		{"pictures processed", diff("tacit_media_processing_duration_seconds", labels{"kind": "attachment", "outcome": "ok"}), 1, false},
		{"pictures refused", diff("tacit_media_processing_duration_seconds", labels{"kind": "attachment", "outcome": "error"}), 1, false},
		{"account searches", diff("tacit_search_query_duration_seconds", labels{"kind": "accounts"}), 1, false},
		{"status searches", diff("tacit_search_query_duration_seconds", labels{"kind": "statuses"}), 1, false},
		{"index lag observations", diff("tacit_search_index_lag_seconds", nil), 1, true},
		{"deliveries to B", diff("tacit_federation_job_duration_seconds", labels{"kind": "deliver", "peer": b.Host()}), 1, true},
	}
	for _, c := range checks {
		if (c.atLeast && c.got < c.want) || (!c.atLeast && c.got != c.want) {
			t.Errorf("%s moved by %v, want %v", c.what, c.got, c.want)
		}
	}
	checkScrapeTimeFigures(t, after, b.Host())
	// No raw path became a label.
	for _, m := range after["tacit_http_requests_total"].Metric {
		for _, l := range m.Label {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), "/no/such") {
				t.Errorf("raw path %q used as a route label", l.GetValue())
			}
		}
	}
	checkDocumented(t, after)
	closeStream()
	eventually.Holds(t, "the stream counted closed", func() bool {
		return scrape(t, a, "").value("tacit_streaming_connections", nil) == 0
	})
}

// checkScrapeTimeFigures: the figures read when scraped (the queue towards peer, dead
// letters, the pool, the runtime) are there.
func checkScrapeTimeFigures(t *testing.T, after families, peer string) {
	t.Helper()
	for _, s := range []struct {
		name string
		l    labels
	}{
		{"tacit_federation_queue_jobs", labels{"peer": peer, "state": "queued"}},
		{"tacit_federation_queue_jobs", labels{"peer": peer, "state": "running"}},
		{"tacit_federation_queue_oldest_seconds", labels{"peer": peer}},
		{"tacit_federation_dead_letters", labels{"peer": peer}},
		{"tacit_federation_peer_consecutive_failures", labels{"peer": peer}},
		{"tacit_search_index_pending_changes", nil},
		{"go_sql_wait_count_total", labels{"db_name": "main"}},
		{"go_sql_wait_duration_seconds_total", labels{"db_name": "main"}},
		{"go_sql_open_connections", labels{"db_name": "main"}},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
	} {
		if !after.has(s.name, s.l) {
			t.Errorf("no %s%v", s.name, s.l)
		}
	}
}

// TestMetricsToken: with a token, /metrics answers only the scraper that has it.
func TestMetricsToken(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.Metrics.OnListen = true
		c.Metrics.Token = "scrape-secret"
	}})
	for _, auth := range []string{"", "Bearer wrong", "Basic c2NyYXBlLXNlY3JldA=="} {
		req, _ := http.NewRequest(http.MethodGet, inst.URL+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %s, want 401", auth, resp.Status)
		}
	}
	if f := scrape(t, inst, "scrape-secret"); f["go_goroutines"] == nil {
		t.Error("the scrape with the token has no runtime figures")
	}
}

// TestMetricsOff: by default /metrics is served nowhere on the public listener.
func TestMetricsOff(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	resp, err := http.Get(inst.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics: %s, want 404", resp.Status)
	}
}

// TestPeerLabelsBounded: hosts outside the company share one label, whatever their
// number, and each instance's figures stay its own.
func TestPeerLabelsBounded(t *testing.T) {
	m := metrics.New(metrics.Options{IsPeer: func(h string) bool { return h == "sales.example" }})
	other := metrics.New(metrics.Options{})
	for i := range 50 {
		m.ObserveJob("deliver", "host"+string(rune('a'+i%26))+".example", "ok", time.Millisecond)
	}
	m.ObserveJob("deliver", "sales.example", "retry", time.Second)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := families{}
	for _, f := range fams {
		got[f.GetName()] = f
	}
	if n := got.value("tacit_federation_jobs_total", labels{"peer": metrics.OtherHost, "outcome": "ok"}); n != 50 {
		t.Errorf("other hosts: %v, want 50", n)
	}
	if n := got.value("tacit_federation_jobs_total", labels{"peer": "sales.example", "outcome": "retry"}); n != 1 {
		t.Errorf("the peer: %v, want 1", n)
	}
	if series := len(got["tacit_federation_jobs_total"].Metric); series != 2 {
		t.Errorf("%d series, want 2", series)
	}
	otherFams, _ := other.Registry().Gather()
	for _, f := range otherFams {
		if f.GetName() == "tacit_federation_jobs_total" && len(f.Metric) > 0 {
			t.Error("another instance's registry saw these jobs")
		}
	}
}

// checkDocumented: every metric the dashboard and docs/metrics.md name is exported, and
// every tacit_ metric exported is documented.
func checkDocumented(t *testing.T, scraped families) {
	t.Helper()
	names := regexp.MustCompile(`\b(?:tacit|go_sql|go|process)_[a-z_]+`)
	for _, file := range []string{"../docs/grafana-dashboard.json", "../docs/metrics.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names.FindAllString(string(data), -1) {
			base := name
			for _, suffix := range []string{"_bucket", "_count", "_sum"} {
				if trimmed, ok := strings.CutSuffix(name, suffix); ok && scraped[trimmed] != nil {
					base = trimmed
				}
			}
			if scraped[base] == nil && !strings.HasSuffix(name, "_") {
				t.Errorf("%s names %s, which is not exported", file, name)
			}
		}
		if file == "../docs/metrics.md" {
			for name := range scraped {
				if strings.HasPrefix(name, "tacit_") && !strings.Contains(string(data), "`"+name+"`") {
					t.Errorf("%s is not documented in %s", name, file)
				}
			}
		}
	}
}
