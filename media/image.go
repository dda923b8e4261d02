// Package media turns uploaded pictures into the files Tacit stores and serves: it
// checks the type and the size before decoding anything, re-encodes the image (which
// drops EXIF, GPS positions, comments and every other kind of metadata), turns JPEGs
// upright as their EXIF orientation says, makes a small preview and a BlurHash, and
// keeps the files in a Store. It knows nothing of accounts or posts.
package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"time"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // registers WebP with image.Decode
)

// Limits on what an upload may be. They are what the instance API advertises.
const (
	// MaxImageBytes is the largest file accepted.
	MaxImageBytes = 16 << 20
	// MaxImagePixels is the largest picture accepted (7680×4320), checked from the
	// header before decoding, so that a small file cannot unpack into gigabytes.
	MaxImagePixels = 7680 * 4320
	// storedPixels is the largest picture kept: bigger ones are scaled down to this
	// area (3840×2160), which is more than any screen shows.
	storedPixels = 3840 * 2160
	// previewPixels is the area of the preview clients show in timelines (640×360).
	previewPixels = 640 * 360
	// maxGIFFrames bounds the frames of an animated GIF; their total area is bounded
	// by MaxImagePixels as well.
	maxGIFFrames = 5000
	// JPEG qualities of the stored picture and of the preview.
	originalQuality = 88
	previewQuality  = 80
)

// SupportedTypes are the media types an upload may have.
var SupportedTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// Error is a problem with the uploaded file, with a message fit for its uploader.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func fail(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// IsUserError reports whether err is about the file rather than the server.
func IsUserError(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// Image is one encoded picture.
type Image struct {
	Data        []byte
	ContentType string
	Ext         string // file extension without the dot: jpg, png, gif
	Width       int
	Height      int
}

// Processed is an upload made ready to store: the picture to serve, its preview and
// its BlurHash.
type Processed struct {
	Original Image
	Preview  Image
	Blurhash string
}

// Process reads an uploaded picture (JPEG, PNG, GIF or WebP, at most MaxImageBytes
// and MaxImagePixels) and returns what to store. JPEGs and WebPs become JPEGs (PNGs
// when they have transparency), PNGs stay PNGs and GIFs stay GIFs with every frame;
// everything is re-encoded, so no metadata survives. It waits for its share of the
// decode budget (see budget.go) for as long as ctx allows.
func Process(ctx context.Context, r io.Reader) (*Processed, error) {
	start := time.Now()
	p, err := process(ctx, r)
	observe(ctx, "attachment", start, err)
	return p, err
}

func process(ctx context.Context, r io.Reader) (*Processed, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	h, err := inspect(data)
	if err != nil {
		return nil, err
	}
	release, err := reserve(ctx, processBytes(data, h))
	if err != nil {
		return nil, err
	}
	defer release()

	d, err := decode(data, h)
	if err != nil {
		return nil, err
	}
	var out Processed
	still := d.still
	if d.anim != nil {
		var buf bytes.Buffer
		if err := gif.EncodeAll(&buf, d.anim); err != nil {
			return nil, fail("The GIF could not be read: %v", err)
		}
		b := d.anim.Config
		out.Original = Image{Data: buf.Bytes(), ContentType: "image/gif", Ext: "gif", Width: b.Width, Height: b.Height}
		d.anim = nil // the frames are no longer needed for the preview
	} else {
		// Scaling before turning keeps the turn (a copy of every pixel) to the
		// smaller picture; the area is the same either way up.
		still = orient(scaleToArea(still, storedPixels), d.orientation)
		d.still = nil
		keepPNG := d.format == "png"
		if out.Original, err = encodeStill(still, keepPNG, originalQuality); err != nil {
			return nil, err
		}
	}
	preview := scaleToArea(still, previewPixels)
	if out.Preview, err = encodeStill(preview, false, previewQuality); err != nil {
		return nil, err
	}
	out.Blurhash = Blurhash(preview, 4, 4)
	return &out, nil
}

// ProcessCover reads an uploaded picture as Process does and crops it to fill
// width×height (avatars are square, headers 3:1), scaling down but never up. The
// first frame of an animated GIF is kept.
func ProcessCover(ctx context.Context, r io.Reader, width, height int) (*Image, error) {
	start := time.Now()
	img, err := processCover(ctx, r, width, height)
	observe(ctx, "cover", start, err)
	return img, err
}

func processCover(ctx context.Context, r io.Reader, width, height int) (*Image, error) {
	data, err := readLimited(r)
	if err != nil {
		return nil, err
	}
	h, err := inspect(data)
	if err != nil {
		return nil, err
	}
	release, err := reserve(ctx, coverBytes(data, h, width, height))
	if err != nil {
		return nil, err
	}
	defer release()

	d, err := decode(data, h)
	if err != nil {
		return nil, err
	}
	// Scaled first to a few times the target area (proportions kept), so that turning
	// and cropping work on a small picture.
	still := orient(scaleToArea(d.still, 4*width*height), d.orientation)
	img, err := encodeStill(cover(still, width, height), false, originalQuality)
	if err != nil {
		return nil, err
	}
	return &img, nil
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read upload: %w", err)
	}
	if len(data) > MaxImageBytes {
		return nil, fail("File is too large (maximum is %d MB)", MaxImageBytes>>20)
	}
	if len(data) == 0 {
		return nil, fail("The file is empty")
	}
	return data, nil
}

// decoded is a decoded upload: the still picture (the first frame of a GIF, drawn on
// its canvas), and every frame for GIFs.
type decoded struct {
	format      string
	still       image.Image
	anim        *gif.GIF
	orientation int // EXIF orientation of a JPEG, still to be applied; 1 otherwise
}

// header is what a picture's header says, checked against the limits.
type header struct {
	cfg     image.Config
	format  string
	gifArea int64 // total area of a GIF's frames
	// orientation is a JPEG's EXIF orientation, still to be applied; 1 otherwise.
	orientation int
}

// inspect checks the format and the dimensions from the header, and for GIFs the
// frames, without decoding any pixels.
func inspect(data []byte) (h header, err error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return h, fail("File type is not supported (use JPEG, PNG, GIF or WebP)")
		}
		return h, fail("The image could not be read")
	}
	switch format {
	case "jpeg", "png", "gif", "webp":
	default:
		return h, fail("File type is not supported (use JPEG, PNG, GIF or WebP)")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return h, fail("The image has no pixels")
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return h, fail("The image is too large (%d×%d; at most %d pixels)", cfg.Width, cfg.Height, MaxImagePixels)
	}
	h.cfg, h.format, h.orientation = cfg, format, 1
	if format == "jpeg" {
		h.orientation = jpegOrientation(data)
	}
	if format == "gif" {
		frames, area, err := scanGIF(data)
		if err != nil {
			return h, err
		}
		if frames > maxGIFFrames || area > MaxImagePixels {
			return h, fail("The animation is too large (%d frames, %d pixels in all)", frames, area)
		}
		h.gifArea = area
	}
	return h, nil
}

// decode decodes a picture whose header inspect accepted.
func decode(data []byte, h header) (d decoded, err error) {
	d.format, d.orientation = h.format, h.orientation
	// The decoders are not expected to panic, but they read hostile input: a panic is
	// a bad file, not a dead server.
	defer func() {
		if r := recover(); r != nil {
			d, err = decoded{}, fail("The image could not be read")
		}
	}()
	if h.format == "gif" {
		g, err := gif.DecodeAll(bytes.NewReader(data))
		if err != nil || len(g.Image) == 0 {
			return d, fail("The GIF could not be read")
		}
		d.anim = g
		canvas := image.NewNRGBA(image.Rect(0, 0, g.Config.Width, g.Config.Height))
		draw.Draw(canvas, g.Image[0].Bounds(), g.Image[0], g.Image[0].Bounds().Min, draw.Over)
		d.still = canvas
		return d, nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return d, fail("The image could not be read")
	}
	d.still = img
	return d, nil
}

// encodeStill encodes a picture as JPEG, or as PNG when it has transparency or when
// keepPNG asks for it (a PNG upload stays lossless).
func encodeStill(img image.Image, keepPNG bool, quality int) (Image, error) {
	b := img.Bounds()
	out := Image{Width: b.Dx(), Height: b.Dy()}
	var buf bytes.Buffer
	if keepPNG || !opaque(img) {
		enc := png.Encoder{CompressionLevel: png.DefaultCompression}
		if err := enc.Encode(&buf, img); err != nil {
			return Image{}, fmt.Errorf("encode png: %w", err)
		}
		out.ContentType, out.Ext = "image/png", "png"
	} else {
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
			return Image{}, fmt.Errorf("encode jpeg: %w", err)
		}
		out.ContentType, out.Ext = "image/jpeg", "jpg"
	}
	out.Data = buf.Bytes()
	return out, nil
}

// opaque reports whether every pixel is fully opaque.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if _, _, _, a := img.At(x, y).RGBA(); a != 0xffff {
				return false
			}
		}
	}
	return true
}

// scaleToArea scales img down, keeping its proportions, so that it has at most
// maxPixels pixels; smaller pictures are returned as they are.
func scaleToArea(img image.Image, maxPixels int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w*h <= maxPixels {
		return img
	}
	f := math.Sqrt(float64(maxPixels) / float64(w*h))
	return scaleTo(img, b, max(1, int(float64(w)*f)), max(1, int(float64(h)*f)))
}

// fitWithin scales img to fit a maxW×maxH box, keeping its proportions; it enlarges
// smaller pictures only when upscale is set.
func fitWithin(img image.Image, maxW, maxH int, upscale bool) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w == 0 || h == 0 || (!upscale && w <= maxW && h <= maxH) {
		return img
	}
	f := math.Min(float64(maxW)/float64(w), float64(maxH)/float64(h))
	return scaleTo(img, b, max(1, int(float64(w)*f)), max(1, int(float64(h)*f)))
}

// cover crops img to the proportions of w×h around its centre and scales the crop to
// w×h, or keeps the crop's size when it is smaller than that.
func cover(img image.Image, w, h int) image.Image {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	cw, ch := sw, max(1, sw*h/w)
	if ch > sh {
		ch, cw = sh, max(1, sh*w/h)
	}
	crop := image.Rect(b.Min.X+(sw-cw)/2, b.Min.Y+(sh-ch)/2, 0, 0)
	crop.Max = crop.Min.Add(image.Pt(cw, ch))
	ow, oh := w, h
	if cw < w {
		ow, oh = cw, ch
	}
	return scaleTo(img, crop, ow, oh)
}

// scaleTo resamples the src part of img to w×h. A strong reduction first halves the
// picture, as often as it stays at least twice the target, by averaging each 2×2
// block (ApproxBiLinear at exactly half does that); the last step, to no less than
// half, interpolates between neighbours. Halving costs a quarter of the picture's
// pixels in memory, where a one-step bilinear filter keeps 32 bytes per source row
// and destination column: 318 MB to make a header from a 7680×4320 picture.
func scaleTo(img image.Image, src image.Rectangle, w, h int) *image.RGBA {
	for src.Dx()/2 >= w && src.Dy()/2 >= h {
		// An odd last row or column is left out: it is one pixel of thousands.
		half := image.NewRGBA(image.Rect(0, 0, src.Dx()/2, src.Dy()/2))
		even := image.Rectangle{Min: src.Min, Max: src.Min.Add(image.Pt(2*half.Rect.Dx(), 2*half.Rect.Dy()))}
		draw.ApproxBiLinear.Scale(half, half.Rect, img, even, draw.Src, nil)
		img, src = half, half.Rect
	}
	if r, ok := img.(*image.RGBA); ok && src.Dx() == w && src.Dy() == h && src == r.Rect {
		return r
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	if 2*w >= src.Dx() && 2*h >= src.Dy() {
		draw.ApproxBiLinear.Scale(dst, dst.Rect, img, src, draw.Src, nil)
	} else {
		draw.BiLinear.Scale(dst, dst.Rect, img, src, draw.Src, nil)
	}
	return dst
}

// toRGBA returns img as an *image.RGBA with its origin at 0,0.
func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	b := img.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}

// toNRGBA returns img as an *image.NRGBA with its origin at 0,0.
func toNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok && n.Rect.Min == (image.Point{}) {
		return n
	}
	b := img.Bounds()
	dst := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Src)
	return dst
}

// orient turns a picture upright according to its EXIF orientation (1–8): phones
// store pixels as the sensor reads them and say in EXIF how to turn them, and that
// EXIF is about to be dropped.
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	src := toRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		row := src.Pix[y*src.Stride : y*src.Stride+4*w]
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // upside down
				dx, dy = w-1-x, h-1-y
			case 4: // mirrored upside down
				dx, dy = x, h-1-y
			case 5: // transposed
				dx, dy = y, x
			case 6: // turned a quarter anticlockwise: turn it clockwise
				dx, dy = h-1-y, x
			case 7: // transversed
				dx, dy = h-1-y, w-1-x
			case 8: // turned a quarter clockwise: turn it back
				dx, dy = y, w-1-x
			}
			i := dy*dst.Stride + 4*dx
			copy(dst.Pix[i:i+4], row[4*x:4*x+4])
		}
	}
	return dst
}
