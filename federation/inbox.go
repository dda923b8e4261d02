package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/federation/queue"
)

// processInbox applies one received activity to the domain. Errors that retrying
// cannot fix (a malformed activity, a forbidden action) give the job up at once.
func (f *Federator) processInbox(ctx context.Context, job queue.Job) error {
	act, err := f.inboxActivity(job)
	if err != nil {
		return err
	}
	return f.applyInbox(ctx, act)
}

// inboxActivity returns the activity a job carries: as the inbox parsed it, when this
// process received it moments ago, else parsed from the job's payload.
func (f *Federator) inboxActivity(job queue.Job) (*activitystreams.ParsedActivity, error) {
	if act := f.parsed.take(job.ID); act != nil {
		return act, nil
	}
	var p inboxPayload
	if err := json.Unmarshal([]byte(job.Payload), &p); err != nil {
		return nil, queue.Permanent(fmt.Errorf("bad inbox payload: %w", err))
	}
	act, err := activitystreams.ParseActivity(p.Activity)
	if err != nil {
		return nil, queue.Permanent(err)
	}
	return act, nil
}

// applyInbox applies one parsed activity and classifies its failure for the queue.
func (f *Federator) applyInbox(ctx context.Context, act *activitystreams.ParsedActivity) error {
	if host := hostOf(act.Actor); !f.policy.Allowed(host) {
		// Cut off (a domain block) since the activity was received.
		return queue.Permanent(fmt.Errorf("activity from %s: %w", host, ErrNotAllowed))
	}
	// The inbox recorded the id when it queued the activity, so a replay never gets
	// here; a transient failure is retried as the same job.
	return f.inboxError(ctx, act, f.apply(ctx, act))
}

// inboxError logs an activity's failure and marks those that retrying cannot fix as
// permanent.
func (f *Federator) inboxError(ctx context.Context, act *activitystreams.ParsedActivity, err error) error {
	if err == nil {
		return nil
	}
	f.log.InfoContext(ctx, "inbox activity failed", "activity", act.ID, "type", act.Type, "err", err)
	if k := community.KindOf(err); k != 0 && k != community.KindConflict {
		return queue.Permanent(err)
	}
	// A document its own server refuses for good (an actor or object that does not
	// exist there) will not appear by retrying.
	var se *StatusError
	if errors.As(err, &se) && se.Permanent() {
		return queue.Permanent(err)
	}
	return err
}

// apply applies one activity: first what every activity must pass (a known actor that
// is not suspended), then the forms only a board sends or a moderator asks for, then
// one function per activity type. Types Tacit does not act on are ignored.
func (f *Federator) apply(ctx context.Context, act *activitystreams.ParsedActivity) error {
	actor, err := f.account(ctx, act.Actor)
	if err != nil {
		return err
	}
	if suspended, err := f.c.IsSuspended(ctx, actor.ID); err != nil {
		return err
	} else if suspended {
		return community.Forbidden("%s is suspended here", actor.URI)
	}
	if actor.Group && act.Type == "Announce" && act.ObjectActivity != nil {
		return f.receiveGroupAnnounce(ctx, actor, act)
	}
	if actor.Group && act.Type == "Update" && act.Object != nil && act.Object.AttributedTo != actor.URI {
		return f.applyIdeaState(ctx, actor, act.Object)
	}
	if m, ok := moderationOf(act); ok {
		return f.receiveModerationRequest(ctx, actor, m)
	}
	switch act.Type {
	case "Create", "Update":
		return f.applyCreateOrUpdate(ctx, actor, act)
	case "Delete":
		return f.applyDelete(ctx, actor, act)
	case "Follow":
		return f.applyFollow(ctx, actor, act)
	case "Accept", "Reject":
		return f.applyFollowAnswer(ctx, actor, act)
	case "Undo":
		return f.applyUndo(ctx, actor, act)
	case "Block":
		return f.applyBlock(ctx, actor, act)
	case "Like":
		return f.applyLike(ctx, actor, act)
	case "Flag":
		return f.receiveFlag(ctx, actor, act)
	case "Announce":
		return f.applyAnnounce(ctx, actor, act)
	}
	f.log.DebugContext(ctx, "ignored an activity type", "type", act.Type, "activity", act.ID)
	return nil
}

// applyCreateOrUpdate stores a post its actor created or edited, or the actor's own
// new profile.
func (f *Federator) applyCreateOrUpdate(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	if act.Object == nil {
		if act.Type == "Update" && act.ObjectID == act.Actor {
			_, err := f.fetchAccount(ctx, act.Actor)
			return err
		}
		return queue.Permanent(fmt.Errorf("%s without an embedded object", act.Type))
	}
	switch act.Object.Type {
	case "Person", "Service", "Application", "Group", "Organization":
		return f.applyActorUpdate(ctx, actor, act)
	}
	activityID := ""
	if act.Type == "Create" {
		activityID = act.ID
	}
	return f.receiveCreated(ctx, actor, act.Object, activityID)
}

// applyActorUpdate stores the actor document an actor sent about itself.
func (f *Federator) applyActorUpdate(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	if act.Object.ID != actor.URI {
		return community.Forbidden("An actor may only update itself")
	}
	body, err := json.Marshal(act.Raw["object"])
	if err != nil {
		return queue.Permanent(err)
	}
	_, err = f.storeActor(ctx, actor.URI, body)
	return err
}

// applyDelete deletes the actor's account, or one of its posts.
func (f *Federator) applyDelete(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	if act.ObjectID == actor.URI {
		return f.c.DeleteRemoteAccount(ctx, actor)
	}
	return f.c.DeleteRemoteStatus(ctx, actor, act.ObjectID)
}

// applyFollow follows a local account; one that is never seen beyond this instance
// does not exist for the follower.
func (f *Federator) applyFollow(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	target, err := f.localTarget(ctx, act.ObjectID)
	if err != nil {
		return err
	}
	if f.departmentOnly(ctx, target) {
		return community.ErrNotFound
	}
	return f.c.Follow(ctx, actor, target.ID, community.FollowOptions{URI: act.ID})
}

// applyFollowAnswer applies an Accept or a Reject of a local account's follow.
func (f *Federator) applyFollowAnswer(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	follower, err := f.followerOf(ctx, act)
	if err != nil {
		return err
	}
	if act.Type == "Accept" {
		return f.c.AuthorizeFollowRequest(ctx, actor, follower.ID)
	}
	if err := f.c.RejectFollowRequest(ctx, actor, follower.ID); community.KindOf(err) != community.KindNotFound {
		return err
	}
	// A follow it had accepted: the remote account removed its follower.
	return ignoreMissing(f.c.RemoveFollower(ctx, actor, follower.ID))
}

// applyUndo undoes one of the actor's own Follow, Like, Announce or Block; other
// undone types are ignored.
func (f *Federator) applyUndo(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	inner := act.ObjectActivity
	if inner == nil {
		return queue.Permanent(errors.New("Undo of an unknown activity"))
	}
	if inner.Actor != "" && inner.Actor != actor.URI {
		return community.Forbidden("An actor may only undo its own activities")
	}
	switch inner.Type {
	case "Follow":
		target, err := f.localTarget(ctx, inner.ObjectID)
		if err != nil {
			return err
		}
		return f.c.Unfollow(ctx, actor, target.ID)
	case "Like":
		st, err := f.c.Unchecked().StatusByURI(ctx, inner.ObjectID)
		if err != nil {
			return ignoreMissing(err)
		}
		_, err = f.c.Unfavourite(ctx, actor, st.ID)
		return ignoreMissing(err)
	case "Announce":
		return f.c.DeleteRemoteStatus(ctx, actor, inner.ID)
	case "Block":
		target, err := f.localTarget(ctx, inner.ObjectID)
		if err != nil {
			return ignoreMissing(err)
		}
		return f.c.Unblock(ctx, actor, target.ID)
	}
	return nil
}

// applyBlock records that the actor blocks a local account.
func (f *Federator) applyBlock(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	target, err := f.localTarget(ctx, act.ObjectID)
	if err != nil {
		return ignoreMissing(err)
	}
	return f.c.Block(ctx, actor, target.ID)
}

// applyLike favourites a post (or votes for an idea).
func (f *Federator) applyLike(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	st, err := f.c.Unchecked().StatusByURI(ctx, act.ObjectID)
	if community.KindOf(err) == community.KindNotFound && hostOf(act.ObjectID) != f.cfg.Host {
		// A vote can overtake the idea it is for: fetch the idea from its instance.
		if _, rerr := f.ResolveStatus(ctx, act.ObjectID, community.Viewer{Server: hostOf(act.ObjectID)}); rerr == nil ||
			community.KindOf(rerr) == community.KindNotFound {
			st, err = f.c.Unchecked().StatusByURI(ctx, act.ObjectID)
		}
	}
	if err != nil {
		return ignoreMissing(err)
	}
	_, err = f.c.Favourite(ctx, actor, st.ID)
	return ignoreMissing(err)
}

// applyAnnounce records the actor's boost of a post; a board relaying a post of its
// discussion is not a boost.
func (f *Federator) applyAnnounce(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	st, err := f.c.Unchecked().StatusByURI(ctx, act.ObjectID)
	if community.KindOf(err) == community.KindNotFound && actor.Group && hostOf(act.ObjectID) != f.cfg.Host {
		// A board relaying a post of its discussion this instance does not hold:
		// the post's own instance vouches for it.
		if _, rerr := f.ResolveStatus(ctx, act.ObjectID, community.Viewer{Server: hostOf(act.ObjectID)}); rerr == nil {
			st, err = f.c.Unchecked().StatusByURI(ctx, act.ObjectID)
		}
	}
	if err != nil {
		return ignoreMissing(err)
	}
	if actor.Group && st.InReplyToID != nil {
		return nil // a board relaying a reply of its discussion: stored already
	}
	_, err = f.c.ReceiveReblog(ctx, actor, st.ID, act.ID, act.To, act.Cc)
	return ignoreMissing(err)
}

// receiveObject stores a Note (or another post-like object) its actor created, fetched
// or received without its Create.
func (f *Federator) receiveObject(ctx context.Context, actor *community.Account, o *activitystreams.ParsedObject) error {
	return f.receiveCreated(ctx, actor, o, "")
}

// receiveCreated stores a Note (or another post-like object) its actor created;
// activityID is the id of the Create that brought it, "" when none did.
func (f *Federator) receiveCreated(ctx context.Context, actor *community.Account, o *activitystreams.ParsedObject, activityID string) error {
	if err := checkCreated(actor, o); err != nil {
		return err
	}
	if o.IsVote() {
		// A vote is counted where the poll lives; a vote on anything else is dropped.
		return ignoreMissing(f.c.ReceivePollVote(ctx, actor, o.InReplyTo, o.Name, o.ID))
	}
	in := f.remoteStatusOf(ctx, actor, o, activityID)
	if o.Type == "Page" && o.Group != "" && o.InReplyTo == "" {
		// An idea: its board must be known here (and synced) before it can be one.
		if _, err := f.account(ctx, o.Group); err != nil {
			f.log.InfoContext(ctx, "the board of an idea is unknown", "idea", o.ID, "board", o.Group, "err", err)
		}
		in.Idea = &community.RemoteIdea{BoardURI: o.Group, Title: o.Name, BodyHTML: o.Content}
	}
	_, err := f.c.ReceiveStatus(ctx, in)
	return err
}

// checkCreated refuses an object its actor may not create: another's, or one whose id
// is on another server.
func checkCreated(actor *community.Account, o *activitystreams.ParsedObject) error {
	if o.AttributedTo != "" && o.AttributedTo != actor.URI {
		return community.Forbidden("An actor may only create its own objects")
	}
	if hostOf(o.ID) != hostOf(actor.URI) {
		return community.Forbidden("Objects must come from their author's instance")
	}
	return nil
}

// remoteStatusOf turns a received post into what the domain stores, fetching the
// post it answers when it is not here yet. Ideas are the caller's to complete.
func (f *Federator) remoteStatusOf(ctx context.Context, actor *community.Account, o *activitystreams.ParsedObject, activityID string) community.RemoteStatus {
	vis, scope := o.Audience(actor.FollowersURL, f.isCompanyCollection)
	if scope == community.ScopeCompany && !f.cfg.IsPeer(actor.Domain) &&
		(vis == community.VisibilityPrivate || vis == community.VisibilityDirect) {
		// Followers-only and direct posts carry no scope on the wire; from a peer they
		// are company posts, but a server outside the company (open mode) has no
		// company to speak for: its posts are world posts.
		scope = community.ScopeWorld
	}
	f.fetchAncestor(ctx, o.InReplyTo)
	in := community.RemoteStatus{
		URI: o.ID, ActivityURI: activityID, URL: o.URL, AuthorID: actor.ID, Author: actor, ContentHTML: o.Content, SpoilerText: o.Summary,
		Sensitive: o.Sensitive, Language: o.Language, Visibility: vis, Scope: scope,
		InReplyToURI: o.InReplyTo, MentionURIs: o.Mentions, Tags: o.Hashtags,
		Published: o.Published, Edited: o.Updated,
	}
	for _, a := range o.Attachments {
		ra := community.RemoteAttachment{URL: a.URL, MediaType: a.MediaType, Description: a.Name, Blurhash: a.Blurhash,
			Width: a.Width, Height: a.Height}
		if a.Focus != nil {
			ra.FocusX, ra.FocusY = a.Focus[0], a.Focus[1]
		}
		in.Attachments = append(in.Attachments, ra)
	}
	if p := o.Poll; p != nil {
		in.Poll = &community.RemotePoll{Options: p.Options, Multiple: p.Multiple, ExpiresAt: p.EndTime, VotersCount: p.VotersCount,
			HideTotals: p.HideTotals}
	}
	return in
}

// maxAncestorFetches bounds how far up a thread a received reply makes this instance
// fetch missing posts: enough for a conversation's context, not a crawl.
const maxAncestorFetches = 5

type ancestorDepthKey struct{}

// fetchAncestor fetches the post a reply answers when it is not stored yet, so that
// the thread reads whole here; its own parent follows, up to maxAncestorFetches. A
// failure only leaves the thread shorter.
func (f *Federator) fetchAncestor(ctx context.Context, parentURI string) {
	if parentURI == "" {
		return
	}
	if _, err := f.c.Unchecked().StatusByURI(ctx, parentURI); err == nil {
		return
	}
	depth, _ := ctx.Value(ancestorDepthKey{}).(int)
	if depth >= maxAncestorFetches {
		return
	}
	ctx = context.WithValue(ctx, ancestorDepthKey{}, depth+1)
	if _, err := f.ResolveStatus(ctx, parentURI, community.Anonymous); err != nil && community.KindOf(err) != community.KindNotFound {
		f.log.InfoContext(ctx, "could not fetch the post a reply answers", "uri", parentURI, "err", err)
	}
}

// localTarget finds the local account an activity is about.
func (f *Federator) localTarget(ctx context.Context, uri string) (*community.Account, error) {
	a, err := f.c.Unchecked().AccountByURI(ctx, uri)
	if err != nil {
		return nil, err
	}
	if !a.IsLocal() {
		return nil, community.Invalid("%s is not an account of this instance", uri)
	}
	return a, nil
}

// followerOf finds the local follower an Accept or Reject answers: the embedded
// Follow's actor, or, when only the Follow's id came back, the account whose id prefixes it.
func (f *Federator) followerOf(ctx context.Context, act *activitystreams.ParsedActivity) (*community.Account, error) {
	if inner := act.ObjectActivity; inner != nil && inner.Actor != "" {
		return f.localTarget(ctx, inner.Actor)
	}
	uri, _, _ := strings.Cut(act.ObjectID, "#")
	return f.localTarget(ctx, uri)
}

func ignoreMissing(err error) error {
	if community.KindOf(err) == community.KindNotFound {
		return nil
	}
	return err
}
