package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/instance/instancetest"
)

// TestInvalidTextIsRefused: NUL characters and invalid UTF-8 are refused with 422
// wherever text enters the API, on both databases (SQLite stored them; PostgreSQL
// answered 500).
func TestInvalidTextIsRefused(t *testing.T) {
	instancetest.Each(t, instancetest.Options{}, func(t *testing.T, inst *instancetest.Instance) {
		alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
		raw := func(method, path, contentType string, body []byte) instancetest.Answer {
			t.Helper()
			req, err := http.NewRequest(method, inst.URL+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if contentType != "" {
				req.Header.Set("Content-Type", contentType)
			}
			req.Header.Set("Authorization", "Bearer "+alice.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(resp.Body)
			return instancetest.Answer{Code: resp.StatusCode, Header: resp.Header, Body: buf.Bytes()}
		}
		multipartBody := func(field, value string) ([]byte, string) {
			var b bytes.Buffer
			w := multipart.NewWriter(&b)
			_ = w.WriteField(field, value)
			_ = w.Close()
			return b.Bytes(), w.FormDataContentType()
		}
		form := func(v string) []byte { return []byte("status=" + v) }
		mp, mpType := multipartBody("status", "nul\x00here")
		mpBad, mpBadType := multipartBody("display_name", "bad \xff byte")
		cases := []struct {
			name             string
			method, path, ct string
			body             []byte
		}{
			{"form NUL", http.MethodPost, "/api/v1/statuses", "application/x-www-form-urlencoded", form("a%00b")},
			{"form invalid UTF-8", http.MethodPost, "/api/v1/statuses", "application/x-www-form-urlencoded", form("a%FFb")},
			{"JSON NUL", http.MethodPost, "/api/v1/statuses", "application/json", []byte(`{"status":"a\u0000b"}`)},
			{"JSON invalid UTF-8", http.MethodPost, "/api/v1/statuses", "application/json", []byte("{\"status\":\"a\xffb\"}")},
			{"JSON key NUL", http.MethodPost, "/api/v1/statuses", "application/json", []byte(`{"status":"ok","x\u0000":"y"}`)},
			{"multipart NUL", http.MethodPost, "/api/v1/statuses", mpType, mp},
			{"multipart invalid UTF-8", http.MethodPatch, "/api/v1/accounts/update_credentials", mpBadType, mpBad},
			{"query NUL", http.MethodGet, "/api/v1/accounts/lookup?acct=alice%00", "", nil},
			{"query invalid UTF-8", http.MethodGet, "/api/v2/search?q=%FF%FE", "", nil},
			{"path NUL", http.MethodGet, "/api/v1/timelines/tag/a%00b", "", nil},
			{"path invalid UTF-8", http.MethodGet, "/api/v1/tags/%C3%28", "", nil},
			{"form DELETE", http.MethodDelete, "/api/v1/lists/1/accounts", "application/x-www-form-urlencoded", []byte("account_ids[]=%00")},
		}
		for _, tc := range cases {
			a := raw(tc.method, tc.path, tc.ct, tc.body)
			if a.Code != http.StatusUnprocessableEntity || !strings.Contains(string(a.Body), `"error":"Text must be valid UTF-8`) {
				t.Errorf("%s: %d %s, want 422", tc.name, a.Code, a.Body)
			}
		}
		// Nothing was stored, and real text still goes through.
		if a := inst.Call(t, http.MethodPost, "/api/v1/statuses", alice.Token, url.Values{"status": {"héllo ✓ 日本"}}); a.Code != http.StatusOK {
			t.Errorf("valid text: %d %s", a.Code, a.Body)
		}
		var n int64
		if err := inst.DB.Table("statuses").Count(&n).Error; err != nil || n != 1 {
			t.Errorf("statuses stored: %d (%v), want only the valid one", n, err)
		}
	})
}

// TestInvalidTextInStreamingRequests: subscribe messages on the WebSocket are text
// entering the API too.
func TestInvalidTextInStreamingRequests(t *testing.T) {
	t.Parallel()
	inst := instancetest.Start(t, instancetest.Options{})
	alice := inst.CreateUser(t, "alice", instancetest.UserOptions{})
	s, _, err := dialStream(t, inst, "?access_token="+alice.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.send(map[string]string{"type": "subscribe", "stream": "hashtag", "tag": "a\x00b"})
	if f := s.next("the answer", func(f rawFrame) bool { return f.Error != "" }); f.Status != http.StatusUnprocessableEntity {
		t.Errorf("subscribe with a NUL in the tag: %+v, want 422", f)
	}
	// A valid request after it is served.
	s.send(map[string]string{"type": "subscribe", "stream": "hashtag", "tag": "a"})
	inst.PostStatus(t, alice.Token, url.Values{"status": {"#a tagged"}, "visibility": {"public"}})
	s.next("the tagged post", func(f rawFrame) bool { return f.Event == "update" })
}
