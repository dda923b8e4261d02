package federation

import (
	"context"
	"sync"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/federation/queue"
)

// processInboxBatch applies received activities of one sending host, claimed
// together by the queue, in order. Runs of consecutive Creates of posts by one actor
// are stored in one transaction (see receiveCreates); every other activity is applied
// on its own, as processInbox would. It returns one error per job.
func (f *Federator) processInboxBatch(ctx context.Context, jobs []queue.Job) []error {
	errs := make([]error, len(jobs))
	acts := make([]*activitystreams.ParsedActivity, len(jobs))
	for i, job := range jobs {
		acts[i], errs[i] = f.inboxActivity(job)
	}
	var run []int // indexes of the Creates waiting to be stored together
	flush := func() {
		f.receiveCreates(ctx, acts, run, errs)
		run = run[:0]
	}
	for i, act := range acts {
		if errs[i] != nil {
			continue
		}
		if createsPost(act) {
			if len(run) > 0 && acts[run[0]].Actor != act.Actor {
				flush()
			}
			run = append(run, i)
			continue
		}
		// Whatever comes next may depend on the Creates before it (a Delete of one of
		// their posts): they are stored first.
		flush()
		errs[i] = f.applyInbox(ctx, act)
	}
	flush()
	return errs
}

// createsPost reports whether act is a Create of a plain post: no vote, no idea, no
// actor, nothing a board's moderation reads. Only those are stored in batches; the
// rest take apply's own paths.
func createsPost(act *activitystreams.ParsedActivity) bool {
	o := act.Object
	if act.Type != "Create" || o == nil || o.IsVote() || (o.Type == "Page" && o.Group != "") {
		return false
	}
	switch o.Type {
	case "Note", "Article", "Page", "Question":
	default:
		return false
	}
	_, moderation := moderationOf(act)
	return !moderation
}

// receiveCreates stores the posts of the Creates acts[idx] (one actor's) as
// receiveCreated would, in one transaction. It sets errs[i] for each. What stops the
// batch before the domain (the actor unknown and its server unreachable, a suspended
// actor) is left to applyInbox, one activity at a time, so that every activity gets
// the error it would have had alone.
func (f *Federator) receiveCreates(ctx context.Context, acts []*activitystreams.ParsedActivity, idx []int, errs []error) {
	if len(idx) == 0 {
		return
	}
	oneByOne := func() {
		for _, i := range idx {
			errs[i] = f.applyInbox(ctx, acts[i])
		}
	}
	first := acts[idx[0]]
	if len(idx) == 1 || !f.policy.Allowed(hostOf(first.Actor)) {
		oneByOne()
		return
	}
	actor, err := f.c.Unchecked().AccountByURI(ctx, first.Actor)
	if err != nil {
		oneByOne()
		return
	}
	if suspended, err := f.c.IsSuspended(ctx, actor.ID); err != nil || suspended {
		oneByOne()
		return
	}
	var (
		ins   []community.RemoteStatus
		owner []int // index in acts of each of ins
	)
	for _, i := range idx {
		o := acts[i].Object
		if err := checkCreated(actor, o); err != nil {
			errs[i] = f.inboxError(ctx, acts[i], err)
			continue
		}
		ins = append(ins, f.remoteStatusOf(ctx, actor, o, acts[i].ID))
		owner = append(owner, i)
	}
	_, stored := f.c.ReceiveStatuses(ctx, ins)
	for k, err := range stored {
		errs[owner[k]] = f.inboxError(ctx, acts[owner[k]], err)
	}
}

// parsedHandoff hands the activities the inbox parsed to the worker that applies
// them, by job id, so that a received activity is parsed once. It is only a
// shortcut: a job run by another process, or after a restart, or once the table was
// full, is parsed again from its payload, which stays the record.
type parsedHandoff struct {
	mu sync.Mutex
	m  map[int64]handoffEntry
}

type handoffEntry struct {
	act *activitystreams.ParsedActivity
	at  time.Time
}

// Bounds of the handoff: a few seconds of a busy inbox; an entry older than
// handoffTTL belongs to a job this process did not run (another claimed it).
const (
	maxHandoff = 8192
	handoffTTL = time.Minute
)

// put offers the parsed activity of job id.
func (h *parsedHandoff) put(id int64, act *activitystreams.ParsedActivity) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = make(map[int64]handoffEntry)
	}
	if len(h.m) >= maxHandoff {
		for k, e := range h.m {
			if now.Sub(e.at) > handoffTTL {
				delete(h.m, k)
			}
		}
		if len(h.m) >= maxHandoff {
			return
		}
	}
	h.m[id] = handoffEntry{act: act, at: now}
}

// take returns and forgets the parsed activity of job id, nil when there is none.
func (h *parsedHandoff) take(id int64) *activitystreams.ParsedActivity {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[id]
	if !ok {
		return nil
	}
	delete(h.m, id)
	return e.act
}
