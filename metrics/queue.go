package metrics

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// queueCollector reads the delivery queue at scrape time: the database holds its state,
// and a count kept in memory would drift from it after a restart or when another
// process (tacit admin) changes it.
type queueCollector struct {
	list func(ctx context.Context) ([]QueueHost, error)
	peer func(host string) string
	log  *slog.Logger
}

var (
	queueJobsDesc = prometheus.NewDesc(Namespace+"_federation_queue_jobs",
		"Deliveries in the queue by peer and state (queued: waiting for their turn or a retry; running: being sent now).",
		[]string{"peer", "state"}, nil)
	queueOldestDesc = prometheus.NewDesc(Namespace+"_federation_queue_oldest_seconds",
		"Age of the oldest delivery waiting for the peer (0 when none waits).",
		[]string{"peer"}, nil)
	deadLettersDesc = prometheus.NewDesc(Namespace+"_federation_dead_letters",
		"Deliveries given up on and kept for an administrator to send again or discard, by peer.",
		[]string{"peer"}, nil)
	queueFailuresDesc = prometheus.NewDesc(Namespace+"_federation_peer_consecutive_failures",
		"Delivery attempts to the peer that failed in a row (0 once one succeeds).",
		[]string{"peer"}, nil)
)

// scrapeTimeout bounds the queue's queries, below Prometheus' default scrape timeout.
const scrapeTimeout = 5 * time.Second

func (q *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueJobsDesc
	ch <- queueOldestDesc
	ch <- deadLettersDesc
	ch <- queueFailuresDesc
}

func (q *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	hosts, err := q.list(ctx)
	if err != nil {
		q.log.Warn("metrics: read the delivery queue", "err", err)
		ch <- prometheus.NewInvalidMetric(queueJobsDesc, err)
		return
	}
	// Hosts outside the company add up under one label.
	byPeer := map[string]*QueueHost{}
	var order []string
	for _, h := range hosts {
		p := q.peer(h.Host)
		sum := byPeer[p]
		if sum == nil {
			sum = &QueueHost{Host: p}
			byPeer[p] = sum
			order = append(order, p)
		}
		sum.Queued += h.Queued
		sum.Running += h.Running
		sum.Dead += h.Dead
		sum.ConsecutiveFails = max(sum.ConsecutiveFails, h.ConsecutiveFails)
		if !h.OldestQueued.IsZero() && (sum.OldestQueued.IsZero() || h.OldestQueued.Before(sum.OldestQueued)) {
			sum.OldestQueued = h.OldestQueued
		}
	}
	now := time.Now()
	for _, p := range order {
		s := byPeer[p]
		var oldest float64
		if !s.OldestQueued.IsZero() {
			oldest = max(now.Sub(s.OldestQueued).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(s.Queued), p, "queued")
		ch <- prometheus.MustNewConstMetric(queueJobsDesc, prometheus.GaugeValue, float64(s.Running), p, "running")
		ch <- prometheus.MustNewConstMetric(queueOldestDesc, prometheus.GaugeValue, oldest, p)
		ch <- prometheus.MustNewConstMetric(deadLettersDesc, prometheus.GaugeValue, float64(s.Dead), p)
		ch <- prometheus.MustNewConstMetric(queueFailuresDesc, prometheus.GaugeValue, float64(s.ConsecutiveFails), p)
	}
}

// bearerMatches reports whether an Authorization header carries token, in constant time.
func bearerMatches(header, token string) bool {
	scheme, got, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) == 1
}
