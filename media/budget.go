package media

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"sync"

	"golang.org/x/sync/semaphore"
)

// Decoding is bounded by bytes, not by a count of pictures: a 94 KB PNG can unpack
// into 130 MB, and a resampling buffer can be larger still, so "as many decodes as
// cores" is either too strict for small pictures or far too loose for large ones.
// Before decoding, every picture's peak memory is estimated from its header (width ×
// height × bytes per pixel of the decoder's own representation, plus the working
// buffers of scaling, turning and encoding), and that many bytes are taken from one
// process-wide budget until the picture is done. A picture whose estimate exceeds the
// whole budget is refused; the others wait their turn.

// DefaultDecodeBudget is the memory all decodes together may use at once. It holds the
// largest picture accepted (7680×4320 RGBA: 132 MB decoded plus its working buffers)
// with a margin; the heap can grow to about twice the budget before the collector
// reclaims what finished decodes left.
const DefaultDecodeBudget = 256 << 20

// budget is the process-wide decode budget; its size is kept beside it because a
// semaphore does not tell its own size.
var budget = struct {
	sync.Mutex
	sem  *semaphore.Weighted
	size int64
}{sem: semaphore.NewWeighted(DefaultDecodeBudget), size: DefaultDecodeBudget}

// SetDecodeBudget sets the memory, in bytes, that decoding pictures may use at once
// (DefaultDecodeBudget unless set). It is meant for start-up: decodes already waiting
// keep the budget they started with.
func SetDecodeBudget(n int64) {
	budget.Lock()
	defer budget.Unlock()
	budget.sem, budget.size = semaphore.NewWeighted(n), n
}

// DecodeBudget returns the budget's size in bytes.
func DecodeBudget() int64 {
	budget.Lock()
	defer budget.Unlock()
	return budget.size
}

// reserve takes n bytes of the budget, waiting while other decodes hold it, and returns
// the function that gives them back. A picture larger than the whole budget is refused
// at once, with a message for its uploader.
func reserve(ctx context.Context, n int64) (release func(), err error) {
	budget.Lock()
	sem, size := budget.sem, budget.size
	budget.Unlock()
	if n > size {
		return nil, fail("The image is too large to process (about %d MB in memory; at most %d MB)", n>>20, size>>20)
	}
	if err := sem.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("wait for decode memory: %w", err)
	}
	return func() { sem.Release(n) }, nil
}

// Estimates are in bytes. They round up: the point is an upper bound.
const mib = 1 << 20

// decodedBytes estimates what the decoder allocates for a picture of the given format
// whose header says cfg: the image it returns and, for progressive JPEGs and
// interlaced PNGs, the buffers it keeps while decoding. GIFs are counted apart, in
// gifBytes, because every frame is kept.
func decodedBytes(data []byte, cfg image.Config, format string) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "jpeg":
		planes, progressive, components := jpegLayout(data)
		b := float64(px) * planes
		if components == 4 {
			b += 4 * float64(px) // CMYK comes out as a second, 4-byte image
		}
		if progressive {
			// The decoder keeps every DCT coefficient: 64 int32 per 8×8 block of each
			// component, that is 4 bytes per pixel of each plane.
			b += 4 * float64(px) * planes
		}
		return int64(b*1.05) + mib // MCU rounding
	case "png":
		b := px * bytesPerPixel(cfg.ColorModel)
		if len(data) > 28 && data[28] == 1 {
			b *= 2 // Adam7: each pass is decoded apart, then copied into the image
		}
		return b + mib
	case "webp":
		// Lossless WebP decodes into 32-bit words, then into NRGBA; lossy is YCbCr.
		return 8*px + mib
	}
	return 8 * px
}

// bytesPerPixel is the size of a pixel in the image a decoder returns for a colour
// model; unknown models count as the widest.
func bytesPerPixel(m color.Model) int64 {
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8
}

// jpegLayout reads a JPEG's frame header: how many bytes per pixel its planes take
// together (3 for 4:4:4 colour, 1.5 for 4:2:0, 1 for grey), whether it is progressive,
// and how many components it has. What it cannot read counts as the worst case.
func jpegLayout(data []byte) (planes float64, progressive bool, components int) {
	worst := func() (float64, bool, int) { return 4, true, 4 }
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return worst()
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return worst()
		}
		marker := data[i+1]
		if marker == 0xFF { // fill byte
			i++
			continue
		}
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			i += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return worst()
		}
		seg := data[i+4 : i+2+n]
		if marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
			// SOFn: precision, height, width, component count, then 3 bytes per
			// component of which the second holds the sampling factors.
			if len(seg) < 6 {
				return worst()
			}
			nc := int(seg[5])
			if nc < 1 || len(seg) < 6+3*nc {
				return worst()
			}
			hmax, vmax := 1, 1
			for c := 0; c < nc; c++ {
				f := seg[6+3*c+1]
				hmax, vmax = max(hmax, int(f>>4)), max(vmax, int(f&15))
			}
			for c := 0; c < nc; c++ {
				f := seg[6+3*c+1]
				planes += float64(max(1, int(f>>4))*max(1, int(f&15))) / float64(hmax*vmax)
			}
			return planes, marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE, nc
		}
		if marker == 0xDA { // start of scan before any frame header
			return worst()
		}
		i += 2 + n
	}
	return worst()
}

// processBytes estimates the peak memory of Process for a picture: the file itself
// (read into memory, in a buffer that may have doubled), what the decoder allocates,
// and the buffers that follow. A still picture is halved down to at most storedPixels
// (each halving a quarter of the last: a third of the picture's pixels at 4 bytes in
// all), turned if its EXIF says so (a copy and a turned copy), encoded (an output
// buffer that may double while it grows; a JPEG's is smaller than a PNG's) and halved
// again to a preview. An animation keeps its frames, draws the first on a canvas,
// halves the canvas to a preview, and is encoded again.
func processBytes(data []byte, h header) int64 {
	px := int64(h.cfg.Width) * int64(h.cfg.Height)
	file := 2*int64(len(data)) + mib
	halvings := 14 * px / 10
	if h.format == "gif" {
		// The encoder's and decoder's own buffers take a few megabytes more.
		return file + h.gifArea + 4*px + halvings + 3*int64(len(data)) + 4*mib
	}
	s := min(px, storedPixels)
	est := file + decodedBytes(data, h.cfg, h.format) + halvings
	if h.format == "jpeg" {
		est += 4 * s
	} else {
		est += 2 * 4 * s
	}
	if h.orientation > 1 {
		est += 2 * 4 * s
	}
	return est
}

// coverBytes estimates the peak memory of ProcessCover for a w×h target: the file,
// what the decoder allocates (every frame and a canvas, for a GIF), the halvings of
// the picture, and a few copies at four times the target's area.
func coverBytes(data []byte, h header, w, ht int) int64 {
	px := int64(h.cfg.Width) * int64(h.cfg.Height)
	work := 2*int64(len(data)) + mib + 14*px/10 + 3*4*4*int64(w)*int64(ht)
	if h.format == "gif" {
		return h.gifArea + 4*px + work + 4*mib
	}
	return decodedBytes(data, h.cfg, h.format) + work
}
