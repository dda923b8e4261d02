package community

import (
	"context"
	"fmt"
)

// FollowRequestCount is how many follow requests wait for the account's approval.
func (s *Service) FollowRequestCount(ctx context.Context, accountID int64) (int64, error) {
	var n int64
	if err := s.read(ctx).Model(&FollowRequest{}).Where("target_account_id = ?", accountID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count follow requests: %w", err)
	}
	return n, nil
}
