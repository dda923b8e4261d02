package media

import "encoding/binary"

// scanGIF walks the blocks of a GIF without decompressing anything and returns how
// many frames it has and their total area. Go's GIF decoder keeps every frame in
// memory and has no limit of its own, while LZW data can be small for huge frames: the
// scan lets the caller refuse an animation before decoding it.
func scanGIF(data []byte) (frames int, area int64, err error) {
	bad := fail("The GIF could not be read")
	if len(data) < 13 || (string(data[:6]) != "GIF87a" && string(data[:6]) != "GIF89a") {
		return 0, 0, bad
	}
	i := 13
	if flags := data[10]; flags&0x80 != 0 {
		i += 3 << ((flags & 7) + 1) // global colour table
	}
	skipSubBlocks := func() bool {
		for {
			if i >= len(data) {
				return false
			}
			n := int(data[i])
			i++
			if n == 0 {
				return true
			}
			i += n
		}
	}
	for {
		if i >= len(data) {
			return 0, 0, bad
		}
		switch data[i] {
		case 0x21: // extension: label, then sub-blocks
			i += 2
			if !skipSubBlocks() {
				return 0, 0, bad
			}
		case 0x2C: // image descriptor
			if i+10 > len(data) {
				return 0, 0, bad
			}
			w := int64(binary.LittleEndian.Uint16(data[i+5:]))
			h := int64(binary.LittleEndian.Uint16(data[i+7:]))
			flags := data[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << ((flags & 7) + 1) // local colour table
			}
			i++ // LZW minimum code size
			if !skipSubBlocks() {
				return 0, 0, bad
			}
			frames++
			area += w * h
			if frames > maxGIFFrames || area > MaxImagePixels {
				// Enough to refuse; no need to read the rest.
				return frames, area, nil
			}
		case 0x3B: // trailer
			if frames == 0 {
				return 0, 0, bad
			}
			return frames, area, nil
		default:
			return 0, 0, bad
		}
	}
}
