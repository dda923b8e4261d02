package community

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Conversation is one local account's view of the direct statuses exchanged among one
// set of people: the other participants, the latest status, and whether the account
// has read it. Each participant has their own row, so that reading or removing a
// conversation affects nobody else. Conversations are kept up to date when direct
// statuses are stored (written here or received from another instance) and deleted.
type Conversation struct {
	ID        int64 `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64 `gorm:"not null"`
	// ParticipantIDs are the other participants' account ids, sorted and comma-separated.
	ParticipantIDs string    `gorm:"not null"`
	LastStatusID   int64     `gorm:"not null"`
	Unread         bool      `gorm:"not null;default:false"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// ConversationStatus links a direct status to the conversations it belongs to.
type ConversationStatus struct {
	ConversationID int64 `gorm:"primaryKey;autoIncrement:false"`
	StatusID       int64 `gorm:"primaryKey;autoIncrement:false"`
}

// Participants returns the other participants' account ids.
func (c *Conversation) Participants() []int64 {
	var ids []int64
	for _, p := range strings.Split(c.ParticipantIDs, ",") {
		if id, err := strconv.ParseInt(p, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

// ConversationUpdated: a direct status (StatusID) joined an account's conversation.
type ConversationUpdated struct{ AccountID, ConversationID, StatusID int64 }

func (ConversationUpdated) eventName() string { return "conversation.updated" }

func participantKey(ids []int64) string {
	ids = uniqueIDs(ids)
	slices.Sort(ids)
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

// addToConversations files a new direct status into the conversation of each local
// participant who may read it: its author and the mentioned accounts. Everyone but the
// author has something unread. It runs inside the transaction that stores the status,
// after its mentions.
func (s *Service) addToConversations(tx *gorm.DB, ev *[]Event, st *Status, author *Account, mentioned []*Account) error {
	if st.Visibility != VisibilityDirect || st.ReblogOfID != nil {
		return nil
	}
	everyone := []int64{st.AccountID}
	for _, a := range mentioned {
		everyone = append(everyone, a.ID)
	}
	readers, err := s.readersAmong(tx, st, mentioned)
	if err != nil {
		return err
	}
	var members []*Account
	if author.IsLocal() {
		members = append(members, author)
	}
	members = append(members, readers...)
	now := s.clock()
	for _, m := range members {
		var others []int64
		for _, id := range everyone {
			if id != m.ID {
				others = append(others, id)
			}
		}
		c := Conversation{ID: NewID(), AccountID: m.ID, ParticipantIDs: participantKey(others),
			LastStatusID: st.ID, Unread: m.ID != st.AccountID, UpdatedAt: now}
		// One row per (account, participants): a new status moves the conversation up
		// and, for a recipient, marks it unread.
		if err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "account_id"}, {Name: "participant_ids"}},
			DoUpdates: clause.Assignments(map[string]any{
				"last_status_id": gorm.Expr("CASE WHEN conversations.last_status_id > ? THEN conversations.last_status_id ELSE ? END", st.ID, st.ID),
				"unread":         c.Unread,
				"updated_at":     now,
			}),
		}).Create(&c).Error; err != nil {
			return fmt.Errorf("store conversation: %w", err)
		}
		// A fresh value: Take on c would also match c's new id, which the upsert may
		// not have used.
		var stored Conversation
		if err := tx.Where("account_id = ? AND participant_ids = ?", m.ID, c.ParticipantIDs).Take(&stored).Error; err != nil {
			return fmt.Errorf("reload conversation: %w", err)
		}
		c = stored
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&ConversationStatus{ConversationID: c.ID, StatusID: st.ID}).Error; err != nil {
			return fmt.Errorf("link conversation status: %w", err)
		}
		*ev = append(*ev, ConversationUpdated{AccountID: m.ID, ConversationID: c.ID, StatusID: st.ID})
	}
	return nil
}

// detachFromConversations takes statuses about to be deleted out of the conversations
// they belong to: a conversation falls back to its previous status, or goes away when
// none is left. It runs inside the deleting transaction, before the statuses go.
func detachFromConversations(tx *gorm.DB, statusIDs []int64) error {
	// In chunks, so that a remote account leaving with all its statuses stays within
	// the databases' limits on bound parameters.
	for len(statusIDs) > 500 {
		if err := detachFromConversations(tx, statusIDs[:500]); err != nil {
			return err
		}
		statusIDs = statusIDs[500:]
	}
	if len(statusIDs) == 0 {
		return nil
	}
	var convIDs []int64
	if err := tx.Model(&ConversationStatus{}).Where("status_id IN ?", statusIDs).
		Distinct().Pluck("conversation_id", &convIDs).Error; err != nil {
		return fmt.Errorf("load conversations of statuses: %w", err)
	}
	if len(convIDs) == 0 {
		return nil
	}
	if err := tx.Where("status_id IN ?", statusIDs).Delete(&ConversationStatus{}).Error; err != nil {
		return fmt.Errorf("unlink conversation statuses: %w", err)
	}
	for _, id := range convIDs {
		var last []int64
		if err := tx.Model(&ConversationStatus{}).Where("conversation_id = ?", id).
			Order("status_id DESC").Limit(1).Pluck("status_id", &last).Error; err != nil {
			return fmt.Errorf("find previous conversation status: %w", err)
		}
		if len(last) == 0 {
			if err := tx.Delete(&Conversation{}, id).Error; err != nil {
				return fmt.Errorf("delete empty conversation: %w", err)
			}
			continue
		}
		if err := tx.Model(&Conversation{}).Where("id = ?", id).UpdateColumn("last_status_id", last[0]).Error; err != nil {
			return fmt.Errorf("update conversation: %w", err)
		}
	}
	return nil
}

// ConversationItem is a conversation ready to show: the other participants (the
// account itself for notes to oneself) and the latest status, nil when the viewer may
// no longer read it.
type ConversationItem struct {
	Conversation
	Accounts   []*Account
	LastStatus *Status
}

// ConversationPage is a page of conversations, most recently active first, paged by the
// id of their latest status as Mastodon does.
type ConversationPage struct {
	Items    []ConversationItem
	NewestID int64
	OldestID int64
}

// Conversations lists the viewer's conversations.
func (s *Service) Conversations(ctx context.Context, viewer *Account, p Page) (*ConversationPage, error) {
	if viewer == nil {
		return nil, ErrForbidden
	}
	rows, err := findPage[Conversation](s.read(ctx).Model(&Conversation{}).Where("account_id = ?", viewer.ID),
		p, "last_status_id", "conversations")
	if err != nil {
		return nil, err
	}
	items, err := s.conversationItems(ctx, viewer, rows)
	if err != nil {
		return nil, err
	}
	out := &ConversationPage{Items: items}
	if len(rows) > 0 {
		out.NewestID, out.OldestID = rows[0].LastStatusID, rows[len(rows)-1].LastStatusID
	}
	return out, nil
}

// GetConversation returns one of the viewer's conversations.
func (s *Service) GetConversation(ctx context.Context, viewer *Account, id int64) (*ConversationItem, error) {
	if viewer == nil {
		return nil, ErrNotFound
	}
	var c Conversation
	if err := s.read(ctx).Where("id = ? AND account_id = ?", id, viewer.ID).Take(&c).Error; err != nil {
		return nil, notFound(err, "conversation")
	}
	items, err := s.conversationItems(ctx, viewer, []Conversation{c})
	if err != nil {
		return nil, err
	}
	return &items[0], nil
}

func (s *Service) conversationItems(ctx context.Context, viewer *Account, rows []Conversation) ([]ConversationItem, error) {
	out := make([]ConversationItem, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	var accountIDs, statusIDs []int64
	for _, c := range rows {
		accountIDs = append(accountIDs, c.Participants()...)
		statusIDs = append(statusIDs, c.LastStatusID)
	}
	accounts, err := s.accountsByID(ctx, accountIDs)
	if err != nil {
		return nil, err
	}
	statuses, err := s.GetStatuses(ctx, AsAccount(viewer), statusIDs)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*Status, len(statuses))
	for i := range statuses {
		byID[statuses[i].ID] = &statuses[i]
	}
	for i, c := range rows {
		it := ConversationItem{Conversation: c, LastStatus: byID[c.LastStatusID], Accounts: []*Account{}}
		for _, id := range c.Participants() {
			if a := accounts[id]; a != nil {
				it.Accounts = append(it.Accounts, a)
			}
		}
		if len(it.Accounts) == 0 {
			it.Accounts = append(it.Accounts, viewer)
		}
		out[i] = it
	}
	return out, nil
}

// MarkConversationRead marks one of the viewer's conversations as read.
func (s *Service) MarkConversationRead(ctx context.Context, viewer *Account, id int64) (*ConversationItem, error) {
	if viewer == nil {
		return nil, ErrNotFound
	}
	res := s.db.WithContext(ctx).Model(&Conversation{}).Where("id = ? AND account_id = ?", id, viewer.ID).
		UpdateColumn("unread", false)
	if res.Error != nil {
		return nil, fmt.Errorf("mark conversation read: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return s.GetConversation(ctx, viewer, id)
}

// RemoveConversation removes a conversation from the viewer's list (the statuses stay);
// a new direct status among the same people starts it again.
func (s *Service) RemoveConversation(ctx context.Context, viewer *Account, id int64) error {
	if viewer == nil {
		return ErrNotFound
	}
	res := s.db.WithContext(ctx).Where("id = ? AND account_id = ?", id, viewer.ID).Delete(&Conversation{})
	if res.Error != nil {
		return fmt.Errorf("remove conversation: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
