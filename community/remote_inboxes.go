package community

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// HostInbox returns the inbox through which a remote server takes what is addressed
// to it as a whole (a profile edit, a public post for its timelines): the shared inbox
// its accounts name, or, on software without one (GoToSocial), the personal inbox of
// one known account, its instance actor's when known. "" when no account of the host
// is known.
func (s *Service) HostInbox(ctx context.Context, domain string) (string, error) {
	var row struct {
		InboxURL, SharedInboxURL string
	}
	err := s.read(ctx).Model(&Account{}).Select("inbox_url, shared_inbox_url").
		Where("domain = ? AND inbox_url <> ''", domain).
		Order("CASE WHEN shared_inbox_url <> '' THEN 0 ELSE 1 END, CASE WHEN bot THEN 0 ELSE 1 END, id").
		Limit(1).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inbox of %s: %w", domain, err)
	}
	if row.SharedInboxURL != "" {
		return row.SharedInboxURL, nil
	}
	return row.InboxURL, nil
}
