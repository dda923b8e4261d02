// Command healthwait waits until a server answers a URL with 200 and prints how long
// that took, in milliseconds, from a given moment: bench/compare.sh notes the time in
// nanoseconds just before it starts a server and passes it as -since, so the figure is
// process start to first healthy answer. It polls every millisecond, which a shell
// loop of curl cannot do.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	url := flag.String("url", "", "the health URL to poll")
	since := flag.Int64("since", 0, "start of the measurement, Unix time in nanoseconds (default: now)")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after this long")
	pid := flag.Int("pid", 0, "give up as soon as this process has exited")
	flag.Parse()
	ms, err := wait(*url, *since, *timeout, *pid)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthwait:", err)
		os.Exit(1)
	}
	fmt.Printf("%.0f\n", ms)
}

// wait polls url until it answers 200 and returns the milliseconds since since. It
// gives up at the timeout, or when the process pid (if not 0) has exited.
func wait(url string, since int64, timeout time.Duration, pid int) (float64, error) {
	if url == "" {
		return 0, errors.New("-url is required")
	}
	start := time.Now()
	if since > 0 {
		start = time.Unix(0, since)
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := healthy(client, url)
		if ok {
			return float64(time.Since(start).Microseconds()) / 1000, nil
		}
		lastErr = err
		if pid != 0 && !running(pid) {
			return 0, fmt.Errorf("process %d exited before %s answered: %w", pid, url, lastErr)
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("%s not healthy after %s: %w", url, timeout, lastErr)
}

// running reports whether process pid still runs (a zombie, exited but not yet waited
// for, counts as exited).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z'
}

func healthy(client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	return true, nil
}
