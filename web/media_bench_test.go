package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
	"github.com/tacit-social/tacit/media/mediatest"
)

// BenchmarkMediaUpload posts what a phone sends to POST /api/v2/media through the
// instance's handler: a 12-megapixel JPEG (4032×3024, about 4 MB) lying on its side
// with EXIF orientation 6. Each upload is parsed from multipart, decoded, turned
// upright, scaled to 3840×2160's area, re-encoded, previewed, hashed (BlurHash), written
// to the media directory (synced) and recorded in SQLite. MB/s counts uploaded bytes.
// "parallel" keeps both cores busy, as concurrent uploads from several people do.
//
//	go test ./web -run '^$' -bench MediaUpload -benchtime 20x
func BenchmarkMediaUpload(b *testing.B) {
	inst := instancetest.Start(b, instancetest.Options{})
	user := inst.CreateUser(b, "photographer", instancetest.UserOptions{})
	photo := mediatest.JPEG(mediatest.Photo(4032, 3024, 7), 6)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "IMG_0001.jpg")
	_, _ = fw.Write(photo)
	_ = mw.WriteField("description", "A photo from the phone")
	_ = mw.Close()
	payload, contentType := body.Bytes(), mw.FormDataContentType()

	upload := func(b *testing.B) {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/media", bytes.NewReader(payload))
		req.Host = inst.Host()
		req.Header.Set("Authorization", "Bearer "+user.Token)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		inst.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("upload: %d %s", rec.Code, rec.Body.String())
		}
	}
	b.Run("serial", func(b *testing.B) {
		b.SetBytes(int64(len(photo)))
		before := instancetest.ProcessCPU(b)
		for b.Loop() {
			upload(b)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
		b.ReportMetric(float64((instancetest.ProcessCPU(b)-before).Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetBytes(int64(len(photo)))
		b.SetParallelism(2)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				upload(b)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "uploads/s")
	})
}
