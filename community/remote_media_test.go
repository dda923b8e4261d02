package community

import "testing"

// TestRemoteMediaURL: a peer's media URL is kept only on the peer's own host or a
// subdomain of it, over http(s), without credentials.
func TestRemoteMediaURL(t *testing.T) {
	for _, tc := range []struct {
		raw, origin string
		keep        bool
	}{
		{"https://social.example/media/a.png", "social.example", true},
		{"https://SOCIAL.example/media/a.png", "social.example", true},
		{"https://files.social.example/a.png", "social.example", true},
		{"http://127.0.0.1:8080/media/a.png", "127.0.0.1:8080", true},
		{"http://127.0.0.1:9090/media/a.png", "127.0.0.1:8080", false},
		{"http://1.127.0.0.1:8080/a.png", "127.0.0.1:8080", false},
		{"https://files.social.example:8443/a.png", "social.example", false},
		{"https://evilsocial.example/a.png", "social.example", false},
		{"https://social.example.evil.test/a.png", "social.example", false},
		{"http://169.254.169.254/latest/meta-data/", "social.example", false},
		{"http://127.0.0.1:5432/", "social.example", false},
		{"file:///etc/passwd", "social.example", false},
		{"ftp://social.example/a.png", "social.example", false},
		{"https://user:pw@social.example/a.png", "social.example", false},
		{"//social.example/a.png", "social.example", false},
		{"https://social.example/a.png", "", false},
		{"", "social.example", false},
	} {
		got := remoteMediaURL(tc.raw, tc.origin)
		if (got != "") != tc.keep {
			t.Errorf("remoteMediaURL(%q, %q) = %q, keep %v", tc.raw, tc.origin, got, tc.keep)
		}
	}
}
