// Package eventually waits in tests for something that happens asynchronously (a
// delivery, a stream event, a queue job). It imports nothing of Tacit, so that tests of
// any package, including those instancetest itself depends on, can use it.
package eventually

import (
	"testing"
	"time"
)

// Deadline is how long Holds waits. It is generous because CI machines are shared and
// the race detector slows everything; a test that passes waits only as long as it must.
const Deadline = 30 * time.Second

// Holds polls cond until it is true, and fails the test if it is still false after
// Deadline. what says, for the failure message, what was awaited.
func Holds(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Deadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
