package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/media/mediatest"
)

type scheduledAnswer struct {
	ID          string `json:"id"`
	ScheduledAt string `json:"scheduled_at"`
	Params      struct {
		Text       string   `json:"text"`
		Visibility string   `json:"visibility"`
		MediaIDs   []string `json:"media_ids"`
		Poll       *struct {
			Options   []string `json:"options"`
			ExpiresIn int      `json:"expires_in"`
		} `json:"poll"`
	} `json:"params"`
	MediaAttachments []struct {
		ID string `json:"id"`
	} `json:"media_attachments"`
}

// TestScheduledStatuses schedules posts with media (through go-mastodon) and with a
// poll, lists, moves and cancels them, checks that reserved uploads survive pruning and
// cannot be used elsewhere, and publishes what is due from the database, once.
func TestScheduledStatuses(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		ctx := context.Background()
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
		ac := inst.Client(alice.Token)

		att, err := ac.UploadMediaFromMedia(ctx, &mastodon.Media{File: bytes.NewReader(mediatest.JPEG(mediatest.Marked(80, 60), 1)), Description: "Launch"})
		if err != nil {
			t.Fatal(err)
		}
		in1h := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		withMedia, err := ac.PostStatus(ctx, &mastodon.Toot{Status: "Launch day", MediaIDs: []mastodon.ID{att.ID}, Visibility: "unlisted", ScheduledAt: &in1h})
		if err != nil {
			t.Fatalf("schedule with media: %v", err)
		}
		get := func(token, path string) (int, []byte) {
			a := inst.Call(t, http.MethodGet, path, token, nil)
			return a.Code, a.Body
		}
		code, body := get(alice.Token, "/api/v1/scheduled_statuses/"+string(withMedia.ID))
		var one scheduledAnswer
		if code != http.StatusOK || json.Unmarshal(body, &one) != nil {
			t.Fatalf("get scheduled: %d %s", code, body)
		}
		if one.Params.Text != "Launch day" || one.Params.Visibility != "unlisted" || len(one.MediaAttachments) != 1 ||
			one.MediaAttachments[0].ID != string(att.ID) || len(one.Params.MediaIDs) != 1 || one.ScheduledAt != in1h.Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("scheduled status: %s", body)
		}
		if code, _ := get(bob.Token, "/api/v1/scheduled_statuses/"+string(withMedia.ID)); code != http.StatusNotFound {
			t.Errorf("bob reads alice's scheduled status: %d", code)
		}

		a := inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, url.Values{
			"status": {"Which day?"}, "poll[options][]": {"Monday", "Friday"}, "poll[expires_in]": {"600"},
			"scheduled_at": {in1h.Add(time.Minute).Format(time.RFC3339)},
		})
		var withPoll scheduledAnswer
		if a.Code != http.StatusOK || json.Unmarshal(a.Body, &withPoll) != nil || withPoll.Params.Poll == nil || withPoll.Params.Poll.ExpiresIn != 600 {
			t.Fatalf("schedule with poll: %d %s", a.Code, a.Body)
		}
		cancelled := inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, url.Values{
			"status": {"Never mind"}, "scheduled_at": {in1h.Format(time.RFC3339)}})
		var gone scheduledAnswer
		if cancelled.Code != http.StatusOK || json.Unmarshal(cancelled.Body, &gone) != nil {
			t.Fatalf("schedule: %d %s", cancelled.Code, cancelled.Body)
		}
		if a := inst.Call(t, http.MethodDelete, "/api/v1/scheduled_statuses/"+gone.ID, alice.Token, nil); a.Code != http.StatusOK {
			t.Errorf("cancel: %d %s", a.Code, a.Body)
		}
		if code, _ := get(alice.Token, "/api/v1/scheduled_statuses/"+gone.ID); code != http.StatusNotFound {
			t.Errorf("cancelled schedule still there: %d", code)
		}

		// Moving: two hours ahead is fine, a minute ahead is too soon.
		in2h := in1h.Add(time.Hour)
		a = inst.Call(t, http.MethodPut, "/api/v1/scheduled_statuses/"+withPoll.ID, alice.Token, url.Values{"scheduled_at": {in2h.Format(time.RFC3339)}})
		if a.Code != http.StatusOK || !strings.Contains(string(a.Body), in2h.Format("2006-01-02T15:04:05")) {
			t.Errorf("reschedule: %d %s", a.Code, a.Body)
		}
		a = inst.Call(t, http.MethodPut, "/api/v1/scheduled_statuses/"+withPoll.ID, alice.Token,
			url.Values{"scheduled_at": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339)}})
		if a.Code != http.StatusUnprocessableEntity {
			t.Errorf("reschedule too soon: %d %s", a.Code, a.Body)
		}

		code, body = get(alice.Token, "/api/v1/scheduled_statuses")
		var list []scheduledAnswer
		if code != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) != 2 || list[0].ID != withPoll.ID {
			t.Fatalf("list scheduled: %d %s", code, body)
		}

		// The reserved upload is neither pruned nor usable by another post.
		if _, err := inst.Community.PruneUnattachedMedia(ctx, time.Now().Add(48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := ac.GetMediaStatus(ctx, att); err != nil {
			t.Errorf("a scheduled post's upload was pruned: %v", err)
		}
		if a := inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, url.Values{"status": {"now"}, "media_ids[]": {string(att.ID)}}); a.Code != http.StatusUnprocessableEntity {
			t.Errorf("reused a scheduled post's upload: %d %s", a.Code, a.Body)
		}
		statuses, err := ac.GetAccountStatuses(ctx, mastodon.ID(fmt.Sprint(alice.Account.ID)), nil)
		if err != nil || len(statuses) != 0 {
			t.Fatalf("published before its time: %v %d", err, len(statuses))
		}

		// Nothing is due yet; an hour and a half later the first one is; then the second.
		for _, step := range []struct {
			at   time.Time
			want int
		}{{time.Now(), 0}, {in1h.Add(30 * time.Minute), 1}, {in1h.Add(30 * time.Minute), 0}, {in2h.Add(time.Second), 1}} {
			n, err := inst.Community.PublishDueStatuses(ctx, step.at, nil)
			if err != nil || n != step.want {
				t.Fatalf("publish due at %v: %d, %v; want %d", step.at, n, err, step.want)
			}
		}
		statuses, err = ac.GetAccountStatuses(ctx, mastodon.ID(fmt.Sprint(alice.Account.ID)), nil)
		if err != nil || len(statuses) != 2 {
			t.Fatalf("published: %v %d", err, len(statuses))
		}
		poll, launch := statuses[0], statuses[1]
		if launch.Content == "" || !strings.Contains(launch.Content, "Launch day") || launch.Visibility != "unlisted" ||
			len(launch.MediaAttachments) != 1 || launch.MediaAttachments[0].ID != att.ID {
			t.Errorf("published launch: %+v", launch)
		}
		if poll.Poll == nil || len(poll.Poll.Options) != 2 || poll.Poll.ExpiresAt.Sub(time.Now()) < 9*time.Minute {
			t.Errorf("published poll: %+v", poll.Poll)
		}
		if code, body = get(alice.Token, "/api/v1/scheduled_statuses"); code != http.StatusOK || string(body) != "[]" {
			t.Errorf("schedules left after publishing: %s", body)
		}
	})
}

// TestScheduledStatusLimits: at most 25 on one day.
func TestScheduledStatusLimits(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	day := time.Now().UTC().AddDate(0, 0, 3).Truncate(24 * time.Hour)
	for i := range 26 {
		a := inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, url.Values{
			"status": {fmt.Sprint("post ", i)}, "scheduled_at": {day.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}})
		switch {
		case i < 25 && a.Code != http.StatusOK:
			t.Fatalf("schedule %d: %d %s", i, a.Code, a.Body)
		case i == 25 && (a.Code != http.StatusUnprocessableEntity || !strings.Contains(string(a.Body), "limit of 25")):
			t.Errorf("26th on one day: %d %s", a.Code, a.Body)
		}
	}
	// The next day is fine.
	a := inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, url.Values{
		"status": {"next day"}, "scheduled_at": {day.AddDate(0, 0, 1).Format(time.RFC3339)}})
	if a.Code != http.StatusOK {
		t.Errorf("next day: %d %s", a.Code, a.Body)
	}
}
