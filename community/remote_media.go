package community

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/tacit-social/tacit/media"
)

// Remote media: avatars, headers and attachment pictures of remote accounts and posts.
//
// A peer says where its pictures are, and that address is only accepted when it is an
// http(s) URL on the peer's own host (or a subdomain of it, where instances keep their
// media): one instance cannot make another fetch, or make its readers' browsers load,
// something on a third host, an internal address or a file. Clients are never given the
// peer's address to load either: they get an address on this instance
// (/media_proxy/…), signed with the instance's secret so that nobody can make up one,
// and the first request for it fetches the picture through the same outgoing rules as
// every federation request (the peer allowlist; no private, loopback or link-local
// address unless the host is a company peer), processes it as an upload (within the
// decode budget, metadata dropped) and keeps the result in the media store. Readers'
// addresses thus never reach the peer, and whatever the peer serves is re-encoded
// before a browser sees it. Videos and other files are not fetched: clients get the
// checked remote address.

// MediaFetcher fetches a remote media file through the instance's outgoing-connection
// rules, reading at most maxBytes.
type MediaFetcher interface {
	FetchMedia(ctx context.Context, rawURL string, maxBytes int64) ([]byte, error)
}

// remoteMediaProxy is what the service needs to serve remote pictures itself.
type remoteMediaProxy struct {
	fetcher MediaFetcher
	secret  []byte
	flight  singleflight.Group
	// failed remembers recent failed fetches, so that a broken or refused picture
	// shown in a busy timeline costs one outgoing request per few minutes, not one per
	// reader.
	mu     sync.Mutex
	failed map[string]time.Time
}

// Bounds of the failure memory.
const (
	proxyFailureTTL  = 5 * time.Minute
	proxyMaxFailures = 10000
)

// SetRemoteMedia makes the service serve remote pictures from its own copies, fetched
// through fetcher. secret signs the proxy addresses; it must stay the same across
// restarts, or clients' cached addresses stop working (the copies are fetched again).
func (s *Service) SetRemoteMedia(fetcher MediaFetcher, secret []byte) {
	s.proxy = &remoteMediaProxy{fetcher: fetcher, secret: append([]byte(nil), secret...), failed: map[string]time.Time{}}
}

// remoteMediaURL keeps a media URL a remote instance sent when it is on that
// instance's own host (see originURL); anything else becomes "".
func remoteMediaURL(raw, origin string) string { return originURL(raw, origin) }

// originURL keeps a URL a remote instance sent (a picture, an inbox, a profile page)
// when it is an absolute http(s) URL, without credentials, on that instance's own host
// (origin, host[:port]) or on a subdomain of it; anything else becomes "".
func originURL(raw, origin string) string {
	if raw == "" || len(raw) > 2048 || origin == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	host, origin := strings.ToLower(u.Host), strings.ToLower(origin)
	if host == origin {
		return raw
	}
	// A subdomain (files.example.com for example.com), on the same port. Not for
	// address literals, whose "subdomains" are other addresses.
	oh, op := splitHostPort(origin)
	hh, hp := splitHostPort(host)
	if net.ParseIP(oh) != nil || hp != op || !strings.HasSuffix(hh, "."+oh) {
		return ""
	}
	return raw
}

func splitHostPort(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return strings.Trim(h, "[]"), p
	}
	return strings.Trim(hostport, "[]"), ""
}

// ProfileImageURLs are the addresses clients load an account's avatar and header
// from: this instance's files for a local account; for a remote one, this instance's
// copy of the peer's picture, or "" when the account has none (or names one
// elsewhere than on its own host).
func (s *Service) ProfileImageURLs(a *Account) (avatar, header string) {
	if a.IsLocal() {
		return a.AvatarURL, a.HeaderURL
	}
	return s.remoteProfileImageURL(a, PurposeAvatar), s.remoteProfileImageURL(a, PurposeHeader)
}

func (s *Service) remoteProfileImageURL(a *Account, purpose MediaPurpose) string {
	raw := a.AvatarURL
	if purpose == PurposeHeader {
		raw = a.HeaderURL
	}
	// Checked again here: accounts stored before the check existed may name anything.
	if raw = remoteMediaURL(raw, a.Domain); raw == "" {
		return ""
	}
	if s.proxy == nil {
		return raw
	}
	ref := proxyRefKind(purpose) + strconv.FormatInt(a.ID, 10)
	return s.baseURL + "/media_proxy/" + ref + "." + s.proxy.mac(ref, raw) + "/" + string(purpose)
}

// remoteAttachmentURLs are the addresses of a remote attachment: this instance's
// copies of a picture, or the remote address of anything else.
func (s *Service) remoteAttachmentURLs(m *MediaAttachment) (url, preview string) {
	if s.proxy == nil || m.Type != MediaImage {
		return m.RemoteURL, m.RemoteURL
	}
	ref := "m" + strconv.FormatInt(m.ID, 10)
	base := s.baseURL + "/media_proxy/" + ref + "." + s.proxy.mac(ref, m.RemoteURL) + "/"
	return base + "original", base + "small"
}

func proxyRefKind(p MediaPurpose) string {
	switch p {
	case PurposeAvatar:
		return "a"
	case PurposeHeader:
		return "h"
	}
	return "m"
}

// mac signs a proxy reference together with the remote URL it stands for, so that
// the address dies when the URL changes (a new avatar) and cannot be made up.
func (p *remoteMediaProxy) mac(ref, remote string) string {
	h := hmac.New(sha256.New, p.secret)
	h.Write([]byte("media-proxy\n" + ref + "\n" + remote))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// cacheKey names the stored copy of a remote picture: by its URL and what it was made
// into (an attachment with its preview, an avatar, a header).
func (p *remoteMediaProxy) cacheKey(kind, remote string) string {
	h := hmac.New(sha256.New, p.secret)
	h.Write([]byte("media-cache\n" + kind + "\n" + remote))
	return "proxy/" + hex.EncodeToString(h.Sum(nil)[:16])
}

// OpenRemoteMedia opens this instance's copy of a remote picture named by a proxy
// address (ref is "<kind><id>.<mac>", name "original", "small", "avatar" or
// "header"), fetching it first if needed. Addresses that were not made by this
// instance, or whose account or attachment is gone or changed, are not found.
func (s *Service) OpenRemoteMedia(ctx context.Context, ref, name string) (*MediaFile, error) {
	if s.proxy == nil || s.files == nil {
		return nil, ErrNotFound
	}
	head, mac, ok := strings.Cut(ref, ".")
	if !ok || len(head) < 2 {
		return nil, ErrNotFound
	}
	id, err := strconv.ParseInt(head[1:], 10, 64)
	if err != nil {
		return nil, ErrNotFound
	}
	var remote, kind string
	public := true
	switch head[0] {
	case 'a', 'h':
		purpose := PurposeAvatar
		if head[0] == 'h' {
			purpose = PurposeHeader
		}
		if name != string(purpose) {
			return nil, ErrNotFound
		}
		a, err := s.accountByID(ctx, id)
		if err != nil {
			return nil, err
		}
		if a.IsLocal() {
			return nil, ErrNotFound
		}
		remote = a.AvatarURL
		if purpose == PurposeHeader {
			remote = a.HeaderURL
		}
		if remote = remoteMediaURL(remote, a.Domain); remote == "" {
			return nil, ErrNotFound
		}
		kind = string(purpose)
	case 'm':
		if name != "original" && name != "small" {
			return nil, ErrNotFound
		}
		var m MediaAttachment
		if err := s.read(ctx).Where("id = ? AND remote_url <> ''", id).Take(&m).Error; err != nil {
			return nil, notFound(err, "media attachment")
		}
		if m.Type != MediaImage || m.StatusID == nil {
			return nil, ErrNotFound
		}
		st, err := s.loadStatusRow(s.read(ctx), *m.StatusID)
		if err != nil {
			return nil, err
		}
		public = st.Scope == ScopeWorld && (st.Visibility == VisibilityPublic || st.Visibility == VisibilityUnlisted)
		remote, kind = m.RemoteURL, "attachment"
	default:
		return nil, ErrNotFound
	}
	if !hmac.Equal([]byte(mac), []byte(s.proxy.mac(head, remote))) {
		return nil, ErrNotFound
	}
	dir := s.proxy.cacheKey(kind, remote)
	f, err := s.files.Open(ctx, dir+"/"+name)
	if errors.Is(err, media.ErrNotExist) {
		// One fetch per picture however many readers ask at once; it runs apart from
		// the reader who started it, so that their leaving does not fail the others.
		_, err, _ = s.proxy.flight.Do(dir, func() (any, error) {
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			return nil, s.cacheRemoteMedia(fctx, dir, kind, remote)
		})
		if err != nil {
			return nil, err
		}
		f, err = s.files.Open(ctx, dir+"/"+name)
	}
	if errors.Is(err, media.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open remote media copy: %w", err)
	}
	// The copy is this instance's own encoding, so sniffing it is safe and exact.
	var sniff [512]byte
	n, _ := f.Read(sniff[:])
	if _, err := f.Seek(0, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("rewind remote media copy: %w", err)
	}
	return &MediaFile{File: f, ContentType: http.DetectContentType(sniff[:n]), Public: public}, nil
}

// ErrRemoteMedia is returned when a remote picture cannot be fetched or read.
var ErrRemoteMedia = errors.New("the remote picture is not available")

// cacheRemoteMedia fetches a remote picture, processes it like an upload and stores
// the result under dir.
func (s *Service) cacheRemoteMedia(ctx context.Context, dir, kind, remote string) error {
	p := s.proxy
	p.mu.Lock()
	at, failed := p.failed[dir]
	p.mu.Unlock()
	if failed && s.clock().Sub(at) < proxyFailureTTL {
		return ErrRemoteMedia
	}
	err := s.fetchAndStore(ctx, dir, kind, remote)
	if err != nil {
		s.log.InfoContext(ctx, "remote media not cached", "url", remote, "err", err)
		p.mu.Lock()
		if len(p.failed) >= proxyMaxFailures {
			clear(p.failed)
		}
		p.failed[dir] = s.clock()
		p.mu.Unlock()
		return ErrRemoteMedia
	}
	return nil
}

func (s *Service) fetchAndStore(ctx context.Context, dir, kind, remote string) error {
	data, err := s.proxy.fetcher.FetchMedia(ctx, remote, media.MaxImageBytes)
	if err != nil {
		return err
	}
	if kind == "attachment" {
		p, err := media.Process(ctx, bytes.NewReader(data))
		if err != nil {
			return err
		}
		if err := s.files.Put(ctx, dir+"/small", p.Preview.Data); err != nil {
			return fmt.Errorf("store remote media preview: %w", err)
		}
		// The original last: its presence says the copy is complete.
		if err := s.files.Put(ctx, dir+"/original", p.Original.Data); err != nil {
			return fmt.Errorf("store remote media: %w", err)
		}
		return nil
	}
	w, h := avatarSize, avatarSize
	if kind == string(PurposeHeader) {
		w, h = headerWidth, headerHeight
	}
	img, err := media.ProcessCover(ctx, bytes.NewReader(data), w, h)
	if err != nil {
		return err
	}
	if err := s.files.Put(ctx, dir+"/"+kind, img.Data); err != nil {
		return fmt.Errorf("store remote %s: %w", kind, err)
	}
	return nil
}
