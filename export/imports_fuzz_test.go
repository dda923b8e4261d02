package export

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParseImport: whatever file a person uploads, reading it ends in entries or an
// error, never a panic; every entry names an address, and a file that reads is read
// the same way again.
func FuzzParseImport(f *testing.F) {
	for _, seed := range []string{
		"Account address,Show boosts,Notify on new posts,Languages\nalice@eng.example,true,false,\n",
		"bob@sales.example\ncarol@ops.example\n",
		"\xef\xbb\xbfAccount address\n\"quoted@x.example\"\n",
		"Show boosts,Account address\nmaybe,dave@x.example\n",
		"a,\"b\nc\",d\n",
		",,,\n\n",
	} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, data string, following bool) {
		kind := ImportBlocks
		if following {
			kind = ImportFollowing
		}
		entries, err := ParseImport(kind, strings.NewReader(data))
		if err != nil {
			if entries != nil {
				t.Fatalf("entries beside the error %v", err)
			}
			return
		}
		for _, e := range entries {
			if strings.TrimSpace(e.Address) == "" {
				t.Fatalf("an entry without an address: %+v", e)
			}
		}
		again, err := ParseImport(kind, bytes.NewReader([]byte(data)))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("read twice: %d then %d entries (%v)", len(entries), len(again), err)
		}
	})
}
