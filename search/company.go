package search

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/tacit-social/tacit/community"
)

// Company-wide search: an instance asks every peer at once, waits at most the peer
// timeout, and merges what came back with its own answer. A peer that is slow or down
// is named in the answer instead of failing it; what this instance knows of that peer's
// people (profiles federate, so it knows them all) still answers for them.

// Peers asks the company's other instances. The federation package implements it with
// signed requests to an allowlisted endpoint; the accounts in its answers are already
// stored on this instance, and the HTML it returns is already sanitized.
type Peers interface {
	// PeerHosts lists the instances to ask, this one excluded.
	PeerHosts() []string
	// PeerExperts asks host which of its people know about text, on behalf of viewer:
	// the evidence is what viewer may see there.
	PeerExperts(ctx context.Context, host string, viewer *community.Account, text string, limit int) ([]Expert, error)
	// PeerAccounts asks host for its people whose name or expertise matches text.
	PeerAccounts(ctx context.Context, host string, viewer *community.Account, text string, limit int) ([]*community.Account, error)
}

// ExpertsResult is the answer to a company-wide "who knows X?".
type ExpertsResult struct {
	Experts []Expert
	// Unanswered lists the peers that did not answer in time.
	Unanswered []string
}

// Experts answers "who knows text?" across the company for a local viewer.
func (s *Searcher) Experts(ctx context.Context, viewer *community.Account, text string, limit int) (ExpertsResult, error) {
	defer s.timed("experts", time.Now())
	res := ExpertsResult{Experts: []Expert{}, Unanswered: []string{}}
	limit = min(max(limit, 1), MaxExperts)
	v := community.AsAccount(viewer)
	type peerAnswer struct {
		host    string
		experts []Expert
	}
	var (
		answers  []peerAnswer
		local    []Expert
		localErr error
		wg       sync.WaitGroup
	)
	// The local search runs while the peers are asked. It looks further than the page:
	// people of the peers that answer give way to those peers' own answers.
	asking := s.peers != nil && viewer != nil && viewer.IsLocal()
	localLimit := limit
	if asking {
		localLimit = min(2*limit, MaxExperts)
	}
	wg.Go(func() { local, localErr = s.LocalExperts(ctx, v, text, localLimit, false) })
	if asking {
		got, unanswered := fanOut(ctx, s, func(ctx context.Context, host string) ([]Expert, error) {
			return s.peers.PeerExperts(ctx, host, viewer, text, limit)
		})
		for host, list := range got {
			answers = append(answers, peerAnswer{host, list})
		}
		res.Unanswered = unanswered
	}
	wg.Wait()
	if localErr != nil {
		return res, localErr
	}
	answered := map[string]bool{}
	for _, a := range answers {
		answered[a.host] = true
	}
	// A person's own instance knows best what they wrote: its answer replaces what this
	// instance knows of them, and it answers only for its own people.
	merged := slices.DeleteFunc(local, func(e Expert) bool { return !e.Account.IsLocal() && answered[e.Account.Domain] })
	seen := map[int64]bool{}
	for _, e := range merged {
		seen[e.Account.ID] = true
	}
	for _, a := range answers {
		for _, e := range a.experts {
			if e.Account == nil || e.Account.Domain != a.host || seen[e.Account.ID] {
				continue
			}
			seen[e.Account.ID] = true
			e.Instance = a.host
			merged = append(merged, e)
		}
	}
	// Blocks and visibility are this instance's rules too: peers' answers pass them.
	ids := make([]int64, 0, len(merged))
	for _, e := range merged {
		ids = append(ids, e.Account.ID)
	}
	allowed, err := s.c.SearchableAccounts(ctx, v, ids, false)
	if err != nil {
		return res, err
	}
	ok := make(map[int64]bool, len(allowed))
	for _, a := range allowed {
		ok[a.ID] = true
	}
	merged = slices.DeleteFunc(merged, func(e Expert) bool { return !ok[e.Account.ID] })
	if err := s.checkPeerEvidence(ctx, v, merged); err != nil {
		return res, err
	}
	SortExperts(merged)
	if len(merged) > limit {
		merged = merged[:limit]
	}
	res.Experts = merged
	slices.Sort(res.Unanswered)
	return res, nil
}

// checkPeerEvidence runs the posts peers returned as evidence through the domain's
// rule for the viewer, as statuses of their (stored) authors: a peer answers for the
// viewer already, and this makes sure nothing it sent goes further than the rule allows
// here (no department post of another instance, no followers-only post for someone who
// does not follow the author). Posts stored here get their local id.
func (s *Searcher) checkPeerEvidence(ctx context.Context, v community.Viewer, experts []Expert) error {
	var probes []community.Status
	var uris []string
	for i := range experts {
		e := &experts[i]
		if e.Account.IsLocal() {
			continue
		}
		for _, st := range e.Evidence.Statuses {
			// Negative ids: these rows are not stored; the rule needs their audience only.
			probes = append(probes, community.Status{ID: -int64(len(probes) + 1), AccountID: e.Account.ID,
				Visibility: st.Visibility, Scope: st.Scope, Local: false, URI: st.URI})
			uris = append(uris, st.URI)
		}
	}
	if len(probes) == 0 {
		return nil
	}
	visible, err := s.c.FilterVisible(ctx, v, probes)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(visible))
	for _, st := range visible {
		keep[st.URI] = true
	}
	stored, err := s.c.Unchecked().StatusIDsByURI(ctx, uris)
	if err != nil {
		return err
	}
	for i := range experts {
		e := &experts[i]
		if e.Account.IsLocal() {
			continue
		}
		e.Evidence.Statuses = slices.DeleteFunc(e.Evidence.Statuses, func(st EvidenceStatus) bool { return !keep[st.URI] })
		for j := range e.Evidence.Statuses {
			e.Evidence.Statuses[j].ID = stored[e.Evidence.Statuses[j].URI]
		}
	}
	return nil
}

// fanOut asks every peer at once and returns the answers that came within the peer
// timeout, and the hosts that did not answer (slow, down, or answering with an error).
func fanOut[T any](ctx context.Context, s *Searcher, ask func(ctx context.Context, host string) (T, error)) (map[string]T, []string) {
	hosts := s.peers.PeerHosts()
	answers := make(map[string]T, len(hosts))
	unanswered := []string{}
	if len(hosts) == 0 {
		return answers, unanswered
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	type result struct {
		host string
		v    T
		err  error
	}
	results := make(chan result, len(hosts))
	for _, h := range hosts {
		go func() {
			v, err := ask(ctx, h)
			results <- result{h, v, err}
		}()
	}
	pending := map[string]bool{}
	for _, h := range hosts {
		pending[h] = true
	}
	for len(pending) > 0 {
		select {
		case r := <-results:
			delete(pending, r.host)
			if r.err != nil {
				s.log.InfoContext(ctx, "peer did not answer a search", "peer", r.host, "err", r.err)
				unanswered = append(unanswered, r.host)
				continue
			}
			answers[r.host] = r.v
		case <-ctx.Done():
			for h := range pending {
				unanswered = append(unanswered, h)
			}
			s.log.InfoContext(ctx, "peers did not answer a search in time", "peers", len(pending), "timeout", s.timeout)
			slices.Sort(unanswered)
			return answers, unanswered
		}
	}
	slices.Sort(unanswered)
	return answers, unanswered
}

// askPeersAccounts runs a company-wide account search on the peers.
func (s *Searcher) askPeersAccounts(ctx context.Context, viewer *community.Account, text string, limit int) ([]*community.Account, []string) {
	got, unanswered := fanOut(ctx, s, func(ctx context.Context, host string) ([]*community.Account, error) {
		return s.peers.PeerAccounts(ctx, host, viewer, text, limit)
	})
	var out []*community.Account
	hosts := make([]string, 0, len(got))
	for h := range got {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		for _, a := range got[h] {
			if a != nil && a.Domain == h {
				out = append(out, a)
			}
		}
	}
	return out, unanswered
}
