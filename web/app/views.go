package app

import (
	"context"
	"html/template"
	"strings"
	"time"

	"github.com/tacit-social/tacit/community"
)

// Views are what templates show: domain values turned into display values once, in
// Go, so that templates only print. Nothing here decides who may see what; the lists
// handed in have passed the domain's audience rule already.

// timeLayout is how pages show a moment.
const timeLayout = "2 Jan 2006, 15:04 UTC"

// defaultAvatarPath is the picture the API serves for accounts without one.
const defaultAvatarPath = "/avatars/original/missing.png"

type accountView struct {
	ID          string
	Handle      string // "@alice" or "@alice@host"
	Name        string
	ProfilePath string
	Avatar      string
	NoteHTML    template.HTML
	Department  string // the instance the person belongs to
	Local       bool
	Locked      bool
	Expertise   []string
	Statuses    int64
	Following   int64
	Followers   int64
}

func (a *App) accountView(acct *community.Account) accountView {
	avatar, _ := a.community.ProfileImageURLs(acct)
	if avatar == "" {
		avatar = defaultAvatarPath
	}
	name := strings.TrimSpace(acct.DisplayName)
	if name == "" {
		name = acct.Username
	}
	dept := acct.Domain
	if dept == "" {
		dept = a.cfg.Host
	}
	return accountView{
		ID:          community.FormatID(acct.ID),
		Handle:      "@" + acct.Acct(),
		Name:        name,
		ProfilePath: "/@" + acct.Acct(),
		Avatar:      avatar,
		// Notes are rendered, sanitized HTML from the domain, as the API hands them out.
		NoteHTML:   template.HTML(acct.Note),
		Department: dept,
		Local:      acct.IsLocal(),
		Locked:     acct.Locked,
		Expertise:  []string(acct.Expertise),
		Statuses:   acct.StatusesCount,
		Following:  acct.FollowingCount,
		Followers:  acct.FollowersCount,
	}
}

// formContext is what a post's forms need from the page: the CSRF token, where to go
// back after a plain (non-htmx) submission, and whether anyone is signed in.
type formContext struct {
	CSRF     string
	Back     string
	SignedIn bool
}

type mediaView struct {
	URL         string
	Preview     string
	Description string
	Image       bool
}

type statusView struct {
	ID          string
	Path        string
	Author      accountView
	BoostedBy   *accountView
	ContentHTML template.HTML
	SpoilerText string
	Sensitive   bool
	CreatedAt   time.Time
	Edited      bool
	Visibility  community.Visibility
	Scope       community.Scope
	Reply       bool
	Tags        []string
	Media       []mediaView
	Poll        *pollView
	Replies     int64
	Boosts      int64
	Favourites  int64
	Favourited  bool
	Boosted     bool
	Bookmarked  bool
	Mine        bool
	// Editable: one's own post without pictures or a poll (see editableStatus).
	Editable bool
	Form     *formContext
	// Display texts, made once here rather than by template function calls, which
	// cost most of a page's rendering.
	AudienceText string
	CountsText   string
	CreatedISO   string
	CreatedText  string
	Actions      []actionButton
}

// actionButton is one button on a post that posts a form to /statuses/:id/:action.
type actionButton struct {
	Action  string
	Label   string
	Pressed bool
}

// actionsFor lists the toggles a post offers: favourite, boost (only public and
// unlisted posts can be boosted, Mastodon's rule, which the domain enforces; the
// button is hidden where it would fail) and bookmark.
func actionsFor(v *statusView) []actionButton {
	toggle := func(on bool, do, undo, doLabel, undoLabel string) actionButton {
		if on {
			return actionButton{Action: undo, Label: T(undoLabel), Pressed: true}
		}
		return actionButton{Action: do, Label: T(doLabel)}
	}
	out := []actionButton{toggle(v.Favourited, "favourite", "unfavourite", "status.favourite", "status.unfavourite")}
	if v.Visibility == community.VisibilityPublic || v.Visibility == community.VisibilityUnlisted {
		out = append(out, toggle(v.Boosted, "reblog", "unreblog", "status.boost", "status.unboost"))
	}
	return append(out, toggle(v.Bookmarked, "bookmark", "unbookmark", "status.bookmark", "status.unbookmark"))
}

// statusViews turns a page of statuses into views, in order, with the details loaded
// for the whole page at once (a fixed number of queries). A boost shows the boosted
// post, with who boosted it.
func (a *App) statusViews(ctx context.Context, v community.Viewer, list []community.Status, form *formContext) ([]statusView, error) {
	d, err := a.community.LoadStatusDetails(ctx, v, list)
	if err != nil {
		return nil, err
	}
	out := make([]statusView, 0, len(list))
	for i := range list {
		st := &list[i]
		var boostedBy *accountView
		if st.ReblogOfID != nil {
			booster := d.Accounts[st.AccountID]
			orig := d.Statuses[*st.ReblogOfID]
			if booster == nil || orig == nil {
				continue
			}
			bv := a.accountView(booster)
			boostedBy = &bv
			st = orig
		}
		author := d.Accounts[st.AccountID]
		if author == nil {
			continue
		}
		view := statusView{
			ID:          community.FormatID(st.ID),
			Path:        "/@" + author.Acct() + "/" + community.FormatID(st.ID),
			Author:      a.accountView(author),
			BoostedBy:   boostedBy,
			ContentHTML: template.HTML(st.Content), // rendered and sanitized by the domain
			SpoilerText: st.SpoilerText,
			Sensitive:   st.Sensitive,
			CreatedAt:   st.CreatedAt,
			Edited:      st.EditedAt != nil,
			Visibility:  st.Visibility,
			Scope:       st.Scope,
			Reply:       st.InReplyToID != nil,
			Replies:     st.RepliesCount,
			Boosts:      st.ReblogsCount,
			Favourites:  st.FavouritesCount,
			Favourited:  d.Favourited[st.ID],
			Boosted:     d.Reblogged[st.ID],
			Bookmarked:  d.Bookmarked[st.ID],
			Mine:        v.AccountID() != 0 && st.AccountID == v.AccountID(),
			Form:        form,

			AudienceText: audienceText(st.Visibility, st.Scope),
			CountsText:   T("status.counts", st.FavouritesCount, st.ReblogsCount, st.RepliesCount),
			CreatedISO:   st.CreatedAt.UTC().Format(time.RFC3339),
			CreatedText:  st.CreatedAt.UTC().Format(timeLayout),
		}
		if form != nil && form.SignedIn {
			view.Actions = actionsFor(&view)
		}
		view.Editable = view.Mine && len(d.Media[st.ID]) == 0 && d.Polls[st.ID] == nil
		for _, t := range d.Tags[st.ID] {
			view.Tags = append(view.Tags, t.Name)
		}
		if p := d.Polls[st.ID]; p != nil {
			view.Poll = newPollView(v, p, d.OwnVotes[p.ID], time.Now())
		}
		for i := range d.Media[st.ID] {
			m := &d.Media[st.ID][i]
			url, preview := a.community.AttachmentURLs(m)
			view.Media = append(view.Media, mediaView{
				URL: url, Preview: preview, Description: m.Description,
				// Only pictures served by this instance are shown inline; the page's
				// Content-Security-Policy loads nothing from elsewhere.
				Image: m.Type == community.MediaImage && strings.HasPrefix(preview, a.cfg.BaseURL()+"/"),
			})
		}
		out = append(out, view)
	}
	return out, nil
}

// pager is the "older posts" link of a list paged by max_id.
type pager struct {
	Older    string // address of the next page back, "" at the end
	Newest   string // address of the first page, "" on the first page
	AtTheEnd bool
}

// pagerFor builds the links of a page whose rows were read down to oldestID, from
// path with the current max_id. read is how many rows the domain returned: its lists
// come back short only at their end.
func pagerFor(path string, maxID, oldestID int64, read int) pager {
	var p pager
	if oldestID != 0 && read >= pageSize {
		p.Older = path + "?max_id=" + community.FormatID(oldestID)
	} else {
		p.AtTheEnd = maxID != 0
	}
	if maxID != 0 {
		p.Newest = path
	}
	return p
}
