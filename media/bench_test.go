package media

import (
	"bytes"
	"context"
	"testing"

	"github.com/tacit-social/tacit/media/mediatest"
)

// BenchmarkProcessPhoneJPEG processes what a phone uploads: a 12-megapixel JPEG
// (4032×3024, quality 92, about 4 MB with sensor-like noise) lying on its side with
// EXIF orientation 6. Per upload: decode, turn upright, scale to 3840×2160's area,
// re-encode, preview, BlurHash. MB/s is of uploaded bytes.
func BenchmarkProcessPhoneJPEG(b *testing.B) {
	data := mediatest.JPEG(mediatest.Photo(4032, 3024, 1), 6)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Process(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
}
