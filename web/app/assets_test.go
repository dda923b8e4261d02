package app_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestAssetsCompressed: a browser that takes gzip gets the assets compressed (a first
// visit stays light without a compressing proxy), the same bytes once decompressed;
// one that refuses gzip gets them as they are.
func TestAssetsCompressed(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{})
	get := func(path, acceptEncoding string) (*http.Response, []byte) {
		req, err := http.NewRequest(http.MethodGet, inst.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		// Set by hand, the transport leaves the body as the server sent it.
		req.Header.Set("Accept-Encoding", acceptEncoding)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	for _, asset := range []string{"/assets/htmx.min.js", "/assets/app.css"} {
		plain, want := get(asset, "identity")
		if plain.StatusCode != http.StatusOK || plain.Header.Get("Content-Encoding") != "" || len(want) == 0 {
			t.Fatalf("%s without gzip: %d, encoding %q", asset, plain.StatusCode, plain.Header.Get("Content-Encoding"))
		}
		zipped, body := get(asset, "br, gzip;q=0.8")
		if zipped.Header.Get("Content-Encoding") != "gzip" || zipped.Header.Get("Vary") != "Accept-Encoding" {
			t.Fatalf("%s with gzip: encoding %q, vary %q", asset, zipped.Header.Get("Content-Encoding"), zipped.Header.Get("Vary"))
		}
		if len(body) >= len(want) {
			t.Errorf("%s: %d bytes compressed, %d plain", asset, len(body), len(want))
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: decompressed differs from the plain answer (%v)", asset, err)
		}
		if refused, _ := get(asset, "gzip;q=0"); refused.Header.Get("Content-Encoding") != "" {
			t.Errorf("%s: gzip;q=0 answered with %q", asset, refused.Header.Get("Content-Encoding"))
		}
	}
}

// TestLandingRules: the landing page lists the instance's rules, in order, and the
// admin's instance page shows them too; without rules the landing page has no list.
func TestLandingRules(t *testing.T) {
	inst := instancetest.Start(t, instancetest.Options{Configure: func(c *config.Config) {
		c.InstanceRules = []string{"Be kind.", "No customer data in world posts."}
	}})
	p := newBrowser(t, inst).get("/")
	first, second := strings.Index(p.Body, "<li>Be kind.</li>"), strings.Index(p.Body, "<li>No customer data in world posts.</li>")
	if p.Code != http.StatusOK || first < 0 || second < first {
		t.Errorf("landing page: %d, rules at %d and %d", p.Code, first, second)
	}
	if p := newBrowser(t, instancetest.Start(t, instancetest.Options{})).get("/"); strings.Contains(p.Body, `class="rules"`) {
		t.Error("the landing page of an instance without rules has a list of rules")
	}
}
