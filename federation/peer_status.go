package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tacit-social/tacit/federation/queue"
)

// What an administrator sees of federation: for each peer, whether deliveries reach
// it, and the deliveries given up on, which they may send again or discard.

// PeerDelivery is the state of deliveries to one host.
type PeerDelivery struct {
	queue.HostStats
	// Peer is set for the company's instances (federation.peers); other hosts appear
	// when deliveries to them are queued or dead (open mode, domain allows).
	Peer bool
}

// Reachable reports whether the host's last delivery attempt got an answer. ok is
// false when this process has tried none since it started.
func (p PeerDelivery) Reachable() (reachable, ok bool) {
	switch {
	case p.LastAnswered.IsZero() && p.LastFailed.IsZero():
		return false, false
	case p.Failures > 0 || p.LastFailed.After(p.LastAnswered):
		return false, true
	}
	return true, true
}

// PeerDeliveries lists the configured peers first, in configuration order, then any
// other host with deliveries queued or dead.
func (f *Federator) PeerDeliveries(ctx context.Context) ([]PeerDelivery, error) {
	stats, err := f.q.HostStats(ctx, jobDeliver)
	if err != nil {
		return nil, fmt.Errorf("peer deliveries: %w", err)
	}
	var out []PeerDelivery
	for _, host := range f.PeerHosts() {
		st := stats[host]
		st.Host = host
		out = append(out, PeerDelivery{HostStats: st, Peer: true})
		delete(stats, host)
	}
	var others []PeerDelivery
	for host, st := range stats {
		if host != "" && (st.Queued+st.Running+st.Dead > 0) {
			others = append(others, PeerDelivery{HostStats: st})
		}
	}
	slices.SortFunc(others, func(a, b PeerDelivery) int { return strings.Compare(a.Host, b.Host) })
	return append(out, others...), nil
}

// DeadDelivery is a delivery given up on.
type DeadDelivery struct {
	ID           int64
	Inbox        string
	ActivityID   string
	ActivityType string
	Attempts     int
	// Reason is queue.ReasonPermanent (the peer refused it), ReasonMaxAttempts or
	// ReasonExpired.
	Reason    string
	LastError string
	DiedAt    time.Time
}

// MaxDeadDeliveries bounds the dead deliveries listed for one host.
const MaxDeadDeliveries = 100

// DeadDeliveries lists the newest dead deliveries to host.
func (f *Federator) DeadDeliveries(ctx context.Context, host string) ([]DeadDelivery, error) {
	dead, err := f.q.HostDeadLetters(ctx, jobDeliver, host, MaxDeadDeliveries)
	if err != nil {
		return nil, err
	}
	out := make([]DeadDelivery, 0, len(dead))
	for _, d := range dead {
		dd := DeadDelivery{ID: d.ID, Attempts: d.Attempts, Reason: d.Reason, LastError: d.LastError, DiedAt: d.DiedAt}
		var p deliveryPayload
		if err := json.Unmarshal([]byte(d.Payload), &p); err == nil {
			dd.Inbox = p.Inbox
			var head struct {
				ID   string `json:"id"`
				Type string `json:"type"`
			}
			if json.Unmarshal(p.Activity, &head) == nil {
				dd.ActivityID, dd.ActivityType = head.ID, head.Type
			}
		}
		out = append(out, dd)
	}
	return out, nil
}

// RetryDeadDeliveries queues dead deliveries to host again; ids of other hosts or
// of other jobs are ignored. It returns how many were queued.
func (f *Federator) RetryDeadDeliveries(ctx context.Context, host string, ids ...int64) (int, error) {
	ids, err := f.deadDeliveryIDs(ctx, host, ids)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	n, err := f.q.Requeue(ctx, ids...)
	if err != nil {
		return 0, err
	}
	f.log.InfoContext(ctx, "dead deliveries queued again", "host", host, "jobs", ids, "queued", n)
	return n, nil
}

// DiscardDeadDeliveries deletes dead deliveries to host for good; ids of other hosts
// or of other jobs are ignored. It returns how many were deleted.
func (f *Federator) DiscardDeadDeliveries(ctx context.Context, host string, ids ...int64) (int, error) {
	ids, err := f.deadDeliveryIDs(ctx, host, ids)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	n, err := f.q.Discard(ctx, ids...)
	if err != nil {
		return 0, err
	}
	f.log.InfoContext(ctx, "dead deliveries discarded", "host", host, "jobs", ids, "discarded", n)
	return n, nil
}

// deadDeliveryIDs keeps the ids that name dead deliveries to host.
func (f *Federator) deadDeliveryIDs(ctx context.Context, host string, ids []int64) ([]int64, error) {
	dead, err := f.q.HostDeadLetters(ctx, jobDeliver, host, MaxDeadDeliveries)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, d := range dead {
		if slices.Contains(ids, d.ID) {
			out = append(out, d.ID)
		}
	}
	return out, nil
}
