package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
)

// Password guessing is throttled so that the attacker is slowed, not the owner of the
// account. Wrong passwords are counted three ways within LoginFailureWindow:
//
//   - per (account, client address): after MaxLoginFailures, that address may not try
//     that account any more until its oldest failure leaves the window. One address
//     guessing one account gets ten guesses per window; the owner, typing from
//     another address, is not affected.
//   - per client address, whatever the account: after MaxAddressFailures, the address
//     may not try any account. This stops password spraying (one password against
//     many names) from one address. Unknown names count as well.
//   - per account, from every address: past AccountFailureCeiling, a guess against
//     the account from an address that has not signed into it before is admitted
//     only once every AccountSlowInterval. That bounds a distributed attack to one
//     guess per interval without locking the account: the owner, from an address
//     that signed in before, is never held back by it, and from a new one waits
//     seconds, not minutes.
//
// An account is the same account whether it is named by username or by e-mail: the
// login is resolved first (LoginSubject), so both names share one counter. The counts
// live in memory: one process serves an instance, and a restart that forgets them
// costs an attacker a restart per handful of guesses. The client address must be the
// real one: the HTTP server believes X-Forwarded-For only from trusted proxies.
const (
	MaxLoginFailures      = 10
	MaxAddressFailures    = 30
	AccountFailureCeiling = 100
	AccountSlowInterval   = 2 * time.Second
	LoginFailureWindow    = 5 * time.Minute
	// knownAddressTTL is how long an address that signed into an account counts as
	// the owner's, and maxKnownAddresses how many are kept per account.
	knownAddressTTL   = 30 * 24 * time.Hour
	maxKnownAddresses = 16
)

type loginThrottle struct {
	mu       sync.Mutex
	failures map[string][]time.Time // counter key -> times of recent failures, oldest first
	// slowUntil is when an account past its ceiling next admits a guess from an
	// unknown address.
	slowUntil map[string]time.Time
	// known holds, per account, the addresses that signed in and when they last did.
	known map[string]map[string]time.Time
	swept time.Time
}

// LoginSubject names the account a login (username or e-mail address) belongs to, so
// that both count as one: "account:<id>" for a local account, "login:<name>" for a
// name that matches none (guesses at unknown names are throttled too).
func (s *Service) LoginSubject(ctx context.Context, login string) (string, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	var user community.User
	q := s.db.WithContext(ctx).Select("users.account_id")
	var err error
	if strings.Contains(login, "@") {
		err = q.Where("email = ? AND email <> ''", login).Take(&user).Error
	} else {
		err = q.Joins("JOIN accounts ON accounts.id = users.account_id").
			Where("lower(accounts.username) = ? AND accounts.domain = ''", login).Take(&user).Error
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "login:" + login, nil
	}
	if err != nil {
		return "", fmt.Errorf("resolve login: %w", err)
	}
	return "account:" + strconv.FormatInt(user.AccountID, 10), nil
}

func pairKey(subject, addr string) string { return "pair:" + subject + "|" + addr }
func addrKey(addr string) string          { return "addr:" + addr }
func acctKey(subject string) string       { return "acct:" + subject }

// LoginAllowed reports whether a password for subject (see LoginSubject) may be
// checked now for a request from the client address addr.
func (s *Service) LoginAllowed(subject, addr string) bool {
	t := &s.logins
	now := s.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.recent(pairKey(subject, addr), now)) >= MaxLoginFailures ||
		len(t.recent(addrKey(addr), now)) >= MaxAddressFailures {
		return false
	}
	if len(t.recent(acctKey(subject), now)) < AccountFailureCeiling || t.isKnown(subject, addr, now) {
		return true
	}
	// Past the ceiling: one guess per interval from addresses the owner has not used.
	if now.Before(t.slowUntil[subject]) {
		return false
	}
	if t.slowUntil == nil {
		t.slowUntil = map[string]time.Time{}
	}
	t.slowUntil[subject] = now.Add(AccountSlowInterval)
	return true
}

// LoginFailed records a wrong password (or unknown login) for subject from addr.
func (s *Service) LoginFailed(subject, addr string) {
	t := &s.logins
	now := s.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[string][]time.Time{}
	}
	if now.Sub(t.swept) > LoginFailureWindow {
		t.sweep(now)
	}
	t.add(pairKey(subject, addr), MaxLoginFailures, now)
	t.add(addrKey(addr), MaxAddressFailures, now)
	t.add(acctKey(subject), AccountFailureCeiling, now)
}

// LoginSucceeded clears the failures of subject from addr (the owner's earlier typos
// should not lock them out later) and remembers addr as one the owner uses. The
// address's and the account's other counts stay: an attacker who owns one account
// must not wipe its spraying record by signing into it.
func (s *Service) LoginSucceeded(subject, addr string) {
	t := &s.logins
	now := s.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, pairKey(subject, addr))
	if t.known == nil {
		t.known = map[string]map[string]time.Time{}
	}
	addrs := t.known[subject]
	if addrs == nil {
		addrs = map[string]time.Time{}
		t.known[subject] = addrs
	}
	if _, ok := addrs[addr]; !ok && len(addrs) >= maxKnownAddresses {
		// Forget the address used least recently.
		var oldest string
		for a, at := range addrs {
			if oldest == "" || at.Before(addrs[oldest]) {
				oldest = a
			}
		}
		delete(addrs, oldest)
	}
	addrs[addr] = now
}

// isKnown reports whether addr signed into subject recently. t.mu must be held.
func (t *loginThrottle) isKnown(subject, addr string, now time.Time) bool {
	at, ok := t.known[subject][addr]
	return ok && now.Sub(at) < knownAddressTTL
}

// add records a failure under key, keeping only the newest max: concurrent attempts
// may all have passed LoginAllowed, and the newest max are all the throttle needs.
// t.mu must be held.
func (t *loginThrottle) add(key string, max int, now time.Time) {
	fs := append(t.recent(key, now), now)
	if len(fs) > max {
		fs = fs[len(fs)-max:]
	}
	t.failures[key] = fs
}

// sweep forgets keys whose failures have all expired and stale known addresses, so the
// maps do not grow with every name and address ever tried. t.mu must be held.
func (t *loginThrottle) sweep(now time.Time) {
	for k := range t.failures {
		t.recent(k, now)
	}
	for k, until := range t.slowUntil {
		if now.After(until) {
			delete(t.slowUntil, k)
		}
	}
	for subject, addrs := range t.known {
		for a, at := range addrs {
			if now.Sub(at) >= knownAddressTTL {
				delete(addrs, a)
			}
		}
		if len(addrs) == 0 {
			delete(t.known, subject)
		}
	}
	t.swept = now
}

// recent drops the failures of key that left the window and returns the rest.
// t.mu must be held.
func (t *loginThrottle) recent(key string, now time.Time) []time.Time {
	fs := t.failures[key]
	i := 0
	for i < len(fs) && now.Sub(fs[i]) >= LoginFailureWindow {
		i++
	}
	fs = fs[i:]
	if len(fs) == 0 {
		delete(t.failures, key)
		return nil
	}
	t.failures[key] = fs
	return fs
}
