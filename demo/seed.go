package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/tacit-social/tacit/community"
)

// seededFile marks a demo dir whose company is complete; its presence makes a second
// start reuse the data instead of seeding again.
const seededFile = "seeded"

// settleTimeout bounds each wait for federation to carry something to another
// department.
const settleTimeout = 2 * time.Minute

// Seed fills a new company with its people and their activity and waits until every
// department has received what federation brings it. It reports false, and does
// nothing, when the demo dir was seeded before. progress, when not nil, receives one
// line per step.
func (c *Company) Seed(ctx context.Context, progress io.Writer) (bool, error) {
	marker := filepath.Join(c.dir, seededFile)
	if _, err := os.Stat(marker); err == nil {
		return false, nil
	}
	if progress == nil {
		progress = io.Discard
	}
	s := &seeder{c: c, progress: progress, people: map[string]*member{}, statuses: map[string]*community.Status{}}
	steps := []struct {
		what string
		run  func(context.Context) error
	}{
		{"people and their expertise", s.createPeople},
		{"follows across departments", s.follow},
		{"posts of every audience", s.post},
		{"a thread across departments", s.thread},
		{"idea boards, ideas, votes and decisions", s.boards},
		{"a report for the moderators", s.report},
		{"waiting for federation and search to settle", s.settle},
	}
	for _, step := range steps {
		fmt.Fprintf(progress, "seeding: %s\n", step.what)
		if err := step.run(ctx); err != nil {
			return false, fmt.Errorf("seed %s: %w", step.what, err)
		}
	}
	stamp := "seeded " + time.Now().UTC().Format(time.RFC3339) + "\n"
	if err := os.WriteFile(marker, []byte(stamp), 0o640); err != nil {
		return false, fmt.Errorf("mark the demo as seeded: %w", err)
	}
	return true, nil
}

// seeder carries what one seeding has made so far.
type seeder struct {
	c        *Company
	progress io.Writer
	// people are the accounts by "user@department".
	people map[string]*member
	// statuses are the posts made so far by their text's start, for the steps that
	// answer or report them.
	statuses map[string]*community.Status
}

// member is a person's account on their own department.
type member struct {
	dept *Department
	acct *community.Account
	user *community.User
}

func (s *seeder) department(slug string) (*Department, error) {
	for _, d := range s.c.Departments {
		if d.Slug == slug {
			return d, nil
		}
	}
	return nil, fmt.Errorf("no department %q", slug)
}

func (s *seeder) person(handle string) (*member, error) {
	m := s.people[handle]
	if m == nil {
		return nil, fmt.Errorf("no person %q", handle)
	}
	return m, nil
}

// remote is the account of a person (user@department) as another department knows it,
// fetched from their instance the first time.
func (s *seeder) remote(ctx context.Context, on *Department, handle string) (*community.Account, error) {
	m, err := s.person(handle)
	if err != nil {
		return nil, err
	}
	if m.dept == on {
		return m.acct, nil
	}
	a, err := on.Instance.Federator.ResolveAccount(ctx, m.acct.Username+"@"+m.dept.Host())
	if err != nil {
		return nil, fmt.Errorf("resolve %s on %s: %w", handle, on.Name, err)
	}
	return a, nil
}

// copyOn is a status as a viewer's department knows it: delivered already, or fetched
// from its origin, as a search for its address would.
func (s *seeder) copyOn(ctx context.Context, viewer *member, st *community.Status) (*community.Status, error) {
	var found *community.Status
	err := waitFor(ctx, "status "+st.URI+" on "+viewer.dept.Name, func() (bool, error) {
		got, err := viewer.dept.Instance.Federator.ResolveStatus(ctx, st.URI, community.AsAccount(viewer.acct))
		if community.KindOf(err) == community.KindNotFound {
			return false, nil // not delivered yet, and its origin still commits it
		}
		found = got
		return err == nil, err
	})
	return found, err
}

func (s *seeder) createPeople(ctx context.Context) error {
	for i, d := range departments {
		dept := s.c.Departments[i]
		for _, p := range d.people {
			if _, err := dept.Instance.Community.LocalAccount(ctx, p.username); err == nil {
				return fmt.Errorf("%s already exists on %s: an earlier start stopped while seeding; remove the demo dir and start again", p.username, d.name)
			}
			acct, user, err := dept.Instance.Community.CreateLocalAccount(ctx, community.NewLocalAccount{
				Username: p.username, Password: Password, Email: p.username + "@" + d.slug + ".example.com",
				Role: p.role, DisplayName: p.name,
			})
			if err != nil {
				return fmt.Errorf("create %s on %s: %w", p.username, d.name, err)
			}
			note := p.note
			fields := []community.FieldInput{
				{Name: "Title", Value: p.title},
				{Name: "Ask me about", Value: p.askMeAbout},
				{Name: "Office", Value: d.location},
			}
			expertise := p.expertise
			discoverable := true
			acct, user, err = dept.Instance.Community.UpdateProfile(ctx, acct.ID, community.ProfileUpdate{
				Note: &note, Fields: &fields, Expertise: &expertise, Discoverable: &discoverable,
			})
			if err != nil {
				return fmt.Errorf("profile of %s: %w", p.username, err)
			}
			for _, tag := range p.featured {
				if _, err := dept.Instance.Community.FeatureTag(ctx, acct.ID, tag); err != nil {
					return fmt.Errorf("feature #%s for %s: %w", tag, p.username, err)
				}
			}
			s.people[p.username+"@"+d.slug] = &member{dept: dept, acct: acct, user: user}
		}
	}
	return nil
}

// follow has everyone follow their own department and a few people elsewhere, and
// waits for the other departments to accept, so that the posts that follow reach the
// followers' home timelines.
func (s *seeder) follow(ctx context.Context) error {
	pairs := append([][2]string(nil), follows...)
	for _, d := range departments {
		for _, a := range d.people {
			for _, b := range d.people {
				if a.username != b.username {
					pairs = append(pairs, [2]string{a.username + "@" + d.slug, b.username + "@" + d.slug})
				}
			}
		}
	}
	for _, pair := range pairs {
		follower, err := s.person(pair[0])
		if err != nil {
			return err
		}
		target, err := s.remote(ctx, follower.dept, pair[1])
		if err != nil {
			return err
		}
		if err := follower.dept.Instance.Community.Follow(ctx, follower.acct, target.ID, community.FollowOptions{}); err != nil {
			return fmt.Errorf("%s follows %s: %w", pair[0], pair[1], err)
		}
		err = waitFor(ctx, pair[1]+" to accept "+pair[0], func() (bool, error) {
			rel, err := follower.dept.Instance.Community.Relationship(ctx, follower.acct.ID, target.ID)
			return err == nil && rel.Following, err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// say posts a status and remembers it.
func (s *seeder) say(ctx context.Context, p post, inReplyTo *community.Status) (*community.Status, error) {
	m, err := s.person(p.author)
	if err != nil {
		return nil, err
	}
	text, err := s.mentions(p.text, m.dept)
	if err != nil {
		return nil, err
	}
	in := community.NewStatus{Text: text, Audience: community.AudienceRequest{Visibility: p.visibility, Scope: p.scope}}
	if inReplyTo != nil {
		parent, err := s.copyOn(ctx, m, inReplyTo)
		if err != nil {
			return nil, err
		}
		in.InReplyToID = &parent.ID
	}
	st, err := m.dept.Instance.Community.CreateStatus(ctx, m.acct, m.user, in)
	if err != nil {
		return nil, fmt.Errorf("post by %s: %w", p.author, err)
	}
	s.statuses[p.text] = st
	return st, nil
}

// mentionPattern finds the {user@department} mentions of a post's text.
var mentionPattern = regexp.MustCompile(`\{([a-z]+)@([a-z]+)\}`)

// mentions writes a text's {user@department} as a person of the author's department
// would: @user for a colleague, @user@host for someone elsewhere.
func (s *seeder) mentions(text string, author *Department) (string, error) {
	var bad error
	out := mentionPattern.ReplaceAllStringFunc(text, func(m string) string {
		parts := mentionPattern.FindStringSubmatch(m)
		d, err := s.department(parts[2])
		if err != nil {
			bad = err
			return m
		}
		if d == author {
			return "@" + parts[1]
		}
		return "@" + parts[1] + "@" + d.Host()
	})
	return out, bad
}

func (s *seeder) post(ctx context.Context) error {
	for _, p := range posts {
		if _, err := s.say(ctx, p, nil); err != nil {
			return err
		}
	}
	_, err := s.say(ctx, directMessage, nil)
	return err
}

// thread: Sales asks, Engineering and Operations answer the question, Sales thanks
// Engineering's answer.
func (s *seeder) thread(ctx context.Context) error {
	question, err := s.say(ctx, threadQuestion, nil)
	if err != nil {
		return err
	}
	parent := question
	for i, r := range threadReplies {
		if i == len(threadReplies)-1 {
			parent = s.statuses[threadReplies[0].text]
		}
		if _, err := s.say(ctx, r, parent); err != nil {
			return err
		}
	}
	return nil
}

func (s *seeder) boards(ctx context.Context) error {
	boardAccounts := map[string]*community.Account{} // by board name, on its home
	homes := map[string]*Department{}
	for _, b := range boards {
		creator, err := s.person(b.creator)
		if err != nil {
			return err
		}
		info, err := creator.dept.Instance.Community.CreateBoard(ctx, creator.acct, community.NewBoard{
			Name: b.name, DisplayName: b.displayName, Description: b.description, Scope: b.scope,
		})
		if err != nil {
			return fmt.Errorf("create board %s: %w", b.name, err)
		}
		for _, handle := range b.moderators {
			mod, err := s.person(handle)
			if err != nil {
				return err
			}
			if _, err := creator.dept.Instance.Community.SetBoardModerator(ctx, creator.acct, info.Account.ID, mod.acct.ID, false); err != nil {
				return fmt.Errorf("make %s a moderator of %s: %w", handle, b.name, err)
			}
		}
		boardAccounts[b.name] = info.Account
		homes[b.name] = creator.dept
	}
	// Everyone follows the company-wide board from their own department, as they would
	// from any Mastodon client: the board shares its ideas with its followers.
	boardOn := func(ctx context.Context, name string, d *Department) (*community.Account, error) {
		home := homes[name]
		if home == d {
			return boardAccounts[name], nil
		}
		a, err := d.Instance.Federator.ResolveAccount(ctx, name+"@"+home.Host())
		if err != nil {
			return nil, fmt.Errorf("resolve board %s on %s: %w", name, d.Name, err)
		}
		return a, nil
	}
	for handle, m := range s.people {
		board, err := boardOn(ctx, "workplace", m.dept)
		if err != nil {
			return err
		}
		if err := m.dept.Instance.Community.Follow(ctx, m.acct, board.ID, community.FollowOptions{}); err != nil {
			return fmt.Errorf("%s follows the workplace board: %w", handle, err)
		}
	}
	for _, in := range ideas {
		author, err := s.person(in.author)
		if err != nil {
			return err
		}
		board, err := boardOn(ctx, in.board, author.dept)
		if err != nil {
			return err
		}
		st, err := author.dept.Instance.Community.CreateIdea(ctx, author.acct, board.ID, community.NewIdea{Title: in.title, Body: in.body})
		if err != nil {
			return fmt.Errorf("idea %q: %w", in.title, err)
		}
		// Votes come from every department; each is a favourite of the idea as the
		// voter's department knows it, which federation carries to the board.
		for _, handle := range in.voters {
			voter, err := s.person(handle)
			if err != nil {
				return err
			}
			local, err := s.copyOn(ctx, voter, st)
			if err != nil {
				return err
			}
			if _, err := voter.dept.Instance.Community.Favourite(ctx, voter.acct, local.ID); err != nil {
				return fmt.Errorf("%s votes for %q: %w", handle, in.title, err)
			}
		}
		home := homes[in.board]
		var onHome *community.Status
		err = waitFor(ctx, fmt.Sprintf("%d votes for %q", len(in.voters), in.title), func() (bool, error) {
			got, err := home.Instance.Community.Unchecked().StatusByURI(ctx, st.URI)
			if community.KindOf(err) == community.KindNotFound {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			onHome = got
			idea, err := home.Instance.Community.Unchecked().IdeaOf(ctx, got.ID)
			return err == nil && idea.VotesCount == int64(len(in.voters)), err
		})
		if err != nil {
			return err
		}
		for _, change := range in.states {
			mod, err := s.person(change.moderator)
			if err != nil {
				return err
			}
			if _, err := home.Instance.Community.Moderate(ctx, mod.acct, community.ModerationRequest{
				Action: community.ActionStatus, StatusID: onHome.ID, Status: change.state, Reason: change.comment,
			}); err != nil {
				return fmt.Errorf("%s sets %q to %s: %w", change.moderator, in.title, change.state, err)
			}
		}
	}
	return nil
}

// report: someone in Operations reports a post from Sales and forwards the report, so
// that moderators of both departments find it waiting.
func (s *seeder) report(ctx context.Context) error {
	st, err := s.say(ctx, post{report.author, report.text, community.VisibilityPublic, community.ScopeCompany}, nil)
	if err != nil {
		return err
	}
	reporter, err := s.person(report.reporter)
	if err != nil {
		return err
	}
	local, err := s.copyOn(ctx, reporter, st)
	if err != nil {
		return err
	}
	_, err = reporter.dept.Instance.Community.CreateReport(ctx, reporter.acct, community.NewReport{
		TargetAccountID: local.AccountID, StatusIDs: []int64{local.ID},
		Comment: report.comment, Category: community.ReportOther, Forward: true,
	})
	if err != nil {
		return fmt.Errorf("report by %s: %w", report.reporter, err)
	}
	return nil
}

// settle waits until no department has a delivery or incoming activity left to work,
// and each search index holds everything, so that the demo starts complete.
func (s *seeder) settle(ctx context.Context) error {
	err := waitFor(ctx, "the federation queues to empty", func() (bool, error) {
		for _, d := range s.c.Departments {
			stats, err := d.Instance.Queue.Stats(ctx)
			if err != nil {
				return false, err
			}
			for _, k := range stats.Kinds {
				if k.Pending+k.Running+k.Retrying > 0 {
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	for _, d := range s.c.Departments {
		if d.Instance.Indexer == nil {
			continue
		}
		if err := waitFor(ctx, "the search index of "+d.Name, func() (bool, error) {
			syncCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return d.Instance.Indexer.Sync(syncCtx) == nil, nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// waitFor polls done until it reports true, fails, or settleTimeout passes.
func waitFor(ctx context.Context, what string, done func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, err := done()
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("%s did not happen within %s", what, settleTimeout)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}
