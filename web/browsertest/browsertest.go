// Package browsertest drives Tacit's HTML pages in a real browser for tests: Debian's
// headless Chromium through chromedp, at desktop and phone sizes, with axe-core run
// inside the page for accessibility and screenshots for the docs.
//
// A test without Chromium (or without axe-core's npm package, see package.json) is
// skipped, unless TACIT_REQUIRE_BROWSER is set, as CI does: then it fails. With
// TACIT_SCREENSHOTS set to a directory (relative to the module root, e.g.
// docs/screenshots), Screenshot writes PNG files there, so one test run refreshes the
// documentation's pictures.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// RequireEnv names the variable that makes a missing browser or axe-core fail the
// tests instead of skipping them. CI sets it.
const RequireEnv = "TACIT_REQUIRE_BROWSER"

// ScreenshotsEnv names the variable holding the directory screenshots go to; unset, no
// screenshot is written.
const ScreenshotsEnv = "TACIT_SCREENSHOTS"

// actionTimeout bounds each Run: a page that never loads fails the test instead of
// hanging it.
const actionTimeout = 30 * time.Second

// Viewport is a window size to test a page at.
type Viewport struct {
	Name          string
	Width, Height int64
	// Mobile emulates a phone: touch, and the page's meta viewport honoured.
	Mobile bool
}

// The sizes pages are tested at.
var (
	Desktop   = Viewport{Name: "desktop", Width: 1280, Height: 900}
	Phone     = Viewport{Name: "phone", Width: 375, Height: 812, Mobile: true}
	Viewports = []Viewport{Desktop, Phone}
)

// Browser is one test's tab in its own headless Chromium.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// New starts Chromium for a test and opens a tab; both close when the test ends. It
// skips the test when Chromium or axe-core is missing, unless RequireEnv is set.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := findChromium()
	if err != nil {
		missing(t, err.Error()+" (apt-get install chromium)")
	}
	if _, err := os.Stat(axePath()); err != nil {
		missing(t, "axe-core is not installed (npm ci --prefix web/browsertest)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		// Containers and CI runners have no user namespaces for Chromium's sandbox.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("lang", "en-GB"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first call starts the browser; it gets no timeout of its own, since
	// cancelling that context would close the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// missing skips the test, or fails it when RequireEnv demands a browser.
func missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("%s is set but %s", RequireEnv, why)
	}
	t.Skipf("%s; set %s=1 to insist", why, RequireEnv)
}

// findChromium finds Debian's chromium (or a Chrome) on PATH.
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium is not on PATH")
}

// packageDir is this package's source directory, where npm installs axe-core; tests
// of other packages run from their own directory.
func packageDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

func axePath() string {
	return filepath.Join(packageDir(), "node_modules", "axe-core", "axe.min.js")
}

// Context is the tab's context, for chromedp calls the helpers do not cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs chromedp steps in the tab, in order, and fails the test on an error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	Run(b, chromedp.Steps(steps...))
}

// Run runs one chromedp action in b's tab and returns its value; an error fails the
// test. (A function, since methods cannot have type parameters.)
func Run[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, actionTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return v
}

// SetViewport resizes the tab to v.
func (b *Browser) SetViewport(v Viewport) {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if v.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	b.Do(chromedp.EmulateViewport(v.Width, v.Height, opts...))
}

// The colour schemes pages are tested in: the pages follow the system's
// prefers-color-scheme, and contrast must hold in both.
var ColorSchemes = []string{"light", "dark"}

// SetColorScheme makes the tab report prefers-color-scheme as scheme ("light" or
// "dark").
func (b *Browser) SetColorScheme(scheme string) {
	b.t.Helper()
	b.Do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// Violation is one axe-core rule a page breaks.
type Violation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target         []any  `json:"target"`
		HTML           string `json:"html"`
		FailureSummary string `json:"failureSummary"`
	} `json:"nodes"`
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", v.ID, v.Impact, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    %v %s\n      %s", n.Target, n.HTML, strings.ReplaceAll(n.FailureSummary, "\n", "\n      "))
	}
	return b.String()
}

// Axe runs axe-core on the page as it is now and returns the violations of serious or
// critical impact: the ones that keep someone from using the page.
func (b *Browser) Axe() []Violation {
	b.t.Helper()
	src, err := os.ReadFile(axePath())
	if err != nil {
		b.t.Fatalf("read axe-core: %v", err)
	}
	// Injected through the DevTools protocol, which the page's Content-Security-Policy
	// does not govern: the page under test keeps its real policy.
	if !Run(b, chromedp.Evaluate[bool](string(src)+"\n;typeof axe === 'object'")) {
		b.t.Fatal("axe-core did not load in the page")
	}
	run := `axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations))`
	raw := Run(b, chromedp.Evaluate[string](run, chromedp.EvalAwaitPromise))
	var all []Violation
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		b.t.Fatalf("axe-core's answer: %v", err)
	}
	var out []Violation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v)
			continue
		}
		// Minor and moderate findings do not fail a test, but are worth a look.
		b.t.Logf("axe-core, %s: %s (%d elements)", v.Impact, v.ID, len(v.Nodes))
	}
	return out
}

// CheckAccessibility fails the test for every serious or critical axe-core violation
// on the page, naming what (at which size) it checked.
func (b *Browser) CheckAccessibility(what string) {
	b.t.Helper()
	for _, v := range b.Axe() {
		b.t.Errorf("%s: %s", what, v)
	}
}

// CheckAccessibilityEverywhere runs CheckAccessibility on the page as it is, at every
// size in Viewports and in every colour scheme, and leaves the tab at Desktop size in
// the light scheme.
func (b *Browser) CheckAccessibilityEverywhere(what string) {
	b.t.Helper()
	for _, scheme := range ColorSchemes {
		b.SetColorScheme(scheme)
		for _, v := range Viewports {
			b.SetViewport(v)
			b.CheckAccessibility(what + " at " + v.Name + " size, " + scheme)
		}
	}
	b.SetColorScheme("light")
	b.SetViewport(Desktop)
}

// Screenshot saves the whole page as name.png in the ScreenshotsEnv directory, when
// that variable is set.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv(ScreenshotsEnv)
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(moduleRoot(), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatalf("screenshots: %v", err)
	}
	png := Run(b, chromedp.FullScreenshot(100)) // quality 100 means PNG
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("write screenshot: %v", err)
	}
	b.t.Logf("screenshot %s", path)
}

// moduleRoot is the directory of go.mod above this package, so that a relative
// ScreenshotsEnv means the same folder whichever package's tests take the pictures.
func moduleRoot() string {
	dir := packageDir()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return packageDir()
		}
		dir = parent
	}
}
