package storetest

import (
	"testing"
	"time"
)

// Calendar periods of UTC time that tests counting "today" or "this week" depend on.
var (
	// Day is the UTC date of a time.
	Day = func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	// Week is the Monday that starts a time's UTC week, as the weekly figures count.
	Week = func(t time.Time) time.Time {
		d := Day(t)
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	}
)

// SkipIfCrossed skips the test when period(now) differs from period(since): the data
// it made since then straddles two days or weeks, and figures for "today" or "this
// week" are split between them. Call it after reading the figures and before
// asserting on them, so that a test never fails, nor passes, by the calendar alone.
func SkipIfCrossed(t testing.TB, since time.Time, period func(time.Time) time.Time) {
	t.Helper()
	if now := time.Now(); !period(now).Equal(period(since)) {
		t.Skipf("the test ran across %s and %s: its per-period figures are split", period(since).Format(time.DateOnly), period(now).Format(time.DateOnly))
	}
}
