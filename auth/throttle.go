package auth

import (
	"strings"
	"sync"
	"time"
)

// Password guessing is slowed per login name: after MaxLoginFailures wrong passwords
// within LoginFailureWindow, further attempts for that name are refused without
// checking the password until the oldest failure leaves the window. The count lives in
// memory: one process serves an instance, and a restart forgetting it costs an attacker
// a restart per ten guesses.
const (
	MaxLoginFailures   = 10
	LoginFailureWindow = 5 * time.Minute
)

type loginThrottle struct {
	mu       sync.Mutex
	failures map[string][]time.Time // login name -> times of recent failures, oldest first
	swept    time.Time
}

func loginKey(login string) string { return strings.ToLower(strings.TrimSpace(login)) }

// LoginAllowed reports whether a password may be checked for login now.
func (s *Service) LoginAllowed(login string) bool {
	t := &s.logins
	now := s.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.recent(loginKey(login), now)) < MaxLoginFailures
}

// LoginFailed records a wrong password (or unknown login) for login.
func (s *Service) LoginFailed(login string) {
	t := &s.logins
	now := s.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[string][]time.Time{}
	}
	if now.Sub(t.swept) > LoginFailureWindow {
		// Forget names whose failures have all expired, so the map does not grow with
		// every name ever tried.
		for k := range t.failures {
			t.recent(k, now)
		}
		t.swept = now
	}
	key := loginKey(login)
	fs := append(t.recent(key, now), now)
	if len(fs) > MaxLoginFailures {
		// Concurrent attempts may all have passed LoginAllowed; the newest
		// MaxLoginFailures are all the throttle needs.
		fs = fs[len(fs)-MaxLoginFailures:]
	}
	t.failures[key] = fs
}

// LoginSucceeded clears the failures of login: the owner got in, and their earlier
// typos should not lock them out later.
func (s *Service) LoginSucceeded(login string) {
	t := &s.logins
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, loginKey(login))
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
