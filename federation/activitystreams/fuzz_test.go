package activitystreams

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addSamples seeds a fuzzer with every sample document.
func addSamples(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no samples: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"https://x.example/1","type":"Undo","actor":"https://x.example/a","object":{"id":"https://x.example/2","type":"Undo","actor":"https://x.example/a","object":{"id":"https://x.example/3","type":"Follow","actor":"https://x.example/a","object":"https://y.example/b"}}}`))
	f.Add([]byte(`{"type":["Create"],"id":"https://x.example/1","actor":[{"id":"https://x.example/a"}],"to":"Public","object":[{"type":"Note","id":"https://x.example/n","attributedTo":{"type":"Person","id":"https://x.example/a"},"tag":{"type":"Mention","href":"https://y.example/b"},"url":{"type":"Link","href":"https://x.example/@a/n"}}]}`))
}

// Errors must wrap one of the two sentinels, so the inbox can choose its answer.
func checkErr(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error wraps neither ErrInvalid nor ErrUnsupported: %v", err)
	}
}

func FuzzParseActivity(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseActivity(b)
		checkErr(t, err)
		if err != nil {
			return
		}
		// What parses is what the rest of Tacit relies on.
		if a.ID == "" || a.Actor == "" || a.ObjectID == "" || a.Type == "" {
			t.Fatalf("accepted without id, actor, object or type: %+v", a)
		}
		if a.Object != nil && a.Object.Type != "Tombstone" && a.Object.AttributedTo == "" {
			t.Fatalf("note without author: %+v", a.Object)
		}
		for _, s := range append(append([]string{}, a.To...), a.Cc...) {
			if s != PublicURI && !strings.HasPrefix(s, "http") {
				t.Fatalf("addressing entry %q", s)
			}
		}
	})
}

func FuzzParseActor(f *testing.F) {
	addSamples(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseActor(b)
		checkErr(t, err)
		if err != nil {
			return
		}
		if a.ID == "" || a.Inbox == "" || a.PublicKeyPEM == "" || a.PreferredUsername == "" || a.PublicKeyOwner != a.ID {
			t.Fatalf("accepted an unusable actor: %+v", a)
		}
	})
}

// BenchmarkParseActivity measures the inbox's parsing cost for the commonest
// delivery: a Mastodon Create{Note} with mentions, hashtags and an attachment.
func BenchmarkParseActivity(b *testing.B) {
	doc := sample(b, "mastodon_create_note.json")
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseActivity(doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "activities/s")
}

// TestOddValuesNeverPanic puts every JSON shape a confused or hostile peer might send
// into every property of the sample documents (and of their embedded objects), which
// reaches corners of go-fed's generated code that byte-level fuzzing rarely finds.
func TestOddValuesNeverPanic(t *testing.T) {
	t.Parallel()
	odd := []any{
		nil, 0, -1.5, true, "", "x", "Public", "as:Public", "https://", "http://[::1", "#frag",
		[]any{}, []any{nil}, []any{[]any{}}, []any{map[string]any{}}, map[string]any{},
		map[string]any{"type": []any{}}, map[string]any{"type": 5}, map[string]any{"id": 5},
		map[string]any{"type": "Note"}, map[string]any{"type": "Link", "href": 5},
		map[string]any{"type": "Mention", "href": "::"}, map[string]any{"type": "Image", "url": []any{5}},
		map[string]any{"type": "Person", "id": "https://x.example/u"}, map[string]any{"id": "https://x.example/o", "type": "Follow"},
		map[string]any{"und": 5}, map[string]any{"@value": "x", "@language": "en"},
	}
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		doc := map[string]any{}
		if err := json.Unmarshal(sample(t, filepath.Base(p)), &doc); err != nil {
			t.Fatal(err)
		}
		// Every (map, key) pair in the document, the top level and embedded ones.
		type slot struct {
			m   map[string]any
			key string
		}
		var slots []slot
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					slots = append(slots, slot{x, k})
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(doc)
		for _, s := range slots {
			orig := s.m[s.key]
			for _, v := range odd {
				s.m[s.key] = v
				b := mustMarshal(t, doc)
				for _, parse := range []func([]byte) error{
					func(b []byte) error { _, err := ParseActivity(b); return err },
					func(b []byte) error { _, err := ParseActor(b); return err },
					func(b []byte) error { _, err := ParseObject(b); return err },
				} {
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Fatalf("%s: %q = %#v: panic %v", p, s.key, v, r)
							}
						}()
						if err := parse(b); err != nil && !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
							t.Fatalf("%s: %q = %#v: error %v wraps no sentinel", p, s.key, v, err)
						}
					}()
				}
			}
			s.m[s.key] = orig
		}
	}
}
