// Package load drives a Tacit instance with many concurrent Mastodon API clients and
// reports throughput, latency percentiles and errors. It reproduces the mix that
// exposed SQLite's lock cycle: 40 % of requests post a status, 40 % read the home
// timeline or the notifications (half each), 20 % favourite a recent status.
//
// It is bounded in time (Config.Duration) and in count (Config.MaxRequests), and is
// meant for loopback only: Run refuses a target that is not a loopback address.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// User is an account the clients act as.
type User struct {
	AccountID string // the account's API id
	Token     string // a bearer token with read and write scopes
}

// Config describes one run.
type Config struct {
	// BaseURL is the instance, e.g. http://127.0.0.1:8080. It must be a loopback
	// address.
	BaseURL string
	// Users are shared round-robin by the clients; at least one.
	Users []User
	// Clients is the number of concurrent clients (default 200).
	Clients int
	// Duration bounds the run (default 60 s). Requests in flight at the end are
	// waited for and counted.
	Duration time.Duration
	// MaxRequests, when positive, also bounds the number of requests started.
	MaxRequests int64
	// Timeout bounds one request (default 30 s); a timed-out request counts as an
	// error.
	Timeout time.Duration
	// Seed makes the choice of operations reproducible (0 picks one at random).
	Seed uint64
}

// Operation names, as they appear in a Report.
const (
	OpPost          = "post"
	OpHome          = "home"
	OpNotifications = "notifications"
	OpFavourite     = "favourite"

	opWarmUp = "warm-up" // posts before the run, not reported
)

// Report is the outcome of a run.
type Report struct {
	Clients  int
	Elapsed  time.Duration // from the first request to the last answer
	Requests int64         // answered or failed
	// ByStatus counts answers by HTTP status; transport failures (timeouts, refused
	// connections) are counted under 0.
	ByStatus map[int]int64
	// Locked counts answers whose body mentions "database is locked".
	Locked int64
	// Failures holds up to ten examples of failed requests, for the log.
	Failures []string
	// Ops holds per-operation latency.
	Ops map[string]*OpStats
	// All is the latency over every request.
	All *OpStats
}

// OpStats summarises the latency of one kind of request.
type OpStats struct {
	Count int64
	P50   time.Duration
	P99   time.Duration
	Max   time.Duration
}

// Throughput is requests answered per second.
func (r *Report) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// ServerErrors is the number of 5xx answers.
func (r *Report) ServerErrors() int64 {
	var n int64
	for code, c := range r.ByStatus {
		if code >= 500 {
			n += c
		}
	}
	return n
}

// Errors is the number of requests that did not succeed (any status other than 2xx,
// including transport failures).
func (r *Report) Errors() int64 {
	var n int64
	for code, c := range r.ByStatus {
		if code < 200 || code > 299 {
			n += c
		}
	}
	return n
}

// String renders the report for a terminal or a log.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clients %d, %d requests in %.1fs: %.0f requests/s; p50 %s, p99 %s, max %s\n",
		r.Clients, r.Requests, r.Elapsed.Seconds(), r.Throughput(),
		round(r.All.P50), round(r.All.P99), round(r.All.Max))
	for _, op := range []string{OpPost, OpHome, OpNotifications, OpFavourite} {
		s := r.Ops[op]
		if s == nil {
			continue
		}
		fmt.Fprintf(&b, "  %-13s %7d  p50 %-9s p99 %-9s max %s\n", op, s.Count, round(s.P50), round(s.P99), round(s.Max))
	}
	codes := make([]int, 0, len(r.ByStatus))
	for code := range r.ByStatus {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	b.WriteString("  status:")
	for _, code := range codes {
		name := strconv.Itoa(code)
		if code == 0 {
			name = "transport-error"
		}
		fmt.Fprintf(&b, " %s=%d", name, r.ByStatus[code])
	}
	fmt.Fprintf(&b, "; \"database is locked\": %d\n", r.Locked)
	for _, f := range r.Failures {
		fmt.Fprintf(&b, "  failure: %s\n", f)
	}
	return b.String()
}

func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}

// Run drives cfg.BaseURL with cfg.Clients concurrent clients until cfg.Duration has
// passed, cfg.MaxRequests have been started, or ctx ends.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := checkLoopback(cfg.BaseURL); err != nil {
		return nil, err
	}
	if len(cfg.Users) == 0 {
		return nil, errors.New("load: no users")
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 200
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 60 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}

	transport := &http.Transport{
		MaxIdleConns:        cfg.Clients,
		MaxIdleConnsPerHost: cfg.Clients,
		IdleConnTimeout:     90 * time.Second,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: cfg.Timeout}

	r := &runner{cfg: cfg, client: client, base: strings.TrimSuffix(cfg.BaseURL, "/"),
		byStatus: map[int]int64{}, samples: map[string][]time.Duration{}}

	// One status per user first, not counted, so that favourites have something to
	// favourite from the first second on.
	for _, u := range cfg.Users {
		r.do(ctx, u, opWarmUp, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"load test warm-up"}})
	}
	if n := r.byStatus[http.StatusOK]; n < int64(len(cfg.Users)) {
		return nil, fmt.Errorf("load: warm-up posts: %d of %d succeeded: %v", n, len(cfg.Users), r.failures)
	}
	r.byStatus, r.samples, r.failures = map[int]int64{}, map[string][]time.Duration{}, nil

	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range cfg.Clients {
		user := cfg.Users[i%len(cfg.Users)]
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		wg.Go(func() { r.loop(runCtx, ctx, user, rng) })
	}
	wg.Wait()
	return r.report(time.Since(start)), nil
}

// checkLoopback refuses a target that is not on this machine.
func checkLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("load: base URL %q is not an http(s) URL", base)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("load: %s is not a loopback address; this tool only loads this machine", host)
	}
	return nil
}

type runner struct {
	cfg    Config
	client *http.Client
	base   string

	started atomic.Int64

	mu       sync.Mutex
	byStatus map[int]int64
	locked   int64
	failures []string
	samples  map[string][]time.Duration
	recent   [256]string // ids of recently posted statuses, a ring
	next     int
}

// loop is one client's loop. runCtx ends the issuing of new requests; reqCtx (the
// caller's) bounds requests in flight, so that the answer to a request started
// before the deadline is still counted.
func (r *runner) loop(runCtx, reqCtx context.Context, u User, rng *rand.Rand) {
	for runCtx.Err() == nil {
		if r.cfg.MaxRequests > 0 && r.started.Add(1) > r.cfg.MaxRequests {
			return
		}
		var (
			op, method, path string
			form             url.Values
		)
		switch p := rng.IntN(100); {
		case p < 40:
			op, method, path = OpPost, http.MethodPost, "/api/v1/statuses"
			form = url.Values{"status": {fmt.Sprintf("load test post %d #load", rng.Uint32())}}
		case p < 60:
			op, method, path = OpHome, http.MethodGet, "/api/v1/timelines/home?limit=20"
		case p < 80:
			op, method, path = OpNotifications, http.MethodGet, "/api/v1/notifications?limit=20"
		default:
			id := r.recentStatus(rng)
			if id == "" {
				op, method, path = OpHome, http.MethodGet, "/api/v1/timelines/home?limit=20"
				break
			}
			op, method, path = OpFavourite, http.MethodPost, "/api/v1/statuses/"+id+"/favourite"
		}
		r.do(reqCtx, u, op, method, path, form)
	}
}

func (r *runner) do(ctx context.Context, u User, op, method, path string, form url.Values) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, body)
	if err != nil {
		r.record(op, 0, 0, fmt.Sprintf("%s %s: %v", method, path, err), false)
		return
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "Bearer "+u.Token)
	begin := time.Now()
	resp, err := r.client.Do(req)
	if err != nil {
		r.record(op, time.Since(begin), 0, fmt.Sprintf("%s %s: %v", method, path, err), false)
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	_ = resp.Body.Close()
	elapsed := time.Since(begin)
	if err != nil {
		r.record(op, elapsed, 0, fmt.Sprintf("%s %s: read answer: %v", method, path, err), false)
		return
	}
	locked := strings.Contains(strings.ToLower(string(data)), "database is locked")
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.record(op, elapsed, resp.StatusCode,
			fmt.Sprintf("%s %s: HTTP %d after %s: %.200s", method, path, resp.StatusCode, round(elapsed), data), locked)
		return
	}
	if op == OpPost || op == opWarmUp {
		var st struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(data, &st) == nil && st.ID != "" {
			r.remember(st.ID)
		}
	}
	r.record(op, elapsed, resp.StatusCode, "", locked)
}

func (r *runner) record(op string, elapsed time.Duration, code int, failure string, locked bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byStatus[code]++
	r.samples[op] = append(r.samples[op], elapsed)
	if locked {
		r.locked++
	}
	if failure != "" && len(r.failures) < 10 {
		r.failures = append(r.failures, failure)
	}
}

func (r *runner) remember(id string) {
	r.mu.Lock()
	r.recent[r.next%len(r.recent)] = id
	r.next++
	r.mu.Unlock()
}

func (r *runner) recentStatus(rng *rand.Rand) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(r.next, len(r.recent))
	if n == 0 {
		return ""
	}
	return r.recent[rng.IntN(n)]
}

func (r *runner) report(elapsed time.Duration) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &Report{Clients: r.cfg.Clients, Elapsed: elapsed, ByStatus: r.byStatus, Locked: r.locked,
		Failures: r.failures, Ops: map[string]*OpStats{}}
	var all []time.Duration
	for op, s := range r.samples {
		rep.Ops[op] = summarise(s)
		rep.Requests += int64(len(s))
		all = append(all, s...)
	}
	rep.All = summarise(all)
	return rep
}

func summarise(s []time.Duration) *OpStats {
	st := &OpStats{Count: int64(len(s))}
	if len(s) == 0 {
		return st
	}
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	st.P50, st.P99, st.Max = at(0.50), at(0.99), s[len(s)-1]
	return st
}
