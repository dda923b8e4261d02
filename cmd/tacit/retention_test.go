package main

import (
	"archive/zip"
	"context"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
)

// commandEnv is the environment that points the admin commands at a test instance.
func commandEnv(inst *instancetest.Instance, extra ...string) []string {
	c := inst.Config
	return append([]string{"TACIT_DATA_DIR=" + c.DataDir, "TACIT_HOST=" + c.Host, "TACIT_PROTOCOL=" + c.Protocol,
		"TACIT_DATABASE=" + c.Database, "TACIT_LOG_LEVEL=error"}, extra...)
}

// backdate moves a post's creation into the past, as if it had been written then.
func backdate(t *testing.T, inst *instancetest.Instance, uri string, age time.Duration) {
	t.Helper()
	st, err := inst.Community.Unchecked().StatusByURI(context.Background(), uri)
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.DB.Model(&community.Status{}).Where("id = ?", st.ID).
		Update("created_at", time.Now().UTC().Add(-age)).Error; err != nil {
		t.Fatal(err)
	}
}

// TestRetentionFederatesDeletions: instance A's retention job deletes a company post of
// A that B received, and B drops its copy; the post of an account held with
// `tacit admin legal-hold` stays on both.
func TestRetentionFederatesDeletions(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{Configure: func(c *config.Config) {
		c.Retention.Rules = []config.RetentionRule{{Scope: "company", Visibility: "any", OlderThan: "30d"}}
		c.Retention.Interval = 200 * time.Millisecond
	}})
	a, b := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	carol := a.CreateUser(t, "carol", instancetest.UserOptions{})
	bob := b.CreateUser(t, "bob", instancetest.UserOptions{})
	for _, who := range []string{"alice", "carol"} {
		remote, err := b.Federator.ResolveAccount(ctx, who+"@"+a.Host())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Client(bob.Token).AccountFollow(ctx, mastodon.ID(community.FormatID(remote.ID))); err != nil {
			t.Fatal(err)
		}
	}
	if out, _, err := tacit(t, commandEnv(a), "admin", "legal-hold", "carol", "on", "--reason", "case 42"); err != nil ||
		!strings.Contains(out, "under legal hold") {
		t.Fatalf("legal-hold: %v %q", err, out)
	}
	old := a.PostStatus(t, alice.Token, url.Values{"status": {"Last quarter's plan"}, "scope": {"company"}}).URI
	held := a.PostStatus(t, carol.Token, url.Values{"status": {"Held for the audit"}, "scope": {"company"}}).URI
	fresh := a.PostStatus(t, alice.Token, url.Values{"status": {"This week's plan"}, "scope": {"company"}}).URI
	for _, uri := range []string{old, held, fresh} {
		eventually.Holds(t, "the post to reach B", func() bool {
			_, err := b.Community.Unchecked().StatusByURI(ctx, uri)
			return err == nil
		})
	}
	backdate(t, a, old, 60*24*time.Hour)
	backdate(t, a, held, 60*24*time.Hour)
	eventually.Holds(t, "A's retention to delete the old post on B", func() bool {
		_, err := b.Community.Unchecked().StatusByURI(ctx, old)
		return community.KindOf(err) == community.KindNotFound
	})
	if _, err := a.Community.Unchecked().StatusByURI(ctx, old); community.KindOf(err) != community.KindNotFound {
		t.Errorf("the old post is still on A: %v", err)
	}
	for _, inst := range []*instancetest.Instance{a, b} {
		for _, uri := range []string{held, fresh} {
			if _, err := inst.Community.Unchecked().StatusByURI(ctx, uri); err != nil {
				t.Errorf("%s on %s: %v", uri, inst.Host(), err)
			}
		}
	}
}

// TestAdminRetention: `tacit admin retention --dry-run` counts per rule what a pass
// would delete, and without --dry-run a pass deletes it.
func TestAdminRetention(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) { c.Retention.Interval = 0 }})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	env := commandEnv(inst, "TACIT_RETENTION_RULES=department:any:730d,any:direct:365d")
	dept := inst.PostStatus(t, alice.Token, url.Values{"status": {"Department news"}, "scope": {"department"}}).URI
	direct := inst.PostStatus(t, alice.Token, url.Values{"status": {"@alice a note"}, "visibility": {"direct"}}).URI
	kept := inst.PostStatus(t, alice.Token, url.Values{"status": {"Company news"}, "scope": {"company"}}).URI
	for _, uri := range []string{dept, direct, kept} {
		backdate(t, inst, uri, 800*24*time.Hour)
	}
	out, _, err := tacit(t, env, "admin", "retention", "--dry-run")
	if err != nil || !strings.Contains(out, "department:any:730d") || !strings.Contains(out, "2 posts would be deleted") {
		t.Fatalf("retention --dry-run: %v\n%s", err, out)
	}
	if _, err := inst.Community.Unchecked().StatusByURI(context.Background(), dept); err != nil {
		t.Errorf("a dry run deleted a post: %v", err)
	}
	out, _, err = tacit(t, env, "admin", "retention")
	if err != nil || !strings.Contains(out, "deleted 2 posts") {
		t.Fatalf("retention: %v\n%s", err, out)
	}
	for uri, gone := range map[string]bool{dept: true, direct: true, kept: false} {
		_, err := inst.Community.Unchecked().StatusByURI(context.Background(), uri)
		if (community.KindOf(err) == community.KindNotFound) != gone {
			t.Errorf("%s: err = %v, want gone %v", uri, err, gone)
		}
	}
	if out, _, err := tacit(t, commandEnv(inst), "admin", "retention"); err != nil || !strings.Contains(out, "no retention rules") {
		t.Errorf("retention without rules: %v %q", err, out)
	}
	if _, _, err := tacit(t, env, "admin", "legal-hold", "alice", "maybe"); err == nil {
		t.Error("legal-hold accepted a state that is neither on nor off")
	}
}

// TestAdminExport: `tacit admin export` writes the archive a person downloads.
func TestAdminExport(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	uri := inst.PostStatus(t, alice.Token, url.Values{"status": {"For the record"}}).URI
	dest := filepath.Join(t.TempDir(), "alice.zip")
	out, _, err := tacit(t, commandEnv(inst), "admin", "export", "alice", dest)
	if err != nil || !strings.Contains(out, "wrote the archive") {
		t.Fatalf("export: %v %q", err, out)
	}
	z, err := zip.OpenReader(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	f, err := z.Open("outbox.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	body, _ := io.ReadAll(f)
	if !strings.Contains(string(body), uri) {
		t.Errorf("outbox.json does not hold %s", uri)
	}
	if _, _, err := tacit(t, commandEnv(inst), "admin", "export", "nobody", dest); err == nil {
		t.Error("export of an unknown account succeeded")
	}
}
