package app

import (
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/media"
)

// Forms that carry pictures: the compose box (a post's pictures) and the settings
// (avatar and header). With JavaScript off a picture travels in the same multipart
// form as the text, so these routes accept multipart bodies up to the size of their
// pictures, and check the CSRF field once the body is read.

// mountCompose registers the forms that may carry pictures, and the poll vote.
func (a *App) mountCompose(e *gin.Engine) {
	e.POST("/statuses", a.upload(maxComposeBody, a.signedIn(a.compose)))
	e.POST("/settings", a.upload(maxSettingsBody, a.signedIn(a.saveSettings)))
	e.POST("/polls/:id/votes", a.form(a.signedIn(a.vote)))
}

// The bodies of the picture forms: their largest files, as the API's /api/v2/media and
// update_credentials allow them, plus the text fields.
const (
	maxComposeBody  = community.MaxMediaAttachments*media.MaxImageBytes + 1<<20
	maxSettingsBody = 2*media.MaxImageBytes + 1<<20
)

// multipartMemory is how much of a multipart body is kept in memory; the rest of the
// files wait in temporary files until the handler is done.
const multipartMemory = 1 << 20

// upload wraps a state-changing handler of a signed-in person whose form may be
// multipart (or, as from a script or an older page, URL-encoded). Like form, it
// answers 403 and writes nothing when the CSRF token is missing or wrong. Without a
// session no token can be right (it is the session's), so a visitor who is not signed
// in, or whose session ended while writing, gets that answer before the body is read:
// nobody else can make the server spool large bodies.
func (a *App) upload(limit int64, h handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		s, ok := a.loadSession(c)
		if !ok {
			return
		}
		if s == nil {
			a.renderError(c, nil, http.StatusForbidden, "error.csrf")
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		var err error
		if isMultipart(c.Request) {
			err = c.Request.ParseMultipartForm(multipartMemory)
			defer removeUploads(c.Request)
		} else {
			err = c.Request.ParseForm()
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				a.renderError(c, s, http.StatusRequestEntityTooLarge, "upload.too_large")
				return
			}
			a.renderError(c, s, http.StatusBadRequest, "error.bad_form")
			return
		}
		if !a.checkCSRF(c, s) {
			a.log.WarnContext(c.Request.Context(), "web form refused: CSRF token missing or wrong",
				"path", c.Request.URL.Path, "request_id", c.GetString("request_id"))
			a.renderError(c, s, http.StatusForbidden, "error.csrf")
			return
		}
		h(c, s)
	}
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// removeUploads deletes the temporary files of a multipart request as soon as the
// handler is done.
func removeUploads(r *http.Request) {
	if r.MultipartForm != nil {
		_ = r.MultipartForm.RemoveAll()
	}
}

// uploadedFile is the file of a multipart field, or nil when none was chosen: a
// browser sends an empty part for a file input left empty.
func uploadedFile(r *http.Request, field string) *multipart.FileHeader {
	if r.MultipartForm == nil {
		return nil
	}
	for _, fh := range r.MultipartForm.File[field] {
		if fh.Size > 0 || fh.Filename != "" {
			return fh
		}
	}
	return nil
}

// composePicture is one picture slot of the compose box.
type composePicture struct {
	Index       int // in the field names, from 0
	Number      int // as people count, from 1
	Description string
	Limit       int // characters of the description
}

// pictureFields are the form fields of picture slot i: the file and its description.
func pictureFields(i int) (file, description string) {
	return fmt.Sprintf("picture_%d", i), fmt.Sprintf("picture_%d_description", i)
}

// uploadPictures stores the chosen pictures through the domain's upload, the one
// /api/v2/media uses, in slot order, and returns their ids. On a refusal the pictures
// stored so far are deleted again, so a refused post leaves nothing behind.
func (a *App) uploadPictures(ctx context.Context, s *session, r *http.Request) ([]int64, error) {
	var ids []int64
	for i := range community.MaxMediaAttachments {
		field, descField := pictureFields(i)
		fh := uploadedFile(r, field)
		if fh == nil {
			continue
		}
		id, err := a.uploadPicture(ctx, s, fh, r.PostForm.Get(descField))
		if err != nil {
			a.discardPictures(ctx, s, ids)
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (a *App) uploadPicture(ctx context.Context, s *session, fh *multipart.FileHeader, description string) (int64, error) {
	f, err := fh.Open()
	if err != nil {
		return 0, fmt.Errorf("open uploaded picture: %w", err)
	}
	defer f.Close()
	m, err := a.community.UploadMedia(ctx, s.account, f, community.MediaInput{Description: strings.TrimSpace(description)})
	if community.KindOf(err) == community.KindInvalid {
		// The domain's reason ("File type is not supported …") names no file; the
		// person may have chosen several.
		return 0, community.Invalid("%s", T("upload.refused", fh.Filename, err.Error()))
	}
	if err != nil {
		return 0, err
	}
	return m.ID, nil
}

// discardPictures deletes uploads of a post that was not published. Failures are only
// logged: unattached uploads are pruned by the domain a day later anyway.
func (a *App) discardPictures(ctx context.Context, s *session, ids []int64) {
	for _, id := range ids {
		if err := a.community.DeleteMedia(ctx, s.account, id); err != nil {
			a.log.WarnContext(ctx, "delete the pictures of a refused post", "media_id", id, "err", err)
		}
	}
}

// profileImageFile opens the avatar or header chosen in the settings form, or
// returns nil when none was chosen. The caller closes it.
func profileImageFile(r *http.Request, field string) (multipart.File, error) {
	fh := uploadedFile(r, field)
	if fh == nil {
		return nil, nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, fmt.Errorf("open uploaded %s: %w", field, err)
	}
	return f, nil
}

// discardUnattached deletes the uploads that did not end up on the post statusID: a
// repeated submission of the same form (its Idempotency-Key) answers with the post the
// first one created, and this copy's pictures are not needed.
func (a *App) discardUnattached(ctx context.Context, s *session, ids []int64, statusID int64) {
	for _, id := range ids {
		m, err := a.community.OwnMedia(ctx, s.account, id)
		if err != nil {
			a.log.WarnContext(ctx, "check an upload after posting", "media_id", id, "err", err)
			continue
		}
		if m.StatusID == nil || *m.StatusID != statusID {
			a.discardPictures(ctx, s, []int64{id})
		}
	}
}
