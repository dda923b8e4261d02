package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestDataPages: a person downloads their archive and a CSV file from
// /settings/export, imports a following file on /settings/import (an unknown account
// reported on the page), and an admin holds an account and downloads its archive.
func TestDataPages(t *testing.T) {
	ctx := context.Background()
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	carol := inst.CreateUser(t, "carol", instancetest.UserOptions{})
	root := inst.CreateUser(t, "root", instancetest.UserOptions{Role: community.RoleAdmin})
	b := newBrowser(t, inst)
	b.signIn("alice")
	b.compose("Notes from the offsite", "company", "public")

	if p := b.get("/settings"); !strings.Contains(p.Body, `href="/settings/export"`) {
		t.Error("the settings page has no link to the export page")
	}
	p := b.get("/settings/export")
	if p.Code != http.StatusOK || !strings.Contains(p.Body, `href="/settings/export/archive.zip"`) ||
		!strings.Contains(p.Body, `href="/settings/export/following_accounts.csv"`) {
		t.Fatalf("export page: %d\n%s", p.Code, p.Body)
	}
	archive := b.get("/settings/export/archive.zip")
	z, err := zip.NewReader(strings.NewReader(archive.Body), int64(len(archive.Body)))
	if archive.Code != http.StatusOK || err != nil {
		t.Fatalf("archive: %d %v", archive.Code, err)
	}
	if !zipHolds(z, "outbox.json", "Notes from the offsite") {
		t.Error("the archive's outbox does not hold alice's post")
	}

	host := inst.Host()
	csv := "Account address,Show boosts,Notify on new posts,Languages\ncarol@" + host + ",true,false,\nghost@" + host + ",true,false,\n"
	p = b.postMultipart("/settings/import", url.Values{"csrf": {b.csrf("/settings/import")}, "type": {"following"}, "mode": {"merge"}},
		upload{"data", "following_accounts.csv", []byte(csv)})
	if p.Code != http.StatusOK || !strings.Contains(p.Body, "Imported 1 accounts") || !strings.Contains(p.Body, "ghost@"+host) {
		t.Fatalf("import: %d\n%s", p.Code, p.Body)
	}
	following := b.get("/settings/export/following_accounts.csv")
	if following.Code != http.StatusOK || !strings.Contains(following.Body, "carol@"+host+",true,false,") {
		t.Errorf("following_accounts.csv after the import: %d %q", following.Code, following.Body)
	}
	p = b.postMultipart("/settings/import", url.Values{"csrf": {b.csrf("/settings/import")}, "type": {"following"}},
		upload{"data", "x.csv", []byte("\"unclosed\n")})
	if p.Code != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "not a CSV file") {
		t.Errorf("a broken file: %d\n%s", p.Code, p.Body)
	}

	// Records are the admins': alice gets 403, root holds carol and exports her archive.
	if p := b.get("/admin/people/" + community.FormatID(carol.Account.ID) + "/records"); p.Code != http.StatusForbidden {
		t.Errorf("records page for a non-admin: %d", p.Code)
	}
	admin := newBrowser(t, inst)
	admin.signIn("root")
	records := "/admin/people/" + community.FormatID(carol.Account.ID) + "/records"
	if p := admin.get("/admin/people/" + community.FormatID(carol.Account.ID)); !strings.Contains(p.Body, `href="`+records+`"`) {
		t.Error("the person page has no link to the records page")
	}
	p = admin.post("/admin/people/"+community.FormatID(carol.Account.ID)+"/hold",
		url.Values{"csrf": {admin.csrf(records)}, "hold": {"on"}, "reason": {"case 7"}})
	if p.Code != http.StatusSeeOther {
		t.Fatalf("hold: %d\n%s", p.Code, p.Body)
	}
	if hold, err := inst.Community.LegalHoldOf(ctx, carol.Account.ID); err != nil || hold == nil || hold.Reason != "case 7" ||
		hold.SetByAccountID == nil || *hold.SetByAccountID != root.Account.ID {
		t.Errorf("hold = %+v, %v", hold, err)
	}
	if p := admin.get(records); !strings.Contains(p.Body, "on legal hold") {
		t.Errorf("records page after the hold:\n%s", p.Body)
	}
	carolArchive := admin.get("/admin/people/" + community.FormatID(carol.Account.ID) + "/archive.zip")
	if _, err := zip.NewReader(strings.NewReader(carolArchive.Body), int64(len(carolArchive.Body))); carolArchive.Code != http.StatusOK || err != nil {
		t.Errorf("carol's archive for the admin: %d %v", carolArchive.Code, err)
	}
}

func zipHolds(z *zip.Reader, name, text string) bool {
	f, err := z.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	var buf bytes.Buffer
	buf.ReadFrom(f)
	return strings.Contains(buf.String(), text)
}
