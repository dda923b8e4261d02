package community

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// InstanceStats are the figures an instance publishes about itself (instance API,
// NodeInfo).
type InstanceStats struct {
	// Users counts local accounts that can log in.
	Users int64
	// Statuses counts statuses (and reblogs) written on this instance.
	Statuses int64
	// Domains counts other servers known through their accounts.
	Domains int64
	// ActiveMonth and ActiveHalfyear count local users who signed in or posted in the
	// last 30 and 180 days.
	ActiveMonth    int64
	ActiveHalfyear int64
}

// InstanceStats computes the instance's figures in one query. It counts whole tables,
// so callers that serve it often should cache it.
func (s *Service) InstanceStats(ctx context.Context) (InstanceStats, error) {
	now := s.clock()
	month, halfyear := now.AddDate(0, 0, -30), now.AddDate(0, 0, -180)
	var row struct {
		Users, Statuses, Domains, ActiveMonth, ActiveHalfyear int64
	}
	const active = `SELECT COUNT(*) FROM users JOIN accounts ON accounts.id = users.account_id
		WHERE users.disabled = FALSE AND (users.last_sign_in_at >= ? OR accounts.last_status_at >= ?)`
	err := s.read(ctx).Raw(`SELECT
		(SELECT COUNT(*) FROM users WHERE disabled = FALSE) AS users,
		(SELECT COUNT(*) FROM statuses WHERE local = TRUE) AS statuses,
		(SELECT COUNT(DISTINCT domain) FROM accounts WHERE domain <> '') AS domains,
		(`+active+`) AS active_month,
		(`+active+`) AS active_halfyear`,
		month, month, halfyear, halfyear).Scan(&row).Error
	if err != nil {
		return InstanceStats{}, fmt.Errorf("count instance stats: %w", err)
	}
	return InstanceStats(row), nil
}

// KnownDomains lists the hosts of other servers this instance knows accounts from,
// sorted.
func (s *Service) KnownDomains(ctx context.Context) ([]string, error) {
	domains := []string{}
	if err := s.read(ctx).Model(&Account{}).Where("domain <> ''").Distinct("domain").Order("domain").
		Pluck("domain", &domains).Error; err != nil {
		return nil, fmt.Errorf("list known domains: %w", err)
	}
	return domains, nil
}

// WeekActivity is what happened on the instance in one week.
type WeekActivity struct {
	// Week is midnight (UTC) on the Monday the week starts.
	Week time.Time
	// Statuses counts local statuses written that week.
	Statuses int64
	// Logins counts local users whose last sign-in falls in that week. Tacit keeps only
	// the last sign-in of each user, so a user who also signed in later is counted in
	// their latest week only.
	Logins int64
	// Registrations counts local users created that week.
	Registrations int64
}

// WeeklyActivity reports the last weeks (the current one first) with one grouped
// query per figure. Rows are put into weeks by a CASE over the week boundaries rather
// than date functions, which SQLite and PostgreSQL spell differently.
func (s *Service) WeeklyActivity(ctx context.Context, weeks int) ([]WeekActivity, error) {
	if weeks <= 0 {
		return []WeekActivity{}, nil
	}
	now := s.clock()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	out := make([]WeekActivity, weeks)
	for i := range out {
		out[i].Week = monday.AddDate(0, 0, -7*i)
	}
	oldest := out[weeks-1].Week

	// bucket returns "CASE WHEN col >= ? THEN 0 … END" and its arguments: the index of
	// the newest week whose start the value reaches.
	bucket := func(col string, bound func(time.Time) any) (string, []any) {
		var b strings.Builder
		args := make([]any, 0, weeks)
		b.WriteString("CASE")
		for i := range out {
			fmt.Fprintf(&b, " WHEN %s >= ? THEN %d", col, i)
			args = append(args, bound(out[i].Week))
		}
		b.WriteString(" END")
		return b.String(), args
	}
	asTime := func(t time.Time) any { return t }
	asID := func(t time.Time) any { return IDAt(t) }
	type count struct {
		Week int
		N    int64
	}
	queries := []struct {
		what, table, col, where string
		bound                   func(time.Time) any
		set                     func(*WeekActivity, int64)
	}{
		// Status ids are time-ordered, so the week boundaries become id ranges on the
		// primary key.
		{"statuses", "statuses", "id", "local = TRUE", asID, func(w *WeekActivity, n int64) { w.Statuses = n }},
		{"logins", "users", "last_sign_in_at", "last_sign_in_at IS NOT NULL", asTime, func(w *WeekActivity, n int64) { w.Logins = n }},
		{"registrations", "users", "created_at", "1 = 1", asTime, func(w *WeekActivity, n int64) { w.Registrations = n }},
	}
	for _, q := range queries {
		expr, args := bucket(q.col, q.bound)
		args = append(args, q.bound(oldest))
		var counts []count
		err := s.read(ctx).Raw(`SELECT week, COUNT(*) AS n FROM (SELECT `+expr+` AS week FROM `+q.table+
			` WHERE `+q.where+` AND `+q.col+` >= ?) AS weeks GROUP BY week`, args...).Scan(&counts).Error
		if err != nil {
			return nil, fmt.Errorf("count weekly %s: %w", q.what, err)
		}
		for _, c := range counts {
			if c.Week >= 0 && c.Week < weeks {
				q.set(&out[c.Week], c.N)
			}
		}
	}
	return out, nil
}

// ContactAccount is the instance's contact: its longest-standing admin who can still
// log in, or nil when there is none.
func (s *Service) ContactAccount(ctx context.Context) (*Account, *User, error) {
	var users []User
	if err := s.read(ctx).Where("role = ? AND disabled = FALSE", RoleAdmin).Order("created_at, id").Limit(1).
		Find(&users).Error; err != nil {
		return nil, nil, fmt.Errorf("find contact admin: %w", err)
	}
	if len(users) == 0 {
		return nil, nil, nil
	}
	a, err := s.accountByID(ctx, users[0].AccountID)
	if err != nil {
		return nil, nil, err
	}
	return a, &users[0], nil
}
