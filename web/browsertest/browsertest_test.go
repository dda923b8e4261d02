package browsertest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAxeFindsViolations is the control for every accessibility check: on a page with
// known faults, axe-core must run in the page and report them.
func TestAxeFindsViolations(t *testing.T) {
	b := New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// As strict a policy as Tacit's pages: axe-core must run under it.
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		w.Write([]byte(`<!doctype html><html lang="en"><title>Faults</title>
<main><img src="data:," width="10" height="10"><input type="text"></main></html>`))
	}))
	t.Cleanup(srv.Close)
	b.Do(chromedp.Navigate(srv.URL))
	found := map[string]bool{}
	for _, v := range b.Axe() {
		found[v.ID] = true
	}
	for _, rule := range []string{"image-alt", "label"} {
		if !found[rule] {
			t.Errorf("axe-core did not report %s; it reported %v", rule, found)
		}
	}
}
