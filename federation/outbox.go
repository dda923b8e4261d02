package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/federation/queue"
)

// deliveryPayload is a queued delivery: which inbox, signed by which account (0 = the
// instance actor), and the activity.
type deliveryPayload struct {
	Inbox     string          `json:"inbox"`
	AccountID int64           `json:"account_id"`
	Activity  json.RawMessage `json:"activity"`
}

// onEvent turns domain events about local accounts into deliveries. It runs in the
// publisher's goroutine after the commit, so it only computes and queues.
func (f *Federator) onEvent(ctx context.Context, e community.Event) {
	var err error
	switch ev := e.(type) {
	case community.StatusCreated, community.StatusUpdated, community.StatusDeleted:
		if st := statusOf(e); st.Local {
			err = f.onStatusEvent(ctx, e)
		}
		if created, ok := e.(community.StatusCreated); ok && err == nil && created.Status.InReplyToID != nil {
			err = f.relayReply(ctx, created.Status)
		}
	case community.AccountDeleted:
		if !ev.Account.IsLocal() {
			f.keys.forget(ev.Account.URI)
		}
		err = f.onAccountDeleted(ctx, ev)
	case community.Followed:
		err = f.onFollowed(ctx, ev)
	case community.Unfollowed:
		err = f.onUnfollowed(ctx, ev)
	case community.Favourited:
		err = f.onFavourited(ctx, ev)
	case community.AccountUpdated:
		if !ev.Account.IsLocal() {
			f.keys.forget(ev.Account.URI) // its key may have rotated
		}
		err = f.onAccountUpdated(ctx, ev.Account)
	case community.Blocked:
		err = f.onBlocked(ctx, ev)
	case community.PollVoted:
		err = f.onPollVoted(ctx, ev)
	case community.PollEnded:
		if ev.Status.Local {
			err = f.sendPollUpdate(ctx, ev.Status, ev.Poll.ID)
		}
	case community.IdeaChanged:
		err = f.onIdeaChanged(ctx, ev)
	case community.ModerationRecorded:
		err = f.onModerationRecorded(ctx, ev)
	case community.ReportFiled:
		err = f.onReportFiled(ctx, ev)
	}
	if err != nil {
		f.log.ErrorContext(ctx, "queue federation delivery", "err", err)
	}
}

// onStatusEvent federates what happened to a local status.
func (f *Federator) onStatusEvent(ctx context.Context, e community.Event) error {
	switch ev := e.(type) {
	case community.StatusCreated:
		return f.onStatus(ctx, ev.Status, "Create")
	case community.StatusUpdated:
		return f.onStatus(ctx, ev.Status, "Update")
	case community.StatusDeleted:
		if !ev.WithAccount { // the account's own Delete covers what it wrote
			return f.onStatusDeleted(ctx, ev.Status)
		}
	}
	return nil
}

// statusOf returns the status a status event is about.
func statusOf(e community.Event) community.Status {
	switch ev := e.(type) {
	case community.StatusCreated:
		return ev.Status
	case community.StatusUpdated:
		return ev.Status
	case community.StatusDeleted:
		return ev.Status
	}
	return community.Status{}
}

// noteJSON renders a local status as a Note addressed to its audience.
func (f *Federator) noteJSON(ctx context.Context, st *community.Status, author *community.Account) ([]byte, error) {
	d, err := f.c.LoadStatusDetails(ctx, community.AsAccount(author), []community.Status{*st})
	if err != nil {
		return nil, err
	}
	var mentions []*community.Account
	var mentionURIs []string
	for _, id := range d.Mentions[st.ID] {
		if a := d.Accounts[id]; a != nil {
			mentions = append(mentions, a)
			mentionURIs = append(mentionURIs, a.URI)
		}
	}
	addr, err := activitystreams.Address(st.Visibility, st.Scope, author.URI+"/followers", f.CompanyURI(), mentionURIs)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range d.Tags[st.ID] {
		tags = append(tags, t.Name)
	}
	var inReplyTo string
	if st.InReplyToID != nil {
		if parent, err := f.c.Unchecked().StatusByID(ctx, *st.InReplyToID); err == nil {
			inReplyTo = parent.URI
		}
	}
	var attachments []activitystreams.Attachment
	for _, m := range d.Media[st.ID] {
		url, _ := f.c.AttachmentURLs(&m)
		a := activitystreams.Attachment{URL: url, MediaType: m.ContentType, Name: m.Description, Blurhash: m.Blurhash,
			Width: m.Width, Height: m.Height}
		if m.Focus != "" {
			x, y := m.FocusPoint()
			a.Focus = &[2]float64{x, y}
		}
		attachments = append(attachments, a)
	}
	var poll *activitystreams.Poll
	if p := d.Polls[st.ID]; p != nil {
		poll = &activitystreams.Poll{Options: p.Options, Multiple: p.Multiple, EndTime: p.ExpiresAt,
			Closed: p.Expired(now()), VotersCount: p.VotersCount, HideTotals: p.HideTotals}
	}
	page, err := f.ideaPage(ctx, st)
	if err != nil {
		return nil, err
	}
	// An idea, and a reply in its discussion, name their board as audience and in cc
	// (FEP-1b12): Lemmy finds the community there.
	audience := ""
	if page != nil {
		audience = page.BoardURI
	} else if st.InReplyToID != nil && st.Visibility != community.VisibilityDirect {
		if b, _, err := f.c.ThreadBoard(ctx, st); err != nil {
			return nil, err
		} else if b != nil {
			board, err := f.c.Unchecked().AccountByID(ctx, b.AccountID)
			if err != nil {
				return nil, err
			}
			audience = board.URI
		}
	}
	if audience != "" && !slices.Contains(addr.Cc, audience) {
		addr.Cc = append(addr.Cc, audience)
	}
	return activitystreams.NoteJSON(activitystreams.Note{
		Status: st, Author: author, InReplyToURI: inReplyTo, Mentions: mentions, Tags: tags,
		TagURL: f.c.TagURL, To: addr.To, Cc: addr.Cc, Attachments: attachments, Poll: poll, Idea: page,
		Audience: audience,
	})
}

// ObjectJSON renders a local status as the object peers receive: a Note, or a
// Question when it has a poll.
func (f *Federator) ObjectJSON(ctx context.Context, st *community.Status, author *community.Account) ([]byte, error) {
	return f.noteJSON(ctx, st, author)
}

// onPollVoted federates votes. Votes of local accounts on a remote poll go to the
// poll's author as Mastodon sends them (one Note per option, answering the poll); when
// a local poll is voted on, by anyone, its audience and its remote voters receive the
// Question again with the new counts (Update), which is how Mastodon spreads them.
func (f *Federator) onPollVoted(ctx context.Context, ev community.PollVoted) error {
	st := ev.Status
	if st.Scope == community.ScopeDepartment {
		return nil
	}
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil {
		return err
	}
	if !st.Local {
		if len(ev.Votes) == 0 {
			return nil
		}
		voter, err := f.c.Unchecked().AccountByID(ctx, ev.Votes[0].AccountID)
		if err != nil || !voter.IsLocal() {
			return err
		}
		inboxes := f.inboxes(ctx, community.Recipients{Accounts: []*community.Account{author}}, st.Scope)
		for _, v := range ev.Votes {
			if v.Choice < 0 || v.Choice >= len(ev.Poll.Options) {
				continue
			}
			id := voter.URI + "#votes/" + community.FormatID(v.ID)
			note, err := activitystreams.VoteJSON(id, voter.URI, st.URI, author.URI, ev.Poll.Options[v.Choice].Title)
			if err != nil {
				return err
			}
			create, err := activitystreams.Activity("Create", id+"/activity", voter.URI, json.RawMessage(note), []string{author.URI}, nil)
			if err != nil {
				return err
			}
			if err := f.enqueue(ctx, voter.ID, create, inboxes); err != nil {
				return err
			}
		}
		return nil
	}
	return f.sendPollUpdate(ctx, st, ev.Poll.ID)
}

// sendPollUpdate sends a local poll's Question, with its current counts (and, once it
// has ended, closed), to its audience and to the remote voters who may still read it.
func (f *Federator) sendPollUpdate(ctx context.Context, st community.Status, pollID int64) error {
	if st.Scope == community.ScopeDepartment {
		return nil
	}
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil {
		return err
	}
	question, err := f.noteJSON(ctx, &st, author)
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := json.Unmarshal(question, &obj); err != nil {
		return err
	}
	update, err := activitystreams.Activity("Update", st.URI+"#updates/poll/"+community.FormatID(community.NewID()), author.URI,
		json.RawMessage(question), stringList(obj["to"]), stringList(obj["cc"]))
	if err != nil {
		return err
	}
	r, err := f.c.Recipients(ctx, &st)
	if err != nil {
		return err
	}
	voters, err := f.c.PollVoters(ctx, pollID)
	if err != nil {
		return err
	}
	// Voters who may no longer read the poll (they unfollowed a followers-only one)
	// are not told about it any more.
	for _, v := range voters {
		if ok, err := f.c.CanSee(ctx, community.AsAccount(v), &st); err != nil {
			return err
		} else if ok {
			r.Accounts = append(r.Accounts, v)
		}
	}
	return f.enqueue(ctx, author.ID, update, f.inboxes(ctx, r, st.Scope))
}

func (f *Federator) onStatus(ctx context.Context, st community.Status, verb string) error {
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil || !author.IsLocal() || st.Scope == community.ScopeDepartment {
		return err
	}
	if st.ReblogOfID != nil && verb != "Create" {
		return nil
	}
	if st.ReblogOfID != nil && author.Group {
		if info, err := f.c.BoardByAccount(ctx, author.ID); err == nil && info.Board.Local {
			plain, wrapped, inboxes, err := f.boardAnnounce(ctx, &st, author)
			if err != nil {
				return err
			}
			if err := f.enqueue(ctx, author.ID, wrapped, inboxes); err != nil {
				return err
			}
			return f.enqueue(ctx, author.ID, plain, inboxes)
		}
	}
	r, err := f.c.Recipients(ctx, &st)
	if err != nil {
		return err
	}
	// An idea, and a reply in its discussion, also go to the board, whose instance
	// counts it in and relays it to the board's followers.
	if b, _, err := f.c.ThreadBoard(ctx, &st); err != nil {
		return err
	} else if b != nil && !b.Local && st.Visibility != community.VisibilityDirect {
		board, err := f.c.Unchecked().AccountByID(ctx, b.AccountID)
		if err != nil {
			return err
		}
		r.Accounts = append(r.Accounts, board)
	}
	inboxes := f.inboxes(ctx, r, st.Scope)
	if len(inboxes) == 0 {
		// Nobody elsewhere reads it: most posts of a department that only its own
		// people follow. Rendering the activity would be a third of the post's CPU.
		return nil
	}
	activity, err := f.statusActivity(ctx, &st, author, verb)
	if err != nil {
		return err
	}
	return f.enqueue(ctx, author.ID, activity, inboxes)
}

// statusActivity renders a local status as the activity that publishes it: an
// Announce for a reblog, otherwise verb (Create or Update) wrapping its Note.
func (f *Federator) statusActivity(ctx context.Context, st *community.Status, author *community.Account, verb string) ([]byte, error) {
	if st.ReblogOfID != nil {
		orig, err := f.c.Unchecked().StatusByID(ctx, *st.ReblogOfID)
		if err != nil {
			return nil, err
		}
		addr, err := activitystreams.Address(st.Visibility, st.Scope, author.URI+"/followers", f.CompanyURI(), nil)
		if err != nil {
			return nil, err
		}
		origAuthor, err := f.c.Unchecked().AccountByID(ctx, orig.AccountID)
		if err != nil {
			return nil, err
		}
		// A boost's own id already is its activity's ("…/statuses/<id>/activity").
		announce, err := activitystreams.Activity("Announce", st.URI, author.URI, orig.URI, addr.To, append(addr.Cc, origAuthor.URI))
		if err != nil {
			return nil, err
		}
		return withPublished(announce, st.CreatedAt)
	}
	note, err := f.noteJSON(ctx, st, author)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(note, &obj); err != nil {
		return nil, err
	}
	to, cc := stringList(obj["to"]), stringList(obj["cc"])
	id := st.URI + "/activity"
	if verb == "Update" {
		id = st.URI + "#updates/" + strconv.FormatInt(now().UnixMilli(), 10)
	}
	return activitystreams.Activity(verb, id, author.URI, json.RawMessage(note), to, cc)
}

// onStatusDeleted tells every peer that could hold the status. Its mentions are gone
// with it, so the audience cannot be computed again; a Delete carries nothing but the
// id, and peers that never had the status ignore it.
func (f *Federator) onStatusDeleted(ctx context.Context, st community.Status) error {
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil || !author.IsLocal() || st.Scope == community.ScopeDepartment {
		return nil
	}
	var activity []byte
	if st.ReblogOfID != nil {
		object := st.URI
		if orig, err := f.c.Unchecked().StatusByID(ctx, *st.ReblogOfID); err == nil {
			object = orig.URI
		}
		announce, err := activitystreams.Activity("Announce", st.URI, author.URI, object, nil, nil)
		if err != nil {
			return err
		}
		activity, err = activitystreams.Activity("Undo", st.URI+"#undo", author.URI, json.RawMessage(announce),
			[]string{activitystreams.PublicURI}, nil)
		if err != nil {
			return err
		}
	} else {
		tomb, err := activitystreams.Tombstone(st.URI)
		if err != nil {
			return err
		}
		activity, err = activitystreams.Activity("Delete", st.URI+"#delete", author.URI, json.RawMessage(tomb),
			[]string{activitystreams.PublicURI}, nil)
		if err != nil {
			return err
		}
	}
	r, err := f.c.Recipients(ctx, &st)
	if err != nil {
		return err
	}
	r.AllPeers = true
	return f.enqueue(ctx, author.ID, activity, f.inboxes(ctx, r, st.Scope))
}

func (f *Federator) onFollowed(ctx context.Context, ev community.Followed) error {
	actor, err := f.c.Unchecked().AccountByID(ctx, ev.Follow.AccountID)
	if err != nil {
		return err
	}
	target, err := f.c.Unchecked().AccountByID(ctx, ev.Follow.TargetAccountID)
	if err != nil {
		return err
	}
	switch {
	case actor.IsLocal() && !target.IsLocal() && ev.Pending:
		follow, err := f.followActivity(actor, target, ev.Follow.URI, ev.Follow.ID)
		if err != nil {
			return err
		}
		return f.enqueue(ctx, actor.ID, follow, []string{personalInbox(target)})
	case !actor.IsLocal() && target.IsLocal() && !ev.Pending:
		// The Accept echoes the Follow as received, its id above all: servers match
		// the answer to their follow by that id.
		follow, err := f.followActivity(actor, target, ev.Follow.URI, ev.Follow.ID)
		if err != nil {
			return err
		}
		id := target.URI + "#accepts/follows/" + community.FormatID(ev.Follow.ID)
		if ev.Repeated {
			id += "/" + strconv.FormatInt(now().UnixMilli(), 10)
		}
		accept, err := activitystreams.Activity("Accept", id, target.URI, json.RawMessage(follow), []string{actor.URI}, nil)
		if err != nil {
			return err
		}
		return f.enqueue(ctx, target.ID, accept, []string{personalInbox(actor)})
	}
	return nil
}

// followActivity describes a follow by its Follow activity: uri is the id it was sent
// or received with. Follows stored before those ids were kept have none; theirs is
// made from the follow's id, as it was then.
func (f *Federator) followActivity(actor, target *community.Account, uri string, id int64) ([]byte, error) {
	if uri == "" {
		uri = actor.URI + "#follows/" + community.FormatID(id)
	}
	return activitystreams.Activity("Follow", uri, actor.URI, target.URI, []string{target.URI}, nil)
}

// onUnfollowed tells the other side that a follow between a local and a remote account
// ended: the local follower sends Undo{Follow}, the local followed account sends
// Reject{Follow} when it ended the follow. A remote follower's own Undo is not
// answered: a Reject sent then could cancel the follow it makes next.
func (f *Federator) onUnfollowed(ctx context.Context, ev community.Unfollowed) error {
	actor, err := f.c.Unchecked().AccountByID(ctx, ev.AccountID)
	if err != nil {
		return err
	}
	target, err := f.c.Unchecked().AccountByID(ctx, ev.TargetAccountID)
	if err != nil {
		return err
	}
	switch {
	case actor.IsLocal() && !target.IsLocal() && !ev.ByTarget:
		follow, err := f.followActivity(actor, target, ev.URI, 0)
		if err != nil {
			return err
		}
		undo, err := activitystreams.Activity("Undo", actor.URI+"#follows/undo/"+strconv.FormatInt(now().UnixMilli(), 10),
			actor.URI, json.RawMessage(follow), []string{target.URI}, nil)
		if err != nil {
			return err
		}
		return f.enqueue(ctx, actor.ID, undo, []string{personalInbox(target)})
	case !actor.IsLocal() && target.IsLocal() && ev.ByTarget:
		follow, err := f.followActivity(actor, target, ev.URI, 0)
		if err != nil {
			return err
		}
		reject, err := activitystreams.Activity("Reject", target.URI+"#rejects/"+strconv.FormatInt(now().UnixMilli(), 10),
			target.URI, json.RawMessage(follow), []string{actor.URI}, nil)
		if err != nil {
			return err
		}
		return f.enqueue(ctx, target.ID, reject, []string{personalInbox(actor)})
	}
	return nil
}

func (f *Federator) onFavourited(ctx context.Context, ev community.Favourited) error {
	actor, err := f.c.Unchecked().AccountByID(ctx, ev.Favourite.AccountID)
	if err != nil || !actor.IsLocal() {
		return err
	}
	st, err := f.c.Unchecked().StatusByID(ctx, ev.Favourite.StatusID)
	if err != nil {
		return err
	}
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil {
		return err
	}
	// A favourite of an idea is a vote, which its board's instance counts: the Like
	// goes there as well as to the author's instance.
	var to []*community.Account
	if !st.Local {
		to = append(to, author)
	}
	if board, err := f.ideaBoardOf(ctx, st); err != nil {
		return err
	} else if board != nil && !board.IsLocal() {
		to = append(to, board)
	}
	if len(to) == 0 {
		return nil
	}
	like, err := activitystreams.Activity("Like", actor.URI+"#likes/"+community.FormatID(ev.Favourite.ID), actor.URI, st.URI,
		[]string{author.URI}, nil)
	if err != nil {
		return err
	}
	if ev.Undone {
		like, err = activitystreams.Activity("Undo", actor.URI+"#likes/"+community.FormatID(ev.Favourite.ID)+"/undo",
			actor.URI, json.RawMessage(like), []string{author.URI}, nil)
		if err != nil {
			return err
		}
	}
	return f.enqueue(ctx, actor.ID, like, f.inboxes(ctx, community.Recipients{Accounts: to}, community.ScopeWorld))
}

// onBlocked tells a remote account's instance that a local account blocks it (or no
// longer does), so that it stops showing the blocker's posts to them and drops follows.
func (f *Federator) onBlocked(ctx context.Context, ev community.Blocked) error {
	actor, err := f.c.Unchecked().AccountByID(ctx, ev.Block.AccountID)
	if err != nil || !actor.IsLocal() {
		return err
	}
	target, err := f.c.Unchecked().AccountByID(ctx, ev.Block.TargetAccountID)
	if err != nil || target.IsLocal() {
		return err
	}
	block, err := activitystreams.Activity("Block", actor.URI+"#blocks/"+community.FormatID(ev.Block.ID), actor.URI, target.URI,
		[]string{target.URI}, nil)
	if err != nil {
		return err
	}
	if ev.Undone {
		block, err = activitystreams.Activity("Undo", actor.URI+"#blocks/"+community.FormatID(ev.Block.ID)+"/undo",
			actor.URI, json.RawMessage(block), []string{target.URI}, nil)
		if err != nil {
			return err
		}
	}
	return f.enqueue(ctx, actor.ID, block, []string{personalInbox(target)})
}

// onAccountUpdated sends a profile edit to every peer: profiles federate to the whole
// company, so that every instance knows every employee.
func (f *Federator) onAccountUpdated(ctx context.Context, a community.Account) error {
	if !a.IsLocal() || f.departmentOnly(ctx, &a) {
		return nil
	}
	actor, err := f.actorJSON(ctx, &a)
	if err != nil {
		return err
	}
	update, err := activitystreams.Activity("Update", a.URI+"#updates/"+strconv.FormatInt(now().UnixMilli(), 10), a.URI,
		json.RawMessage(actor), []string{activitystreams.PublicURI}, nil)
	if err != nil {
		return err
	}
	return f.enqueue(ctx, a.ID, update, f.inboxes(ctx, community.Recipients{AllPeers: true}, community.ScopeCompany))
}

// onAccountDeleted tells every peer, and the instances of remote followers, that a
// local account is gone; they drop it and everything it wrote.
func (f *Federator) onAccountDeleted(ctx context.Context, ev community.AccountDeleted) error {
	a := ev.Account
	if !a.IsLocal() {
		return nil
	}
	del, err := activitystreams.Activity("Delete", a.URI+"#delete", a.URI, a.URI, []string{activitystreams.PublicURI}, nil)
	if err != nil {
		return err
	}
	return f.enqueue(ctx, a.ID, del, f.inboxes(ctx, community.Recipients{Accounts: ev.RemoteFollowers, AllPeers: true}, community.ScopeWorld))
}

// inboxes turns recipients into inbox URLs: one shared inbox per instance where there
// is one, the personal inbox otherwise; every peer's shared inbox for AllPeers. Hosts
// the policy refuses are dropped, and company-scope content goes to peers only.
func (f *Federator) inboxes(ctx context.Context, r community.Recipients, scope community.Scope) []string {
	seen := map[string]bool{}
	var out []string
	add := func(inbox string) {
		host := hostOf(inbox)
		if inbox == "" || seen[inbox] || host == "" || host == f.cfg.Host || !f.policy.Allowed(host) {
			return
		}
		if scope != community.ScopeWorld && !f.cfg.IsPeer(host) {
			return
		}
		seen[inbox] = true
		out = append(out, inbox)
	}
	for _, a := range r.Accounts {
		add(inboxOf(a))
	}
	if r.AllPeers {
		for _, peer := range f.cfg.Federation.Peers {
			// Peers run Tacit, or other software whose inbox is wherever its actors
			// say: a shared inbox at another path, or none at all (GoToSocial).
			inbox, err := f.c.HostInbox(ctx, strings.ToLower(peer))
			if err != nil {
				f.log.WarnContext(ctx, "inbox of a peer", "peer", peer, "err", err)
			}
			if inbox == "" {
				inbox = f.cfg.Protocol + "://" + peer + "/inbox"
			}
			add(inbox)
		}
	}
	sort.Strings(out)
	return out
}

// personalInbox is an account's own inbox, where activities meant for it alone go
// (Follow, Accept, Undo, Block), as Mastodon sends them; the shared inbox when it has
// none.
func personalInbox(a *community.Account) string {
	if a.InboxURL != "" {
		return a.InboxURL
	}
	return a.SharedInboxURL
}

func inboxOf(a *community.Account) string {
	if a.SharedInboxURL != "" {
		return a.SharedInboxURL
	}
	return a.InboxURL
}

// enqueue queues one delivery per inbox. The dedupe key makes a repeated event
// harmless while the first delivery is pending.
func (f *Federator) enqueue(ctx context.Context, accountID int64, activity []byte, inboxes []string) error {
	if len(inboxes) == 0 {
		return nil
	}
	var head struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(activity, &head); err != nil {
		return fmt.Errorf("activity without id: %w", err)
	}
	jobs := make([]queue.Job, 0, len(inboxes))
	for _, inbox := range inboxes {
		payload, err := json.Marshal(deliveryPayload{Inbox: inbox, AccountID: accountID, Activity: activity})
		if err != nil {
			return err
		}
		jobs = append(jobs, queue.Job{Kind: jobDeliver, Host: hostOf(inbox), Payload: string(payload), DedupeKey: head.ID + " " + inbox})
	}
	return f.q.Enqueue(ctx, jobs...)
}

// deliver runs one queued delivery.
func (f *Federator) deliver(ctx context.Context, job queue.Job) error {
	var p deliveryPayload
	if err := json.Unmarshal([]byte(job.Payload), &p); err != nil {
		return queue.Permanent(fmt.Errorf("bad delivery payload: %w", err))
	}
	if _, err := url.Parse(p.Inbox); err != nil {
		return queue.Permanent(err)
	}
	if host := hostOf(p.Inbox); !f.policy.Allowed(host) {
		// Cut off (a domain block) since the delivery was queued.
		return queue.Permanent(fmt.Errorf("deliver to %s: %w", host, ErrNotAllowed))
	}
	signer := f.instanceSigner()
	if p.AccountID != 0 {
		var err error
		if signer, err = f.accountSigner(ctx, p.AccountID); err != nil {
			return err
		}
	}
	start := time.Now()
	err := f.client.Post(ctx, p.Inbox, p.Activity, signer)
	if se, ok := err.(*StatusError); ok && se.Permanent() {
		return queue.Permanent(err)
	}
	if err != nil {
		return err
	}
	f.log.DebugContext(ctx, "delivered", "job", job.ID, "inbox", p.Inbox, "attempt", job.Attempts,
		"duration_ms", float64(time.Since(start).Microseconds())/1000)
	return nil
}

// withPublished adds the time an activity happened, which Mastodon shows a boost with.
func withPublished(activity []byte, at time.Time) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(activity, &m); err != nil {
		return nil, fmt.Errorf("activity: %w", err)
	}
	m["published"] = at.UTC().Truncate(time.Second).Format(time.RFC3339)
	return marshalJSON(m)
}

func stringList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
