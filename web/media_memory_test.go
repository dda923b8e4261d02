package web_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/media/mediatest"
)

// heapPeak samples the heap in use until stop is called and returns the highest value
// seen. The samples are frequent enough for the peaks that matter here: a decoded
// picture stays in the heap until the next collection.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// multipartBody is a form with one file field.
func multipartBody(t *testing.T, field string, data []byte) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, "picture")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return &buf, mw.FormDataContentType()
}

// TestMediaDecompressionBombsMemory: 24 small files that unpack into hundreds of
// megabytes (a 7680×4320 PNG of zero rows, a GIF of four 3840×2160 frames on a
// 7680×4320 screen, a flat 7680×4320 JPEG), uploaded 12 at a time, half of them as
// avatars and headers, keep the process's heap within a fixed bound, whatever the
// number of cores: decoding is bounded by bytes. Every upload is still accepted (the
// pictures are within the advertised limits), so the bound is not met by refusing.
func TestMediaDecompressionBombsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes several hundred megabytes")
	}
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})

	bombs := []struct {
		name string
		data []byte
	}{
		{"png", mediatest.PNGZeroBomb(7680, 4320)},
		{"gif", mediatest.GIFFrameBomb(7680, 4320, 3840, 2160, 4)},
		{"jpeg", mediatest.JPEGFlat(7680, 4320)},
	}
	for _, b := range bombs {
		t.Logf("%s bomb: %d KB", b.name, len(b.data)>>10)
	}

	const uploads, concurrency = 24, 12
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := heapPeak()
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	codes := make([]int, uploads)
	bodies := make([]string, uploads)
	client := &http.Client{Timeout: 5 * time.Minute}
	for i := 0; i < uploads; i++ {
		bomb := bombs[i%len(bombs)]
		method, path, field := http.MethodPost, "/api/v2/media", "file"
		switch i % 4 {
		case 1:
			method, path, field = http.MethodPatch, "/api/v1/accounts/update_credentials", "avatar"
		case 3:
			method, path, field = http.MethodPatch, "/api/v1/accounts/update_credentials", "header"
		}
		body, contentType := multipartBody(t, field, bomb.data)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			req, _ := http.NewRequest(method, inst.URL+path, body)
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("Authorization", "Bearer "+alice.Token)
			resp, err := client.Do(req)
			if err != nil {
				bodies[i] = err.Error()
				return
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			codes[i], bodies[i] = resp.StatusCode, fmt.Sprintf("%s %s as %s: %s", method, path, bomb.name, out)
		}()
	}
	wg.Wait()
	peak := stop()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("upload %d: HTTP %d %s", i, code, bodies[i])
		}
	}
	grown := int64(peak) - int64(before.HeapInuse)
	t.Logf("heap in use: %d MiB before, peak %d MiB (+%d MiB)", before.HeapInuse>>20, peak>>20, grown>>20)
	// The decode budget is 256 MiB; with the collector's slack on top of it and the
	// requests' own buffers, 640 MiB is ample. Before the budget, the same run reached
	// more than a gigabyte.
	const bound = 640 << 20
	if grown > bound {
		t.Errorf("decoding took the heap %d MiB higher (bound %d MiB)", grown>>20, bound>>20)
	}
}
