// Package mediatest draws pictures for tests and benchmarks: photographs with EXIF
// metadata as phones write them, transparent PNGs, animated GIFs, and files crafted to
// be refused.
package mediatest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
)

// Secret is written into the EXIF of JPEG returns, where phones write GPS positions
// and camera serial numbers: a test checks that no stored file contains it.
const Secret = "GPS 48.8584N 2.2945E serial 0xC0FFEE"

// Marked draws a w×h picture: a soft gradient with a red block in the top-left
// corner, so that a test can tell which way up it is.
func Marked(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(40 + 100*x/w), uint8(120 + 80*y/h), 200, 255}
			if x < w/5 && y < h/5 {
				c = color.RGBA{230, 20, 20, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

// Photo draws a w×h picture with the fine detail of a photograph (gradients, shapes and
// sensor-like noise), so that JPEG compresses it about as much as a real photo.
func Photo(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride:]
		for x := 0; x < w; x++ {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			r := 120 + 90*math.Sin(fx*9+fy*3)
			g := 110 + 80*math.Cos(fy*7-fx*2)
			b := 100 + 70*math.Sin((fx+fy)*13)
			n := func() float64 { return float64(rng.IntN(41) - 20) }
			row[4*x] = clamp(r + n())
			row[4*x+1] = clamp(g + n())
			row[4*x+2] = clamp(b + n())
			row[4*x+3] = 255
		}
	}
	return img
}

func clamp(v float64) uint8 { return uint8(max(0, min(255, v))) }

// JPEG encodes img as a JPEG whose EXIF says orientation (1–8; 0 writes no EXIF) and
// carries Secret.
func JPEG(img image.Image, orientation int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
		panic(err)
	}
	data := buf.Bytes()
	if orientation == 0 {
		return data
	}
	seg := exifSegment(orientation)
	out := make([]byte, 0, len(data)+len(seg))
	out = append(out, data[:2]...) // SOI
	out = append(out, seg...)
	return append(out, data[2:]...)
}

// exifSegment builds an APP1 Exif segment (big-endian TIFF) with an Orientation tag
// and an ImageDescription holding Secret.
func exifSegment(orientation int) []byte {
	be := binary.BigEndian
	var t bytes.Buffer
	t.WriteString("MM")
	binary.Write(&t, be, uint16(42))
	binary.Write(&t, be, uint32(8)) // first IFD right after the header
	binary.Write(&t, be, uint16(2)) // two entries
	// Orientation: SHORT, 1 value, inline.
	binary.Write(&t, be, uint16(0x0112))
	binary.Write(&t, be, uint16(3))
	binary.Write(&t, be, uint32(1))
	binary.Write(&t, be, uint16(orientation))
	binary.Write(&t, be, uint16(0))
	// ImageDescription: ASCII, stored after the IFD.
	desc := Secret + "\x00"
	binary.Write(&t, be, uint16(0x010E))
	binary.Write(&t, be, uint16(2))
	binary.Write(&t, be, uint32(len(desc)))
	binary.Write(&t, be, uint32(8+2+2*12+4))
	binary.Write(&t, be, uint32(0)) // no next IFD
	t.WriteString(desc)

	payload := append([]byte("Exif\x00\x00"), t.Bytes()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	be.PutUint16(seg[2:], uint16(len(payload)+2))
	return append(seg, payload...)
}

// PNG encodes img as a PNG with a text chunk holding Secret.
func PNG(img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	data := buf.Bytes()
	// Insert a tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
	chunk := pngChunk("tEXt", []byte("Comment\x00"+Secret))
	out := append([]byte{}, data[:33]...)
	out = append(out, chunk...)
	return append(out, data[33:]...)
}

func pngChunk(typ string, body []byte) []byte {
	out := make([]byte, 8, 12+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(body)))
	copy(out[4:], typ)
	out = append(out, body...)
	crc := crc32.ChecksumIEEE(append([]byte(typ), body...))
	return binary.BigEndian.AppendUint32(out, crc)
}

// Translucent draws a w×h picture whose alpha fades from opaque to clear.
func Translucent(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{30, 90, 200, uint8(255 * x / max(1, w-1))})
		}
	}
	return img
}

// AnimatedGIF encodes frames frames of w×h, each a different colour, looping forever,
// with a comment extension holding Secret.
func AnimatedGIF(w, h, frames int) []byte {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{0, 0, 255, 255}}
	g := &gif.GIF{LoopCount: 0}
	for i := 0; i < frames; i++ {
		p := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		for j := range p.Pix {
			p.Pix[j] = uint8(1 + i%3)
		}
		g.Image = append(g.Image, p)
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		panic(err)
	}
	data := buf.Bytes()
	// A comment extension just before the trailer.
	comment := append([]byte{0x21, 0xFE, byte(len(Secret))}, Secret...)
	comment = append(comment, 0)
	out := append([]byte{}, data[:len(data)-1]...)
	out = append(out, comment...)
	return append(out, 0x3B)
}

// PNGBomb is a valid small PNG whose header claims width×height pixels: decoding it
// would allocate for all of them.
func PNGBomb(width, height uint32) []byte {
	data := PNG(image.NewGray(image.Rect(0, 0, 1, 1)))
	binary.BigEndian.PutUint32(data[16:], width)
	binary.BigEndian.PutUint32(data[20:], height)
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// PNGZeroBomb is a valid PNG of width×height 8-bit RGBA pixels whose rows are all zero:
// deflate shrinks them about a thousand times, so a 7680×4320 file weighs about 130 KB
// and decodes to 132 MB.
func PNGZeroBomb(width, height int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(width))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(height))
	ihdr[8], ihdr[9] = 8, 6 // 8 bits per sample, RGBA
	out.Write(pngChunk("IHDR", ihdr))
	var idat bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	row := make([]byte, 1+4*width) // filter byte 0, then zero pixels
	for y := 0; y < height; y++ {
		if _, err := zw.Write(row); err != nil {
			panic(err)
		}
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	out.Write(pngChunk("IDAT", idat.Bytes()))
	out.Write(pngChunk("IEND", nil))
	return out.Bytes()
}

// GIFFrameBomb is an animated GIF on a width×height screen with frames frames of
// frameW×frameH pixels, all of one colour: LZW shrinks each to a few kilobytes, while
// Go's decoder keeps every frame in memory.
func GIFFrameBomb(width, height, frameW, frameH, frames int) []byte {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 255, 255, 255}}
	g := &gif.GIF{LoopCount: 0, Config: image.Config{ColorModel: pal, Width: width, Height: height}}
	for i := 0; i < frames; i++ {
		g.Image = append(g.Image, image.NewPaletted(image.Rect(0, 0, frameW, frameH), pal))
		g.Delay = append(g.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// JPEGFlat is a baseline colour JPEG of width×height pixels of one colour: a few
// hundred kilobytes on disk for a 7680×4320 picture.
func JPEGFlat(width, height int) []byte {
	img := image.NewYCbCr(image.Rect(0, 0, width, height), image.YCbCrSubsampleRatio420)
	for _, p := range [][]byte{img.Y, img.Cb, img.Cr} {
		for i := range p {
			p[i] = 128
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 50}); err != nil {
		panic(err)
	}
	return buf.Bytes()
}
