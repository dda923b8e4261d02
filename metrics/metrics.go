// Package metrics exposes one instance's figures in the Prometheus format: HTTP
// requests, federation deliveries and received activities, the delivery queue, HTTP
// signature failures, search, streaming, the database pool and picture processing.
//
// It is an adapter like web or federation, and the only package that knows Prometheus.
// The other packages report through small hook functions (queue.Options.Observe,
// search.Options.Observe, media.WithObserver…) that the instance's wiring points at the
// methods of Metrics, so none of them imports this one. Each Metrics has a registry of
// its own: several instances may run in one process (tests, the demo), and each must
// report only its own figures.
//
// Label values are bounded so that no client can grow the series without limit: HTTP
// routes are the matched route templates, never the raw paths, and hosts outside the
// company's peers are counted together as "other" (see docs/metrics.md).
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tacit-social/tacit/federation/signature"
)

// Namespace prefixes Tacit's own metric names.
const Namespace = "tacit"

// OtherHost is the peer label of every host that is not one of the company's peers.
const OtherHost = "other"

// UnmatchedRoute is the route label of requests that matched no route.
const UnmatchedRoute = "unmatched"

// Options are what Metrics reads at scrape time; nil fields leave their metrics out.
type Options struct {
	// IsPeer tells the company's instances, which get a label of their own.
	IsPeer func(host string) bool
	// DB is the database pool whose waits and connections are reported.
	DB *sql.DB
	// Queue lists the delivery queue per host.
	Queue func(ctx context.Context) ([]QueueHost, error)
	// StreamingConnections counts the open streaming connections.
	StreamingConnections func() int
	// IndexPending counts the changes waiting to be written to the search index.
	IndexPending func() int
	// Logger receives scrape errors (default slog.Default()).
	Logger *slog.Logger
}

// QueueHost is the delivery queue's state for one host.
type QueueHost struct {
	Host             string
	Queued, Running  int64
	Dead             int64
	OldestQueued     time.Time // zero: nothing waits
	ConsecutiveFails int
}

// Metrics holds one instance's registry and instruments. Its methods are the hooks
// the other packages call; all are safe for concurrent use.
type Metrics struct {
	registry *prometheus.Registry
	isPeer   func(string) bool
	log      *slog.Logger

	httpRequests     *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
	jobs             *prometheus.CounterVec
	deliveryDuration *prometheus.HistogramVec
	signatureFails   *prometheus.CounterVec
	searchDuration   *prometheus.HistogramVec
	indexLag         prometheus.Histogram
	mediaDuration    *prometheus.HistogramVec
}

// New builds the registry with the Go runtime and process collectors, Tacit's
// instruments, and the scrape-time collectors named in opt.
func New(opt Options) *Metrics {
	m := &Metrics{registry: prometheus.NewRegistry(), isPeer: opt.IsPeer, log: opt.Logger}
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.isPeer == nil {
		m.isPeer = func(string) bool { return false }
	}
	// Latency buckets from 5 ms to 10 s: API answers sit at the low end, deliveries to
	// a slow peer and company-wide searches at the high end.
	buckets := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by method, matched route template and status code.",
	}, []string{"method", "route", "status"})
	m.httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help: "Time to answer HTTP requests, by method and matched route template (streaming responses count until they end).", Buckets: buckets,
	}, []string{"method", "route"})
	m.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "federation_jobs_total",
		Help: "Runs of federation queue jobs by kind (deliver: to a peer's inbox; inbox: an activity received from a peer), peer and outcome (ok, retry, refused, dead, interrupted).",
	}, []string{"kind", "peer", "outcome"})
	m.deliveryDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "federation_job_duration_seconds",
		Help: "Time a federation queue job (or batch of received activities) ran, by kind and peer.", Buckets: buckets,
	}, []string{"kind", "peer"})
	m.signatureFails = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "federation_signature_failures_total",
		Help: "Signed requests whose HTTP signature did not verify, by reason.",
	}, []string{"reason"})
	m.searchDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "search_query_duration_seconds",
		Help: "Time to answer searches, by kind (accounts, statuses, hashtags, experts); company-wide ones include the wait for peers.", Buckets: buckets,
	}, []string{"kind"})
	m.indexLag = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "search_index_lag_seconds",
		Help:    "Time from a change in the database to its being written to the search index.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	})
	m.mediaDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "media_processing_duration_seconds",
		Help: "Time to check, decode and re-encode a picture, by kind (attachment, cover) and outcome (ok, error).", Buckets: buckets,
	}, []string{"kind", "outcome"})
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration, m.jobs, m.deliveryDuration, m.signatureFails,
		m.searchDuration, m.indexLag, m.mediaDuration,
	)
	if opt.DB != nil {
		m.registry.MustRegister(collectors.NewDBStatsCollector(opt.DB, "main"))
	}
	if opt.Queue != nil {
		m.registry.MustRegister(&queueCollector{list: opt.Queue, peer: m.Peer, log: m.log})
	}
	if opt.StreamingConnections != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "streaming_connections",
			Help: "Open streaming connections (server-sent events and WebSocket).",
		}, func() float64 { return float64(opt.StreamingConnections()) }))
	}
	if opt.IndexPending != nil {
		m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "search_index_pending_changes",
			Help: "Changes waiting to be written to the search index.",
		}, func() float64 { return float64(opt.IndexPending()) }))
	}
	return m
}

// Registry is the instance's registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the registry in the Prometheus exposition formats. A non-empty token
// must come as "Authorization: Bearer <token>" (Prometheus' authorization setting).
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !bearerMatches(r.Header.Get("Authorization"), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Peer is the label value for host: the host itself for the company's peers, and
// OtherHost for everyone else, whose number has no bound in open federation.
func (m *Metrics) Peer(host string) string {
	if host != "" && m.isPeer(host) {
		return host
	}
	return OtherHost
}

// ObserveRequest counts an answered HTTP request. route is the matched route
// template ("" when none matched).
func (m *Metrics) ObserveRequest(method, route string, status int, took time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	method = boundedMethod(method)
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpDuration.WithLabelValues(method, route).Observe(took.Seconds())
}

// ObserveJob counts one federation queue job's run (queue.Options.Observe).
func (m *Metrics) ObserveJob(kind, host, outcome string, took time.Duration) {
	peer := m.Peer(host)
	m.jobs.WithLabelValues(kind, peer, outcome).Inc()
	m.deliveryDuration.WithLabelValues(kind, peer).Observe(took.Seconds())
}

// ObserveSignatureFailure counts a request whose signature did not verify.
func (m *Metrics) ObserveSignatureFailure(err error) {
	m.signatureFails.WithLabelValues(SignatureFailureReason(err)).Inc()
}

// ObserveSearch records how long a search of kind took (search.Options.Observe).
func (m *Metrics) ObserveSearch(kind string, took time.Duration) {
	m.searchDuration.WithLabelValues(kind).Observe(took.Seconds())
}

// ObserveIndexLag records how long a change waited before the index held it.
func (m *Metrics) ObserveIndexLag(lag time.Duration) { m.indexLag.Observe(lag.Seconds()) }

// ObserveMedia records a picture's processing (media.WithObserver).
func (m *Metrics) ObserveMedia(kind string, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.mediaDuration.WithLabelValues(kind, outcome).Observe(took.Seconds())
}

// SignatureFailureReason names why a signature failed, from a fixed list.
func SignatureFailureReason(err error) string {
	reasons := []struct {
		err    error
		reason string
	}{
		{signature.ErrNoSignature, "missing"},
		{signature.ErrBadSignature, "bad_signature"},
		{signature.ErrClockSkew, "clock_skew"},
		{signature.ErrDigestMismatch, "digest_mismatch"},
		{signature.ErrUnsupportedAlgorithm, "unsupported_algorithm"},
		{signature.ErrMissingHeaders, "missing_headers"},
		{signature.ErrTooLarge, "too_large"},
		{signature.ErrKeyFetch, "key_fetch"},
		{signature.ErrWrongHost, "wrong_host"},
		{signature.ErrReplayed, "replayed"},
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "other"
}

// boundedMethod keeps the method label to the methods routes answer.
func boundedMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
