package app

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Polls: asked in the compose box, answered with a plain form on the post, counted by
// the domain (community.Vote, as POST /api/v1/polls/:id/votes).

// pollDurations are the lengths the compose box offers, within the domain's limits.
var pollDurations = []struct {
	d   time.Duration
	key string
}{
	{30 * time.Minute, "poll.duration.30m"},
	{time.Hour, "poll.duration.1h"},
	{6 * time.Hour, "poll.duration.6h"},
	{24 * time.Hour, "poll.duration.1d"},
	{3 * 24 * time.Hour, "poll.duration.3d"},
	{7 * 24 * time.Hour, "poll.duration.7d"},
}

// defaultPollDuration is the length selected until the person picks another.
const defaultPollDuration = 24 * time.Hour

// composePoll is the poll part of the compose box, with what was typed.
type composePoll struct {
	Options   []pollField
	Multiple  bool
	Durations []choice
	// Open: a poll was being written, so the part starts unfolded.
	Open bool
}

func newComposePoll(options []string, multiple bool, d time.Duration) composePoll {
	p := composePoll{Options: make([]pollField, community.MaxPollOptions), Multiple: multiple}
	for i := range p.Options {
		p.Options[i].Number = i + 1
		if i < len(options) {
			p.Options[i].Value = options[i]
			p.Open = p.Open || strings.TrimSpace(options[i]) != ""
		}
	}
	for _, pd := range pollDurations {
		p.Durations = append(p.Durations, choice{
			Value: strconv.Itoa(int(pd.d.Seconds())), Label: T(pd.key), Checked: pd.d == d,
		})
	}
	return p
}

// pollField is one option's text field in the compose box.
type pollField struct {
	Number int
	Value  string
}

// pollFromForm reads the poll fields of the compose form: poll_option (up to four,
// blanks skipped), poll_multiple and poll_duration in seconds. It returns nil when no
// option was typed: the post has no poll.
func pollFromForm(form url.Values) (*community.NewPoll, time.Duration) {
	d := defaultPollDuration
	if secs, err := strconv.Atoi(form.Get("poll_duration")); err == nil {
		d = time.Duration(secs) * time.Second
	}
	var options []string
	for _, o := range form["poll_option"] {
		if o = strings.TrimSpace(o); o != "" {
			options = append(options, o)
		}
	}
	if len(options) == 0 {
		return nil, d
	}
	// The domain checks the count, the lengths and the duration, with its own words.
	return &community.NewPoll{Options: options, ExpiresIn: d, Multiple: form.Get("poll_multiple") != ""}, d
}

// pollView is a poll on a post: a vote form while the viewer may still vote, else the
// results as far as the author shows them.
type pollView struct {
	ID       string
	Multiple bool
	// CanVote: signed in, not the author, not voted yet, not ended.
	CanVote bool
	Options []pollOptionView
	// ShowCounts is false while the author hides the totals until the end.
	ShowCounts bool
	StateText  string
	TotalText  string
}

type pollOptionView struct {
	Index   int
	Title   string
	Votes   int64
	Percent int64
	Own     bool
	Text    string
}

// newPollView turns a status's poll into what the post shows; own are the viewer's
// choices. The counts are hidden under the same rule the API's Poll entity follows.
func newPollView(v community.Viewer, p *community.Poll, own []int, now time.Time) *pollView {
	expired := p.Expired(now)
	mine := v.AccountID() != 0 && v.AccountID() == p.AccountID
	out := &pollView{
		ID:         community.FormatID(p.ID),
		Multiple:   p.Multiple,
		CanVote:    v.AccountID() != 0 && !mine && !expired && len(own) == 0,
		ShowCounts: !p.HideTotals || expired || mine,
		TotalText:  T("poll.voters", p.VotersCount),
	}
	switch {
	case expired:
		out.StateText = T("poll.ended")
	case p.ExpiresAt != nil:
		out.StateText = T("poll.ends", p.ExpiresAt.UTC().Format(timeLayout))
	}
	chosen := map[int]bool{}
	for _, c := range own {
		chosen[c] = true
	}
	// Shares are of the people who voted when each may choose several options (as
	// Mastodon shows them), so that they need not add up to 100.
	total := p.VotesCount
	if p.Multiple && p.VotersCount > 0 {
		total = p.VotersCount
	}
	for i, o := range p.Options {
		ov := pollOptionView{Index: i, Title: o.Title, Votes: o.VotesCount, Own: chosen[i]}
		if total > 0 {
			ov.Percent = min(o.VotesCount*100/total, 100)
		}
		ov.Text = T("poll.option_result", ov.Percent, o.VotesCount)
		out.Options = append(out.Options, ov)
	}
	return out
}

// vote is POST /polls/:id/votes: the choices of the vote form.
func (a *App) vote(c *gin.Context, s *session) {
	ctx := c.Request.Context()
	id, ok := community.ParseID(c.Param("id"))
	if !ok {
		a.notFound(c, s)
		return
	}
	var choices []int
	for _, raw := range c.Request.PostForm["choice"] {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			a.renderError(c, s, http.StatusUnprocessableEntity, "poll.bad_choice")
			return
		}
		choices = append(choices, n)
	}
	if len(choices) == 0 {
		a.renderError(c, s, http.StatusUnprocessableEntity, "poll.no_choice")
		return
	}
	poll, err := a.community.Vote(ctx, s.account, id, choices)
	if err != nil {
		a.fail(c, s, err) // the domain's reason, written for people
		return
	}
	back := localPath(c.Request.PostForm.Get("back"))
	if !isHTMX(c) {
		a.redirect(c, back)
		return
	}
	st, err := a.community.GetStatus(ctx, viewerOf(s), poll.StatusID)
	if err != nil {
		a.fail(c, s, err)
		return
	}
	views, err := a.statusViews(ctx, viewerOf(s), []community.Status{*st}, &formContext{CSRF: s.csrf, Back: back, SignedIn: true})
	if err != nil {
		a.fail(c, s, err)
		return
	}
	if len(views) != 1 {
		a.notFound(c, s)
		return
	}
	a.renderPart(c, "status", views[0])
}
