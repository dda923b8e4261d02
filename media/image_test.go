package media

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/media/mediatest"
)

func decodeAny(t *testing.T, img Image) image.Image {
	t.Helper()
	m, format, err := image.Decode(bytes.NewReader(img.Data))
	if err != nil {
		t.Fatalf("stored %s does not decode: %v", img.ContentType, err)
	}
	if want := map[string]string{"jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif"}[format]; want != img.ContentType {
		t.Errorf("content type %s for a %s file", img.ContentType, format)
	}
	if b := m.Bounds(); b.Dx() != img.Width || b.Dy() != img.Height {
		t.Errorf("reported %d×%d, file is %d×%d", img.Width, img.Height, b.Dx(), b.Dy())
	}
	return m
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 > 180 && g>>8 < 80 && b>>8 < 80
}

func noSecret(t *testing.T, what string, data []byte) {
	t.Helper()
	if bytes.Contains(data, []byte(mediatest.Secret)) || bytes.Contains(data, []byte("Exif\x00\x00")) {
		t.Errorf("%s still carries the upload's metadata", what)
	}
}

// TestProcessTurnsPhonePhotosUpright: every EXIF orientation comes out upright, as the
// phone showed it, and without the EXIF.
func TestProcessTurnsPhonePhotosUpright(t *testing.T) {
	// Marked draws a red block in the top-left corner of what the sensor saw. With
	// orientation o the viewer sees that corner where this table says.
	type corner struct{ right, bottom bool }
	want := map[int]corner{
		0: {false, false}, 1: {false, false}, 2: {true, false}, 3: {true, true}, 4: {false, true},
		5: {false, false}, 6: {true, false}, 7: {true, true}, 8: {false, true},
	}
	for o := 0; o <= 8; o++ {
		p, err := Process(context.Background(), bytes.NewReader(mediatest.JPEG(mediatest.Marked(300, 200), o)))
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		noSecret(t, "the original", p.Original.Data)
		noSecret(t, "the preview", p.Preview.Data)
		m := decodeAny(t, p.Original)
		w, h := 300, 200
		if o >= 5 {
			w, h = 200, 300
		}
		if p.Original.Width != w || p.Original.Height != h || p.Original.ContentType != "image/jpeg" {
			t.Fatalf("orientation %d: stored %d×%d %s, want %d×%d JPEG", o, p.Original.Width, p.Original.Height, p.Original.ContentType, w, h)
		}
		x, y := 5, 5
		if want[o].right {
			x = w - 6
		}
		if want[o].bottom {
			y = h - 6
		}
		if !isRed(m.At(x, y)) {
			t.Errorf("orientation %d: the marked corner is not at (%d,%d)", o, x, y)
		}
	}
}

func TestProcessKindsOfImages(t *testing.T) {
	webp, err := os.ReadFile("testdata/gradient.webp")
	if err != nil {
		t.Fatal(err)
	}
	translucentWebP, err := os.ReadFile("testdata/translucent.webp")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		data              []byte
		original, preview string
		w, h              int
	}{
		{"opaque PNG stays lossless", mediatest.PNG(mediatest.Marked(120, 80)), "image/png", "image/jpeg", 120, 80},
		{"translucent PNG", mediatest.PNG(mediatest.Translucent(90, 60)), "image/png", "image/png", 90, 60},
		{"WebP becomes JPEG", webp, "image/jpeg", "image/jpeg", 64, 48},
		{"translucent WebP becomes PNG", translucentWebP, "image/png", "image/png", 40, 40},
		{"animated GIF stays animated", mediatest.AnimatedGIF(50, 40, 3), "image/gif", "image/jpeg", 50, 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Process(context.Background(), bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			if p.Original.ContentType != tc.original || p.Preview.ContentType != tc.preview {
				t.Errorf("stored %s with a %s preview, want %s and %s", p.Original.ContentType, p.Preview.ContentType, tc.original, tc.preview)
			}
			if p.Original.Width != tc.w || p.Original.Height != tc.h {
				t.Errorf("stored %d×%d, want %d×%d", p.Original.Width, p.Original.Height, tc.w, tc.h)
			}
			decodeAny(t, p.Original)
			decodeAny(t, p.Preview)
			noSecret(t, "the original", p.Original.Data)
			if len(p.Blurhash) != 2+4+2*15 {
				t.Errorf("blurhash %q has %d characters, want 36", p.Blurhash, len(p.Blurhash))
			}
			if tc.original == "image/gif" {
				g, err := gif.DecodeAll(bytes.NewReader(p.Original.Data))
				if err != nil || len(g.Image) != 3 {
					t.Errorf("stored GIF: %v, %d frames, want 3", err, len(g.Image))
				}
			}
		})
	}
}

func TestProcessScalesDownLargePictures(t *testing.T) {
	p, err := Process(context.Background(), bytes.NewReader(mediatest.JPEG(mediatest.Marked(4200, 2400), 1)))
	if err != nil {
		t.Fatal(err)
	}
	if a := p.Original.Width * p.Original.Height; a > storedPixels || a < storedPixels*9/10 {
		t.Errorf("stored %d×%d (%d pixels), want just under %d", p.Original.Width, p.Original.Height, a, storedPixels)
	}
	if a := p.Preview.Width * p.Preview.Height; a > previewPixels || a < previewPixels*9/10 {
		t.Errorf("preview %d×%d, want about %d pixels", p.Preview.Width, p.Preview.Height, previewPixels)
	}
	ratio := float64(p.Original.Width) / float64(p.Original.Height)
	if ratio < 1.74 || ratio > 1.76 {
		t.Errorf("proportions changed: %d×%d", p.Original.Width, p.Original.Height)
	}
}

func TestProcessRefuses(t *testing.T) {
	var truncated = mediatest.JPEG(mediatest.Marked(64, 64), 1)
	truncated = truncated[:len(truncated)/2]
	tests := []struct {
		name, data, want string
	}{
		{"empty", "", "empty"},
		{"text", "hello, this is not a picture", "not supported"},
		{"BMP", "BM" + strings.Repeat("\x00", 60), "not supported"},
		{"too many bytes", strings.Repeat("\xff", MaxImageBytes+1), "too large"},
		{"PNG claiming 100000×100000 pixels", string(mediatest.PNGBomb(100000, 100000)), "too large"},
		{"truncated JPEG", string(truncated), "could not be read"},
		// 12 frames of 2000×2000 compress to a few kilobytes but decode to 48 MB.
		{"GIF with too many pixels in all", string(mediatest.AnimatedGIF(2000, 2000, 12)), "animation is too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Process(context.Background(), strings.NewReader(tc.data))
			var e *Error
			if !errors.As(err, &e) || !strings.Contains(e.Msg, tc.want) {
				t.Errorf("error %v, want a user error containing %q", err, tc.want)
			}
		})
	}
}

func TestProcessCover(t *testing.T) {
	tests := []struct {
		name         string
		src          image.Image
		w, h         int
		wantW, wantH int
	}{
		{"landscape to square", mediatest.Marked(1000, 500), 400, 400, 400, 400},
		{"portrait to banner", mediatest.Marked(600, 1200), 1500, 500, 600, 200},
		{"small stays small", mediatest.Marked(100, 50), 400, 400, 50, 50},
	}
	for _, tc := range tests {
		img, err := ProcessCover(context.Background(), bytes.NewReader(mediatest.JPEG(tc.src, 1)), tc.w, tc.h)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if img.Width != tc.wantW || img.Height != tc.wantH {
			t.Errorf("%s: %d×%d, want %d×%d", tc.name, img.Width, img.Height, tc.wantW, tc.wantH)
		}
		noSecret(t, tc.name, img.Data)
	}
}

// decodeBlurhash reads back the components of a hash: the inverse of the encoder,
// written from the format's description, to check what the encoder wrote.
func decodeBlurhash(t *testing.T, hash string) (nx, ny int, comps [][3]float64) {
	t.Helper()
	val := func(s string) int {
		v := 0
		for _, c := range s {
			i := strings.IndexRune(base83Chars, c)
			if i < 0 {
				t.Fatalf("blurhash %q has a character outside base 83", hash)
			}
			v = v*83 + i
		}
		return v
	}
	size := val(hash[:1])
	nx, ny = size%9+1, size/9+1
	if len(hash) != 4+2*nx*ny {
		t.Fatalf("blurhash %q: length %d for %d×%d components", hash, len(hash), nx, ny)
	}
	maximum := float64(val(hash[1:2])+1) / 166
	dc := val(hash[2:6])
	toLin := func(v int) float64 { return srgbToLinearTable[v] }
	comps = append(comps, [3]float64{toLin(dc >> 16), toLin(dc >> 8 & 255), toLin(dc & 255)})
	for i := 1; i < nx*ny; i++ {
		v := val(hash[4+2*i : 6+2*i])
		q := [3]int{v / (19 * 19), v / 19 % 19, v % 19}
		var c [3]float64
		for k := range q {
			c[k] = signPow((float64(q[k])-9)/9, 2) * maximum
		}
		comps = append(comps, c)
	}
	return nx, ny, comps
}

func TestBlurhash(t *testing.T) {
	// A flat colour has only its average, exactly.
	flat := image.NewRGBA(image.Rect(0, 0, 30, 20))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []byte{200, 100, 50, 255})
	}
	hash := Blurhash(flat, 4, 3)
	nx, ny, comps := decodeBlurhash(t, hash)
	if nx != 4 || ny != 3 {
		t.Fatalf("%q: %d×%d components, want 4×3", hash, nx, ny)
	}
	if got := [3]int{linearToSRGB(comps[0][0]), linearToSRGB(comps[0][1]), linearToSRGB(comps[0][2])}; got != [3]int{200, 100, 50} {
		t.Errorf("%q: average %v, want [200 100 50]", hash, got)
	}
	// The format samples the cosines at x/w rather than at pixel centres, so even a
	// flat picture has small non-zero components.
	for i, c := range comps[1:] {
		for _, v := range c {
			if v > 0.08 || v < -0.08 {
				t.Errorf("%q: component %d is %v on a flat picture", hash, i+1, c)
			}
		}
	}

	// Dark on the left, light on the right: the first horizontal component is
	// negative (the cosine starts positive on the left, where the picture is dark),
	// and the first vertical one is about zero.
	split := image.NewGray(image.Rect(0, 0, 64, 32))
	for y := 0; y < 32; y++ {
		for x := 32; x < 64; x++ {
			split.Pix[y*split.Stride+x] = 255
		}
	}
	_, _, comps = decodeBlurhash(t, Blurhash(split, 4, 3))
	if comps[1][0] > -0.1 {
		t.Errorf("horizontal component %v, want clearly negative", comps[1][0])
	}
	if v := comps[4][0]; v > 0.05 || v < -0.05 {
		t.Errorf("vertical component %v, want about zero", v)
	}
}

func TestJPEGOrientationMalformed(t *testing.T) {
	good := mediatest.JPEG(mediatest.Marked(8, 8), 6)
	if o := jpegOrientation(good); o != 6 {
		t.Fatalf("orientation %d, want 6", o)
	}
	// Every truncation of the file reads as upright or as 6, never panics.
	for n := 0; n < 200 && n < len(good); n++ {
		if o := jpegOrientation(good[:n]); o != 1 && o != 6 {
			t.Errorf("truncated to %d bytes: orientation %d", n, o)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, mediatest.Marked(4, 4)); err != nil {
		t.Fatal(err)
	}
	if o := jpegOrientation(buf.Bytes()); o != 1 {
		t.Errorf("a PNG has orientation %d", o)
	}
	var plain bytes.Buffer
	if err := jpeg.Encode(&plain, mediatest.Marked(4, 4), nil); err != nil {
		t.Fatal(err)
	}
	if o := jpegOrientation(plain.Bytes()); o != 1 {
		t.Errorf("a JPEG without EXIF has orientation %d", o)
	}
}
