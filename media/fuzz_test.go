package media

import (
	"bytes"
	"context"
	"image"
	"os"
	"testing"

	"github.com/tacit-social/tacit/media/mediatest"
)

// FuzzProcess feeds arbitrary files to the upload path: it must never panic, must
// refuse with an *Error or succeed, and what it stores must decode within the limits.
// Run with: go test ./media -run '^$' -fuzz FuzzProcess -fuzztime 60s
func FuzzProcess(f *testing.F) {
	jpg := mediatest.JPEG(mediatest.Marked(24, 16), 6)
	png := mediatest.PNG(mediatest.Translucent(12, 9))
	gif := mediatest.AnimatedGIF(10, 8, 2)
	for _, seed := range [][]byte{
		jpg, jpg[:len(jpg)/2], png, png[:40], gif, gif[:len(gif)-3],
		mediatest.PNGBomb(60000, 60000), []byte("GIF89a"), []byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*"),
	} {
		f.Add(seed)
	}
	for _, name := range []string{"testdata/gradient.webp", "testdata/translucent.webp"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)*2/3])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Process(context.Background(), bytes.NewReader(data))
		if err != nil {
			if !IsUserError(err) {
				t.Fatalf("not a user error: %v", err)
			}
			return
		}
		for _, img := range []Image{p.Original, p.Preview} {
			cfg, _, err := image.DecodeConfig(bytes.NewReader(img.Data))
			if err != nil {
				t.Fatalf("stored %s does not decode: %v", img.ContentType, err)
			}
			if cfg.Width != img.Width || cfg.Height != img.Height || cfg.Width*cfg.Height > MaxImagePixels {
				t.Fatalf("stored %d×%d, reported %d×%d", cfg.Width, cfg.Height, img.Width, img.Height)
			}
		}
		if p.Blurhash == "" {
			t.Fatal("no blurhash")
		}
	})
}

// FuzzJPEGOrientation: the EXIF reader accepts anything and answers 1–8.
func FuzzJPEGOrientation(f *testing.F) {
	f.Add(mediatest.JPEG(mediatest.Marked(8, 8), 8))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x20Exif\x00\x00II*\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}
