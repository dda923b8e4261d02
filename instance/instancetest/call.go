package instancetest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tacit-social/tacit/web/mastoschema"
)

// Answer is a raw HTTP answer.
type Answer struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Call sends a raw API request, for what go-mastodon cannot say (Tacit's scope, error
// bodies, headers). body is nil, url.Values (a form; the query string for GET) or
// anything else (JSON). path may be a full URL, as Link headers give. headers are
// name, value pairs. The answer passes the same schema checks as Client's.
func (inst *Instance) Call(t testing.TB, method, path, token string, body any, headers ...string) Answer {
	t.Helper()
	target := path
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		target = inst.URL + path
	}
	var rd io.Reader
	contentType := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		if method == http.MethodGet {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + b.Encode()
		} else {
			rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
		}
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd, contentType = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := inst.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Answer{Code: resp.StatusCode, Header: resp.Header, Body: data}
}

// PostedStatus identifies a status PostStatus created.
type PostedStatus struct {
	ID         string `json:"id"`
	URI        string `json:"uri"`
	URL        string `json:"url"`
	Visibility string `json:"visibility"`
	Tacit      struct {
		Scope string `json:"scope"`
	} `json:"tacit"`
}

// PostStatus creates a status through the API with raw parameters (status, visibility,
// scope, in_reply_to_id…) and fails the test unless it succeeds.
func (inst *Instance) PostStatus(t testing.TB, token string, form url.Values) PostedStatus {
	t.Helper()
	a := inst.Call(t, http.MethodPost, "/api/v1/statuses", token, form)
	var st PostedStatus
	if a.Code != http.StatusOK || json.Unmarshal(a.Body, &st) != nil || st.ID == "" {
		t.Fatalf("post %v: HTTP %d %s", form, a.Code, a.Body)
	}
	return st
}

// PostStatusAsAsked is PostStatus for audience tests: it also fails the test unless
// the status kept the visibility and scope the form asked for, so that a test about
// who sees a post cannot pass on a post whose audience the server changed.
func (inst *Instance) PostStatusAsAsked(t testing.TB, token string, form url.Values) PostedStatus {
	t.Helper()
	st := inst.PostStatus(t, token, form)
	if want := form.Get("scope"); want != "" && st.Tacit.Scope != want {
		t.Fatalf("post status: scope %q, want %q", st.Tacit.Scope, want)
	}
	if want := form.Get("visibility"); want != "" && st.Visibility != want {
		t.Fatalf("post status: visibility %q, want %q", st.Visibility, want)
	}
	return st
}

// Decode fails the test unless the answer has the wanted status code, then decodes its
// JSON body into into (when not nil).
func (a Answer) Decode(t testing.TB, want int, into any) {
	t.Helper()
	if a.Code != want {
		t.Fatalf("HTTP %d, want %d: %s", a.Code, want, a.Body)
	}
	if into != nil {
		if err := json.Unmarshal(a.Body, into); err != nil {
			t.Fatalf("decode %s: %v", a.Body, err)
		}
	}
}

// ErrorText is the message of a Mastodon error answer ({"error": "…"}), or "" when
// the body is not one.
func (a Answer) ErrorText() string {
	var e struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(a.Body, &e)
	return e.Error
}

// WantError checks an error answer: the wanted status code and a Mastodon error body
// whose message contains msg ("" for any message). what names the request in failure
// messages.
func (a Answer) WantError(t testing.TB, what string, want int, msg string) {
	t.Helper()
	if a.Code != want {
		t.Errorf("%s: status %d, want %d (%s)", what, a.Code, want, a.Body)
		return
	}
	if err := mastoschema.Validate("Error", a.Body); err != nil {
		t.Errorf("%s: error body: %v", what, err)
	}
	text := a.ErrorText()
	if text == "" {
		t.Errorf("%s: body %s is not {\"error\": …}", what, a.Body)
		return
	}
	if !strings.Contains(text, msg) {
		t.Errorf("%s: error %q, want it to contain %q", what, text, msg)
	}
}

// Fetch loads a URL as a browser or a reader's app does: a plain GET without a token
// and without the schema checks, for media files and pages.
func Fetch(t testing.TB, rawURL string) Answer {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", rawURL, err)
	}
	return Answer{Code: resp.StatusCode, Header: resp.Header, Body: data}
}
