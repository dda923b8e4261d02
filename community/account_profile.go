package community

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/markup"
)

// Editing a local account's profile: what it shows (name, note, fields, expertise,
// pictures) and the owner's posting defaults. Typed text is rendered to safe HTML here,
// once, as statuses are.

// FieldInput is a profile field as the owner types it.
type FieldInput struct{ Name, Value string }

// ProfileUpdate changes some of a local account's profile and posting defaults; nil
// fields are left alone.
type ProfileUpdate struct {
	DisplayName  *string
	Note         *string
	Fields       *[]FieldInput
	Locked       *bool
	Bot          *bool
	Discoverable *bool
	AvatarURL    *string
	HeaderURL    *string
	// AvatarFile and HeaderFile are uploaded pictures; they win over the URLs.
	AvatarFile        io.Reader
	HeaderFile        io.Reader
	DefaultVisibility *Visibility
	DefaultScope      *Scope
	DefaultSensitive  *bool
	DefaultLanguage   *string
	// Expertise replaces the account's expertise topics (see NormalizeExpertise).
	Expertise *[]string
}

// UpdateProfile validates and applies a profile update, returning the new account.
func (s *Service) UpdateProfile(ctx context.Context, accountID int64, in ProfileUpdate) (*Account, *User, error) {
	acct, err := s.accountByID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	user, err := s.UserByAccountID(ctx, accountID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.applyProfile(ctx, acct, &in); err != nil {
		return nil, nil, err
	}
	if err := applyPostingDefaults(user, in); err != nil {
		return nil, nil, err
	}
	// Pictures are processed and stored before the transaction; if it fails, they are
	// deleted again, and the pictures they replace are deleted only once it commits.
	uploaded, err := s.uploadProfileImages(ctx, acct, in)
	if err != nil {
		return nil, nil, err
	}
	var replaced []MediaAttachment
	now := s.clock()
	acct.UpdatedAt, user.UpdatedAt = now, now
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		var err error
		if replaced, err = replaceProfileImages(tx, acct.ID, uploaded, in); err != nil {
			return err
		}
		if err := tx.Select("*").Omit("followers_count", "following_count", "statuses_count", "last_status_at", "created_at").
			Updates(acct).Error; err != nil {
			return fmt.Errorf("update account: %w", err)
		}
		if err := tx.Select("default_visibility", "default_scope", "default_sensitive", "default_language", "updated_at").
			Updates(user).Error; err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		*ev = append(*ev, AccountUpdated{Account: *acct})
		return nil
	})
	if err != nil {
		s.deleteFiles(ctx, uploaded)
		return nil, nil, err
	}
	s.deleteFiles(ctx, replaced)
	return acct, user, nil
}

// applyProfile checks and copies the profile's own part of in onto acct. A picture URL
// equal to the current one is cleared from in: unchanged, it leaves the uploaded
// picture in place.
func (s *Service) applyProfile(ctx context.Context, acct *Account, in *ProfileUpdate) error {
	if in.DisplayName != nil {
		if utf8.RuneCountInString(*in.DisplayName) > MaxDisplayNameLen {
			return Invalid("Display name is too long (maximum is %d characters)", MaxDisplayNameLen)
		}
		acct.DisplayName = strings.TrimSpace(*in.DisplayName)
	}
	if in.Note != nil {
		if utf8.RuneCountInString(*in.Note) > MaxNoteLen {
			return Invalid("Note is too long (maximum is %d characters)", MaxNoteLen)
		}
		acct.NoteSource = *in.Note
		acct.Note = s.renderText(ctx, *in.Note)
	}
	if in.Fields != nil {
		fields, err := s.renderFields(ctx, *in.Fields)
		if err != nil {
			return err
		}
		acct.Fields = fields
	}
	if in.Expertise != nil {
		topics, err := NormalizeExpertise(*in.Expertise)
		if err != nil {
			return err
		}
		acct.Expertise = topics
	}
	setIfGiven(&acct.Locked, in.Locked)
	setIfGiven(&acct.Bot, in.Bot)
	setIfGiven(&acct.Discoverable, in.Discoverable)
	for _, u := range []struct {
		name string
		in   **string
		dst  *string
	}{{"Avatar", &in.AvatarURL, &acct.AvatarURL}, {"Header", &in.HeaderURL, &acct.HeaderURL}} {
		if *u.in == nil {
			continue
		}
		if **u.in == *u.dst {
			*u.in = nil // unchanged: the uploaded picture stays
			continue
		}
		// Only this instance's own files are shown as a local account's pictures: a URL
		// given here could name an internal address, which every reader's browser (and
		// every peer copying the profile) would then load. "" removes the picture; the
		// current URL is accepted as it is, as clients send the profile back.
		if **u.in != "" {
			return Invalid("%s must be uploaded as a picture, not given as a URL", u.name)
		}
		*u.dst = ""
	}
	return nil
}

// applyPostingDefaults checks and copies the posting defaults of in onto user.
func applyPostingDefaults(user *User, in ProfileUpdate) error {
	if in.DefaultVisibility != nil {
		if err := ValidateVisibility(*in.DefaultVisibility); err != nil {
			return err
		}
		user.DefaultVisibility = *in.DefaultVisibility
	}
	if in.DefaultScope != nil {
		if *in.DefaultScope != "" {
			if err := ValidateScope(*in.DefaultScope); err != nil {
				return err
			}
		}
		user.DefaultScope = *in.DefaultScope
	}
	setIfGiven(&user.DefaultSensitive, in.DefaultSensitive)
	if in.DefaultLanguage != nil {
		if err := validateLanguage(*in.DefaultLanguage); err != nil {
			return err
		}
		user.DefaultLanguage = *in.DefaultLanguage
	}
	return nil
}

func setIfGiven[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// uploadProfileImages processes and stores the uploaded avatar and header and points
// acct at them. On failure nothing it stored is left behind.
func (s *Service) uploadProfileImages(ctx context.Context, acct *Account, in ProfileUpdate) ([]MediaAttachment, error) {
	var uploaded []MediaAttachment
	for _, img := range []struct {
		purpose MediaPurpose
		file    io.Reader
		dst     *string
	}{{PurposeAvatar, in.AvatarFile, &acct.AvatarURL}, {PurposeHeader, in.HeaderFile, &acct.HeaderURL}} {
		if img.file == nil {
			continue
		}
		m, err := s.processProfileImage(ctx, acct, img.purpose, img.file)
		if err != nil {
			s.deleteFiles(ctx, uploaded)
			return nil, err
		}
		uploaded = append(uploaded, *m)
		*img.dst = s.MediaURL(m.OriginalKey())
	}
	return uploaded, nil
}

// replaceProfileImages stores the uploaded pictures' rows in place of the account's
// current ones, and drops the rows of a picture changed by URL. It returns the rows it
// replaced, whose files go once the transaction commits.
func replaceProfileImages(tx *gorm.DB, accountID int64, uploaded []MediaAttachment, in ProfileUpdate) ([]MediaAttachment, error) {
	var replaced []MediaAttachment
	for _, m := range uploaded {
		var old []MediaAttachment
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, m.Purpose).Find(&old).Error; err != nil {
			return nil, fmt.Errorf("load profile images: %w", err)
		}
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, m.Purpose).Delete(&MediaAttachment{}).Error; err != nil {
			return nil, fmt.Errorf("replace profile image: %w", err)
		}
		replaced = append(replaced, old...)
		if err := tx.Create(&m).Error; err != nil {
			return nil, fmt.Errorf("store profile image: %w", err)
		}
	}
	// A picture given as a URL replaces an uploaded one too.
	for _, u := range []struct {
		purpose MediaPurpose
		set     bool
	}{{PurposeAvatar, in.AvatarFile == nil && in.AvatarURL != nil}, {PurposeHeader, in.HeaderFile == nil && in.HeaderURL != nil}} {
		if !u.set {
			continue
		}
		var old []MediaAttachment
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, u.purpose).Find(&old).Error; err != nil {
			return nil, fmt.Errorf("load profile images: %w", err)
		}
		if err := tx.Where("account_id = ? AND purpose = ?", accountID, u.purpose).Delete(&MediaAttachment{}).Error; err != nil {
			return nil, fmt.Errorf("drop profile image: %w", err)
		}
		replaced = append(replaced, old...)
	}
	return replaced, nil
}

func (s *Service) renderFields(ctx context.Context, in []FieldInput) (Fields, error) {
	if len(in) > MaxFields {
		return nil, Invalid("Too many profile fields (maximum is %d)", MaxFields)
	}
	out := Fields{}
	for _, f := range in {
		name, value := strings.TrimSpace(f.Name), strings.TrimSpace(f.Value)
		if name == "" && value == "" {
			continue
		}
		if utf8.RuneCountInString(name) > MaxFieldNameLen || utf8.RuneCountInString(value) > MaxFieldValueLen {
			return nil, Invalid("Profile field is too long (maximum is %d characters)", MaxFieldValueLen)
		}
		out = append(out, Field{Name: name, Value: s.renderInline(ctx, value), Source: value})
	}
	return out, nil
}

// renderText turns typed text into safe HTML, linking mentions of known accounts.
func (s *Service) renderText(ctx context.Context, text string) string {
	return markup.Render(text, s.linker(ctx))
}

// renderInline renders a short single-line value (profile fields) without the paragraph.
func (s *Service) renderInline(ctx context.Context, text string) string {
	html := s.renderText(ctx, text)
	html = strings.TrimPrefix(html, "<p>")
	return strings.TrimSuffix(html, "</p>")
}

func (s *Service) linker(ctx context.Context) markup.Linker {
	return markup.Linker{
		MentionURL: func(m markup.Mention) (string, bool) {
			a, err := s.LookupAccount(ctx, m.Username+"@"+m.Domain)
			if err != nil {
				return "", false
			}
			return a.URL, true
		},
		TagURL: s.TagURL,
	}
}
