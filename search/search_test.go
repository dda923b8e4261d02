package search

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/store/storetest"
)

// world is a domain over a test database with a search index on disk, fed by events.
type world struct {
	t       *testing.T
	db      *gorm.DB
	bus     *community.Bus
	c       *community.Service
	dir     string
	ix      *Index
	indexer *Indexer
	s       *Searcher
	stop    func()
}

func newWorld(t *testing.T, db *gorm.DB) *world {
	t.Helper()
	w := &world{t: t, db: db, bus: &community.Bus{}, dir: filepath.Join(t.TempDir(), "index")}
	w.c = community.NewService(db, community.Options{Host: "sales.example", BaseURL: "https://sales.example",
		DefaultScope: community.ScopeCompany, Peers: func(h string) bool { return h == "hq.example" }, Events: w.bus})
	w.open()
	// Events go to whichever indexer runs now: the test restarts it.
	w.bus.Subscribe(func(ctx context.Context, e community.Event) { w.indexer.onEvent(ctx, e) })
	t.Cleanup(func() { w.close() })
	return w
}

// open opens the index and starts its indexer.
func (w *world) open() {
	w.t.Helper()
	ix, err := Open(w.dir)
	if err != nil {
		w.t.Fatalf("open index: %v", err)
	}
	w.ix = ix
	w.indexer = NewIndexer(ix, w.c, storetest.Logger(w.t))
	w.s = NewSearcher(Options{Index: ix, Community: w.c, Indexer: w.indexer})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.indexer.Run(ctx); err != nil {
			w.t.Errorf("indexer: %v", err)
		}
	}()
	w.stop = func() { cancel(); <-done }
	w.sync()
}

func (w *world) close() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
		if err := w.ix.Close(); err != nil {
			w.t.Errorf("close index: %v", err)
		}
	}
}

// sync waits for the indexer to write everything queued.
func (w *world) sync() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !w.indexer.running.Load() {
		time.Sleep(time.Millisecond)
	}
	if err := w.indexer.Sync(ctx); err != nil {
		w.t.Fatalf("sync: %v", err)
	}
}

func (w *world) user(name string, expertise ...string) *community.Account {
	w.t.Helper()
	ctx := context.Background()
	a, _, err := w.c.CreateLocalAccount(ctx, community.NewLocalAccount{Username: name, Password: "correct horse battery staple"})
	if err != nil {
		w.t.Fatal(err)
	}
	if len(expertise) > 0 {
		if a, _, err = w.c.UpdateProfile(ctx, a.ID, community.ProfileUpdate{Expertise: &expertise}); err != nil {
			w.t.Fatal(err)
		}
	}
	return a
}

func (w *world) post(author *community.Account, text string, vis community.Visibility, sc community.Scope) *community.Status {
	w.t.Helper()
	st, err := w.c.CreateStatus(context.Background(), author, nil, community.NewStatus{Text: text,
		Audience: community.AudienceRequest{Visibility: vis, Scope: sc}})
	if err != nil {
		w.t.Fatal(err)
	}
	return st
}

func (w *world) accounts(v *community.Account, q string) []string {
	w.t.Helper()
	res, err := w.s.Accounts(context.Background(), AccountQuery{Text: q, Viewer: community.AsAccount(v), Limit: 20})
	if err != nil {
		w.t.Fatalf("accounts %q: %v", q, err)
	}
	out := []string{}
	for _, a := range res.Accounts {
		out = append(out, a.Acct())
	}
	return out
}

func (w *world) statuses(v *community.Account, q string) []int64 {
	w.t.Helper()
	list, err := w.s.Statuses(context.Background(), StatusQuery{Text: q, Viewer: community.AsAccount(v), Limit: 20})
	if err != nil {
		w.t.Fatalf("statuses %q: %v", q, err)
	}
	out := []int64{}
	for _, st := range list {
		out = append(out, st.ID)
	}
	return out
}

func (w *world) experts(v *community.Account, q string) []Expert {
	w.t.Helper()
	list, err := w.s.LocalExperts(context.Background(), community.AsAccount(v), q, 10, false)
	if err != nil {
		w.t.Fatalf("experts %q: %v", q, err)
	}
	return list
}

func expertNames(list []Expert) []string {
	out := []string{}
	for _, e := range list {
		out = append(out, e.Account.Acct())
	}
	return out
}

// TestIndexFollowsTheDomain: what the domain stores is found, with typos and prefixes;
// edits and deletions reach the index; only what the viewer may read is returned.
func TestIndexFollowsTheDomain(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		kate := w.user("kate", "Kubernetes", "Site reliability")
		bob := w.user("bob")
		carol := w.user("carol")
		if _, _, err := w.c.UpdateProfile(ctx, carol.ID, community.ProfileUpdate{DisplayName: new("Carol Jiménez")}); err != nil {
			t.Fatal(err)
		}
		w.sync()

		for _, tc := range []struct {
			q    string
			want []string
		}{
			{"kate", []string{"kate"}},
			{"kubernetes", []string{"kate"}},
			{"kubernets", []string{"kate"}}, // a typo
			{"kube", []string{"kate"}},      // as you type
			{"jimenez", []string{"carol"}},  // accents folded
			{"reliab", []string{"kate"}},
			{"nobody", []string{}},
		} {
			if got := w.accounts(bob, tc.q); !slices.Equal(got, tc.want) {
				t.Errorf("accounts %q: %v, want %v", tc.q, got, tc.want)
			}
		}

		public := w.post(bob, "Rolled out the new kubernetes cluster today", community.VisibilityPublic, community.ScopeCompany)
		private := w.post(kate, "Kubernetes upgrade notes for my followers", community.VisibilityPrivate, community.ScopeCompany)
		w.sync()
		if got := w.statuses(carol, "kubernetes"); !slices.Equal(got, []int64{public.ID}) {
			t.Errorf("carol's search: %v, want only the public post %d", got, public.ID)
		}
		if got := w.statuses(kate, "kubernetes"); len(got) != 2 {
			t.Errorf("kate's search (her own followers-only post too): %v", got)
		}
		if err := w.c.Follow(ctx, carol, kate.ID, community.FollowOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := w.statuses(carol, "kubernetes"); !slices.Contains(got, private.ID) {
			t.Errorf("carol follows kate now and should find her followers-only post: %v", got)
		}

		// An edit replaces the text in the index; a deletion removes it.
		if _, err := w.c.EditStatus(ctx, bob, public.ID, community.EditInput{Text: "Rolled out the new nomad cluster"}); err != nil {
			t.Fatal(err)
		}
		w.sync()
		if got := w.statuses(bob, "nomad"); !slices.Equal(got, []int64{public.ID}) {
			t.Errorf("edited post not found by its new text: %v", got)
		}
		if got := w.statuses(bob, "kubernetes"); slices.Contains(got, public.ID) {
			t.Errorf("edited post still found by its old text: %v", got)
		}
		if _, err := w.c.DeleteStatus(ctx, bob, public.ID); err != nil {
			t.Fatal(err)
		}
		w.sync()
		if got := w.statuses(bob, "nomad"); len(got) != 0 {
			t.Errorf("deleted post still found: %v", got)
		}
		if n := docCount(t, w.ix, kindPosts, public.ID); n != 0 {
			t.Errorf("deleted post still in the index")
		}

		// A post deleted behind the index's back (another process) is not shown, and
		// the search that met it removes it from the index.
		other := community.NewService(db, community.Options{Host: "sales.example", BaseURL: "https://sales.example"})
		gone := w.post(bob, "Vault policies explained", community.VisibilityPublic, community.ScopeCompany)
		w.sync()
		if _, err := other.DeleteStatus(ctx, bob, gone.ID); err != nil {
			t.Fatal(err)
		}
		if got := w.statuses(bob, "vault"); len(got) != 0 {
			t.Errorf("a deleted post was shown: %v", got)
		}
		w.sync()
		if docCount(t, w.ix, kindPosts, gone.ID) != 0 {
			t.Error("the search that met a deleted post left it in the index")
		}

		// Experts: kate declares it and writes about it.
		ex := w.experts(carol, "kubernetes")
		if len(ex) == 0 || ex[0].Account.ID != kate.ID {
			t.Fatalf("experts: %v", expertNames(ex))
		}
		if !slices.Equal(ex[0].Evidence.Expertise, []string{"Kubernetes"}) || ex[0].Evidence.StatusesCount != 1 {
			t.Errorf("evidence: %+v", ex[0].Evidence)
		}
	})
}

// TestIndexSurvivesRestartsAndCatchesUp: the index persists across restarts; what was
// written while it was closed, or while nobody told it, is caught up from the database;
// rows deleted behind its back are swept after an unclean shutdown.
func TestIndexSurvivesRestartsAndCatchesUp(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *gorm.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ann := w.user("ann", "Terraform")
		w.post(ann, "Terraform modules for the data platform", community.VisibilityPublic, community.ScopeCompany)
		w.sync()
		w.close()

		// Written by another process (no events reach this index): an admin command,
		// say.
		other := community.NewService(db, community.Options{Host: "sales.example", BaseURL: "https://sales.example"})
		ben, _, err := other.CreateLocalAccount(ctx, community.NewLocalAccount{Username: "ben", Password: "correct horse battery staple"})
		if err != nil {
			t.Fatal(err)
		}
		benPost, err := other.CreateStatus(ctx, ben, nil, community.NewStatus{Text: "Ansible playbooks are in the repo"})
		if err != nil {
			t.Fatal(err)
		}

		w.open()
		if got := w.accounts(ann, "ann"); !slices.Equal(got, []string{"ann"}) {
			t.Errorf("after a restart: %v", got)
		}
		if got := w.accounts(ann, "ben"); !slices.Equal(got, []string{"ben"}) {
			t.Errorf("an account created while the index was closed: %v", got)
		}
		if got := w.statuses(ann, "ansible"); !slices.Equal(got, []int64{benPost.ID}) {
			t.Errorf("a post written while the index was closed: %v", got)
		}

		// Written by another process while the index is open: the periodic catch-up
		// finds it (run here directly rather than waiting a minute).
		late, err := other.CreateStatus(ctx, ben, nil, community.NewStatus{Text: "Packer images rebuilt"})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.indexer.catchUp(ctx); err != nil {
			t.Fatal(err)
		}
		if got := w.statuses(ann, "packer"); !slices.Equal(got, []int64{late.ID}) {
			t.Errorf("a post written by another process: %v", got)
		}

		// A crash: the index is not closed, and a deletion happens behind its back.
		w.stop()
		w.stop = nil
		if err := w.ix.closeIndexes(); err != nil {
			t.Fatal(err)
		}
		if err := w.ix.unlock(); err != nil {
			t.Fatal(err)
		}
		if _, err := other.DeleteStatus(ctx, ben, benPost.ID); err != nil {
			t.Fatal(err)
		}
		w.open()
		if !w.ix.needsSweep {
			t.Error("an index that was not closed was not noticed")
		}
		if n := docCount(t, w.ix, kindPosts, benPost.ID); n != 0 {
			t.Errorf("the sweep left the document of a deleted post")
		}

		// An index of another mapping version is rebuilt from the database.
		w.close()
		ix, err := Open(w.dir)
		if err != nil {
			t.Fatal(err)
		}
		bt := ix.newBatch()
		bt.setState(kindPosts, indexState{Version: mappingVersion - 1, Complete: true})
		if err := ix.apply(bt); err != nil {
			t.Fatal(err)
		}
		if err := ix.Close(); err != nil {
			t.Fatal(err)
		}
		w.open()
		if got := w.statuses(ann, "packer"); !slices.Equal(got, []int64{late.ID}) {
			t.Errorf("after a rebuild for a new mapping: %v", got)
		}
	})
}

// TestOneWriter: a second process cannot open an index in use.
func TestOneWriter(t *testing.T) {
	w := newWorld(t, storetest.Open(t))
	if _, err := Open(w.dir); err != ErrLocked {
		t.Errorf("second open: %v, want ErrLocked", err)
	}
}

func docCount(t *testing.T, ix *Index, kind string, id int64) int {
	t.Helper()
	doc, err := ix.idx[kind].Document(community.FormatID(id))
	if err != nil {
		t.Fatal(err)
	}
	if doc == nil {
		return 0
	}
	return 1
}
