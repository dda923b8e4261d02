package community

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Polls: a status may carry one. Votes on a local poll are counted here, whoever casts
// them (local accounts through the API, remote ones through federation, where a vote is
// a Note naming the option and answering the poll, as Mastodon sends it); the origin
// then tells the poll's audience the new counts. A remote poll keeps the counts its
// origin last sent, plus the votes cast here until the origin's next update.

// Limits on polls, the same as Mastodon's.
const (
	MaxPollOptions     = 4
	MaxPollOptionChars = 50
	MinPollExpiration  = 5 * time.Minute
	MaxPollExpiration  = 2629746 * time.Second // a month
	// maxRemotePollOptions bounds what a remote poll may bring.
	maxRemotePollOptions = 20
)

// PollOption is one choice and, as far as known here, how many votes it has.
type PollOption struct {
	Title      string `json:"title"`
	VotesCount int64  `json:"votes_count"`
}

// PollOptions is stored as JSON text so that both databases keep it in one column.
type PollOptions []PollOption

// Value implements driver.Valuer.
func (o PollOptions) Value() (driver.Value, error) {
	return jsonListValue([]PollOption(o), "poll options")
}

// Scan implements sql.Scanner.
func (o *PollOptions) Scan(src any) error {
	return scanJSONList(src, (*[]PollOption)(o), "poll options")
}

// Poll is the poll of a status.
type Poll struct {
	ID          int64       `gorm:"primaryKey;autoIncrement:false"`
	StatusID    int64       `gorm:"not null"`
	AccountID   int64       `gorm:"not null"`
	Options     PollOptions `gorm:"type:text;not null;default:'[]'"`
	Multiple    bool        `gorm:"not null;default:false"`
	HideTotals  bool        `gorm:"not null;default:false"`
	VotesCount  int64       `gorm:"not null;default:0"`
	VotersCount int64       `gorm:"not null;default:0"`
	ExpiresAt   *time.Time
	// EndedAt is when the end of the poll was announced; nil until then.
	EndedAt   *time.Time
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// Expired reports whether voting has ended at now.
func (p *Poll) Expired(now time.Time) bool { return p.ExpiresAt != nil && !now.Before(*p.ExpiresAt) }

// PollVote is one account's choice of one option.
type PollVote struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	PollID    int64     `gorm:"not null"`
	AccountID int64     `gorm:"not null"`
	Choice    int       `gorm:"not null"`
	URI       string    `gorm:"not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
}

// NewPoll is a poll as its author asks for it.
type NewPoll struct {
	Options    []string
	ExpiresIn  time.Duration
	Multiple   bool
	HideTotals bool
}

func validatePoll(in *NewPoll) error {
	if len(in.Options) < 2 {
		return Invalid("Poll must have at least 2 options")
	}
	if len(in.Options) > MaxPollOptions {
		return Invalid("Poll can't have more than %d options", MaxPollOptions)
	}
	for i, o := range in.Options {
		o = strings.TrimSpace(o)
		if o == "" {
			return Invalid("Poll options can't be blank")
		}
		if utf8.RuneCountInString(o) > MaxPollOptionChars {
			return Invalid("Poll option is too long (maximum is %d characters)", MaxPollOptionChars)
		}
		if slices.Contains(in.Options[:i], o) {
			return Invalid("Poll options must be different")
		}
		in.Options[i] = o
	}
	if in.ExpiresIn < MinPollExpiration {
		return Invalid("Poll duration is too short (minimum is %d seconds)", int(MinPollExpiration.Seconds()))
	}
	if in.ExpiresIn > MaxPollExpiration {
		return Invalid("Poll duration is too long (maximum is %d seconds)", int(MaxPollExpiration.Seconds()))
	}
	return nil
}

func newPollRow(st *Status, in *NewPoll, now time.Time) Poll {
	opts := make(PollOptions, len(in.Options))
	for i, o := range in.Options {
		opts[i] = PollOption{Title: o}
	}
	exp := now.Add(in.ExpiresIn)
	return Poll{ID: NewID(), StatusID: st.ID, AccountID: st.AccountID, Options: opts, Multiple: in.Multiple,
		HideTotals: in.HideTotals, ExpiresAt: &exp, CreatedAt: now, UpdatedAt: now}
}

// samePollOptions reports whether a poll still asks the same question.
func samePollOptions(p *Poll, in *NewPoll) bool {
	if p.Multiple != in.Multiple || len(p.Options) != len(in.Options) {
		return false
	}
	for i := range p.Options {
		if p.Options[i].Title != in.Options[i] {
			return false
		}
	}
	return true
}

// setPoll gives a status the poll an edit asks for: unchanged options keep their
// votes, changed ones start again (as in Mastodon), and no poll removes it.
func (s *Service) setPoll(tx *gorm.DB, st *Status, in *NewPoll, now time.Time) error {
	var cur Poll
	err := tx.Where("status_id = ?", st.ID).Take(&cur).Error
	has := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("load poll: %w", err)
	}
	switch {
	case in == nil && has:
		if err := tx.Delete(&Poll{}, cur.ID).Error; err != nil {
			return fmt.Errorf("remove poll: %w", err)
		}
	case in != nil && has && samePollOptions(&cur, in):
		if err := tx.Model(&Poll{}).Where("id = ?", cur.ID).
			Updates(map[string]any{"hide_totals": in.HideTotals, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("update poll: %w", err)
		}
	case in != nil:
		if has {
			if err := tx.Delete(&Poll{}, cur.ID).Error; err != nil {
				return fmt.Errorf("replace poll: %w", err)
			}
		}
		row := newPollRow(st, in, now)
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("create poll: %w", err)
		}
	}
	return nil
}

// pollChanged reports whether an edit's poll differs from the stored one.
func (s *Service) pollChanged(ctx context.Context, st *Status, in *NewPoll) (bool, error) {
	var cur Poll
	err := s.read(ctx).Where("status_id = ?", st.ID).Take(&cur).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return in != nil, nil
	}
	if err != nil {
		return false, fmt.Errorf("load poll: %w", err)
	}
	return in == nil || !samePollOptions(&cur, in) || cur.HideTotals != in.HideTotals, nil
}

// GetPoll returns a poll whose status the viewer may see, with that status.
func (s *Service) GetPoll(ctx context.Context, v Viewer, id int64) (*Poll, *Status, error) {
	var p Poll
	if err := s.read(ctx).Take(&p, id).Error; err != nil {
		return nil, nil, notFound(err, "poll")
	}
	st, err := s.GetStatus(ctx, v, p.StatusID)
	if err != nil {
		return nil, nil, err
	}
	return &p, st, nil
}

// pollOf returns the poll of a status, or nil when it has none.
func (s *Service) pollOf(ctx context.Context, statusID int64) (*Poll, error) {
	var p Poll
	err := s.read(ctx).Where("status_id = ?", statusID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load poll: %w", err)
	}
	return &p, nil
}

// Vote records a local account's choices (option indexes) on a poll it may see. A
// local poll is recounted at once; on a remote poll the choices are added to the counts
// shown here and sent to the origin (PollVoted), which counts them for everyone.
func (s *Service) Vote(ctx context.Context, voter *Account, pollID int64, choices []int) (*Poll, error) {
	if voter == nil || !voter.IsLocal() {
		return nil, ErrForbidden
	}
	p, st, err := s.GetPoll(ctx, AsAccount(voter), pollID)
	if err != nil {
		return nil, err
	}
	if len(choices) == 0 {
		return nil, Invalid("Choices can't be blank")
	}
	seen := map[int]bool{}
	for _, c := range choices {
		if c < 0 || c >= len(p.Options) {
			return nil, Invalid("Choice %d is not an option of this poll", c)
		}
		if seen[c] {
			return nil, Invalid("Choice %d was given twice", c)
		}
		seen[c] = true
	}
	if !p.Multiple && len(choices) > 1 {
		return nil, Invalid("This poll allows only one choice")
	}
	var out Poll
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		now := s.clock()
		cur, err := lockPoll(tx, p.ID, now)
		if err != nil {
			return err
		}
		if cur.Expired(now) {
			return Invalid("The poll has already ended")
		}
		var already int64
		if err := tx.Model(&PollVote{}).Where("poll_id = ? AND account_id = ?", p.ID, voter.ID).Count(&already).Error; err != nil {
			return fmt.Errorf("load votes: %w", err)
		}
		if already > 0 {
			return Invalid("You have already voted on this poll")
		}
		votes := make([]PollVote, len(choices))
		for i, c := range choices {
			votes[i] = PollVote{ID: NewID(), PollID: p.ID, AccountID: voter.ID, Choice: c, CreatedAt: now}
		}
		if err := tx.Create(&votes).Error; err != nil {
			return fmt.Errorf("record votes: %w", err)
		}
		if st.Local {
			if err := recountPoll(tx, cur, now); err != nil {
				return err
			}
		} else {
			for _, c := range choices {
				cur.Options[c].VotesCount++
			}
			cur.VotesCount += int64(len(choices))
			cur.VotersCount++
			if err := savePollCounts(tx, cur, now); err != nil {
				return err
			}
		}
		out = *cur
		*ev = append(*ev, PollVoted{Poll: out, Status: *st, Votes: votes})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// ReceivePollVote counts a remote account's vote on a local poll: a Note naming the
// option (optionName) that answers the poll's status (questionURI). voteURI is the
// Note's id; a vote seen before is ignored. Votes on something that is not a local
// poll are ErrNotFound.
func (s *Service) ReceivePollVote(ctx context.Context, voter *Account, questionURI, optionName, voteURI string) error {
	if voter == nil || voter.IsLocal() {
		return Forbidden("A local account votes through the API")
	}
	// Vote ids have fragments where Mastodon mints them ("…/users/a#votes/12").
	if u, err := url.Parse(voteURI); err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, voter.Domain) {
		return Forbidden("%s does not belong to %s", truncateRunes(voteURI, 200), voter.Domain)
	}
	st, err := s.statusByURI(ctx, questionURI)
	if err != nil {
		return err
	}
	if !st.Local {
		return ErrNotFound
	}
	p, err := s.pollOf(ctx, st.ID)
	if err != nil {
		return err
	}
	if p == nil {
		return ErrNotFound
	}
	if ok, err := s.CanSee(ctx, AsAccount(voter), st); err != nil || !ok {
		if err != nil {
			return err
		}
		return ErrNotFound
	}
	choice := -1
	for i, o := range p.Options {
		if o.Title == optionName {
			choice = i
			break
		}
	}
	if choice < 0 {
		return Invalid("%q is not an option of this poll", truncateRunes(optionName, 60))
	}
	return s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		now := s.clock()
		cur, err := lockPoll(tx, p.ID, now)
		if err != nil {
			return err
		}
		if cur.Expired(now) {
			return Invalid("The poll has already ended")
		}
		var mine []PollVote
		if err := tx.Where("poll_id = ? AND account_id = ?", p.ID, voter.ID).Find(&mine).Error; err != nil {
			return fmt.Errorf("load votes: %w", err)
		}
		for _, v := range mine {
			if v.URI == voteURI || v.Choice == choice {
				return nil // already counted
			}
		}
		if len(mine) > 0 && !cur.Multiple {
			return Invalid("%s has already voted on this poll", voter.Acct())
		}
		vote := PollVote{ID: NewID(), PollID: p.ID, AccountID: voter.ID, Choice: choice, URI: voteURI, CreatedAt: now}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&vote)
		if res.Error != nil {
			return fmt.Errorf("record vote: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		if err := recountPoll(tx, cur, now); err != nil {
			return err
		}
		*ev = append(*ev, PollVoted{Poll: *cur, Status: *st, Votes: []PollVote{vote}})
		return nil
	})
}

// lockPoll loads a poll for an update, locking its row first (an UPDATE takes the row
// lock on PostgreSQL; SQLite's write transactions are serialized already), so that
// concurrent votes are counted one after the other.
func lockPoll(tx *gorm.DB, id int64, now time.Time) (*Poll, error) {
	res := tx.Model(&Poll{}).Where("id = ?", id).UpdateColumn("updated_at", now)
	if res.Error != nil {
		return nil, fmt.Errorf("lock poll: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	var p Poll
	if err := tx.Take(&p, id).Error; err != nil {
		return nil, notFound(err, "poll")
	}
	return &p, nil
}

// recountPoll sets a local poll's tallies from its votes.
func recountPoll(tx *gorm.DB, p *Poll, now time.Time) error {
	var rows []struct {
		Choice int
		N      int64
	}
	if err := tx.Model(&PollVote{}).Select("choice, COUNT(*) AS n").Where("poll_id = ?", p.ID).Group("choice").
		Scan(&rows).Error; err != nil {
		return fmt.Errorf("count votes: %w", err)
	}
	for i := range p.Options {
		p.Options[i].VotesCount = 0
	}
	p.VotesCount = 0
	for _, r := range rows {
		if r.Choice >= 0 && r.Choice < len(p.Options) {
			p.Options[r.Choice].VotesCount = r.N
			p.VotesCount += r.N
		}
	}
	if err := tx.Model(&PollVote{}).Where("poll_id = ?", p.ID).Distinct("account_id").Count(&p.VotersCount).Error; err != nil {
		return fmt.Errorf("count voters: %w", err)
	}
	return savePollCounts(tx, p, now)
}

func savePollCounts(tx *gorm.DB, p *Poll, now time.Time) error {
	p.UpdatedAt = now
	if err := tx.Model(&Poll{}).Where("id = ?", p.ID).Updates(map[string]any{
		"options": p.Options, "votes_count": p.VotesCount, "voters_count": p.VotersCount, "updated_at": now,
	}).Error; err != nil {
		return fmt.Errorf("save poll counts: %w", err)
	}
	return nil
}

// PollVoters returns the remote accounts that voted on a poll: its origin tells them
// the new counts even when they do not follow the author.
func (s *Service) PollVoters(ctx context.Context, pollID int64) ([]*Account, error) {
	var rows []Account
	if err := s.read(ctx).Where("domain <> '' AND id IN (?)",
		s.read(ctx).Model(&PollVote{}).Select("account_id").Where("poll_id = ?", pollID)).
		Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load poll voters: %w", err)
	}
	out := make([]*Account, len(rows))
	for i := range rows {
		out[i] = &rows[i]
	}
	return out, nil
}

// RemotePoll is a remote post's poll, as its origin describes it.
type RemotePoll struct {
	Options     []PollOption
	Multiple    bool
	ExpiresAt   time.Time // zero when open-ended
	VotersCount int64     // 0 when not given
	HideTotals  bool
}

func remotePollRow(st *Status, in *RemotePoll, now time.Time) (Poll, bool) {
	p := Poll{ID: NewID(), StatusID: st.ID, AccountID: st.AccountID, Multiple: in.Multiple, CreatedAt: now, UpdatedAt: now}
	if !fillRemotePoll(&p, in) {
		return Poll{}, false
	}
	return p, true
}

// fillRemotePoll copies what the origin says into p; false when it is not a usable poll.
func fillRemotePoll(p *Poll, in *RemotePoll) bool {
	var opts PollOptions
	for _, o := range in.Options {
		title := truncateRunes(strings.TrimSpace(o.Title), 200)
		if title == "" {
			continue
		}
		opts = append(opts, PollOption{Title: title, VotesCount: max(0, o.VotesCount)})
		if len(opts) == maxRemotePollOptions {
			break
		}
	}
	if len(opts) == 0 {
		return false
	}
	p.Options = opts
	p.Multiple = in.Multiple
	p.HideTotals = in.HideTotals
	p.VotesCount = 0
	for _, o := range opts {
		p.VotesCount += o.VotesCount
	}
	p.VotersCount = max(0, in.VotersCount)
	if p.VotersCount == 0 && !p.Multiple {
		p.VotersCount = p.VotesCount
	}
	p.ExpiresAt = nil
	if !in.ExpiresAt.IsZero() {
		exp := in.ExpiresAt.UTC().Truncate(time.Microsecond)
		p.ExpiresAt = &exp
	}
	return true
}

// refreshRemotePoll applies a remote post's current poll (new counts, most often). A
// poll whose options changed loses the votes cast here, as at its origin.
func (s *Service) refreshRemotePoll(tx *gorm.DB, st *Status, in *RemotePoll) error {
	var cur Poll
	err := tx.Where("status_id = ?", st.ID).Take(&cur).Error
	has := err == nil
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("load poll: %w", err)
	}
	now := s.clock()
	if in == nil {
		if has {
			return tx.Delete(&Poll{}, cur.ID).Error
		}
		return nil
	}
	if !has {
		if row, ok := remotePollRow(st, in, now); ok {
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("create remote poll: %w", err)
			}
		}
		return nil
	}
	oldTitles := make([]string, len(cur.Options))
	for i, o := range cur.Options {
		oldTitles[i] = o.Title
	}
	if !fillRemotePoll(&cur, in) {
		return tx.Delete(&Poll{}, cur.ID).Error
	}
	newTitles := make([]string, len(cur.Options))
	for i, o := range cur.Options {
		newTitles[i] = o.Title
	}
	if !slices.Equal(oldTitles, newTitles) {
		if err := tx.Where("poll_id = ?", cur.ID).Delete(&PollVote{}).Error; err != nil {
			return fmt.Errorf("drop votes of a changed poll: %w", err)
		}
	}
	if err := tx.Model(&Poll{}).Where("id = ?", cur.ID).Updates(map[string]any{
		"options": cur.Options, "multiple": cur.Multiple, "hide_totals": cur.HideTotals, "votes_count": cur.VotesCount,
		"voters_count": cur.VotersCount, "expires_at": cur.ExpiresAt, "updated_at": now,
	}).Error; err != nil {
		return fmt.Errorf("update remote poll: %w", err)
	}
	return nil
}

// EndExpiredPolls announces the end of polls that expired and were not announced yet:
// their local voters, and their author when local, are notified (Mastodon's "poll"
// notification), and PollEnded tells federation to send the final counts. Each poll is
// claimed before it is announced, so that two workers never announce one twice. It
// returns how many it announced.
func (s *Service) EndExpiredPolls(ctx context.Context) (int, error) {
	now := s.clock()
	var due []Poll
	if err := s.read(ctx).Where("ended_at IS NULL AND expires_at <= ?", now).Order("expires_at").Limit(100).
		Find(&due).Error; err != nil {
		return 0, fmt.Errorf("load expired polls: %w", err)
	}
	ended := 0
	for _, p := range due {
		err := s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
			res := tx.Model(&Poll{}).Where("id = ? AND ended_at IS NULL", p.ID).UpdateColumn("ended_at", now)
			if res.Error != nil {
				return fmt.Errorf("claim poll: %w", res.Error)
			}
			if res.RowsAffected == 0 {
				return nil
			}
			st, err := s.loadStatusRow(tx, p.StatusID)
			if err != nil {
				return err
			}
			var told []int64
			if err := tx.Model(&PollVote{}).Distinct("poll_votes.account_id").
				Joins("JOIN accounts ON accounts.id = poll_votes.account_id AND accounts.domain = ''").
				Where("poll_votes.poll_id = ?", p.ID).Pluck("poll_votes.account_id", &told).Error; err != nil {
				return fmt.Errorf("load local voters: %w", err)
			}
			if st.Local && !slices.Contains(told, st.AccountID) {
				told = append(told, st.AccountID)
			}
			for _, id := range told {
				n := Notification{ID: NewID(), AccountID: id, FromAccountID: st.AccountID, Type: NotifyPoll,
					StatusID: &st.ID, CreatedAt: now}
				if err := tx.Create(&n).Error; err != nil {
					return fmt.Errorf("notify the end of a poll: %w", err)
				}
				*ev = append(*ev, NotificationCreated{Notification: n})
			}
			p.EndedAt = &now
			*ev = append(*ev, PollEnded{Poll: p, Status: *st})
			ended++
			return nil
		})
		if err != nil {
			return ended, err
		}
	}
	return ended, nil
}
