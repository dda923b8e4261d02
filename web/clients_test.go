package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/web"
)

// TestTrailingSlashes: every route answers with a trailing slash exactly as without,
// for every method, without a redirect (Mastodon.py reads /api/v1/instance/, toot
// opens /oauth/authorize/?…).
func TestTrailingSlashes(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	app := oauthRegisterApp(t, inst, oauthCallback, "read")

	for _, path := range []string{"/api/v1/instance/", "/api/v2/instance/", "/api/v1/timelines/home/", "/nodeinfo/2.0/",
		"/api/v1/accounts/verify_credentials/", "/api/v1/accounts/" + community.FormatID(alice.Account.ID) + "/"} {
		a := inst.Call(t, http.MethodGet, path, alice.Token, nil)
		if a.Code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, a.Code, a.Body)
		}
	}
	q := oauthQuery(app, oauthCallback, "read", "s")
	resp, body := oauthGet(t, inst, "/oauth/authorize/?"+q.Encode(), "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<form") {
		t.Errorf("GET /oauth/authorize/: %d", resp.StatusCode)
	}
	a := inst.Call(t, http.MethodPost, "/api/v1/statuses/", alice.Token, url.Values{"status": {"with a slash"}})
	if a.Code != http.StatusOK || !strings.Contains(string(a.Body), "with a slash") {
		t.Errorf("POST /api/v1/statuses/: %d %s", a.Code, a.Body)
	}
	var st struct{ ID string }
	_ = json.Unmarshal(a.Body, &st)
	if a := inst.Call(t, http.MethodDelete, "/api/v1/statuses/"+st.ID+"/", alice.Token, nil); a.Code != http.StatusOK {
		t.Errorf("DELETE /api/v1/statuses/:id/: %d %s", a.Code, a.Body)
	}
	// What does not exist without the slash does not exist with it either.
	if a := inst.Call(t, http.MethodGet, "/api/v1/nothing-here/", alice.Token, nil); a.Code != http.StatusNotFound {
		t.Errorf("GET /api/v1/nothing-here/: %d, want 404", a.Code)
	}
}

// TestServerSentEventsFraming: comments end with one newline, as Mastodon sends them;
// a blank line after a comment is an empty event, on which Mastodon.py aborts.
func TestServerSentEventsFraming(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, inst.URL+"/api/v1/streaming/user", nil)
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	waitConnections(t, inst, 1)
	inst.PostStatus(t, alice.Token, url.Values{"status": {"framing"}})
	r := bufio.NewReader(resp.Body)
	var lines []string
	for len(lines) < 4 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read stream: %v (so far %q)", err, lines)
		}
		lines = append(lines, line)
	}
	if lines[0] != ":)\n" || lines[1] != "event: update\n" || !strings.HasPrefix(lines[2], "data: {") || lines[3] != "\n" {
		t.Errorf("stream starts %q, want \":)\\n\" then the event", lines)
	}
	// Keep-alives are single comment lines too, never followed by a blank line.
	web.SetStreamHeartbeat(inst.Web, 20*time.Millisecond)
	stream2, err := http.DefaultClient.Do(req.Clone(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer stream2.Body.Close()
	r = bufio.NewReader(stream2.Body)
	for i := range 4 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		want := ":thump\n"
		if i == 0 {
			want = ":)\n"
		}
		if line != want {
			t.Fatalf("line %d of an idle stream: %q, want %q", i+1, line, want)
		}
	}
}

// TestNodeInfoNamesMastodonUpstream: megalodon's detector accepts an unknown server
// whose NodeInfo names Mastodon as its upstream.
func TestNodeInfoNamesMastodonUpstream(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	for _, v := range []string{"2.0", "2.1"} {
		resp, err := http.Get(inst.URL + "/nodeinfo/" + v)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var doc struct {
			Software struct{ Name string }
			Metadata struct {
				Upstream struct{ Name, Version string }
			}
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Software.Name != "tacit" || doc.Metadata.Upstream.Name != "mastodon" || !strings.HasPrefix(doc.Metadata.Upstream.Version, "4.") {
			t.Errorf("nodeinfo %s: software %q, upstream %+v", v, doc.Software.Name, doc.Metadata.Upstream)
		}
	}
}
