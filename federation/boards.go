package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
	"github.com/tacit-social/tacit/markup"
)

// Idea boards over ActivityPub (FEP-1b12, in the shapes Lemmy uses):
//
//   - A board is a Group actor whose document lists its moderators ("moderators"), rules
//     and scope. People follow it from any instance.
//   - An idea is a Page whose audience is the board; its author's instance delivers it
//     like any post, and to the board.
//   - The board's home instance is the authority over the board: it shares each idea
//     (Announce{Create{Page}}), counts votes (Likes of the idea, one per person), and
//     publishes each idea's state (status, votes, lock, pin, merge, board) as an
//     Update{Page} by the board, versioned so that a late delivery changes nothing.
//   - Moderators act with Lemmy's activities: Lock and Undo{Lock}, Remove{target: the
//     board} (a post) and Add/Remove{target: featured} (pins), Block{target: the board}
//     (bans), Move{origin, target} (an idea to another board), and Update{Page} with
//     Tacit's "idea" (status changes, merges). A moderator of another instance sends
//     the activity to the board; the home instance checks that the actor moderates the
//     board, applies it and Announces it; other instances apply what the board
//     Announces, and nothing else.
//   - Reports are Flags, sent by the instance actor.

// featuredURI is a board's featured collection: Add and Remove with it as target pin
// and unpin ideas.
func featuredURI(board *community.Account) string { return board.URI + "/collections/featured" }

// moderatorsURI is the collection listing a board's moderators.
func moderatorsURI(board *community.Account) string { return board.URI + "/moderators" }

// boardActor is what a board's group actor publishes about the board; nil for a group
// account that is not a board.
func (f *Federator) boardActor(ctx context.Context, acct *community.Account) (*activitystreams.BoardActor, error) {
	info, err := f.c.BoardByAccount(ctx, acct.ID)
	if community.KindOf(err) == community.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	b := &activitystreams.BoardActor{ModeratorsURL: moderatorsURI(acct), Rules: info.Board.Rules, Scope: info.Board.Scope}
	for _, m := range info.Moderators {
		b.Moderators = append(b.Moderators, m.URI)
	}
	return b, nil
}

// departmentOnly reports whether a local account is a department board, which no other
// server may see: its actor is not served, followed or announced beyond its instance.
func (f *Federator) departmentOnly(ctx context.Context, acct *community.Account) bool {
	if !acct.Group {
		return false
	}
	info, err := f.c.BoardByAccount(ctx, acct.ID)
	return err == nil && info.Board.Scope == community.ScopeDepartment
}

// boardModerators serves a board's moderators collection (Lemmy reads it).
func (f *Federator) boardModerators(c *gin.Context) {
	r, ok := f.authorize(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	acct, err := f.c.LocalAccountFor(ctx, r.viewer, c.Param("username"))
	if err != nil || !acct.Group {
		c.AbortWithStatus(http.StatusNotFound)
		return
	}
	info, err := f.c.BoardByAccount(ctx, acct.ID)
	if err != nil {
		f.fail(c, "board moderators", err)
		return
	}
	items := make([]string, 0, len(info.Moderators))
	for _, m := range info.Moderators {
		items = append(items, m.URI)
	}
	writeCollection(c, map[string]any{"id": moderatorsURI(acct), "type": "OrderedCollection",
		"totalItems": len(items), "orderedItems": items})
}

// syncBoard keeps this instance's copy of a remote board in step with its actor
// document: its moderators (fetched when unknown), rules and scope.
func (f *Federator) syncBoard(ctx context.Context, group *community.Account, pb *activitystreams.ParsedBoard) error {
	in := community.RemoteBoard{Description: group.Note, Rules: pb.Rules, Scope: community.Scope(pb.Scope)}
	for i, uri := range pb.Moderators {
		if i == community.MaxBoardModerators {
			break
		}
		m, err := f.account(ctx, uri)
		if err != nil {
			f.log.InfoContext(ctx, "board moderator unknown", "board", group.URI, "moderator", uri, "err", err)
			continue
		}
		in.Moderators = append(in.Moderators, m)
	}
	in.Description = markup.PlainText(in.Description)
	return f.c.SyncRemoteBoard(ctx, group, in)
}

// boardAudience returns the inboxes a local board publishes to, and the signer.
func (f *Federator) boardInboxes(ctx context.Context, board *community.Account) ([]string, error) {
	r, scope, err := f.c.BoardRecipients(ctx, board.ID)
	if err != nil || scope == community.ScopeDepartment {
		return nil, err
	}
	return f.inboxes(ctx, r, scope), nil
}

// boardAddressing is the to/cc of what a board publishes.
func (f *Federator) boardAddressing(ctx context.Context, board *community.Account) (to, cc []string) {
	to = []string{f.CompanyURI()}
	if info, err := f.c.BoardByAccount(ctx, board.ID); err == nil && info.Board.Scope == community.ScopeWorld {
		to = []string{activitystreams.PublicURI}
	}
	return to, []string{board.URI + "/followers"}
}

// ideaPage returns the Page form of an idea for NoteJSON, or nil for a status that is
// no idea. The board-owned state goes with it when this instance is the board's home.
func (f *Federator) ideaPage(ctx context.Context, st *community.Status) (*activitystreams.IdeaPage, error) {
	idea, err := f.c.Unchecked().IdeaOf(ctx, st.ID)
	if community.KindOf(err) == community.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	board, err := f.c.Unchecked().AccountByID(ctx, idea.BoardAccountID)
	if err != nil {
		return nil, err
	}
	page := &activitystreams.IdeaPage{Title: idea.Title, BodyHTML: idea.BodyHTML, BoardURI: board.URI}
	if board.IsLocal() {
		if page.State, err = f.ideaProps(ctx, idea); err != nil {
			return nil, err
		}
	}
	return page, nil
}

func (f *Federator) ideaProps(ctx context.Context, idea *community.Idea) (*activitystreams.IdeaProps, error) {
	p := &activitystreams.IdeaProps{Status: string(idea.State), Comment: idea.StateComment, Locked: idea.Locked,
		Votes: idea.VotesCount, Version: idea.Version}
	if idea.StateChangedAt != nil {
		p.StatusChanged = *idea.StateChangedAt
	}
	if idea.PinnedAt != nil {
		p.Pinned = *idea.PinnedAt
	}
	if idea.MergedIntoID != nil {
		target, err := f.c.Unchecked().StatusByID(ctx, *idea.MergedIntoID)
		if err != nil && community.KindOf(err) != community.KindNotFound {
			return nil, err
		}
		if target != nil {
			p.MergedInto = target.URI
		}
	}
	return p, nil
}

// onIdeaChanged publishes the new state of an idea of a local board: an Update of the
// Page by the board, to every instance that holds the idea.
func (f *Federator) onIdeaChanged(ctx context.Context, ev community.IdeaChanged) error {
	if !ev.Home {
		return nil
	}
	board, err := f.c.Unchecked().AccountByID(ctx, ev.Idea.BoardAccountID)
	if err != nil || !board.IsLocal() {
		return err
	}
	st, err := f.c.Unchecked().StatusByID(ctx, ev.Idea.StatusID)
	if err != nil {
		return ignoreMissing(err)
	}
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil {
		return err
	}
	props, err := f.ideaProps(ctx, &ev.Idea)
	if err != nil {
		return err
	}
	page := map[string]any{
		"id": st.URI, "type": "Page", "attributedTo": author.URI, "audience": board.URI, "name": ev.Idea.Title,
		"idea": props, "likes": map[string]any{"type": "Collection", "totalItems": ev.Idea.VotesCount},
	}
	to, cc := f.boardAddressing(ctx, board)
	// The id is the board's (activities are its instance's): idea and version.
	id := board.URI + "#ideas/" + community.FormatID(st.ID) + "/state/" + fmt.Sprint(ev.Idea.Version)
	update, err := activitystreams.Activity("Update", id, board.URI, page, to, cc)
	if err != nil {
		return err
	}
	inboxes, err := f.boardInboxes(ctx, board)
	if err != nil {
		return err
	}
	return f.enqueue(ctx, board.ID, update, inboxes)
}

// boardAnnounce renders a local board's share of an idea as its followers read it
// (FEP-1b12, as Lemmy sends it), in two shapes: Announce{Create{Page}}, the author's
// Create under its own id, for Lemmy and Tacit; and Announce{Page id}, which Mastodon,
// GoToSocial, Misskey and Pleroma show as the board boosting the idea (they cannot
// read an announced activity). The second is the board's boost: its id is the boost's.
func (f *Federator) boardAnnounce(ctx context.Context, reblog *community.Status, board *community.Account) (plain, wrapped []byte, inboxes []string, err error) {
	orig, err := f.c.Unchecked().StatusByID(ctx, *reblog.ReblogOfID)
	if err != nil {
		return nil, nil, nil, err
	}
	create, err := f.createOf(ctx, orig, board)
	if err != nil {
		return nil, nil, nil, err
	}
	to, cc := f.boardAddressing(ctx, board)
	plain, err = activitystreams.Activity("Announce", reblog.URI, board.URI, orig.URI, to, cc)
	if err != nil {
		return nil, nil, nil, err
	}
	if plain, err = withPublished(plain, reblog.CreatedAt); err != nil {
		return nil, nil, nil, err
	}
	wrapped, err = activitystreams.Activity("Announce", reblog.URI+"#create", board.URI, create, to, cc)
	if err != nil {
		return nil, nil, nil, err
	}
	inboxes, err = f.boardInboxes(ctx, board)
	return plain, wrapped, inboxes, err
}

// createOf renders the Create that published a status of one of a local board's
// threads (an idea or a reply), as a board embeds it in its Announce. A local author's
// is the one this instance sent; a remote author's keeps the id it arrived with, since
// Lemmy fetches an announced activity from its origin to check it, and the object keeps
// its addressing (Lemmy finds the board in to and cc) and its publication time.
func (f *Federator) createOf(ctx context.Context, st *community.Status, board *community.Account) (json.RawMessage, error) {
	author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
	if err != nil {
		return nil, err
	}
	if author.IsLocal() {
		create, err := f.statusActivity(ctx, st, author, "Create")
		return json.RawMessage(create), err
	}
	u, err := url.Parse(author.URI)
	if err != nil {
		return nil, fmt.Errorf("author %s: %w", author.URI, err)
	}
	company := u.Scheme + "://" + u.Host + "/ap/company"
	// An author without a followers collection (a Lemmy user) wrote for the board's
	// audience; the board's followers stand in for theirs.
	followers := author.FollowersURL
	if followers == "" {
		followers = board.URI + "/followers"
	}
	addr, err := activitystreams.Address(st.Visibility, st.Scope, followers, company, nil)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(addr.To, board.URI) && !slices.Contains(addr.Cc, board.URI) {
		addr.Cc = append(addr.Cc, board.URI)
	}
	object := map[string]any{
		"id": st.URI, "type": "Note", "attributedTo": author.URI, "content": st.Content, "mediaType": "text/html",
		"audience": board.URI, "to": addr.To, "cc": addr.Cc, "url": st.URL, "sensitive": st.Sensitive,
		"published": st.CreatedAt.UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	if st.SpoilerText != "" {
		object["summary"] = st.SpoilerText
	}
	if st.InReplyToID != nil {
		if parent, err := f.c.Unchecked().StatusByID(ctx, *st.InReplyToID); err == nil {
			object["inReplyTo"] = parent.URI
		}
	} else if idea, err := f.c.Unchecked().IdeaOf(ctx, st.ID); err == nil {
		object["type"], object["name"], object["content"] = "Page", idea.Title, idea.BodyHTML
	} else if community.KindOf(err) != community.KindNotFound {
		return nil, err
	}
	id := st.ActivityURI
	if id == "" {
		// Received before activity ids were kept: Tacit's own form.
		id = st.URI + "/activity"
	}
	create, err := activitystreams.Activity("Create", id, author.URI, object, addr.To, addr.Cc)
	return json.RawMessage(create), err
}

// moderationActivity renders a logged moderation action as the activity that carries
// it, with the action's own id, so that it is recorded once wherever it arrives.
func (f *Federator) moderationActivity(ctx context.Context, e community.ModerationLogEntry, board *community.Account) ([]byte, error) {
	id, actor := e.ActivityURI, e.ActorURI
	to := []string{board.URI}
	cc := []string{board.URI + "/followers"}
	extra := map[string]any{"audience": board.URI}
	if e.Reason != "" {
		extra["summary"] = e.Reason
	}
	switch e.Action {
	case community.ActionLock:
		return activitystreams.ActivityWith("Lock", id, actor, e.ObjectURI, to, cc, extra)
	case community.ActionUnlock:
		lock, err := activitystreams.ActivityWith("Lock", id+"#lock", actor, e.ObjectURI, to, cc, extra)
		if err != nil {
			return nil, err
		}
		return activitystreams.ActivityWith("Undo", id, actor, json.RawMessage(lock), to, cc, extra)
	case community.ActionRemove:
		extra["target"] = board.URI
		return activitystreams.ActivityWith("Remove", id, actor, e.ObjectURI, to, cc, extra)
	case community.ActionPin:
		extra["target"] = featuredURI(board)
		return activitystreams.ActivityWith("Add", id, actor, e.ObjectURI, to, cc, extra)
	case community.ActionUnpin:
		extra["target"] = featuredURI(board)
		return activitystreams.ActivityWith("Remove", id, actor, e.ObjectURI, to, cc, extra)
	case community.ActionBan:
		extra["target"] = board.URI
		return activitystreams.ActivityWith("Block", id, actor, e.ObjectURI, to, cc, extra)
	case community.ActionUnban:
		inner := map[string]any{"target": board.URI, "audience": board.URI}
		block, err := activitystreams.ActivityWith("Block", id+"#block", actor, e.ObjectURI, to, cc, inner)
		if err != nil {
			return nil, err
		}
		return activitystreams.ActivityWith("Undo", id, actor, json.RawMessage(block), to, cc, extra)
	case community.ActionMove:
		extra["origin"] = board.URI
		extra["target"] = e.TargetURI
		return activitystreams.ActivityWith("Move", id, actor, e.ObjectURI, to, cc, extra)
	case community.ActionStatus, community.ActionMerge:
		st, err := f.c.Unchecked().StatusByURI(ctx, e.ObjectURI)
		if err != nil {
			return nil, err
		}
		author, err := f.c.Unchecked().AccountByID(ctx, st.AccountID)
		if err != nil {
			return nil, err
		}
		idea, err := f.c.Unchecked().IdeaOf(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		props := map[string]any{"status": string(idea.State)}
		if e.Action == community.ActionStatus {
			props["status"] = e.Detail
			props["comment"] = e.Reason
		} else {
			props["mergedInto"] = e.TargetURI
		}
		page := map[string]any{"id": e.ObjectURI, "type": "Page", "attributedTo": author.URI, "audience": board.URI, "idea": props}
		return activitystreams.ActivityWith("Update", id, actor, page, to, cc, extra)
	}
	return nil, fmt.Errorf("moderation action %q has no activity", e.Action)
}

// onModerationRecorded sends a moderation action where it must go: a local board
// Announces it to every instance; a local moderator's action on a remote board goes to
// that board, whose instance decides.
func (f *Federator) onModerationRecorded(ctx context.Context, ev community.ModerationRecorded) error {
	board := ev.Board
	if board == nil {
		return nil
	}
	if board.IsLocal() {
		inner, err := f.moderationActivity(ctx, ev.Entry, board)
		if err != nil {
			return err
		}
		to, cc := f.boardAddressing(ctx, board)
		announce, err := activitystreams.Activity("Announce", board.URI+"/announces/"+community.FormatID(ev.Entry.ID),
			board.URI, json.RawMessage(inner), to, cc)
		if err != nil {
			return err
		}
		inboxes, err := f.boardInboxes(ctx, board)
		if err != nil {
			return err
		}
		return f.enqueue(ctx, board.ID, announce, inboxes)
	}
	if ev.Entry.Origin != f.cfg.Host || ev.Entry.ActorAccountID == nil {
		return nil // announced to us: nothing to pass on
	}
	activity, err := f.moderationActivity(ctx, ev.Entry, board)
	if err != nil {
		return err
	}
	return f.enqueue(ctx, *ev.Entry.ActorAccountID, activity, []string{inboxOf(board)})
}

// onReportFiled forwards a report as a Flag from the instance actor (the reporter
// stays anonymous to the other instance, as with Mastodon) to the instances that can
// act on it.
func (f *Federator) onReportFiled(ctx context.Context, ev community.ReportFiled) error {
	if len(ev.ForwardTo) == 0 {
		return nil
	}
	objects := []any{ev.Target.URI}
	for _, st := range ev.Statuses {
		objects = append(objects, st.URI)
	}
	flag := map[string]any{"content": ev.Report.Comment, "object": objects}
	body, err := activitystreams.ActivityWith("Flag", f.base+"/reports/"+community.FormatID(ev.Report.ID),
		f.InstanceActorURI(), ev.Target.URI, nil, nil, flag)
	if err != nil {
		return err
	}
	// A report goes wherever the reported account lives, peer or not (open mode): the
	// reporter asked for it, and it names nothing of the reporter.
	return f.enqueue(ctx, 0, body, f.inboxes(ctx, community.Recipients{Accounts: ev.ForwardTo}, community.ScopeWorld))
}

// relayReply has a local board announce a reply of one of its discussions to its
// followers (FEP-1b12), whichever instance it was written on: Announce{Create{Note}},
// which Lemmy and Tacit read, and Announce{Note id} for software that cannot read an
// announced activity. Followers' instances that do not hold the reply yet fetch it
// from its author's instance.
func (f *Federator) relayReply(ctx context.Context, st community.Status) error {
	if st.Scope == community.ScopeDepartment || (st.Visibility != community.VisibilityPublic && st.Visibility != community.VisibilityUnlisted) {
		return nil
	}
	b, _, err := f.c.ThreadBoard(ctx, &st)
	if err != nil || b == nil || !b.Local {
		return err
	}
	board, err := f.c.Unchecked().AccountByID(ctx, b.AccountID)
	if err != nil {
		return err
	}
	to, cc := f.boardAddressing(ctx, board)
	id := board.URI + "#relays/" + community.FormatID(st.ID)
	plain, err := activitystreams.Activity("Announce", id, board.URI, st.URI, to, cc)
	if err != nil {
		return err
	}
	create, err := f.createOf(ctx, &st, board)
	if err != nil {
		return err
	}
	wrapped, err := activitystreams.Activity("Announce", id+"/create", board.URI, create, to, cc)
	if err != nil {
		return err
	}
	inboxes, err := f.boardInboxes(ctx, board)
	if err != nil {
		return err
	}
	origin := hostOf(st.URI)
	kept := inboxes[:0]
	for _, inbox := range inboxes {
		if hostOf(inbox) != origin {
			kept = append(kept, inbox)
		}
	}
	if err := f.enqueue(ctx, board.ID, wrapped, kept); err != nil {
		return err
	}
	return f.enqueue(ctx, board.ID, plain, kept)
}

// ideaBoardOf returns the board of an idea when the status is one, else nil.
func (f *Federator) ideaBoardOf(ctx context.Context, st *community.Status) (*community.Account, error) {
	idea, err := f.c.Unchecked().IdeaOf(ctx, st.ID)
	if community.KindOf(err) == community.KindNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return f.c.Unchecked().AccountByID(ctx, idea.BoardAccountID)
}

// moderationOf reads a moderation action from an activity, when it is one. board is
// the board it concerns when known (to tell a pin from a removal).
func moderationOf(act *activitystreams.ParsedActivity) (community.BoardModeration, bool) {
	m := community.BoardModeration{ActorURI: act.Actor, ObjectURI: act.ObjectID, TargetURI: act.Target,
		ActivityURI: act.ID, Reason: stringProp(act.Raw, "summary")}
	featured := strings.HasSuffix(act.Target, "/collections/featured") || strings.HasSuffix(act.Target, "/featured")
	switch act.Type {
	case "Lock":
		m.Action = community.ActionLock
	case "Undo":
		inner := act.ObjectActivity
		if inner == nil {
			return m, false
		}
		m.ObjectURI = inner.ObjectID
		switch {
		case inner.Type == "Lock":
			m.Action = community.ActionUnlock
		case inner.Type == "Block" && inner.Target != "":
			m.Action, m.TargetURI = community.ActionUnban, inner.Target
		default:
			return m, false
		}
	case "Remove":
		if act.Target == "" {
			return m, false
		}
		m.Action = community.ActionRemove
		if featured {
			m.Action = community.ActionUnpin
		}
	case "Add":
		if !featured {
			return m, false
		}
		m.Action = community.ActionPin
	case "Block":
		if act.Target == "" {
			return m, false
		}
		m.Action = community.ActionBan
	case "Move":
		if act.Object != nil || act.Target == "" {
			return m, false
		}
		m.Action = community.ActionMove
	case "Update":
		o := act.Object
		if o == nil || o.Type != "Page" || o.Idea == nil || o.AttributedTo == act.Actor {
			return m, false
		}
		m.ObjectURI = o.ID
		if o.Idea.MergedInto != "" {
			m.Action, m.TargetURI = community.ActionMerge, o.Idea.MergedInto
		} else {
			m.Action, m.Status, m.Reason = community.ActionStatus, community.IdeaStatus(o.Idea.Status), o.Idea.Comment
		}
	default:
		return m, false
	}
	return m, true
}

func stringProp(raw map[string]any, key string) string {
	s, _ := raw[key].(string)
	return s
}

// receiveModerationRequest applies a moderator's action sent to one of this instance's
// boards, after the domain checks that the actor moderates the board. An action on a
// board of another instance is that instance's to decide: it is ignored here until
// the board announces it.
func (f *Federator) receiveModerationRequest(ctx context.Context, actor *community.Account, m community.BoardModeration) error {
	req := community.ModerationRequest{Action: m.Action, Status: m.Status, Reason: m.Reason, ActivityURI: m.ActivityURI}
	var board *community.Board
	switch m.Action {
	case community.ActionBan, community.ActionUnban:
		b, err := f.c.Unchecked().AccountByURI(ctx, m.TargetURI)
		if err != nil {
			return ignoreMissing(err)
		}
		info, err := f.c.BoardByAccount(ctx, b.ID)
		if err != nil {
			return ignoreMissing(err)
		}
		board = &info.Board
		target, err := f.account(ctx, m.ObjectURI)
		if err != nil {
			return err
		}
		req.BoardID, req.AccountID = b.ID, target.ID
	default:
		st, err := f.c.Unchecked().StatusByURI(ctx, m.ObjectURI)
		if err != nil {
			return ignoreMissing(err)
		}
		if board, _, err = f.c.ThreadBoard(ctx, st); err != nil || board == nil {
			return err
		}
		req.StatusID = st.ID
		switch m.Action {
		case community.ActionMerge:
			target, err := f.c.Unchecked().StatusByURI(ctx, m.TargetURI)
			if err != nil {
				return ignoreMissing(err)
			}
			req.TargetID = target.ID
		case community.ActionMove:
			nb, err := f.c.Unchecked().AccountByURI(ctx, m.TargetURI)
			if err != nil {
				return ignoreMissing(err)
			}
			req.BoardID = nb.ID
		}
	}
	if !board.Local {
		f.log.InfoContext(ctx, "ignored a moderation action on another instance's board", "activity", m.ActivityURI, "actor", actor.URI)
		return nil
	}
	_, err := f.c.Moderate(ctx, actor, req)
	return err
}

// receiveGroupAnnounce handles what a board announces: its share of an idea, a relayed
// post, or a moderation action its home instance has applied.
func (f *Federator) receiveGroupAnnounce(ctx context.Context, group *community.Account, act *activitystreams.ParsedActivity) error {
	inner := act.ObjectActivity
	switch inner.Type {
	case "Create", "Update":
		if m, ok := moderationOf(inner); ok {
			return f.applyAnnouncedModeration(ctx, group, m)
		}
		st, err := f.receiveRelayed(ctx, group, inner)
		if err != nil || st == nil {
			return err
		}
		if inner.Type != "Create" || st.InReplyToID != nil {
			return nil
		}
		if board, err := f.ideaBoardOf(ctx, st); err != nil || board == nil || board.ID != group.ID {
			return err
		}
		// A Tacit board's Announce{Create} is "<its share's id>#create": the share is
		// stored under its own id, which its Undo names, whichever form came first.
		_, err = f.c.ReceiveReblog(ctx, group, st.ID, strings.TrimSuffix(act.ID, "#create"), act.To, act.Cc)
		return ignoreMissing(err)
	case "Delete":
		// The author's instance tells every peer itself; a board relays only what its
		// own instance vouches for.
		if hostOf(inner.Actor) != hostOf(group.URI) {
			return nil
		}
		author, err := f.c.Unchecked().AccountByURI(ctx, inner.Actor)
		if err != nil {
			return ignoreMissing(err)
		}
		return f.c.DeleteRemoteStatus(ctx, author, inner.ObjectID)
	case "Like", "Dislike":
		return nil // the board publishes vote counts in the idea's state
	}
	if m, ok := moderationOf(inner); ok {
		return f.applyAnnouncedModeration(ctx, group, m)
	}
	return nil
}

// receiveRelayed stores an idea or reply a board relays. An object of the board's own
// instance comes embedded and signed by it; another instance's object is fetched from
// that instance, which vouches for its own posts.
func (f *Federator) receiveRelayed(ctx context.Context, group *community.Account, inner *activitystreams.ParsedActivity) (*community.Status, error) {
	o := inner.Object
	uri := inner.ObjectID
	if o != nil {
		uri = o.ID
	}
	if o != nil && hostOf(o.ID) == hostOf(group.URI) && hostOf(o.AttributedTo) == hostOf(group.URI) {
		author, err := f.account(ctx, o.AttributedTo)
		if err != nil {
			return nil, err
		}
		activityID := ""
		if inner.Type == "Create" && inner.Actor == author.URI {
			activityID = inner.ID
		}
		if err := f.receiveCreated(ctx, author, o, activityID); err != nil {
			return nil, err
		}
	} else if _, err := f.c.Unchecked().StatusByURI(ctx, uri); err != nil {
		if _, err := f.ResolveStatus(ctx, uri, community.Viewer{Server: hostOf(group.URI)}); err != nil &&
			community.KindOf(err) != community.KindNotFound {
			return nil, err
		}
	}
	st, err := f.c.Unchecked().StatusByURI(ctx, uri)
	if community.KindOf(err) == community.KindNotFound {
		return nil, nil
	}
	return st, err
}

// applyAnnouncedModeration applies a moderation action a remote board announced.
func (f *Federator) applyAnnouncedModeration(ctx context.Context, group *community.Account, m community.BoardModeration) error {
	if a, err := f.c.Unchecked().AccountByURI(ctx, m.ActorURI); err == nil {
		m.Actor = a
	} else if a, err := f.account(ctx, m.ActorURI); err == nil {
		m.Actor = a
	}
	switch m.Action {
	case community.ActionBan, community.ActionUnban:
		if m.TargetURI != group.URI {
			return community.Forbidden("A board bans only from itself")
		}
		if _, err := f.account(ctx, m.ObjectURI); err != nil {
			return err
		}
	case community.ActionMove:
		// The new board must be known here, as a board, for the idea to follow it.
		if hostOf(m.TargetURI) != hostOf(group.URI) {
			return community.Forbidden("A board moves ideas only to boards of its own instance")
		}
		if _, err := f.account(ctx, m.TargetURI); err != nil {
			return err
		}
	}
	return f.c.ApplyBoardModeration(ctx, group, m)
}

// receiveFlag stores a report another instance forwarded.
func (f *Federator) receiveFlag(ctx context.Context, actor *community.Account, act *activitystreams.ParsedActivity) error {
	in := community.RemoteReport{URI: act.ID, Reporter: actor, Comment: stringProp(act.Raw, "content")}
	for i, uri := range act.ObjectIDs {
		if i == community.MaxReportStatuses+1 {
			break
		}
		if a, err := f.c.Unchecked().AccountByURI(ctx, uri); err == nil {
			in.Accounts = append(in.Accounts, a)
			continue
		}
		st, err := f.c.Unchecked().StatusByURI(ctx, uri)
		if community.KindOf(err) == community.KindNotFound && hostOf(uri) != f.cfg.Host {
			// A report can overtake the post it is about: fetch the post from its instance.
			if _, rerr := f.ResolveStatus(ctx, uri, community.Viewer{Server: hostOf(uri)}); rerr == nil {
				st, err = f.c.Unchecked().StatusByURI(ctx, uri)
			}
		}
		if err == nil {
			in.Statuses = append(in.Statuses, *st)
		}
	}
	_, err := f.c.ReceiveReport(ctx, in)
	return err
}

// applyIdeaState takes the state of an idea from the board that published it.
func (f *Federator) applyIdeaState(ctx context.Context, group *community.Account, o *activitystreams.ParsedObject) error {
	p := o.Idea
	if p == nil {
		return nil
	}
	return f.c.ApplyIdeaState(ctx, group, community.IdeaState{
		URI: o.ID, BoardURI: o.Group, Status: community.IdeaStatus(p.Status), Comment: p.Comment,
		StatusChanged: p.StatusChanged, Locked: p.Locked, Pinned: p.Pinned, MergedIntoURI: p.MergedInto,
		Votes: p.Votes, Version: p.Version,
	})
}
