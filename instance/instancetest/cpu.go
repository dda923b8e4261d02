package instancetest

import (
	"syscall"
	"testing"
	"time"
)

// ProcessCPU is the CPU time this process has used so far (user + system). Benchmarks
// report differences of it per operation: unlike wall time it does not count waiting
// for the database or for other programs sharing the machine.
func ProcessCPU(tb testing.TB) time.Duration {
	tb.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
