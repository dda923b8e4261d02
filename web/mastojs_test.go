package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// nodeClient returns the path of node when the npm package pkg is installed in
// web/mastojs. Without them the test is skipped, unless TACIT_TEST_NODE is set (CI sets
// it), in which case their absence fails the test.
func nodeClient(t *testing.T, pkg string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("mastojs", "node_modules", pkg))
	}
	if err != nil {
		if os.Getenv("TACIT_TEST_NODE") != "" {
			t.Fatalf("TACIT_TEST_NODE is set but node or %s is missing (run npm ci in web/mastojs): %v", pkg, err)
		}
		t.Skipf("node or %s missing (run npm ci in web/mastojs): %v", pkg, err)
	}
	return node
}

// TestMegalodon runs the megalodon journey (mastojs/megalodon.test.mjs) against a real
// instance: the library desktop and web apps such as Whalebird use, which first detects
// what kind of server it talks to.
func TestMegalodon(t *testing.T) {
	node := nodeClient(t, "megalodon")
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})
	cmd := exec.Command(node, "--test", "--test-reporter=spec", "megalodon.test.mjs")
	cmd.Dir = "mastojs"
	cmd.Env = append(os.Environ(),
		"TACIT_URL="+inst.URL,
		"TACIT_ALICE=alice", "TACIT_BOB=bob",
		"TACIT_PASSWORD="+instancetest.Password("alice"),
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("megalodon journey failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// TestMastoJS runs the masto.js journey (mastojs/journey.test.mjs) against a real
// instance: the JavaScript client most web apps are built on, from npm.
func TestMastoJS(t *testing.T) {
	node := nodeClient(t, "masto")
	inst := instancetest.Start(t, instancetest.Options{})
	inst.CreateUser(t, "alice", instancetest.UserOptions{})
	inst.CreateUser(t, "bob", instancetest.UserOptions{})

	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 5), B: 128, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	imagePath := filepath.Join(t.TempDir(), "whiteboard.png")
	if err := os.WriteFile(imagePath, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	// Node 20 has WebSocket behind a flag; later versions have it on by default.
	cmd := exec.Command(node, "--experimental-websocket", "--test", "--test-reporter=spec", "journey.test.mjs")
	cmd.Dir = "mastojs"
	cmd.Env = append(os.Environ(),
		"TACIT_URL="+inst.URL,
		"TACIT_ALICE=alice", "TACIT_BOB=bob",
		"TACIT_PASSWORD="+instancetest.Password("alice"),
		"TACIT_IMAGE="+imagePath,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("masto.js journey failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
