package community

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/media"
)

// Media: pictures uploaded by local accounts (attachments, avatars, headers), whose
// files live in a media.Store, and the attachments of remote posts, whose pictures are
// served from local copies (see remote_media.go).
//
// Who may fetch a file: files are served at unguessable URLs (128 random bits in the
// name) that only appear where the post itself may be read — API answers pass the
// audience rules, and federation sends a post only to its audience. An image in a
// browser or an app is fetched without the reader's token, so the URL itself is the
// capability; a person who could read the post could also have saved the picture.
// Deleting the post detaches its files, which are then deleted within a day (at once
// with delete_media), and a file of a deleted attachment is never served again, even
// if it is still on disk. See docs/audience.md.

// MediaType is Mastodon's attachment type.
type MediaType string

// Attachment types. Tacit stores images; remote posts may bring the others, which are
// shown by URL.
const (
	MediaImage   MediaType = "image"
	MediaGifv    MediaType = "gifv"
	MediaVideo   MediaType = "video"
	MediaAudio   MediaType = "audio"
	MediaUnknown MediaType = "unknown"
)

// MediaPurpose says what an uploaded file is for.
type MediaPurpose string

// Purposes of media rows.
const (
	PurposeAttachment MediaPurpose = "attachment"
	PurposeAvatar     MediaPurpose = "avatar"
	PurposeHeader     MediaPurpose = "header"
)

// Limits on media, the same as Mastodon's so that clients' own checks agree.
const (
	// MaxMediaAttachments is how many files one post may have.
	MaxMediaAttachments = 4
	// MaxMediaDescription is how long an attachment's description may be.
	MaxMediaDescription = 1500
	// maxRemoteAttachments is how many attachments of a remote post are kept.
	maxRemoteAttachments = 16
	// UnattachedMediaTTL is how long an upload may wait to be attached to a post (or a
	// deleted post's files wait for a redraft) before it is deleted.
	UnattachedMediaTTL = 24 * time.Hour
	// Sizes of profile images, as Mastodon makes them.
	avatarSize                = 400
	headerWidth, headerHeight = 1500, 500
)

// MediaAttachment is a file attached (or waiting to be attached) to a post, an avatar
// or header, or an attachment of a remote post (RemoteURL set, no files here).
type MediaAttachment struct {
	ID        int64 `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64 `gorm:"not null"`
	StatusID  *int64
	// ScheduledStatusID is the scheduled status waiting to carry the upload, which
	// keeps it from being pruned as unattached.
	ScheduledStatusID *int64
	Purpose           MediaPurpose `gorm:"not null;default:'attachment'"`
	Type              MediaType    `gorm:"not null"`
	// FileKey is the random token that names the files ("" for remote media); the
	// files are FileKey/OriginalName and FileKey/PreviewName in the store.
	FileKey            string `gorm:"not null;default:''"`
	OriginalName       string `gorm:"not null;default:''"`
	PreviewName        string `gorm:"not null;default:''"`
	ContentType        string `gorm:"not null;default:''"`
	PreviewContentType string `gorm:"not null;default:''"`
	FileSize           int64  `gorm:"not null;default:0"`
	Width              int    `gorm:"not null;default:0"`
	Height             int    `gorm:"not null;default:0"`
	PreviewWidth       int    `gorm:"not null;default:0"`
	PreviewHeight      int    `gorm:"not null;default:0"`
	Blurhash           string `gorm:"not null;default:''"`
	Description        string `gorm:"not null;default:''"`
	// Focus is the focal point as "x,y", each from -1 to 1 (Mastodon's form), or "".
	Focus     string    `gorm:"not null;default:''"`
	RemoteURL string    `gorm:"not null;default:''"`
	Position  int       `gorm:"not null;default:0"`
	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// IsRemote reports whether the attachment belongs to a remote post.
func (m *MediaAttachment) IsRemote() bool { return m.FileKey == "" }

// OriginalKey and PreviewKey are the store keys of the files.
func (m *MediaAttachment) OriginalKey() string { return m.FileKey + "/" + m.OriginalName }

// PreviewKey is the store key of the preview.
func (m *MediaAttachment) PreviewKey() string { return m.FileKey + "/" + m.PreviewName }

// FocusPoint returns the focal point, (0, 0) when none was set.
func (m *MediaAttachment) FocusPoint() (x, y float64) {
	x, y, _ = parseFocus(m.Focus)
	return x, y
}

// MediaURL is the URL at which the instance serves a stored file.
func (s *Service) MediaURL(key string) string { return s.baseURL + "/media/" + key }

// AttachmentURLs are the URLs of an attachment's picture and preview: this instance's
// files, this instance's copy of a remote picture, or the remote URL of other remote
// media (see remote_media.go).
func (s *Service) AttachmentURLs(m *MediaAttachment) (url, preview string) {
	if m.IsRemote() {
		return s.remoteAttachmentURLs(m)
	}
	return s.MediaURL(m.OriginalKey()), s.MediaURL(m.PreviewKey())
}

// ErrNoMediaStore is returned for uploads when the instance has no media store.
var ErrNoMediaStore = errors.New("no media store configured")

// MediaInput is what the uploader says about a file.
type MediaInput struct {
	Description string
	Focus       string // "x,y"; "" for none
}

// UploadMedia processes and stores a picture uploaded by a local account, ready to be
// attached to a post.
func (s *Service) UploadMedia(ctx context.Context, owner *Account, r io.Reader, in MediaInput) (*MediaAttachment, error) {
	if owner == nil || !owner.IsLocal() {
		return nil, ErrForbidden
	}
	desc, err := validateDescription(in.Description)
	if err != nil {
		return nil, err
	}
	focus, err := normalizeFocus(in.Focus)
	if err != nil {
		return nil, err
	}
	if s.files == nil {
		return nil, ErrNoMediaStore
	}
	p, err := media.Process(ctx, r)
	if err != nil {
		return nil, mediaError(err)
	}
	now := s.clock()
	m := &MediaAttachment{
		ID: NewID(), AccountID: owner.ID, Purpose: PurposeAttachment, Type: MediaImage,
		FileKey: randomToken(), OriginalName: "original." + p.Original.Ext, PreviewName: "small." + p.Preview.Ext,
		ContentType: p.Original.ContentType, PreviewContentType: p.Preview.ContentType,
		FileSize: int64(len(p.Original.Data)), Width: p.Original.Width, Height: p.Original.Height,
		PreviewWidth: p.Preview.Width, PreviewHeight: p.Preview.Height, Blurhash: p.Blurhash,
		Description: desc, Focus: focus, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.putFiles(ctx, m, p.Original.Data, p.Preview.Data); err != nil {
		return nil, err
	}
	if err := s.db.WithContext(ctx).Create(m).Error; err != nil {
		s.deleteFiles(ctx, []MediaAttachment{*m})
		return nil, fmt.Errorf("create media attachment: %w", err)
	}
	return m, nil
}

// mediaError turns a refusal of the file into a validation error for the uploader.
func mediaError(err error) error {
	var me *media.Error
	if errors.As(err, &me) {
		return Invalid("%s", me.Msg)
	}
	return fmt.Errorf("process upload: %w", err)
}

func (s *Service) putFiles(ctx context.Context, m *MediaAttachment, original, preview []byte) error {
	if err := s.files.Put(ctx, m.OriginalKey(), original); err != nil {
		return fmt.Errorf("store media: %w", err)
	}
	if m.PreviewName != "" {
		if err := s.files.Put(ctx, m.PreviewKey(), preview); err != nil {
			s.deleteFiles(ctx, []MediaAttachment{*m})
			return fmt.Errorf("store media preview: %w", err)
		}
	}
	return nil
}

// deleteFiles removes the files of media rows that are gone or going. A failure is
// logged, not returned: the row is what makes a file reachable, and it is gone.
func (s *Service) deleteFiles(ctx context.Context, rows []MediaAttachment) {
	if s.files == nil {
		return
	}
	for _, m := range rows {
		if m.IsRemote() {
			continue
		}
		for _, key := range []string{m.OriginalKey(), m.PreviewKey()} {
			if strings.HasSuffix(key, "/") {
				continue
			}
			if err := s.files.Delete(ctx, key); err != nil {
				s.log.WarnContext(ctx, "delete media file", "key", key, "err", err)
			}
		}
	}
}

// randomToken is 128 random bits in hex: the unguessable part of a media URL.
func randomToken() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the runtime already treats this as fatal
	}
	return hex.EncodeToString(b[:])
}

func validateDescription(d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > MaxMediaDescription {
		return "", Invalid("Description is too long (maximum is %d characters)", MaxMediaDescription)
	}
	return d, nil
}

// parseFocus reads "x,y" with both from -1 to 1.
func parseFocus(f string) (x, y float64, ok bool) {
	xs, ys, found := strings.Cut(f, ",")
	if !found {
		return 0, 0, false
	}
	x, errX := strconv.ParseFloat(strings.TrimSpace(xs), 64)
	y, errY := strconv.ParseFloat(strings.TrimSpace(ys), 64)
	if errX != nil || errY != nil || math.IsNaN(x) || math.IsNaN(y) || x < -1 || x > 1 || y < -1 || y > 1 {
		return 0, 0, false
	}
	return x, y, true
}

func normalizeFocus(f string) (string, error) {
	if strings.TrimSpace(f) == "" {
		return "", nil
	}
	x, y, ok := parseFocus(f)
	if !ok {
		return "", Invalid("Focus must be two numbers from -1.0 to 1.0 separated by a comma, such as 0.5,-0.25")
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "," + strconv.FormatFloat(y, 'f', 2, 64), nil
}

// OwnMedia returns one of the owner's uploads.
func (s *Service) OwnMedia(ctx context.Context, owner *Account, id int64) (*MediaAttachment, error) {
	if owner == nil {
		return nil, ErrNotFound
	}
	var m MediaAttachment
	err := s.read(ctx).Where("id = ? AND account_id = ? AND purpose = ?", id, owner.ID, PurposeAttachment).Take(&m).Error
	if err != nil {
		return nil, notFound(err, "media attachment")
	}
	return &m, nil
}

// MediaUpdate changes an upload's description or focal point; nil fields stay.
type MediaUpdate struct {
	Description *string
	Focus       *string
}

// UpdateMedia changes an upload that is not attached yet (Mastodon's rule: once
// posted, descriptions change through an edit of the post).
func (s *Service) UpdateMedia(ctx context.Context, owner *Account, id int64, in MediaUpdate) (*MediaAttachment, error) {
	m, err := s.OwnMedia(ctx, owner, id)
	if err != nil {
		return nil, err
	}
	if m.StatusID != nil {
		return nil, ErrNotFound
	}
	if err := applyMediaUpdate(m, in); err != nil {
		return nil, err
	}
	m.UpdatedAt = s.clock()
	res := s.db.WithContext(ctx).Model(&MediaAttachment{}).Where("id = ? AND status_id IS NULL", m.ID).
		Updates(map[string]any{"description": m.Description, "focus": m.Focus, "updated_at": m.UpdatedAt})
	if res.Error != nil {
		return nil, fmt.Errorf("update media attachment: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound // attached meanwhile
	}
	return m, nil
}

func applyMediaUpdate(m *MediaAttachment, in MediaUpdate) error {
	if in.Description != nil {
		d, err := validateDescription(*in.Description)
		if err != nil {
			return err
		}
		m.Description = d
	}
	if in.Focus != nil {
		f, err := normalizeFocus(*in.Focus)
		if err != nil {
			return err
		}
		m.Focus = f
	}
	return nil
}

// DeleteMedia deletes an upload that is not attached to a post.
func (s *Service) DeleteMedia(ctx context.Context, owner *Account, id int64) error {
	m, err := s.OwnMedia(ctx, owner, id)
	if err != nil {
		return err
	}
	if m.StatusID != nil {
		return Invalid("Media attachment is currently used by a status")
	}
	res := s.db.WithContext(ctx).Where("id = ? AND status_id IS NULL", m.ID).Delete(&MediaAttachment{})
	if res.Error != nil {
		return fmt.Errorf("delete media attachment: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Invalid("Media attachment is currently used by a status")
	}
	s.deleteFiles(ctx, []MediaAttachment{*m})
	return nil
}

// PruneUnattachedMedia deletes attachments that have waited for a post since before
// (never attached, or detached from a deleted post), files first, so that a failure
// leaves the row to try again. It returns how many it deleted.
func (s *Service) PruneUnattachedMedia(ctx context.Context, before time.Time) (int, error) {
	const batch = 500
	total := 0
	for {
		var rows []MediaAttachment
		if err := s.read(ctx).Where("status_id IS NULL AND scheduled_status_id IS NULL AND purpose = ? AND updated_at < ?", PurposeAttachment, before.UTC()).
			Order("updated_at").Limit(batch).Find(&rows).Error; err != nil {
			return total, fmt.Errorf("load unattached media: %w", err)
		}
		if len(rows) == 0 {
			return total, nil
		}
		ids := make([]int64, len(rows))
		for i, m := range rows {
			ids[i] = m.ID
		}
		s.deleteFiles(ctx, rows)
		// Attached meanwhile? Then its files are gone: better a post with a broken
		// picture than a row racing a prune, and the window is a day old.
		res := s.db.WithContext(ctx).Where("id IN ? AND status_id IS NULL AND scheduled_status_id IS NULL", ids).Delete(&MediaAttachment{})
		if res.Error != nil {
			return total, fmt.Errorf("delete unattached media: %w", res.Error)
		}
		total += int(res.RowsAffected)
		if len(rows) < batch {
			return total, nil
		}
	}
}

// MediaFile is a stored file opened for serving.
type MediaFile struct {
	media.File
	ContentType string
	// Public is true when anyone may keep a copy: profile images, and attachments of
	// world-scope public or unlisted posts. Others must not be kept by shared caches.
	Public bool
}

// OpenMedia opens the file named name ("original.jpg", "small.jpg") of the media row
// whose key is token. Only files of existing rows are served.
func (s *Service) OpenMedia(ctx context.Context, token, name string) (*MediaFile, error) {
	if s.files == nil || token == "" {
		return nil, ErrNotFound
	}
	var m MediaAttachment
	if err := s.read(ctx).Where("file_key = ?", token).Take(&m).Error; err != nil {
		return nil, notFound(err, "media file")
	}
	var contentType string
	switch name {
	case m.OriginalName:
		contentType = m.ContentType
	case m.PreviewName:
		contentType = m.PreviewContentType
	default:
		return nil, ErrNotFound
	}
	public := m.Purpose != PurposeAttachment
	if m.StatusID != nil {
		st, err := s.loadStatusRow(s.read(ctx), *m.StatusID)
		if err != nil && KindOf(err) != KindNotFound {
			return nil, err
		}
		public = st != nil && st.Scope == ScopeWorld && (st.Visibility == VisibilityPublic || st.Visibility == VisibilityUnlisted)
	}
	f, err := s.files.Open(ctx, m.FileKey+"/"+name)
	if errors.Is(err, media.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &MediaFile{File: f, ContentType: contentType, Public: public}, nil
}

// attachMedia attaches the author's uploads to a status, in the order given. For an
// edit, uploads already on the status stay, and those left out are detached.
func attachMedia(tx *gorm.DB, st *Status, ids []int64, scheduledID int64, now time.Time) error {
	for i, id := range ids {
		// Uploads reserved by a scheduled status are only for that status.
		res := tx.Model(&MediaAttachment{}).
			Where("id = ? AND account_id = ? AND purpose = ? AND (status_id IS NULL OR status_id = ?) AND (scheduled_status_id IS NULL OR scheduled_status_id = ?)",
				id, st.AccountID, PurposeAttachment, st.ID, scheduledID).
			Updates(map[string]any{"status_id": st.ID, "position": i, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("attach media: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return Invalid("Media with ID %s was not found or is attached to another post", FormatID(id))
		}
	}
	q := tx.Model(&MediaAttachment{}).Where("status_id = ?", st.ID)
	if len(ids) > 0 {
		q = q.Where("id NOT IN ?", ids)
	}
	if err := q.Updates(map[string]any{"status_id": nil, "updated_at": now}).Error; err != nil {
		return fmt.Errorf("detach media: %w", err)
	}
	return nil
}

// validateMediaIDs checks the list a client sends with a post.
func validateMediaIDs(ids []int64) ([]int64, error) {
	ids = uniqueIDs(ids)
	if len(ids) > MaxMediaAttachments {
		return nil, Invalid("Cannot attach more than %d files", MaxMediaAttachments)
	}
	return ids, nil
}

// StatusMedia returns the attachments of statuses, in order, by status id.
func (s *Service) StatusMedia(ctx context.Context, statusIDs []int64) (map[int64][]MediaAttachment, error) {
	return statusMediaTx(s.read(ctx), statusIDs)
}

func statusMediaTx(db *gorm.DB, statusIDs []int64) (map[int64][]MediaAttachment, error) {
	out := map[int64][]MediaAttachment{}
	if len(statusIDs) == 0 {
		return out, nil
	}
	var rows []MediaAttachment
	if err := db.Where("status_id IN ?", statusIDs).Order("status_id, position, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load media attachments: %w", err)
	}
	for _, m := range rows {
		out[*m.StatusID] = append(out[*m.StatusID], m)
	}
	return out, nil
}

// processProfileImage processes an uploaded avatar or header and stores its files; the
// caller links it to the account in its transaction.
func (s *Service) processProfileImage(ctx context.Context, owner *Account, purpose MediaPurpose, data io.Reader) (*MediaAttachment, error) {
	if s.files == nil {
		return nil, ErrNoMediaStore
	}
	w, h := avatarSize, avatarSize
	if purpose == PurposeHeader {
		w, h = headerWidth, headerHeight
	}
	img, err := media.ProcessCover(ctx, data, w, h)
	if err != nil {
		return nil, mediaError(err)
	}
	now := s.clock()
	m := &MediaAttachment{
		ID: NewID(), AccountID: owner.ID, Purpose: purpose, Type: MediaImage,
		FileKey: randomToken(), OriginalName: string(purpose) + "." + img.Ext, ContentType: img.ContentType,
		FileSize: int64(len(img.Data)), Width: img.Width, Height: img.Height, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.putFiles(ctx, m, img.Data, nil); err != nil {
		return nil, err
	}
	return m, nil
}

// RemoteAttachment is an attachment of a remote post, as its origin describes it.
type RemoteAttachment struct {
	URL         string
	MediaType   string // "image/jpeg"…
	Description string
	Blurhash    string
	Width       int
	Height      int
	FocusX      float64
	FocusY      float64
}

// remoteMediaRows turns a remote post's attachments into rows, dropping those whose
// URL is not an http(s) URL on origin, the host of the post's author (see
// remoteMediaURL).
func remoteMediaRows(accountID, statusID int64, origin string, in []RemoteAttachment, now time.Time) []MediaAttachment {
	var rows []MediaAttachment
	for _, a := range in {
		if len(rows) == maxRemoteAttachments {
			break
		}
		u := remoteMediaURL(a.URL, origin)
		if u == "" {
			continue
		}
		typ := MediaUnknown
		switch mt := strings.ToLower(a.MediaType); {
		case strings.HasPrefix(mt, "image/"):
			typ = MediaImage
		case strings.HasPrefix(mt, "video/"):
			typ = MediaVideo
		case strings.HasPrefix(mt, "audio/"):
			typ = MediaAudio
		}
		focus := ""
		if a.FocusX != 0 || a.FocusY != 0 {
			focus, _ = normalizeFocus(strconv.FormatFloat(a.FocusX, 'f', -1, 64) + "," + strconv.FormatFloat(a.FocusY, 'f', -1, 64))
		}
		blurhash := a.Blurhash
		if len(blurhash) > 100 || strings.ContainsAny(blurhash, " \t\n\"<>") {
			blurhash = ""
		}
		sid := statusID
		rows = append(rows, MediaAttachment{
			ID: NewID(), AccountID: accountID, StatusID: &sid, Purpose: PurposeAttachment, Type: typ,
			ContentType: truncateBytes(a.MediaType, 100), RemoteURL: u,
			Width: max(0, min(a.Width, 1<<20)), Height: max(0, min(a.Height, 1<<20)),
			Blurhash: blurhash, Description: truncateRunes(strings.TrimSpace(a.Description), MaxMediaDescription),
			Focus: focus, Position: len(rows), CreatedAt: now, UpdatedAt: now,
		})
	}
	return rows
}

// sameRemoteMedia reports whether stored attachments match what a remote post says
// now (the same URLs and descriptions in the same order).
func sameRemoteMedia(stored, next []MediaAttachment) bool {
	if len(stored) != len(next) {
		return false
	}
	for i := range stored {
		if stored[i].RemoteURL != next[i].RemoteURL || stored[i].Description != next[i].Description {
			return false
		}
	}
	return true
}

// mediaChanged reports whether an edit changes a status's attachments: which ones, in
// which order, or their descriptions and focal points.
func (s *Service) mediaChanged(ctx context.Context, st *Status, ids []int64, attrs []MediaAttributes) (bool, error) {
	cur, err := s.StatusMedia(ctx, []int64{st.ID})
	if err != nil {
		return false, err
	}
	list := cur[st.ID]
	if len(list) != len(ids) {
		return true, nil
	}
	byID := map[int64]*MediaAttachment{}
	for i := range list {
		if list[i].ID != ids[i] {
			return true, nil
		}
		byID[list[i].ID] = &list[i]
	}
	for _, a := range attrs {
		m := byID[a.ID]
		if m == nil {
			continue
		}
		next := *m
		if err := applyMediaUpdate(&next, a.MediaUpdate); err != nil {
			return false, err
		}
		if next.Description != m.Description || next.Focus != m.Focus {
			return true, nil
		}
	}
	return false, nil
}

// updateMediaAttributes applies an edit's descriptions and focal points to the
// status's attachments; attributes of other media are ignored, as in Mastodon.
func updateMediaAttributes(tx *gorm.DB, st *Status, attrs []MediaAttributes, now time.Time) error {
	for _, a := range attrs {
		var m MediaAttachment
		err := tx.Where("id = ? AND status_id = ?", a.ID, st.ID).Take(&m).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("load media attachment: %w", err)
		}
		if err := applyMediaUpdate(&m, a.MediaUpdate); err != nil {
			return err
		}
		if err := tx.Model(&MediaAttachment{}).Where("id = ?", m.ID).
			Updates(map[string]any{"description": m.Description, "focus": m.Focus, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("update media attachment: %w", err)
		}
	}
	return nil
}

// hasMediaSQL keeps statuses with attachments (only_media).
const hasMediaSQL = "EXISTS (SELECT 1 FROM media_attachments WHERE media_attachments.status_id = statuses.id)"
