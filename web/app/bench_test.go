package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// BenchmarkHomeTimelinePage renders a signed-in home timeline of 20 posts, the whole
// way a browser gets it: session check, the domain's timeline and details, the
// templates, over loopback HTTP.
func BenchmarkHomeTimelinePage(b *testing.B) {
	inst := instancetest.Start(b, instancetest.Options{})
	alice := inst.CreateUser(b, "alice", instancetest.UserOptions{})
	for i := range 20 {
		inst.PostStatus(b, alice.Token, url.Values{
			"status": {fmt.Sprintf("Post %d about #benchmarks with a link https://example.com/%d and a few more words", i, i)},
			"scope":  {[]string{"department", "company", "world"}[i%3]},
		})
	}
	br := newBrowser(b, inst)
	br.signIn("alice")
	first := br.get("/")
	if n := strings.Count(first.Body, `<article class="status"`); first.Code != http.StatusOK || n != 20 {
		b.Fatalf("home page: %d with %d posts, want 20", first.Code, n)
	}
	b.Run("page", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if p := br.get("/"); p.Code != http.StatusOK {
				b.Fatalf("home page: %d", p.Code)
			}
		}
		b.ReportMetric(float64(len(first.Body)), "page-bytes")
	})
	// The reference: the same timeline as the API's JSON, measured in the same run.
	// Each request differs by a parameter the API ignores, so that the API's page
	// cache (which the web pages do not have) does not answer it.
	b.Run("api-json", func(b *testing.B) {
		b.ReportAllocs()
		var size, i int
		for b.Loop() {
			i++
			req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/timelines/home?limit=20&n=%d", inst.URL, i), nil)
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+alice.Token)
			a := br.do(req)
			if a.Code != http.StatusOK {
				b.Fatalf("API home timeline: %d", a.Code)
			}
			size = len(a.Body)
		}
		b.ReportMetric(float64(size), "page-bytes")
	})
}
