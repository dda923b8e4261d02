package app_test

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestLiveUpdates: a signed-in page's event stream carries new posts, with the session
// cookie alone; the page never holds the token; a signed-out browser gets none.
func TestLiveUpdates(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	home := b.get("/")
	if !strings.Contains(home.Body, `data-source="/live/home"`) {
		t.Fatal("the home page does not listen for new posts")
	}
	if tok := b.cookie("tacit_session").Value; strings.Contains(home.Body, tok) {
		t.Fatal("the page contains the session token")
	}
	if p := newBrowser(t, inst).get("/live/home"); p.Code != http.StatusUnauthorized {
		t.Fatalf("signed-out live stream: %d", p.Code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, inst.URL+"/live/home", nil)
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("live stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	if first := <-lines; first != ":)" {
		t.Fatalf("stream starts with %q", first)
	}
	if p := b.compose("a live post", "department", "public"); p.Code != http.StatusSeeOther {
		t.Fatalf("compose: %d", p.Code)
	}
	for line := range lines {
		if line == "event: update" {
			data := <-lines
			if !strings.Contains(data, "a live post") {
				t.Fatalf("update carries %q", data)
			}
			return
		}
	}
	t.Fatal("the stream ended without the new post")
}
