package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
)

// Polls: https://docs.joinmastodon.org/methods/polls/

func (s *Server) mountPolls(r *gin.RouterGroup) {
	r.GET("/v1/polls/:id", optionalUser("read:statuses"), s.getPoll)
	r.POST("/v1/polls/:id/votes", requireUser("write:statuses"), s.votePoll)
}

// Poll is Mastodon's Poll entity.
type Poll struct {
	ID          string        `json:"id"`
	ExpiresAt   *string       `json:"expires_at"`
	Expired     bool          `json:"expired"`
	Multiple    bool          `json:"multiple"`
	VotesCount  int64         `json:"votes_count"`
	VotersCount *int64        `json:"voters_count"`
	Options     []PollOption  `json:"options"`
	Emojis      []CustomEmoji `json:"emojis"`
	Voted       *bool         `json:"voted,omitempty"`
	OwnVotes    *[]int        `json:"own_votes,omitempty"`
}

// PollOption is one choice; votes_count is null while the author hides the totals.
type PollOption struct {
	Title      string `json:"title"`
	VotesCount *int64 `json:"votes_count"`
}

// poll renders a poll for a viewer: their own votes when logged in, and the counts
// per option unless the author hides them until the end (the author always sees them).
func (s *Server) poll(v community.Viewer, p *community.Poll, own []int) *Poll {
	now := time.Now()
	out := &Poll{
		ID:         community.FormatID(p.ID),
		ExpiresAt:  apiTimePtr(p.ExpiresAt),
		Expired:    p.Expired(now),
		Multiple:   p.Multiple,
		VotesCount: p.VotesCount,
		Options:    make([]PollOption, 0, len(p.Options)),
		Emojis:     []CustomEmoji{},
	}
	voters := p.VotersCount
	out.VotersCount = &voters
	hidden := p.HideTotals && !out.Expired && v.AccountID() != p.AccountID
	for _, o := range p.Options {
		opt := PollOption{Title: o.Title}
		if !hidden {
			n := o.VotesCount
			opt.VotesCount = &n
		}
		out.Options = append(out.Options, opt)
	}
	if v.AccountID() != 0 {
		if own == nil {
			own = []int{}
		}
		voted := len(own) > 0
		out.Voted, out.OwnVotes = &voted, &own
	}
	return out
}

// pollOfStatus renders the poll of a status the viewer may see.
func (s *Server) pollOfStatus(ctx context.Context, v community.Viewer, st *community.Status) (*Poll, error) {
	d, err := s.community.LoadStatusDetails(ctx, v, []community.Status{*st})
	if err != nil {
		return nil, err
	}
	p := d.Polls[st.ID]
	if p == nil {
		return nil, community.ErrNotFound
	}
	return s.poll(v, p, d.OwnVotes[p.ID]), nil
}

func (s *Server) getPoll(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	_, st, err := s.community.GetPoll(ctx, viewer(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.pollOfStatus(ctx, viewer(c), st)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) votePoll(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	var choices []int
	for _, raw := range p.Strings("choices") {
		n, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil {
			s.fail(c, community.Invalid("Choices must be option indexes"))
			return
		}
		choices = append(choices, n)
	}
	ctx := c.Request.Context()
	poll, err := s.community.Vote(ctx, currentAccount(c), id, choices)
	if err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.community.GetStatus(ctx, viewer(c), poll.StatusID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.pollOfStatus(ctx, viewer(c), st)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// pollParams reads poll[options][], poll[expires_in], poll[multiple] and
// poll[hide_totals] (form keys, or a "poll" object in JSON). It returns nil when the
// request has no poll; clients that send JSON often include "poll": null.
func pollParams(p *params) (*community.NewPoll, error) {
	pp := nestedParams(p, "poll")
	// Form keys poll[options][] (or indexed), or "options" inside a JSON "poll" object.
	options := nonEmpty(p.Strings("poll[options]"))
	if len(options) == 0 {
		options = nonEmpty(pp.Strings("options"))
	}
	if len(options) == 0 {
		return nil, nil
	}
	out := &community.NewPoll{Options: options}
	secs, err := pp.Int("expires_in", 0)
	if err != nil {
		return nil, community.Invalid("poll[expires_in] must be a number of seconds")
	}
	out.ExpiresIn = time.Duration(secs) * time.Second
	if out.Multiple, _, err = pp.Bool("multiple"); err != nil {
		return nil, community.Invalid("poll[multiple] must be true or false")
	}
	if out.HideTotals, _, err = pp.Bool("hide_totals"); err != nil {
		return nil, community.Invalid("poll[hide_totals] must be true or false")
	}
	return out, nil
}
