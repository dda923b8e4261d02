package federation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tacit-social/tacit/store"
)

// The crash tests run real `tacit serve` processes, as an operator would, and kill them.

// node is one instance run as a separate process.
type node struct {
	t       *testing.T
	bin     string
	host    string
	dataDir string
	env     []string
	cmd     *exec.Cmd
	log     *bytes.Buffer
}

func buildTacit(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tacit")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/tacit")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build tacit: %v\n%s", err, out)
	}
	return bin
}

func freeHost(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func newNode(t *testing.T, bin, host string, peers []string) *node {
	n := &node{t: t, bin: bin, host: host, dataDir: t.TempDir()}
	n.env = append(os.Environ(),
		"TACIT_HOST="+host, "TACIT_LISTEN="+host, "TACIT_PROTOCOL=http", "TACIT_DATA_DIR="+n.dataDir,
		"TACIT_FEDERATION_PEERS="+strings.Join(peers, ","), "TACIT_RATE_LIMIT_REQUESTS=0", "TACIT_LOG_LEVEL=warn",
		"TACIT_DATABASE=", "TACIT_CONFIG=")
	t.Cleanup(func() {
		n.kill()
		if t.Failed() && n.log != nil {
			t.Logf("log of %s:\n%s", host, n.log.String())
		}
	})
	return n
}

func (n *node) start() {
	n.t.Helper()
	n.log = &bytes.Buffer{}
	n.cmd = exec.Command(n.bin, "serve")
	n.cmd.Env = n.env
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		n.t.Fatalf("start %s: %v", n.host, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + n.host + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.t.Fatalf("%s did not start:\n%s", n.host, n.log.String())
}

// kill ends the process with SIGKILL: no shutdown, no flush, as in a crash.
func (n *node) kill() {
	if n.cmd != nil && n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		_ = n.cmd.Wait()
		n.cmd = nil
	}
}

func (n *node) admin(args ...string) string {
	n.t.Helper()
	cmd := exec.Command(n.bin, append([]string{"admin"}, args...)...)
	cmd.Env = n.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		n.t.Fatalf("tacit admin %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (n *node) user(name string) string {
	n.admin("create-user", "--username", name, "--password", "correct horse battery staple")
	return n.admin("token", "--username", name)
}

func (n *node) api(method, path, token string, form url.Values, out any) int {
	n.t.Helper()
	req, _ := http.NewRequest(method, "http://"+n.host+path, strings.NewReader(form.Encode()))
	req.Header.Set("Authorization", "Bearer "+token)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// homeCount is how many statuses by acct the token's home timeline shows (up to 40).
// queuedDeliveries counts the deliveries n's database still holds, leased or not.
func (n *node) queuedDeliveries() int64 {
	n.t.Helper()
	db, err := store.OpenNoMigrate(context.Background(), "", filepath.Join(n.dataDir, "tacit.db"), nil)
	if err != nil {
		n.t.Fatal(err)
	}
	defer store.Close(db)
	var count int64
	if err := db.Table("queue_jobs").Where("kind = ?", "deliver").Count(&count).Error; err != nil {
		n.t.Fatal(err)
	}
	return count
}

func (n *node) homeCount(token, acct string) int {
	var list []struct {
		Content string
		Account struct{ Acct string }
	}
	if n.api(http.MethodGet, "/api/v1/timelines/home?limit=40", token, nil, &list) != http.StatusOK {
		return -1
	}
	c := 0
	for _, s := range list {
		if s.Account.Acct == acct {
			c++
		}
	}
	return c
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", within, what)
}

// TestDeliveriesSurviveCrashes: posts queued for a stopped peer arrive once it is back;
// a sender killed with SIGKILL in the middle of its deliveries carries on after a
// restart, and every post arrives exactly once.
func TestDeliveriesSurviveCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills processes")
	}
	t.Parallel()
	bin := buildTacit(t)
	hostA, hostB := freeHost(t), freeHost(t)
	peers := []string{hostA, hostB}
	a, b := newNode(t, bin, hostA, peers), newNode(t, bin, hostB, peers)
	a.start()
	b.start()
	alice, bob := a.user("alice"), b.user("bob")

	var found struct {
		Accounts []struct{ ID, Acct string }
	}
	a.api(http.MethodGet, "/api/v2/search?resolve=true&type=accounts&q="+url.QueryEscape("@bob@"+hostB), alice, nil, &found)
	if len(found.Accounts) != 1 {
		t.Fatalf("alice could not resolve bob: %+v", found)
	}
	bobOnA := found.Accounts[0]
	if code := a.api(http.MethodPost, "/api/v1/accounts/"+bobOnA.ID+"/follow", alice, url.Values{}, nil); code != http.StatusOK {
		t.Fatalf("follow: HTTP %d", code)
	}
	waitFor(t, 20*time.Second, "the follow to be accepted", func() bool {
		var rels []struct{ Following bool }
		a.api(http.MethodGet, "/api/v1/accounts/relationships?id[]="+bobOnA.ID, alice, nil, &rels)
		return len(rels) == 1 && rels[0].Following
	})

	// 1. The receiver is down while bob posts; it gets everything when it is back.
	a.kill()
	for i := range 5 {
		if code := b.api(http.MethodPost, "/api/v1/statuses", bob, url.Values{"status": {fmt.Sprintf("While A was down %d", i)}}, nil); code != http.StatusOK {
			t.Fatalf("post: HTTP %d", code)
		}
	}
	a.start()
	waitFor(t, 3*time.Minute, "the posts queued during A's outage", func() bool { return a.homeCount(alice, bobOnA.Acct) == 5 })

	// 2. The sender dies (SIGKILL) right after posting, with deliveries queued or in flight.
	const burst = 20
	for i := range burst {
		if code := b.api(http.MethodPost, "/api/v1/statuses", bob, url.Values{"status": {fmt.Sprintf("Burst %d", i)}}, nil); code != http.StatusOK {
			t.Fatalf("post: HTTP %d", code)
		}
	}
	b.kill()
	b.start()
	waitFor(t, 3*time.Minute, "every post of the burst", func() bool { return a.homeCount(alice, bobOnA.Acct) >= 5+burst })
	// A job in flight when B died is redelivered only once its lease ends: wait until B's
	// queue holds no delivery at all (none queued, none leased), then check that nothing
	// arrived twice.
	waitFor(t, 3*time.Minute, "B's delivery queue to drain", func() bool { return b.queuedDeliveries() == 0 })
	if got := a.homeCount(alice, bobOnA.Acct); got != 5+burst {
		t.Errorf("alice's home shows %d of bob's posts, want exactly %d", got, 5+burst)
	}
}
