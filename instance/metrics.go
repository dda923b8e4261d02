package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/tacit-social/tacit/media"
	"github.com/tacit-social/tacit/metrics"
)

// newMetrics builds the instance's metrics. What they read at scrape time (the queue,
// streaming, the index) is looked up then, as those parts are built after the metrics.
func (inst *Instance) newMetrics() *metrics.Metrics {
	opt := metrics.Options{
		IsPeer: inst.Config.IsPeer,
		Logger: inst.log,
		Queue:  inst.queueHosts,
		StreamingConnections: func() int {
			if inst.Web == nil {
				return 0
			}
			return inst.Web.StreamingConnections()
		},
		IndexPending: func() int {
			if inst.Indexer == nil {
				return 0
			}
			return inst.Indexer.Pending()
		},
	}
	if sqlDB, err := inst.DB.DB(); err == nil {
		opt.DB = sqlDB
	}
	return metrics.New(opt)
}

// queueHosts is the delivery queue per host, as the admin page shows it.
func (inst *Instance) queueHosts(ctx context.Context) ([]metrics.QueueHost, error) {
	if inst.Federator == nil {
		return nil, nil
	}
	peers, err := inst.Federator.PeerDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]metrics.QueueHost, 0, len(peers))
	for _, p := range peers {
		out = append(out, metrics.QueueHost{Host: p.Host, Queued: p.Queued, Running: p.Running, Dead: p.Dead,
			OldestQueued: p.OldestQueued, ConsecutiveFails: p.Failures})
	}
	return out, nil
}

// withMetrics puts the instance's picture-processing observer in ctx: pictures are
// processed by the domain on behalf of a request or a worker of this instance.
func (inst *Instance) withMetrics(ctx context.Context) context.Context {
	return media.WithObserver(ctx, inst.Metrics.ObserveMedia)
}

// serveMetrics serves GET /metrics on metrics.listen, when set, until the returned
// server is shut down. A failure to bind stops the start: the operator asked for it.
func (inst *Instance) serveMetrics() (*http.Server, error) {
	addr := inst.Config.Metrics.Listen
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", inst.Metrics.Handler(inst.Config.Metrics.Token))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(inst.log.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			inst.log.Error("metrics server stopped", "err", err)
		}
	}()
	inst.log.Info("metrics are served", "addr", l.Addr().String(), "path", "/metrics", "token", inst.Config.Metrics.Token != "")
	return srv, nil
}
