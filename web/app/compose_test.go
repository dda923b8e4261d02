package app_test

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/instance/instancetest/eventually"
	"github.com/tacit-social/tacit/media"
)

// upload is one file of a multipart form.
type upload struct {
	field, name string
	data        []byte
}

// postMultipart submits a form as a browser does when it carries files.
func (b *browser) postMultipart(path string, form url.Values, files ...upload) page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			if err := w.WriteField(k, v); err != nil {
				b.t.Fatal(err)
			}
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			b.t.Fatal(err)
		}
		if _, err := fw.Write(f.data); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, b.base+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// pngPicture is a small picture of one colour.
func pngPicture(t testing.TB, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 12))
	for x := range 16 {
		for y := range 12 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var mediaImg = regexp.MustCompile(`<a class="media" href="([^"]+)"><img src="([^"]+)" alt="([^"]*)"></a>`)

// ownPosts are the account's posts as the domain lists them to the account itself.
func ownPosts(t *testing.T, inst *instancetest.Instance, acct *community.Account) []community.Status {
	t.Helper()
	page, err := inst.Community.AccountStatuses(context.Background(), community.AsAccount(acct), acct.ID, community.AccountStatusesQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Statuses
}

// TestComposePictures: a post with two pictures and their descriptions, sent as one
// multipart form; the post shows them with the descriptions as alt text, and the
// files load from the instance.
func TestComposePictures(t *testing.T) { eachDatabase(t, testComposePictures) }

func testComposePictures(t *testing.T, opts instancetest.Options) {
	inst := instancetest.Start(t, opts)
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	home := b.get("/")
	if !strings.Contains(home.Body, `enctype="multipart/form-data"`) || !strings.Contains(home.Body, `name="picture_0"`) ||
		!strings.Contains(home.Body, `name="poll_option"`) {
		t.Fatal("the compose box has no picture or poll fields")
	}
	p := b.postMultipart("/statuses", url.Values{
		"csrf": {b.csrf("/")}, "text": {"two pictures of the office"}, "scope": {"company"}, "visibility": {"public"},
		"back": {"/"}, "key": {"pictures-1"},
		"picture_0_description": {"A red wall"}, "picture_2_description": {"A blue door"},
	}, upload{"picture_0", "red.png", pngPicture(t, color.RGBA{200, 0, 0, 255})},
		upload{"picture_2", "blue.png", pngPicture(t, color.RGBA{0, 0, 200, 255})})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("compose with pictures: %d\n%s", p.Code, p.Body)
	}
	posts := ownPosts(t, inst, alice.Account)
	if len(posts) != 1 {
		t.Fatalf("alice has %d posts, want 1", len(posts))
	}
	path := "/@alice/" + community.FormatID(posts[0].ID)

	// Another person of the department sees the pictures, in order, described.
	reader := newBrowser(t, inst)
	reader.signIn("bob")
	for _, at := range []string{path, "/timelines/department"} {
		page := reader.get(at)
		imgs := mediaImg.FindAllStringSubmatch(page.Body, -1)
		if page.Code != http.StatusOK || len(imgs) != 2 {
			t.Fatalf("%s: %d, %d pictures, want 2\n%s", at, page.Code, len(imgs), page.Body)
		}
		if imgs[0][3] != "A red wall" || imgs[1][3] != "A blue door" {
			t.Errorf("%s: alt texts %q, %q", at, imgs[0][3], imgs[1][3])
		}
		for _, img := range imgs {
			for _, src := range img[1:3] {
				src = html.UnescapeString(src)
				if !strings.HasPrefix(src, inst.URL+"/media/") {
					t.Fatalf("picture address %q is not this instance's media", src)
				}
				resp, err := reader.http.Get(src)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
					t.Errorf("picture %s: %d %s", src, resp.StatusCode, resp.Header.Get("Content-Type"))
				}
			}
		}
	}

	// The same form sent twice (its key) posts once and keeps no second copy of
	// the pictures.
	p = b.postMultipart("/statuses", url.Values{
		"csrf": {b.csrf("/")}, "text": {"two pictures of the office"}, "scope": {"company"}, "visibility": {"public"},
		"back": {"/"}, "key": {"pictures-1"}, "picture_0_description": {"A red wall"},
	}, upload{"picture_0", "red.png", pngPicture(t, color.RGBA{200, 0, 0, 255})})
	if p.Code != http.StatusSeeOther || len(ownPosts(t, inst, alice.Account)) != 1 {
		t.Fatalf("repeated submission: %d, %d posts", p.Code, len(ownPosts(t, inst, alice.Account)))
	}
}

// TestComposeRefusedUploads: a file that is not a picture, a picture over the size
// limit, and pictures together with a poll are refused with a clear message, what
// was typed stays in the form, and nothing is posted.
func TestComposeRefusedUploads(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	form := func() url.Values {
		return url.Values{
			"csrf": {b.csrf("/")}, "text": {"this should not be posted"}, "scope": {"company"}, "visibility": {"public"},
			"back": {"/"}, "picture_0_description": {"first"}, "picture_1_description": {"second"},
		}
	}
	good := upload{"picture_0", "good.png", pngPicture(t, color.Black)}
	huge := make([]byte, media.MaxImageBytes+1)
	copy(huge, pngPicture(t, color.White))
	withPoll := form()
	withPoll["poll_option"] = []string{"yes", "no"}
	cases := []struct {
		name string
		form url.Values
		file upload
		want string
	}{
		{"not a picture", form(), upload{"picture_1", "notes.txt", []byte("just some text, not an image")}, "File type is not supported"},
		{"too large", form(), upload{"picture_1", "huge.png", huge}, "File is too large"},
		{"pictures and a poll", withPoll, upload{"picture_1", "also.png", pngPicture(t, color.White)}, "pictures or a poll, not both"},
	}
	for _, tc := range cases {
		p := b.postMultipart("/statuses", tc.form, good, tc.file)
		if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, tc.want) ||
			!strings.Contains(p.Body, "Nothing was posted") {
			t.Errorf("%s: %d, want 422 saying %q\n%s", tc.name, p.Code, tc.want, p.Body)
			continue
		}
		if !strings.Contains(p.Body, "this should not be posted") || !strings.Contains(p.Body, ">second</textarea>") {
			t.Errorf("%s: the refused form lost what was typed", tc.name)
		}
	}
	if n := len(ownPosts(t, inst, alice.Account)); n != 0 {
		t.Fatalf("refused forms posted %d posts", n)
	}
	// The first, good picture of each refused form was not kept either.
	var left int64
	if err := inst.DB.Model(&community.MediaAttachment{}).Where("account_id = ?", alice.Account.ID).Count(&left).Error; err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Errorf("refused posts left %d uploads behind", left)
	}
}

// TestComposeCSRFMultipart: the multipart forms check the CSRF field like the others.
func TestComposeCSRFMultipart(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	pic := upload{"picture_0", "p.png", pngPicture(t, color.Black)}
	for name, form := range map[string]url.Values{
		"no token":    {"text": {"forged"}, "scope": {"company"}, "visibility": {"public"}},
		"wrong token": {"text": {"forged"}, "scope": {"company"}, "visibility": {"public"}, "csrf": {otherFirst(b.csrf("/"))}},
	} {
		if p := b.postMultipart("/statuses", form, pic); p.Code != http.StatusForbidden {
			t.Errorf("compose, %s: %d, want 403", name, p.Code)
		}
		if p := b.postMultipart("/settings", url.Values{"display_name": {"Forged"}, "csrf": form["csrf"]},
			upload{"avatar", "a.png", pngPicture(t, color.Black)}); p.Code != http.StatusForbidden {
			t.Errorf("settings, %s: %d, want 403", name, p.Code)
		}
	}
	// Signed out, no token can be right: refused before the body is read.
	out := newBrowser(t, inst)
	if p := out.postMultipart("/statuses", url.Values{"text": {"forged"}, "csrf": {out.csrf("/login")}}, pic); p.Code != http.StatusForbidden {
		t.Errorf("signed out: %d, want 403", p.Code)
	}
	if p := b.postMultipart("/statuses", url.Values{"text": {"forged"}, "csrf": {b.csrf("/")}}, pic); p.Code == http.StatusForbidden {
		t.Fatalf("the right token was refused: %d", p.Code)
	}
	var uploads int64
	if err := inst.DB.Model(&community.MediaAttachment{}).Where("account_id = ? AND status_id IS NOT NULL", alice.Account.ID).Count(&uploads).Error; err != nil {
		t.Fatal(err)
	}
	if uploads > 1 || strings.Contains(b.get("/settings").Body, "Forged") {
		t.Fatal("a forged form changed something")
	}
}

// TestComposePoll: a poll posted through the compose box, voted on by a colleague of
// the department and by one of another department (a second instance), with the
// results shown on the post.
func TestComposePoll(t *testing.T) {
	ctx := context.Background()
	insts := instancetest.StartCompany(t, 2, instancetest.Options{})
	a, other := insts[0], insts[1]
	alice := a.CreateUser(t, "alice", instancetest.UserOptions{})
	a.CreateUser(t, "bob", instancetest.UserOptions{})
	carol := other.CreateUser(t, "carol", instancetest.UserOptions{})
	aliceThere, err := other.Federator.ResolveAccount(ctx, "alice@"+a.Host())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Community.Follow(ctx, carol.Account, aliceThere.ID, community.FollowOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually.Holds(t, "carol's follow to be accepted", func() bool {
		rel, err := other.Community.Relationship(ctx, carol.Account.ID, aliceThere.ID)
		return err == nil && rel.Following
	})

	author := newBrowser(t, a)
	author.signIn("alice")
	p := author.postMultipart("/statuses", url.Values{
		"csrf": {author.csrf("/")}, "text": {"lunch poll"}, "scope": {"company"}, "visibility": {"public"}, "back": {"/"},
		"poll_option": {"Pizza", "Salad", "", "Soup"}, "poll_multiple": {"1"}, "poll_duration": {"3600"},
	})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("compose with a poll: %d\n%s", p.Code, p.Body)
	}
	posts := ownPosts(t, a, alice.Account)
	if len(posts) != 1 {
		t.Fatalf("alice has %d posts", len(posts))
	}
	path := "/@alice/" + community.FormatID(posts[0].ID)
	poll, _, err := a.Community.GetPoll(ctx, community.AsAccount(alice.Account), mustPollID(t, a, posts[0]))
	if err != nil {
		t.Fatal(err)
	}
	if len(poll.Options) != 3 || !poll.Multiple || poll.Options[2].Title != "Soup" {
		t.Fatalf("poll as stored: %+v", poll)
	}
	pollPath := "/polls/" + community.FormatID(poll.ID) + "/votes"

	// The author sees the results (nobody voted yet), not a vote form.
	if page := author.get(path); strings.Contains(page.Body, `action="`+pollPath+`"`) || !strings.Contains(page.Body, "People who voted: 0") {
		t.Fatalf("the author's view of the poll:\n%s", page.Body)
	}

	bob := newBrowser(t, a)
	bob.signIn("bob")
	page := bob.get(path)
	if !strings.Contains(page.Body, `action="`+pollPath+`"`) || !strings.Contains(page.Body, `type="checkbox" name="choice" value="2"`) {
		t.Fatalf("bob sees no vote form:\n%s", page.Body)
	}
	if p := bob.post(pollPath, url.Values{"csrf": {bob.csrf(path)}, "back": {path}}); p.Code != http.StatusUnprocessableEntity {
		t.Errorf("a vote without a choice: %d", p.Code)
	}
	if p := bob.post(pollPath, url.Values{"choice": {"0"}, "back": {path}}); p.Code != http.StatusForbidden {
		t.Errorf("a vote without the CSRF token: %d", p.Code)
	}
	if p := bob.post(pollPath, url.Values{"csrf": {bob.csrf(path)}, "choice": {"0", "2"}, "back": {path}}); p.Code != http.StatusSeeOther || p.Header.Get("Location") != path {
		t.Fatalf("bob's vote: %d %s\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	page = bob.get(path)
	if strings.Contains(page.Body, `action="`+pollPath+`"`) || !strings.Contains(page.Body, "People who voted: 1") ||
		!strings.Contains(page.Body, "100% (votes: 1)") || !strings.Contains(page.Body, "(your choice)") {
		t.Fatalf("bob's results:\n%s", page.Body)
	}
	if p := bob.post(pollPath, url.Values{"csrf": {bob.csrf(path)}, "choice": {"1"}, "back": {path}}); p.Code != http.StatusUnprocessableEntity {
		t.Errorf("voting twice: %d", p.Code)
	}

	// Carol, in the other department, votes on her instance's copy; the vote
	// reaches the poll's origin and counts there.
	var there *community.Status
	eventually.Holds(t, "the poll to reach the other department", func() bool {
		there, err = other.Community.Unchecked().StatusByURI(ctx, a.Community.StatusURI("alice", posts[0].ID))
		return err == nil
	})
	carolB := newBrowser(t, other)
	carolB.signIn("carol")
	therePath := "/@alice@" + a.Host() + "/" + community.FormatID(there.ID)
	page = carolB.get(therePath)
	m := regexp.MustCompile(`action="(/polls/\d+/votes)"`).FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("carol sees no vote form at %s: %d\n%s", therePath, page.Code, page.Body)
	}
	if p := carolB.post(m[1], url.Values{"csrf": {carolB.csrf(therePath)}, "choice": {"2"}, "back": {therePath}}); p.Code != http.StatusSeeOther {
		t.Fatalf("carol's vote: %d\n%s", p.Code, p.Body)
	}
	eventually.Holds(t, "carol's vote to count at the origin", func() bool {
		return strings.Contains(author.get(path).Body, "People who voted: 2")
	})
	// Each may choose several options: shares are of the two people who voted.
	if page := author.get(path); !strings.Contains(page.Body, "50% (votes: 1)") || !strings.Contains(page.Body, "0% (votes: 0)") ||
		!strings.Contains(page.Body, "100% (votes: 2)") {
		t.Errorf("the results after two votes:\n%s", page.Body)
	}
}

func mustPollID(t *testing.T, inst *instancetest.Instance, st community.Status) int64 {
	t.Helper()
	d, err := inst.Community.LoadStatusDetails(context.Background(), community.Anonymous, []community.Status{st})
	if err != nil {
		t.Fatal(err)
	}
	p := d.Polls[st.ID]
	if p == nil {
		t.Fatal("the post has no poll")
	}
	return p.ID
}

// TestProfileFieldsAndPictures: profile fields, an avatar and a header saved through
// the settings form (one multipart form) and shown on the profile page.
func TestProfileFieldsAndPictures(t *testing.T) { eachDatabase(t, testProfileFieldsAndPictures) }

func testProfileFieldsAndPictures(t *testing.T, opts instancetest.Options) {
	inst := instancetest.Start(t, opts)
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	settings := b.get("/settings")
	if strings.Count(settings.Body, `name="field_name"`) != community.MaxFields || !strings.Contains(settings.Body, `name="avatar"`) {
		t.Fatalf("the settings form has no profile fields or pictures:\n%s", settings.Body)
	}
	form := url.Values{
		"csrf": {b.csrf("/settings")}, "display_name": {"Alice A."}, "note": {"hello"}, "default_scope": {"company"},
		"field_name":  {"Team", "", "Office", ""},
		"field_value": {"Payments", "", "Berlin, 3rd floor", ""},
	}
	p := b.postMultipart("/settings", form,
		upload{"avatar", "me.png", pngPicture(t, color.RGBA{0, 120, 0, 255})},
		upload{"header", "view.png", pngPicture(t, color.RGBA{0, 0, 120, 255})})
	if p.Code != http.StatusSeeOther || p.Header.Get("Location") != "/settings?saved=1" {
		t.Fatalf("save settings: %d %s\n%s", p.Code, p.Header.Get("Location"), p.Body)
	}
	settings = b.get("/settings?saved=1")
	if !strings.Contains(settings.Body, `value="Berlin, 3rd floor"`) || !strings.Contains(settings.Body, `alt="Your current header picture"`) {
		t.Errorf("the settings form does not show what was saved:\n%s", settings.Body)
	}

	profile := newBrowser(t, inst)
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	profile.signIn("bob")
	page := profile.get("/@alice")
	for _, want := range []string{"<dt>Team</dt><dd>Payments</dd>", "<dt>Office</dt><dd>Berlin, 3rd floor</dd>"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the profile does not show %q", want)
		}
	}
	for _, class := range []string{"header-image", "avatar big"} {
		m := regexp.MustCompile(`<img class="` + class + `" src="([^"]+)"`).FindStringSubmatch(page.Body)
		if m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), inst.URL+"/media/") {
			t.Fatalf("the profile shows no uploaded %s: %v", class, m)
		}
		resp, err := profile.http.Get(html.UnescapeString(m[1]))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
			t.Errorf("%s: %d %s", class, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}

	// A non-image avatar is refused with the reason and changes nothing; too many
	// fields are the domain's refusal too.
	p = b.postMultipart("/settings", url.Values{
		"csrf": {b.csrf("/settings")}, "display_name": {"Changed"}, "default_scope": {"company"},
		"field_name": {"Team"}, "field_value": {"Changed"},
	}, upload{"avatar", "me.txt", []byte("not a picture")})
	if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "File type is not supported") ||
		!strings.Contains(p.Body, "Nothing was saved") {
		t.Errorf("non-image avatar: %d\n%s", p.Code, p.Body)
	}
	if page := profile.get("/@alice"); strings.Contains(page.Body, "Changed") || !strings.Contains(page.Body, "Payments") {
		t.Error("a refused settings form changed the profile")
	}
	p = b.post("/settings", url.Values{
		"csrf": {b.csrf("/settings")}, "display_name": {"Alice A."}, "default_scope": {"company"},
		"field_name": {"1", "2", "3", "4", "5"}, "field_value": {"a", "b", "c", "d", "e"},
	})
	if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "Too many profile fields") {
		t.Errorf("five fields: %d", p.Code)
	}
}

// TestUnreadNotifications: the navigation counts the notifications past the
// notifications marker; opening the notifications page reads them.
func TestUnreadNotifications(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	bob := inst.CreateUser(t, "bob", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	badge := regexp.MustCompile(`<span class="badge">(\d+\+?)<span class="visually-hidden"> unread</span></span>`)
	if m := badge.FindStringSubmatch(b.get("/").Body); m != nil {
		t.Fatalf("unread count %s before any notification", m[1])
	}
	for _, text := range []string{"@alice first question", "@alice second question"} {
		inst.PostStatus(t, bob.Token, url.Values{"status": {text}, "scope": {"company"}})
	}
	eventually.Holds(t, "two unread notifications in the navigation", func() bool {
		m := badge.FindStringSubmatch(b.get("/").Body)
		return m != nil && m[1] == "2"
	})
	if page := b.get("/notifications"); badge.MatchString(page.Body) || !strings.Contains(page.Body, "first question") {
		t.Fatalf("the notifications page still counts them unread:\n%s", page.Body)
	}
	if badge.MatchString(b.get("/").Body) {
		t.Fatal("notifications read on their page still count as unread")
	}
	// Seeing them again does not save the marker again.
	ctx := context.Background()
	before, err := inst.Community.GetMarkers(ctx, alice.Account.ID, []string{community.MarkerNotifications})
	if err != nil {
		t.Fatal(err)
	}
	b.get("/notifications")
	after, err := inst.Community.GetMarkers(ctx, alice.Account.ID, []string{community.MarkerNotifications})
	if err != nil {
		t.Fatal(err)
	}
	if before[community.MarkerNotifications].Version != after[community.MarkerNotifications].Version {
		t.Error("an unchanged notifications marker was saved again")
	}
	// The API's marker moved with it, so other clients agree.
	var unread struct{ Count int64 }
	inst.Call(t, http.MethodGet, "/api/v1/notifications/unread_count", alice.Token, nil).Decode(t, http.StatusOK, &unread)
	if unread.Count != 0 {
		t.Errorf("the API still counts %d unread notifications", unread.Count)
	}
}

// TestUploadBodyTooLarge: a form larger than all its pictures may be together is cut
// off while it is read, answered with a message, and changes nothing.
func TestUploadBodyTooLarge(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	b := newBrowser(t, inst)
	b.signIn("alice")
	big := make([]byte, media.MaxImageBytes+media.MaxImageBytes/2)
	p := b.postMultipart("/settings", url.Values{"csrf": {b.csrf("/settings")}, "display_name": {"Too big"}},
		upload{"avatar", "a.png", big}, upload{"header", "h.png", big})
	if p.Code != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "too large to send together") {
		t.Fatalf("oversized settings form: %d\n%s", p.Code, p.Body)
	}
	if strings.Contains(b.get("/settings").Body, "Too big") {
		t.Fatal("an oversized form changed the profile")
	}
}
