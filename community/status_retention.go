package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Retention deletes the instance's own posts once they are older than its rules allow
// (docs/retention.md). What it deletes, and what it leaves:
//
//   - Only local posts: a copy of another instance's post belongs to that instance,
//     whose own rules delete it and tell this one.
//   - Boosts are not posts of their own: they go when the post they share goes.
//   - Ideas stay: a board is the company's record of what was proposed and decided,
//     kept until its moderators remove them. Replies under an idea are posts like any.
//   - Pinned and bookmarked posts go like any other: a rule is a promise to the people
//     whose words it deletes, and nobody else's bookmark should break it.
//   - Posts of accounts under legal hold (legal_hold.go) stay while the hold lasts.
//
// Every deletion goes through DeleteStatusWithMedia, as if the author had deleted the
// post: its attachments and files go, peers receive a Delete, and search and streams
// drop it.

// RetentionRule deletes local posts of one scope and visibility once they are older
// than OlderThan. An empty Scope or Visibility matches any.
type RetentionRule struct {
	Scope      Scope
	Visibility Visibility
	OlderThan  time.Duration
}

// String describes the rule as the configuration writes it, e.g. "department:any:730d".
func (r RetentionRule) String() string {
	scope, vis := string(r.Scope), string(r.Visibility)
	if scope == "" {
		scope = "any"
	}
	if vis == "" {
		vis = "any"
	}
	age := r.OlderThan.String()
	if r.OlderThan%(24*time.Hour) == 0 {
		age = fmt.Sprintf("%dd", r.OlderThan/(24*time.Hour))
	}
	return scope + ":" + vis + ":" + age
}

// validate refuses a rule that would delete everything at once or names an unknown
// audience.
func (r RetentionRule) validate() error {
	if r.OlderThan <= 0 {
		return Invalid("Retention rule %s: the age must be positive", r)
	}
	switch r.Scope {
	case "", ScopeWorld, ScopeCompany, ScopeDepartment:
	default:
		return Invalid("Retention rule %s: unknown scope %q", r, r.Scope)
	}
	switch r.Visibility {
	case "", VisibilityPublic, VisibilityUnlisted, VisibilityPrivate, VisibilityDirect:
	default:
		return Invalid("Retention rule %s: unknown visibility %q", r, r.Visibility)
	}
	return nil
}

// RetentionCount is how many posts a rule matches now. A post older than two rules'
// ages counts under both.
type RetentionCount struct {
	Rule  RetentionRule
	Posts int64
}

// RetentionPlan is what a pass would delete now: per rule, and in all (each post once).
type RetentionPlan struct {
	Rules []RetentionCount
	Total int64
}

// RetentionResult is what one pass did.
type RetentionResult struct {
	// Deleted posts, and Remaining ones that matched but were left for the next pass
	// because the pass reached its limit.
	Deleted   int
	Remaining int64
}

// RetentionPlanNow counts what a pass of rules would delete now, without deleting.
func (s *Service) RetentionPlanNow(ctx context.Context, rules []RetentionRule) (RetentionPlan, error) {
	plan := RetentionPlan{Rules: []RetentionCount{}}
	if err := validateRules(rules); err != nil {
		return plan, err
	}
	now := s.clock()
	for _, r := range rules {
		var n int64
		if err := s.retainable(ctx, []RetentionRule{r}, now).Count(&n).Error; err != nil {
			return plan, fmt.Errorf("count posts for retention rule %s: %w", r, err)
		}
		plan.Rules = append(plan.Rules, RetentionCount{Rule: r, Posts: n})
	}
	if len(rules) > 0 {
		if err := s.retainable(ctx, rules, now).Count(&plan.Total).Error; err != nil {
			return plan, fmt.Errorf("count posts for retention: %w", err)
		}
	}
	return plan, nil
}

// ApplyRetention runs one pass of rules: it deletes at most limit of the matching posts,
// oldest first, each through the domain's own deletion so that peers, search and
// streams learn of it. The limit keeps one pass from holding the database's writer for
// long on an instance that has just enabled its rules; the next pass goes on.
func (s *Service) ApplyRetention(ctx context.Context, rules []RetentionRule, limit int) (RetentionResult, error) {
	var res RetentionResult
	if err := validateRules(rules); err != nil || len(rules) == 0 {
		return res, err
	}
	if limit <= 0 {
		return res, Invalid("Retention pass: the limit must be positive")
	}
	now := s.clock()
	var batch []Status
	if err := s.retainable(ctx, rules, now).Select("id", "account_id").Order("statuses.id").
		Limit(limit).Find(&batch).Error; err != nil {
		return res, fmt.Errorf("select posts for retention: %w", err)
	}
	var failed error
	for _, st := range batch {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		deleted, err := s.retire(ctx, st)
		if err != nil {
			// One post that cannot go must not keep the others: the next pass tries again.
			s.log.Warn("retention: delete post", "status_id", st.ID, "error", err)
			failed = errors.Join(failed, fmt.Errorf("status %d: %w", st.ID, err))
			continue
		}
		if deleted {
			res.Deleted++
		}
	}
	if err := s.retainable(ctx, rules, now).Count(&res.Remaining).Error; err != nil {
		return res, errors.Join(failed, fmt.Errorf("count remaining posts: %w", err))
	}
	return res, failed
}

// retire deletes one post as its author would, unless a legal hold was set on the
// author since the pass chose it; false when it was held or already gone.
func (s *Service) retire(ctx context.Context, st Status) (bool, error) {
	hold, err := s.LegalHoldOf(ctx, st.AccountID)
	if err != nil || hold != nil {
		return false, err
	}
	author, err := s.accountByID(ctx, st.AccountID)
	if err != nil {
		return false, err
	}
	if _, err := s.DeleteStatusWithMedia(ctx, author, st.ID, true); err != nil {
		if KindOf(err) == KindNotFound {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// retainable selects the statuses any of rules would delete at now: local, not a boost
// or an idea, author not held.
func (s *Service) retainable(ctx context.Context, rules []RetentionRule, now time.Time) *gorm.DB {
	var conds []string
	var args []any
	for _, r := range rules {
		parts := []string{"statuses.created_at < ?"}
		args = append(args, now.Add(-r.OlderThan))
		if r.Scope != "" {
			parts = append(parts, "statuses.scope = ?")
			args = append(args, r.Scope)
		}
		if r.Visibility != "" {
			parts = append(parts, "statuses.visibility = ?")
			args = append(args, r.Visibility)
		}
		conds = append(conds, "("+strings.Join(parts, " AND ")+")")
	}
	return s.db.WithContext(ctx).Model(&Status{}).
		Where("statuses.local = ? AND statuses.reblog_of_id IS NULL", true).
		Where("NOT EXISTS (SELECT 1 FROM ideas WHERE ideas.status_id = statuses.id)").
		Where("NOT EXISTS (SELECT 1 FROM legal_holds WHERE legal_holds.account_id = statuses.account_id)").
		Where("("+strings.Join(conds, " OR ")+")", args...)
}

func validateRules(rules []RetentionRule) error {
	for _, r := range rules {
		if err := r.validate(); err != nil {
			return err
		}
	}
	return nil
}

// retentionBreather is the pause between passes while posts remain beyond a pass's
// limit: long enough for other writers to get their turn.
const retentionBreather = 10 * time.Second

// RunRetention applies rules every interval until ctx ends, at most limit posts a
// pass; while more remain, the next pass follows after a short pause instead of a
// whole interval. It logs what each pass deleted.
func (s *Service) RunRetention(ctx context.Context, rules []RetentionRule, interval time.Duration, limit int) {
	if len(rules) == 0 || interval <= 0 {
		return
	}
	for {
		res, err := s.ApplyRetention(ctx, rules, limit)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "retention pass", "deleted", res.Deleted, "remaining", res.Remaining, "err", err)
		} else if res.Deleted > 0 {
			s.log.InfoContext(ctx, "retention pass", "deleted", res.Deleted, "remaining", res.Remaining)
		}
		wait := interval
		if err == nil && res.Remaining > 0 && res.Deleted > 0 {
			wait = min(interval, retentionBreather)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
