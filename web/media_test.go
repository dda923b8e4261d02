package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/media/mediatest"
)

// pictureSize checks that a fetched media file is a picture without the upload's
// metadata, and returns its size.
func pictureSize(t *testing.T, what string, f instancetest.Answer) (int, int) {
	t.Helper()
	if f.Code != http.StatusOK {
		t.Fatalf("%s: HTTP %d", what, f.Code)
	}
	if bytes.Contains(f.Body, []byte(mediatest.Secret)) {
		t.Errorf("%s: the upload's metadata is served", what)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Body))
	if err != nil {
		t.Fatalf("%s: not a picture: %v", what, err)
	}
	return cfg.Width, cfg.Height
}

func apiCode(err error) int {
	var e *mastodon.APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// TestMediaJourney: a phone photo goes up through go-mastodon, comes back upright and
// without its EXIF, is described, posted, found in media timelines, edited, and
// deleted with its post; the rules around it (whose uploads, attached or not) hold.
// mediaJourney is what TestMediaJourney's steps share: alice's photo, uploaded as att
// and posted as posted, and bob, who tries what he may not.
type mediaJourney struct {
	ctx        context.Context
	inst       *instancetest.Instance
	alice, bob *instancetest.User
	ac, bc     *mastodon.Client
	photo      []byte
	att        *mastodon.Attachment
	posted     instancetest.PostedStatus
}

func TestMediaJourney(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		jr := &mediaJourney{ctx: ctx, inst: inst, alice: alice, bob: bob, ac: inst.Client(alice.Token), bc: inst.Client(bob.Token)}
		jr.upload(t)
		jr.post(t)
		jr.mediaTimelines(t)
		jr.editAndDelete(t)
		jr.redraftAndPrune(t)
		jr.deleteUpload(t)
		jr.otherUploadCalls(t)
		jr.refusedUploads(t)
	})
}

// A 800×600 sensor image that the phone says to turn a quarter.
func (jr *mediaJourney) upload(t *testing.T) {
	jr.photo = mediatest.JPEG(mediatest.Marked(800, 600), 6)
	var err error
	jr.att, err = jr.ac.UploadMediaFromMedia(jr.ctx, &mastodon.Media{File: bytes.NewReader(jr.photo), Description: "A red corner", Focus: "0.5,-0.25"})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if jr.att.Type != "image" || jr.att.Description != "A red corner" || jr.att.BlurHash == "" ||
		jr.att.Meta.Original.Width != 600 || jr.att.Meta.Original.Height != 800 || jr.att.Meta.Focus.X != 0.5 || jr.att.Meta.Focus.Y != -0.25 {
		t.Errorf("uploaded attachment: %+v", jr.att)
	}
	if w, h := pictureSize(t, "original", instancetest.Fetch(t, jr.att.URL)); w != 600 || h != 800 {
		t.Errorf("served original is %d×%d, want 600×800 (upright)", w, h)
	}
	small := instancetest.Fetch(t, jr.att.PreviewURL)
	if w, h := pictureSize(t, "preview", small); w*h > 640*360 || w >= h {
		t.Errorf("served preview is %d×%d", w, h)
	}
	if !strings.HasPrefix(small.Header.Get("Cache-Control"), "private") {
		t.Errorf("an unattached upload is cacheable by anyone: %q", small.Header.Get("Cache-Control"))
	}
	if err := jr.ac.GetMediaStatus(jr.ctx, jr.att); err != nil {
		t.Errorf("GET /api/v1/media/:id: %v", err)
	}
	if err := jr.bc.GetMediaStatus(jr.ctx, jr.att); apiCode(err) != http.StatusNotFound {
		t.Errorf("bob reads alice's upload: %v", err)
	}
	a := jr.inst.Call(t, http.MethodPut, "/api/v1/media/"+string(jr.att.ID), jr.alice.Token, url.Values{"description": {"A red corner, turned"}})
	if a.Code != http.StatusOK || !strings.Contains(string(a.Body), "A red corner, turned") {
		t.Errorf("PUT media: %d %s", a.Code, a.Body)
	}
}

// Bob cannot post alice's upload; alice posts it for everyone.
func (jr *mediaJourney) post(t *testing.T) {
	if _, err := jr.bc.PostStatus(jr.ctx, &mastodon.Toot{Status: "mine now", MediaIDs: []mastodon.ID{jr.att.ID}}); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("bob posts alice's upload: %v", err)
	}
	jr.posted = jr.inst.PostStatus(t, jr.alice.Token, url.Values{"status": {""}, "media_ids[]": {string(jr.att.ID)}, "scope": {"world"}})
	st, err := jr.bc.GetStatus(jr.ctx, mastodon.ID(jr.posted.ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.MediaAttachments) != 1 || st.MediaAttachments[0].ID != jr.att.ID || st.MediaAttachments[0].Description != "A red corner, turned" {
		t.Fatalf("posted status: %+v", st.MediaAttachments)
	}
	if c := instancetest.Fetch(t, jr.att.URL).Header.Get("Cache-Control"); !strings.HasPrefix(c, "public") {
		t.Errorf("the picture of a world-public post is not publicly cacheable: %q", c)
	}
	// Attached: neither editable nor deletable as an upload, nor attachable again.
	if a := jr.inst.Call(t, http.MethodPut, "/api/v1/media/"+string(jr.att.ID), jr.alice.Token, url.Values{"description": {"x"}}); a.Code != http.StatusNotFound {
		t.Errorf("PUT attached media: %d", a.Code)
	}
	if a := jr.inst.Call(t, http.MethodDelete, "/api/v1/media/"+string(jr.att.ID), jr.alice.Token, nil); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("DELETE attached media: %d %s", a.Code, a.Body)
	}
	if _, err := jr.ac.PostStatus(jr.ctx, &mastodon.Toot{Status: "again", MediaIDs: []mastodon.ID{jr.att.ID}}); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("attaching an attached upload again: %v", err)
	}
}

// Media timelines find it, and only it.
func (jr *mediaJourney) mediaTimelines(t *testing.T) {
	jr.inst.PostStatus(t, jr.alice.Token, url.Values{"status": {"just words"}, "scope": {"world"}})
	acct, _ := jr.ac.GetAccountCurrentUser(jr.ctx)
	a := jr.inst.Call(t, http.MethodGet, "/api/v1/accounts/"+string(acct.ID)+"/statuses?only_media=true", jr.bob.Token, nil)
	var list []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(a.Body, &list); len(list) != 1 || list[0].ID == "" || list[0].ID != jr.posted.ID {
		t.Errorf("profile media: %s", a.Body)
	}
	a = jr.inst.Call(t, http.MethodGet, "/api/v1/timelines/public?only_media=true", "", nil)
	if json.Unmarshal(a.Body, &list); len(list) != 1 || list[0].ID != jr.posted.ID {
		t.Errorf("public media timeline: %s", a.Body)
	}
}

// An edit describes it anew through media_attributes; another drops it.
func (jr *mediaJourney) editAndDelete(t *testing.T) {
	edited := jr.inst.Call(t, http.MethodPut, "/api/v1/statuses/"+jr.posted.ID, jr.alice.Token, url.Values{
		"status": {"Now with words"}, "media_ids[]": {string(jr.att.ID)},
		"media_attributes[0][id]": {string(jr.att.ID)}, "media_attributes[0][description]": {"Described in an edit"},
	})
	if edited.Code != http.StatusOK || !strings.Contains(string(edited.Body), "Described in an edit") {
		t.Fatalf("edit with media_attributes: %d %s", edited.Code, edited.Body)
	}
	history, err := jr.bc.GetStatusHistory(jr.ctx, mastodon.ID(jr.posted.ID))
	if err != nil || len(history) != 2 || len(history[1].MediaAttachments) != 1 {
		t.Errorf("history after the edit: %v %+v", err, history)
	}
	if _, err := jr.ac.UpdateStatus(jr.ctx, &mastodon.Toot{Status: "Words only"}, mastodon.ID(jr.posted.ID)); err != nil {
		t.Fatal(err)
	}
	st, _ := jr.bc.GetStatus(jr.ctx, mastodon.ID(jr.posted.ID))
	if len(st.MediaAttachments) != 0 {
		t.Errorf("an edit without media_ids kept %d attachments", len(st.MediaAttachments))
	}
	// Detached, the upload waits for a post again: it can be attached to another.
	again, err := jr.ac.PostStatus(jr.ctx, &mastodon.Toot{Status: "Reused", MediaIDs: []mastodon.ID{jr.att.ID}, Visibility: "private"})
	if err != nil || len(again.MediaAttachments) != 1 {
		t.Fatalf("reattach: %v", err)
	}
	if c := instancetest.Fetch(t, jr.att.URL).Header.Get("Cache-Control"); !strings.HasPrefix(c, "private") {
		t.Errorf("the picture of a followers-only post is publicly cacheable: %q", c)
	}
	// Bob does not follow alice: the post, and so the picture's address, is hidden.
	if _, err := jr.bc.GetStatus(jr.ctx, again.ID); apiCode(err) != http.StatusNotFound {
		t.Errorf("bob reads a followers-only post: %v", err)
	}
	// Deleted with delete_media, the files go at once.
	if a := jr.inst.Call(t, http.MethodDelete, "/api/v1/statuses/"+string(again.ID)+"?delete_media=true", jr.alice.Token, nil); a.Code != http.StatusOK {
		t.Fatalf("delete: %d %s", a.Code, a.Body)
	}
	if f := instancetest.Fetch(t, jr.att.URL); f.Code != http.StatusNotFound {
		t.Errorf("the file of a post deleted with its media: HTTP %d", f.Code)
	}
}

// Deleted without, the upload stays a day for a redraft, then is pruned.
func (jr *mediaJourney) redraftAndPrune(t *testing.T) {
	second, err := jr.ac.UploadMediaFromBytes(jr.ctx, mediatest.PNG(mediatest.Translucent(50, 40)))
	if err != nil {
		t.Fatal(err)
	}
	third, err := jr.ac.UploadMediaFromBytes(jr.ctx, mediatest.AnimatedGIF(30, 20, 2))
	if err != nil {
		t.Fatal(err)
	}
	if f := instancetest.Fetch(t, third.URL); f.Header.Get("Content-Type") != "image/gif" {
		t.Errorf("animated GIF served as %s", f.Header.Get("Content-Type"))
	}
	withTwo, err := jr.ac.PostStatus(jr.ctx, &mastodon.Toot{Status: "two", MediaIDs: []mastodon.ID{third.ID, second.ID}})
	if err != nil || len(withTwo.MediaAttachments) != 2 || withTwo.MediaAttachments[0].ID != third.ID {
		t.Fatalf("post with two in order: %v %+v", err, withTwo)
	}
	if err := jr.ac.DeleteStatus(jr.ctx, withTwo.ID); err != nil {
		t.Fatal(err)
	}
	if f := instancetest.Fetch(t, second.URL); f.Code != http.StatusOK {
		t.Errorf("the file of a post deleted for a redraft: HTTP %d", f.Code)
	}
	n, err := jr.inst.Community.PruneUnattachedMedia(jr.ctx, time.Now().Add(time.Minute))
	if err != nil || n != 2 {
		t.Errorf("prune: %d, %v; want the two detached uploads", n, err)
	}
	if f := instancetest.Fetch(t, second.URL); f.Code != http.StatusNotFound {
		t.Errorf("a pruned upload is served: HTTP %d", f.Code)
	}
}

// An unattached upload can be deleted by its owner only.
func (jr *mediaJourney) deleteUpload(t *testing.T) {
	fourth, err := jr.ac.UploadMediaFromBytes(jr.ctx, mediatest.JPEG(mediatest.Marked(40, 40), 0))
	if err != nil {
		t.Fatal(err)
	}
	if a := jr.inst.Call(t, http.MethodDelete, "/api/v1/media/"+string(fourth.ID), jr.bob.Token, nil); a.Code != http.StatusNotFound {
		t.Errorf("bob deletes alice's upload: %d", a.Code)
	}
	if a := jr.inst.Call(t, http.MethodDelete, "/api/v1/media/"+string(fourth.ID), jr.alice.Token, nil); a.Code != http.StatusOK {
		t.Errorf("delete upload: %d %s", a.Code, a.Body)
	}
	if f := instancetest.Fetch(t, fourth.URL); f.Code != http.StatusNotFound {
		t.Errorf("a deleted upload is served: HTTP %d", f.Code)
	}
	if f := instancetest.Fetch(t, jr.inst.URL+"/media/0123456789abcdef0123456789abcdef/original.jpg"); f.Code != http.StatusNotFound {
		t.Errorf("a made-up file: HTTP %d", f.Code)
	}
}

// From a file on disk and from a reader, as go-mastodon also offers.
func (jr *mediaJourney) otherUploadCalls(t *testing.T) {
	path := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(path, mediatest.JPEG(mediatest.Marked(64, 48), 3), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := jr.ac.UploadMedia(jr.ctx, path)
	if err != nil || fromFile.Meta.Original.Width != 64 || fromFile.Meta.Original.Height != 48 {
		t.Errorf("UploadMedia: %v %+v", err, fromFile)
	}
	fromReader, err := jr.ac.UploadMediaFromReader(jr.ctx, strings.NewReader(string(mediatest.PNG(mediatest.Marked(20, 10)))))
	if err != nil || fromReader.Meta.Original.Width != 20 || !strings.HasSuffix(fromReader.URL, ".png") {
		t.Errorf("UploadMediaFromReader: %v %+v", err, fromReader)
	}
}

// Uploads that are not pictures, or too many of them.
func (jr *mediaJourney) refusedUploads(t *testing.T) {
	if _, err := jr.ac.UploadMediaFromBytes(jr.ctx, []byte("plain text")); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("text upload: %v", err)
	}
	if _, err := jr.ac.UploadMediaFromBytes(jr.ctx, mediatest.PNGBomb(60000, 60000)); apiCode(err) != http.StatusUnprocessableEntity ||
		!strings.Contains(err.Error(), "too large") {
		t.Errorf("decompression bomb: %v", err)
	}
	var five []mastodon.ID
	for range 5 {
		m, err := jr.ac.UploadMediaFromBytes(jr.ctx, mediatest.JPEG(mediatest.Marked(20, 20), 0))
		if err != nil {
			t.Fatal(err)
		}
		five = append(five, m.ID)
	}
	if _, err := jr.ac.PostStatus(jr.ctx, &mastodon.Toot{Status: "five", MediaIDs: five}); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("five attachments: %v", err)
	}
	if a := jr.inst.Call(t, http.MethodPost, "/api/v1/statuses", jr.alice.Token, url.Values{"status": {"both"},
		"media_ids[]": {string(five[0])}, "poll[options][]": {"a", "b"}, "poll[expires_in]": {"600"}}); a.Code != http.StatusUnprocessableEntity {
		t.Errorf("media and poll: %d %s", a.Code, a.Body)
	}
	// Without write:media, no uploads.
	reader := jr.inst.CreateUser(t, "reader", instancetest.UserOptions{Scopes: []string{"read", "write:statuses"}})
	if _, err := jr.inst.Client(reader.Token).UploadMediaFromBytes(jr.ctx, jr.photo); apiCode(err) != http.StatusForbidden {
		t.Errorf("upload without write:media: %v", err)
	}
}

// TestProfileImages: avatars and headers through go-mastodon (base64 data URIs) and
// as multipart files, as Mastodon's apps send them.
func TestProfileImages(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		ac := inst.Client(alice.Token)
		png := mediatest.PNG(mediatest.Marked(900, 600))
		me, err := ac.AccountUpdate(ctx, &mastodon.Profile{Avatar: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
		if err != nil {
			t.Fatalf("avatar upload: %v", err)
		}
		if !strings.HasPrefix(me.Avatar, inst.URL+"/media/") {
			t.Fatalf("avatar URL %q", me.Avatar)
		}
		if w, h := pictureSize(t, "avatar", instancetest.Fetch(t, me.Avatar)); w != 400 || h != 400 {
			t.Errorf("avatar is %d×%d, want 400×400", w, h)
		}
		first := me.Avatar

		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, _ := mw.CreateFormFile("header", "header.jpg")
		_, _ = fw.Write(mediatest.JPEG(mediatest.Photo(2000, 1000, 3), 1))
		fw, _ = mw.CreateFormFile("avatar", "avatar.jpg")
		_, _ = fw.Write(mediatest.JPEG(mediatest.Marked(300, 300), 8))
		_ = mw.WriteField("display_name", "Alice")
		_ = mw.Close()
		req, _ := http.NewRequest(http.MethodPatch, inst.URL+"/api/v1/accounts/update_credentials", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+alice.Token)
		resp, err := inst.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			DisplayName string `json:"display_name"`
			Avatar      string `json:"avatar"`
			Header      string `json:"header"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || out.DisplayName != "Alice" || out.Avatar == first {
			t.Fatalf("multipart update: %d %+v", resp.StatusCode, out)
		}
		if w, h := pictureSize(t, "header", instancetest.Fetch(t, out.Header)); w != 1500 || h != 500 {
			t.Errorf("header is %d×%d, want 1500×500", w, h)
		}
		if w, h := pictureSize(t, "avatar", instancetest.Fetch(t, out.Avatar)); w != 300 || h != 300 {
			t.Errorf("small avatar is %d×%d, want 300×300 (not enlarged)", w, h)
		}
		if f := instancetest.Fetch(t, first); f.Code != http.StatusNotFound {
			t.Errorf("the replaced avatar is still served: HTTP %d", f.Code)
		}
		if c := instancetest.Fetch(t, out.Avatar).Header.Get("Cache-Control"); !strings.HasPrefix(c, "public") {
			t.Errorf("avatar cache: %q", c)
		}

		// Deleting the account deletes its files, pictures and uploads alike.
		if _, err := ac.UploadMediaFromBytes(ctx, mediatest.JPEG(mediatest.Marked(30, 30), 0)); err != nil {
			t.Fatal(err)
		}
		if err := inst.Community.DeleteLocalAccount(ctx, "alice"); err != nil {
			t.Fatal(err)
		}
		var left []string
		filepath.WalkDir(inst.Config.MediaDir(), func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				left = append(left, path)
			}
			return nil
		})
		if len(left) != 0 {
			t.Errorf("files left after the account was deleted: %v", left)
		}
	})
}

// TestPolls: a poll is posted, voted on and counted through go-mastodon, with the
// rules of single and multiple choice, hidden totals, expiry and audience.
// pollStory is what TestPolls's steps share: alice's lunch poll (st, whose poll is
// poll) and the colleagues who vote on it.
type pollStory struct {
	ctx               context.Context
	inst              *instancetest.Instance
	alice, bob, carol *instancetest.User
	ac, bc, cc        *mastodon.Client
	st                *mastodon.Status
	poll              mastodon.ID
}

func TestPolls(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
		w := &pollStory{ctx: ctx, inst: inst, alice: alice, bob: bob, carol: carol,
			ac: inst.Client(alice.Token), bc: inst.Client(bob.Token), cc: inst.Client(carol.Token)}
		w.singleChoice(t)
		w.multipleChoiceHidden(t)
		w.ended(t)
		w.followersOnly(t)
		w.edit(t)
	})
}

// singleChoice: alice asks, bob and carol vote once each, within the options.
func (w *pollStory) singleChoice(t *testing.T) {
	var err error
	w.st, err = w.ac.PostStatus(w.ctx, &mastodon.Toot{Status: "Lunch?", Poll: &mastodon.TootPoll{
		Options: []string{"Pizza", "Salad", "Soup"}, ExpiresInSeconds: 3600}})
	if err != nil {
		t.Fatalf("post poll: %v", err)
	}
	if w.st.Poll == nil || len(w.st.Poll.Options) != 3 || w.st.Poll.Multiple || w.st.Poll.Expired ||
		time.Until(w.st.Poll.ExpiresAt) < 59*time.Minute || w.st.Poll.Voted {
		t.Fatalf("posted poll: %+v", w.st.Poll)
	}
	w.poll = w.st.Poll.ID
	p, err := w.bc.PollVote(w.ctx, w.poll, 1)
	if err != nil {
		t.Fatalf("vote: %v", err)
	}
	if !p.Voted || len(p.OwnVotes) != 1 || p.OwnVotes[0] != 1 || p.VotesCount != 1 || p.Options[1].VotesCount != 1 {
		t.Errorf("after bob's vote: %+v", p)
	}
	if _, err := w.bc.PollVote(w.ctx, w.poll, 0); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("voting twice: %v", err)
	}
	if _, err := w.cc.PollVote(w.ctx, w.poll, 0, 1); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("two choices on a single-choice poll: %v", err)
	}
	if _, err := w.cc.PollVote(w.ctx, w.poll, 7); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("a choice out of range: %v", err)
	}
	if _, err := w.cc.PollVote(w.ctx, w.poll, 1); err != nil {
		t.Fatal(err)
	}
	p, err = w.ac.GetPoll(w.ctx, w.poll)
	if err != nil || p.VotesCount != 2 || p.VotersCount != 2 || p.Options[1].VotesCount != 2 || p.Voted {
		t.Errorf("alice sees: %v %+v", err, p)
	}
	got, _ := w.ac.GetStatus(w.ctx, w.st.ID)
	if got.Poll == nil || got.Poll.VotesCount != 2 {
		t.Errorf("the status shows the poll as %+v", got.Poll)
	}
}

// Multiple choice with hidden totals: others see no counts until the end.
func (w *pollStory) multipleChoiceHidden(t *testing.T) {
	multi := w.inst.Call(t, http.MethodPost, "/api/v1/statuses", w.alice.Token, url.Values{"status": {"Which days?"},
		"poll[options][]": {"Mon", "Tue", "Wed"}, "poll[expires_in]": {"600"}, "poll[multiple]": {"true"}, "poll[hide_totals]": {"true"}})
	var ms struct {
		Poll struct {
			ID string `json:"id"`
		} `json:"poll"`
	}
	if json.Unmarshal(multi.Body, &ms); ms.Poll.ID == "" {
		t.Fatalf("multiple-choice poll: %d %s", multi.Code, multi.Body)
	}
	if p, err := w.bc.PollVote(w.ctx, mastodon.ID(ms.Poll.ID), 0, 2); err != nil || len(p.OwnVotes) != 2 || p.VotesCount != 2 || p.VotersCount != 1 {
		t.Errorf("two choices: %v %+v", err, p)
	}
	hidden := w.inst.Call(t, http.MethodGet, "/api/v1/polls/"+ms.Poll.ID, w.carol.Token, nil)
	if !strings.Contains(string(hidden.Body), `"votes_count":null`) {
		t.Errorf("hidden totals shown to carol: %s", hidden.Body)
	}
	shown := w.inst.Call(t, http.MethodGet, "/api/v1/polls/"+ms.Poll.ID, w.alice.Token, nil)
	if strings.Contains(string(shown.Body), `"votes_count":null`) {
		t.Errorf("hidden totals hidden from the author: %s", shown.Body)
	}
}

// An ended poll takes no votes.
func (w *pollStory) ended(t *testing.T) {
	id, _ := community.ParseID(string(w.poll))
	if err := w.inst.DB.Model(&community.Poll{}).Where("id = ?", id).Update("expires_at", time.Now().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	dave := w.inst.CreateUser(t, "dave", instancetest.UserOptions{})
	if _, err := w.inst.Client(dave.Token).PollVote(w.ctx, w.poll, 0); apiCode(err) != http.StatusUnprocessableEntity {
		t.Errorf("vote on an ended poll: %v", err)
	}
	if p, _ := w.inst.Client(dave.Token).GetPoll(w.ctx, w.poll); p == nil || !p.Expired {
		t.Errorf("ended poll: %+v", p)
	}
	// Its end is announced once, to the voters and to the author.
	if n, err := w.inst.Community.EndExpiredPolls(w.ctx); err != nil || n != 1 {
		t.Errorf("ending polls: %d, %v; want the one expired", n, err)
	}
	if n, _ := w.inst.Community.EndExpiredPolls(w.ctx); n != 0 {
		t.Errorf("a poll's end announced again (%d)", n)
	}
	for name, c := range map[string]*mastodon.Client{"alice": w.ac, "bob": w.bc, "carol": w.cc, "dave": w.inst.Client(dave.Token)} {
		ns, err := c.GetNotifications(w.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		polls := 0
		for _, n := range ns {
			if n.Type == "poll" && n.Status != nil && n.Status.ID == w.st.ID {
				polls++
			}
		}
		if want := map[bool]int{true: 1, false: 0}[name != "dave"]; polls != want {
			t.Errorf("%s has %d poll notifications, want %d", name, polls, want)
		}
	}
}

// A followers-only poll is hidden, with its votes, from those who may not read it.
func (w *pollStory) followersOnly(t *testing.T) {
	private, err := w.ac.PostStatus(w.ctx, &mastodon.Toot{Status: "Secret ballot", Visibility: "private",
		Poll: &mastodon.TootPoll{Options: []string{"Yes", "No"}, ExpiresInSeconds: 600}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.bc.GetPoll(w.ctx, private.Poll.ID); apiCode(err) != http.StatusNotFound {
		t.Errorf("bob reads a followers-only poll: %v", err)
	}
	if _, err := w.bc.PollVote(w.ctx, private.Poll.ID, 0); apiCode(err) != http.StatusNotFound {
		t.Errorf("bob votes on a followers-only poll: %v", err)
	}
}

// An edit with the same options keeps the votes; other options start again.
func (w *pollStory) edit(t *testing.T) {
	if _, err := w.ac.UpdateStatus(w.ctx, &mastodon.Toot{Status: "Lunch today?", Poll: &mastodon.TootPoll{
		Options: []string{"Pizza", "Salad", "Soup"}, ExpiresInSeconds: 3600}}, w.st.ID); err != nil {
		t.Fatal(err)
	}
	if p, _ := w.ac.GetPoll(w.ctx, w.poll); p == nil || p.VotesCount != 2 {
		t.Errorf("same options after an edit: %+v", p)
	}
	edited, err := w.ac.UpdateStatus(w.ctx, &mastodon.Toot{Status: "Lunch today?", Poll: &mastodon.TootPoll{
		Options: []string{"Pizza", "Curry"}, ExpiresInSeconds: 3600}}, w.st.ID)
	if err != nil || edited.Poll == nil || edited.Poll.VotesCount != 0 || len(edited.Poll.Options) != 2 {
		t.Errorf("changed options: %v %+v", err, edited)
	}
}

// TestConcurrentVotes: votes cast at the same moment are all counted, each once.
func TestConcurrentVotes(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		author := inst.CreateUser(t, "author", instancetest.UserOptions{})
		st, err := inst.Client(author.Token).PostStatus(ctx, &mastodon.Toot{Status: "Pick one", Poll: &mastodon.TootPoll{
			Options: []string{"A", "B"}, ExpiresInSeconds: 600}})
		if err != nil {
			t.Fatal(err)
		}
		const voters = 12
		clients := make([]*mastodon.Client, voters)
		for i := range clients {
			clients[i] = inst.Client(inst.CreateUser(t, "voter"+string(rune('a'+i)), instancetest.UserOptions{}).Token)
		}
		errs := make(chan error, 2*voters)
		for i, c := range clients {
			for range 2 { // each voter tries twice at once: one vote counts
				go func() {
					_, err := c.PollVote(ctx, st.Poll.ID, i%2)
					errs <- err
				}()
			}
		}
		ok := 0
		for range 2 * voters {
			if err := <-errs; err == nil {
				ok++
			} else if apiCode(err) != http.StatusUnprocessableEntity {
				t.Errorf("vote: %v", err)
			}
		}
		p, err := inst.Client(author.Token).GetPoll(ctx, st.Poll.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ok != voters || p.VotesCount != voters || p.VotersCount != voters || p.Options[0].VotesCount != voters/2 {
			t.Errorf("%d votes accepted; poll %+v", ok, p)
		}
	})
}

// TestMediaProfileImageURLsRefused: a local account's avatar and header are pictures
// uploaded here, never a URL the owner names (an internal address every reader's
// browser and every peer would then load). Removing a picture and sending back the
// current address still work.
func TestMediaProfileImageURLsRefused(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	png := mediatest.PNG(mediatest.Marked(420, 420))
	a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", alice.Token,
		url.Values{"avatar": {"data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}})
	var me struct {
		Avatar string `json:"avatar"`
		Header string `json:"header"`
	}
	if a.Code != http.StatusOK || json.Unmarshal(a.Body, &me) != nil || !strings.HasPrefix(me.Avatar, inst.URL+"/media/") {
		t.Fatalf("upload an avatar: HTTP %d %s", a.Code, a.Body)
	}
	uploaded := me.Avatar
	for _, tc := range []struct{ field, value string }{
		{"avatar", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"},
		{"avatar", "http://127.0.0.1:5432/"},
		{"header", "https://example.com/header.png"},
		{"header", "file:///etc/passwd"},
		{"avatar", inst.URL + "/api/v1/accounts/verify_credentials"},
	} {
		a := inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", alice.Token, url.Values{tc.field: {tc.value}})
		if a.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s=%s: HTTP %d %s", tc.field, tc.value, a.Code, a.Body)
		}
	}
	// The current address sent back changes nothing; the picture is still served.
	a = inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", alice.Token,
		url.Values{"avatar": {uploaded}, "display_name": {"Alice"}})
	if a.Code != http.StatusOK || json.Unmarshal(a.Body, &me) != nil || me.Avatar != uploaded {
		t.Errorf("send the current avatar back: HTTP %d %s", a.Code, a.Body)
	}
	if f := instancetest.Fetch(t, uploaded); f.Code != http.StatusOK {
		t.Errorf("the avatar is no longer served: HTTP %d", f.Code)
	}
	// An empty value removes the picture.
	a = inst.Call(t, http.MethodPatch, "/api/v1/accounts/update_credentials", alice.Token, url.Values{"avatar": {""}})
	if a.Code != http.StatusOK || json.Unmarshal(a.Body, &me) != nil || strings.HasPrefix(me.Avatar, inst.URL+"/media/") {
		t.Errorf("remove the avatar: HTTP %d %s", a.Code, a.Body)
	}
}
