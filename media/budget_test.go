package media

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/media/mediatest"
)

// allocated returns how many bytes fn allocated in all (garbage included): an upper
// bound of the memory it held at any moment.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeEstimatesAreUpperBounds: for pictures at the limits, the estimate the
// budget is charged covers everything Process and ProcessCover allocate.
func TestDecodeEstimatesAreUpperBounds(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes large pictures")
	}
	ctx := context.Background()
	SetDecodeBudget(1 << 40) // measure, do not refuse
	defer SetDecodeBudget(DefaultDecodeBudget)
	for _, tc := range []struct {
		name    string
		data    []byte
		refused bool // the pixels are missing: decoding fails, after allocating
	}{
		{"png rgba 7680x4320", mediatest.PNGZeroBomb(7680, 4320), false},
		{"png gray 7680x4320", mediatest.PNGBomb(7680, 4320), true},
		{"gif 4 frames 3840x2160 on 7680x4320", mediatest.GIFFrameBomb(7680, 4320, 3840, 2160, 4), false},
		{"jpeg 7680x4320", mediatest.JPEGFlat(7680, 4320), false},
		{"jpeg 4000x3000 photo", mediatest.JPEG(mediatest.Photo(4000, 3000, 1), 6), false},
	} {
		h, err := inspect(tc.data)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		est := processBytes(tc.data, h)
		got := allocated(func() {
			if _, err := Process(ctx, bytes.NewReader(tc.data)); (err != nil) != tc.refused {
				t.Fatalf("%s: %v", tc.name, err)
			}
		})
		t.Logf("%s: Process allocated %d MB, estimate %d MB", tc.name, got>>20, est>>20)
		if int64(got) > est {
			t.Errorf("%s: Process allocated %d MB, more than its estimate %d MB", tc.name, got>>20, est>>20)
		}
		for _, size := range [][2]int{{400, 400}, {1500, 500}} {
			est := coverBytes(tc.data, h, size[0], size[1])
			got := allocated(func() {
				if _, err := ProcessCover(ctx, bytes.NewReader(tc.data), size[0], size[1]); (err != nil) != tc.refused {
					t.Fatalf("%s: %v", tc.name, err)
				}
			})
			t.Logf("%s: ProcessCover %v allocated %d MB, estimate %d MB", tc.name, size, got>>20, est>>20)
			if int64(got) > est {
				t.Errorf("%s: ProcessCover %v allocated %d MB, more than its estimate %d MB", tc.name, size, got>>20, est>>20)
			}
		}
	}
}

// TestDecodeBudgetWaitsAndRefuses: a picture larger than the whole budget is refused
// with a message for its uploader; one that fits waits while others hold the budget,
// for as long as its request lasts.
func TestDecodeBudgetWaitsAndRefuses(t *testing.T) {
	SetDecodeBudget(64 << 20)
	defer SetDecodeBudget(DefaultDecodeBudget)
	_, err := Process(context.Background(), bytes.NewReader(mediatest.PNGZeroBomb(4000, 4000)))
	if !IsUserError(err) || !strings.Contains(err.Error(), "too large to process") {
		t.Fatalf("a picture over the budget: %v", err)
	}

	small := mediatest.PNG(mediatest.Marked(64, 64))
	release, err := reserve(context.Background(), DecodeBudget()) // another decode holds it all
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the uploader has left
	if _, err := Process(ctx, bytes.NewReader(small)); !errors.Is(err, context.Canceled) || IsUserError(err) {
		t.Errorf("waiting for a held budget: %v", err)
	}
	release()
	if _, err := Process(context.Background(), bytes.NewReader(small)); err != nil {
		t.Errorf("once the budget is free: %v", err)
	}
}
