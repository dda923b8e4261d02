package export

import (
	"strings"
	"testing"

	"github.com/tacit-social/tacit/community"
)

func TestParseImport(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name string
		kind ImportKind
		file string
		want []community.ImportEntry
	}{
		{"Mastodon's following file: header, blank lines, quoted languages", ImportFollowing,
			"Account address,Show boosts,Notify on new posts,Languages\n\nann@a.example,true,false,\n\nbo@b.example,false,true,\"en,fr\"\n",
			[]community.ImportEntry{{Address: "ann@a.example", ShowReblogs: &yes, Notify: &no}, {Address: "bo@b.example", ShowReblogs: &no, Notify: &yes}}},
		{"older files: no header, addresses only", ImportFollowing, "ann@a.example\r\n@bo@b.example\r\n",
			[]community.ImportEntry{{Address: "ann@a.example"}, {Address: "bo@b.example"}}},
		{"a spreadsheet's byte order mark", ImportBlocks, "\xef\xbb\xbfann@a.example\n",
			[]community.ImportEntry{{Address: "ann@a.example"}}},
		{"columns in another order", ImportFollowing, "Notify on new posts,Account address\ntrue,ann@a.example\n",
			[]community.ImportEntry{{Address: "ann@a.example", Notify: &yes}}},
		{"an empty file", ImportBlocks, "", nil},
	}
	for _, c := range cases {
		got, err := ParseImport(c.kind, strings.NewReader(c.file))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %d entries, want %d", c.name, len(got), len(c.want))
			continue
		}
		for i := range got {
			g, w := got[i], c.want[i]
			if g.Address != w.Address || !sameBool(g.ShowReblogs, w.ShowReblogs) || !sameBool(g.Notify, w.Notify) {
				t.Errorf("%s: entry %d = %+v, want %+v", c.name, i, g, w)
			}
		}
	}

	for _, bad := range []struct{ file, want string }{
		{"ann@a.example,yes\n", `line 1: Show boosts: "yes" is neither`},
		{"Account address\nann\n", "line 2"},
		{"Show boosts\ntrue\n", `no "Account address" column`},
		{"\"ann@a.example\n", "not a CSV file"},
		{strings.Repeat("a@b.example\n", community.MaxImportEntries+1), "more than 7500"},
		{strings.Repeat("x", MaxImportSize+1), "larger than"},
	} {
		if _, err := ParseImport(ImportFollowing, strings.NewReader(bad.file)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("file %.40q: err = %v, want %q", bad.file, err, bad.want)
		}
	}
}

func sameBool(a, b *bool) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
