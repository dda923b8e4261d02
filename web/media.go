package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/media"
)

// Media uploads (https://docs.joinmastodon.org/methods/media/) and the files the
// instance serves. Pictures are processed while the request waits (they are images
// only, a second at most), so v2 answers 200 with the URLs set, never 202.

// maxUploadBody bounds an upload request: the largest file plus its form fields.
const maxUploadBody = media.MaxImageBytes + 1<<20

// maxProfileBody bounds update_credentials, which may carry an avatar and a header,
// possibly as base64 data URIs inside a URL-encoded form.
const maxProfileBody = 3 * media.MaxImageBytes

func (s *Server) mountMedia(r *gin.RouterGroup) {
	upload := []gin.HandlerFunc{bodyLimit(maxUploadBody), requireUser("write:media"), s.uploadMedia}
	r.POST("/v1/media", upload...)
	r.POST("/v2/media", upload...)
	r.GET("/v1/media/:id", requireUser("write:media"), s.getMedia)
	r.PUT("/v1/media/:id", requireUser("write:media"), s.updateMedia)
	r.DELETE("/v1/media/:id", requireUser("write:media"), s.deleteMedia)
}

// mountMediaFiles serves the stored files, outside /api so that they carry no API
// semantics (and no rate limit bucket of a token: clients fetch them without one).
func (s *Server) mountMediaFiles(e *gin.Engine) {
	e.GET("/media/:token/:name", s.mediaFile)
	e.HEAD("/media/:token/:name", s.mediaFile)
	// This instance's copies of remote pictures (Mastodon's path for the same).
	e.GET("/media_proxy/:ref/:name", s.remoteMediaFile)
	e.HEAD("/media_proxy/:ref/:name", s.remoteMediaFile)
}

// bodyLimit raises the request body limit of one route above the API's default.
func bodyLimit(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxBodyLimit, n)
		c.Next()
	}
}

// formFile opens the uploaded file of a multipart field, or returns nil.
func formFile(c *gin.Context, field string) (multipart.File, error) {
	mf := c.Request.MultipartForm
	if mf == nil || len(mf.File[field]) == 0 {
		return nil, nil
	}
	f, err := mf.File[field][0].Open()
	if err != nil {
		return nil, fmt.Errorf("open uploaded %s: %w", field, err)
	}
	return f, nil
}

// removeUploads deletes the temporary files of a multipart request as soon as the
// handler is done (net/http does it too, but only when it runs the server itself).
func removeUploads(c *gin.Context) {
	if mf := c.Request.MultipartForm; mf != nil {
		_ = mf.RemoveAll()
	}
}

// uploadMedia is POST /api/v1/media and /api/v2/media.
func (s *Server) uploadMedia(c *gin.Context) {
	defer removeUploads(c)
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	file, err := formFile(c, "file")
	if err != nil {
		s.fail(c, err)
		return
	}
	if file == nil {
		s.fail(c, community.Invalid("Validation failed: File can't be blank"))
		return
	}
	defer file.Close()
	m, err := s.community.UploadMedia(c.Request.Context(), currentAccount(c), file, community.MediaInput{
		Description: p.Get("description"),
		Focus:       p.Get("focus"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.mediaAttachment(m))
}

// mediaParam loads the current account's upload named by :id.
func (s *Server) mediaParam(c *gin.Context) (*community.MediaAttachment, bool) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	m, err := s.community.OwnMedia(c.Request.Context(), currentAccount(c), id)
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	return m, true
}

func (s *Server) getMedia(c *gin.Context) {
	if m, ok := s.mediaParam(c); ok {
		c.JSON(http.StatusOK, s.mediaAttachment(m))
	}
}

func (s *Server) updateMedia(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	p, ok := s.mustParams(c)
	if !ok {
		return
	}
	m, err := s.community.UpdateMedia(c.Request.Context(), currentAccount(c), id, community.MediaUpdate{
		Description: p.StringPtr("description"),
		Focus:       p.StringPtr("focus"),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.mediaAttachment(m))
}

func (s *Server) deleteMedia(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.community.DeleteMedia(c.Request.Context(), currentAccount(c), id); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, struct{}{})
}

// mediaFile serves a stored picture. The random name is what protects a picture of a
// restricted post (see community/status_media.go); pictures of world-scope public posts and
// profile images may be cached anywhere, the others only by the reader's own client.
func (s *Server) mediaFile(c *gin.Context) {
	f, err := s.community.OpenMedia(c.Request.Context(), c.Param("token"), c.Param("name"))
	s.serveMediaFile(c, f, err, `"`+c.Param("token")+"-"+c.Param("name")+`"`)
}

// remoteMediaFile serves this instance's copy of a remote picture, fetching it on the
// first request (see community/remote_media.go). The signed address is the capability,
// as the random name is for local files.
func (s *Server) remoteMediaFile(c *gin.Context) {
	f, err := s.community.OpenRemoteMedia(c.Request.Context(), c.Param("ref"), c.Param("name"))
	s.serveMediaFile(c, f, err, `"`+c.Param("ref")+"-"+c.Param("name")+`"`)
}

func (s *Server) serveMediaFile(c *gin.Context, f *community.MediaFile, err error, etag string) {
	if err != nil {
		switch {
		case community.KindOf(err) == community.KindNotFound:
			c.String(http.StatusNotFound, "Not found")
		case errors.Is(err, community.ErrRemoteMedia):
			c.String(http.StatusBadGateway, "The remote picture is not available")
		default:
			s.log.ErrorContext(c.Request.Context(), "open media file", "request_id", requestID(c), "err", err)
			c.String(http.StatusInternalServerError, "Internal server error")
		}
		return
	}
	defer f.Close()
	h := c.Writer.Header()
	h.Set("Content-Type", f.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("ETag", etag)
	if f.Public {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "private, max-age=86400")
	}
	http.ServeContent(c.Writer, c.Request, c.Param("name"), f.ModTime(), f)
}

// mediaAttachment renders Mastodon's MediaAttachment entity.
func (s *Server) mediaAttachment(m *community.MediaAttachment) MediaAttachment {
	url, preview := s.community.AttachmentURLs(m)
	out := MediaAttachment{
		ID:         community.FormatID(m.ID),
		Type:       string(m.Type),
		URL:        url,
		PreviewURL: strPtr(preview),
	}
	if m.IsRemote() {
		out.RemoteURL = strPtr(m.RemoteURL)
	}
	if m.Description != "" {
		out.Description = strPtr(m.Description)
	}
	if m.Blurhash != "" {
		out.Blurhash = strPtr(m.Blurhash)
	}
	meta := map[string]any{}
	size := func(w, h int) map[string]any {
		return map[string]any{"width": w, "height": h, "size": strconv.Itoa(w) + "x" + strconv.Itoa(h),
			"aspect": float64(w) / float64(h)}
	}
	if m.Width > 0 && m.Height > 0 {
		meta["original"] = size(m.Width, m.Height)
	}
	if m.PreviewWidth > 0 && m.PreviewHeight > 0 {
		meta["small"] = size(m.PreviewWidth, m.PreviewHeight)
	}
	if m.Focus != "" {
		x, y := m.FocusPoint()
		meta["focus"] = map[string]float64{"x": x, "y": y}
	}
	out.Meta = meta
	return out
}

// profileImage reads an avatar or header from an update_credentials request: an
// uploaded file (multipart, as Mastodon's clients send it) or a base64 data URI (as
// some libraries do). It returns nil when the request has neither.
func profileImage(c *gin.Context, p *params, field string) (io.Reader, error) {
	f, err := formFile(c, field)
	if err != nil || f != nil {
		return f, err
	}
	v := strings.TrimSpace(p.Get(field))
	rest, ok := strings.CutPrefix(v, "data:")
	if !ok {
		return nil, nil
	}
	meta, payload, ok := strings.Cut(rest, ",")
	if !ok || !strings.HasSuffix(meta, ";base64") {
		return nil, community.Invalid("%s must be an image file or a base64 data URI", field)
	}
	data, err := base64.StdEncoding.DecodeString(payload)
	if err != nil {
		if data, err = base64.RawStdEncoding.DecodeString(payload); err != nil {
			return nil, community.Invalid("%s is not valid base64", field)
		}
	}
	return bytes.NewReader(data), nil
}

// isUploadTooLarge reports whether reading the body failed on its size limit.
func isUploadTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}
