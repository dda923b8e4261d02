package media

import (
	"bytes"
	"context"
	"image"
	"image/gif"
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

// FuzzProcessCover: avatars and headers take the same hostile files as attachments;
// the result is never larger than asked.
// Run with: go test ./media -run '^$' -fuzz FuzzProcessCover -fuzztime 60s
func FuzzProcessCover(f *testing.F) {
	f.Add(mediatest.JPEG(mediatest.Marked(40, 30), 6), 16, 16)
	f.Add(mediatest.PNG(mediatest.Translucent(30, 12)), 30, 10)
	f.Add(mediatest.AnimatedGIF(12, 10, 3), 8, 8)
	f.Add(mediatest.PNGBomb(7680, 4320), 400, 400)
	f.Fuzz(func(t *testing.T, data []byte, w, h int) {
		if w < 1 || h < 1 || w > 64 || h > 64 {
			return
		}
		img, err := ProcessCover(context.Background(), bytes.NewReader(data), w, h)
		if err != nil {
			if !IsUserError(err) {
				t.Fatalf("not a user error: %v", err)
			}
			return
		}
		if img.Width > w || img.Height > h || img.Width < 1 || img.Height < 1 {
			t.Fatalf("cover %d×%d for a %d×%d box", img.Width, img.Height, w, h)
		}
	})
}

// FuzzScanGIF: the scan that bounds an animation before decoding agrees with the
// decoder on every GIF the decoder reads: same frames, same area. A scan that
// counted less would let a bomb past the limits.
func FuzzScanGIF(f *testing.F) {
	f.Add(mediatest.AnimatedGIF(10, 8, 3))
	f.Add(mediatest.GIFFrameBomb(64, 64, 32, 16, 5))
	f.Add([]byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, area, err := scanGIF(data)
		if err != nil {
			if !IsUserError(err) {
				t.Fatalf("not a user error: %v", err)
			}
		}
		g, derr := gif.DecodeAll(bytes.NewReader(data))
		if derr != nil || err != nil || frames > maxGIFFrames || area > MaxImagePixels {
			return
		}
		var want int64
		for _, fr := range g.Image {
			want += int64(fr.Bounds().Dx()) * int64(fr.Bounds().Dy())
		}
		if frames != len(g.Image) || area < want {
			t.Fatalf("scan: %d frames, %d pixels; decoder: %d frames, %d pixels", frames, area, len(g.Image), want)
		}
	})
}

// FuzzDecodeEstimate: the header reader behind the decode budget accepts anything
// and never estimates less than the decoded picture's own pixels.
func FuzzDecodeEstimate(f *testing.F) {
	f.Add(mediatest.JPEG(mediatest.Marked(24, 16), 6))
	f.Add(mediatest.PNG(mediatest.Translucent(12, 9)))
	f.Add(mediatest.AnimatedGIF(10, 8, 2))
	f.Add([]byte("\xff\xd8\xff\xc2\x00\x11\x08\x10\x00\x10\x00\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if planes, _, comps := jpegLayout(data); planes <= 0 || planes > 255 || comps < 1 {
			t.Fatalf("jpeg layout: %v planes, %d components", planes, comps)
		}
		h, err := inspect(data)
		if err != nil {
			return
		}
		est := processBytes(data, h)
		img, _, err := image.Decode(bytes.NewReader(data))
		if err != nil {
			return
		}
		b := img.Bounds()
		if min := int64(b.Dx()) * int64(b.Dy()); est < min {
			t.Fatalf("estimate %d bytes for %d pixels", est, min)
		}
	})
}
