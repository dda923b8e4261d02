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

// TestMastoJS runs the masto.js journey (mastojs/journey.test.mjs) against a real
// instance: the JavaScript client most web apps are built on, from npm. It needs Node
// and `npm ci` in web/mastojs; without them it is skipped, unless TACIT_TEST_NODE is
// set (CI sets it), in which case their absence fails the test.
func TestMastoJS(t *testing.T) {
	required := os.Getenv("TACIT_TEST_NODE") != ""
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join("mastojs", "node_modules", "masto"))
	}
	if err != nil {
		if required {
			t.Fatalf("TACIT_TEST_NODE is set but node or masto.js is missing (run npm ci in web/mastojs): %v", err)
		}
		t.Skipf("node or masto.js missing (run npm ci in web/mastojs): %v", err)
	}
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
