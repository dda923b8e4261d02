package community

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// EditInput is an edit of a status. Text replaces the text; nil fields stay as they are.
// Attachments and poll are replaced as Mastodon does: MediaIDs is the new list of
// attachments (none when empty) and Poll the new poll (none when nil).
type EditInput struct {
	Text        string
	SpoilerText *string
	Sensitive   *bool
	Language    *string
	MediaIDs    []int64
	// MediaAttributes change the description or focal point of attachments.
	MediaAttributes []MediaAttributes
	Poll            *NewPoll
}

// MediaAttributes change one attachment during an edit.
type MediaAttributes struct {
	ID int64
	MediaUpdate
}

// EditStatus changes a status's text, content warning, sensitivity or language. Only
// its author may edit it. The first edit also records the original revision, so that
// the history always starts with what was first published.
func (s *Service) EditStatus(ctx context.Context, author *Account, id int64, in EditInput) (*Status, error) {
	if author == nil {
		return nil, ErrNotFound
	}
	st, err := s.GetStatus(ctx, AsAccount(author), id)
	if err != nil {
		return nil, err
	}
	if st.AccountID != author.ID {
		return nil, ErrNotFound
	}
	if st.ReblogOfID != nil {
		return nil, Forbidden("Reblogs can't be edited")
	}
	edit, err := s.checkEdit(ctx, st, in)
	if err != nil {
		return nil, err
	}
	if !edit.changes(st, in) {
		// Nothing changed: no revision, no "edited" mark, nobody notified.
		return st, nil
	}
	mentioned, byHandle, err := s.resolveMentions(ctx, in.Text)
	if err != nil {
		return nil, err
	}

	original := *st
	now := s.clock()
	st.Text = in.Text
	st.SpoilerText = edit.spoiler
	st.Sensitive = edit.sensitive
	st.Language = edit.lang
	st.Content = s.renderStatusText(in.Text, byHandle)
	st.EditedAt = &now
	st.UpdatedAt = now
	tagNames := tagNamesOf(in.Text)

	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		// Updating first locks the row, so that concurrent edits take turns and only the
		// first of them records the original revision.
		res := tx.Model(&Status{}).Where("id = ? AND account_id = ?", st.ID, author.ID).UpdateColumns(map[string]any{
			"text": st.Text, "content": st.Content, "spoiler_text": st.SpoilerText, "sensitive": st.Sensitive,
			"language": st.Language, "edited_at": now, "updated_at": now,
		})
		if res.Error != nil {
			return fmt.Errorf("update status: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound // deleted meanwhile
		}
		if err := attachMedia(tx, st, edit.mediaIDs, 0, now); err != nil {
			return err
		}
		if err := updateMediaAttributes(tx, st, in.MediaAttributes, now); err != nil {
			return err
		}
		if err := s.setPoll(tx, st, in.Poll, now); err != nil {
			return err
		}
		if err := recordRevisions(tx, &original, st, now); err != nil {
			return err
		}
		added, err := addMentions(tx, st.ID, mentioned)
		if err != nil {
			return err
		}
		if err := s.setStatusTags(tx, st.ID, tagNames, true); err != nil {
			return err
		}
		if err := s.syncIdeaText(tx, st, byHandle); err != nil {
			return err
		}
		if err := s.notifyReaders(tx, ev, st, added, NotifyMention); err != nil {
			return err
		}
		interacted, err := interactedAccounts(tx, st.ID)
		if err != nil {
			return err
		}
		if err := s.notifyReaders(tx, ev, st, interacted, NotifyUpdate); err != nil {
			return err
		}
		*ev = append(*ev, StatusUpdated{Status: *st})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// checkedEdit is what checkEdit found valid in an edit, with the values the status
// takes where the edit leaves a field out.
type checkedEdit struct {
	spoiler      string
	lang         string
	sensitive    bool
	mediaIDs     []int64
	mediaChanged bool
	pollChanged  bool
}

// checkEdit applies the rules an edit of st must pass before anything is stored:
// attachments or a poll, text length, language; and finds whether its attachments or
// poll change.
func (s *Service) checkEdit(ctx context.Context, st *Status, in EditInput) (*checkedEdit, error) {
	spoiler := st.SpoilerText
	if in.SpoilerText != nil {
		spoiler = *in.SpoilerText
	}
	mediaIDs, err := validateMediaIDs(in.MediaIDs)
	if err != nil {
		return nil, err
	}
	if in.Poll != nil {
		if len(mediaIDs) > 0 {
			return nil, Invalid("A post cannot have both attachments and a poll")
		}
		if err := validatePoll(in.Poll); err != nil {
			return nil, err
		}
	}
	if err := validateStatusText(in.Text, spoiler, len(mediaIDs) > 0); err != nil {
		return nil, err
	}
	mediaChanged, err := s.mediaChanged(ctx, st, mediaIDs, in.MediaAttributes)
	if err != nil {
		return nil, err
	}
	pollChanged, err := s.pollChanged(ctx, st, in.Poll)
	if err != nil {
		return nil, err
	}
	lang := st.Language
	if in.Language != nil {
		lang = *in.Language
		if err := validateLanguage(lang); err != nil {
			return nil, err
		}
	}
	sensitive := st.Sensitive
	if in.Sensitive != nil {
		sensitive = *in.Sensitive
	}
	sensitive = sensitive || spoiler != ""
	return &checkedEdit{spoiler: spoiler, lang: lang, sensitive: sensitive, mediaIDs: mediaIDs,
		mediaChanged: mediaChanged, pollChanged: pollChanged}, nil
}

// changes reports whether the edit changes anything of st.
func (e *checkedEdit) changes(st *Status, in EditInput) bool {
	return in.Text != st.Text || e.spoiler != st.SpoilerText || e.sensitive != st.Sensitive ||
		e.lang != st.Language || e.mediaChanged || e.pollChanged
}

// recordRevisions stores the edited status as a revision, preceded by the original
// when this is its first edit.
func recordRevisions(tx *gorm.DB, original, edited *Status, now time.Time) error {
	var edits int64
	if err := tx.Model(&StatusEdit{}).Where("status_id = ?", edited.ID).Count(&edits).Error; err != nil {
		return fmt.Errorf("count edits: %w", err)
	}
	var revisions []StatusEdit
	if edits == 0 {
		revisions = append(revisions, revisionOf(original, original.CreatedAt))
	}
	revisions = append(revisions, revisionOf(edited, now))
	if err := tx.Create(&revisions).Error; err != nil {
		return fmt.Errorf("record revision: %w", err)
	}
	return nil
}

func revisionOf(st *Status, at time.Time) StatusEdit {
	return StatusEdit{
		ID:          NewID(),
		StatusID:    st.ID,
		AccountID:   st.AccountID,
		Text:        st.Text,
		Content:     st.Content,
		SpoilerText: st.SpoilerText,
		Sensitive:   st.Sensitive,
		CreatedAt:   at,
	}
}

// interactedAccounts are the accounts that reblogged or favourited a status: they are
// told when it changes under them.
func interactedAccounts(tx *gorm.DB, statusID int64) ([]*Account, error) {
	var accounts []*Account
	err := tx.Where("id IN (?) OR id IN (?)",
		tx.Model(&Status{}).Select("account_id").Where("reblog_of_id = ?", statusID),
		tx.Model(&Favourite{}).Select("account_id").Where("status_id = ?", statusID)).
		Order("id").Find(&accounts).Error
	if err != nil {
		return nil, fmt.Errorf("load interacting accounts: %w", err)
	}
	return accounts, nil
}

// StatusHistory returns the revisions of a status the viewer may see, oldest first.
// A status never edited has one revision: itself.
func (s *Service) StatusHistory(ctx context.Context, v Viewer, id int64) ([]StatusEdit, error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return nil, err
	}
	var edits []StatusEdit
	if err := s.read(ctx).Where("status_id = ?", st.ID).Order("id").Find(&edits).Error; err != nil {
		return nil, fmt.Errorf("load status history: %w", err)
	}
	if len(edits) == 0 {
		edits = []StatusEdit{revisionOf(st, st.CreatedAt)}
	}
	return edits, nil
}

// StatusSource returns what the author typed, for editing: the text and the content
// warning of a status the viewer may see.
func (s *Service) StatusSource(ctx context.Context, v Viewer, id int64) (text, spoilerText string, err error) {
	st, err := s.GetStatus(ctx, v, id)
	if err != nil {
		return "", "", err
	}
	return st.Text, st.SpoilerText, nil
}
