package community

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Reports: anyone reports an account and some of its statuses to the instance's
// moderators; with forwarding, the report also goes (as a Flag) to the reported
// account's instance and to the instance of the board the statuses were posted to, so
// that the moderators who can act on them hear of it.

// Limits on reports.
const (
	MaxReportComment  = 1000
	MaxReportStatuses = 50
)

// ValidReportCategory checks a report category.
func ValidReportCategory(c ReportCategory) bool {
	switch c {
	case ReportSpam, ReportLegal, ReportViolation, ReportOther:
		return true
	}
	return false
}

// NewReport is what a reporter files.
type NewReport struct {
	TargetAccountID int64
	StatusIDs       []int64
	Comment         string
	Category        ReportCategory
	Forward         bool
}

// ReportFiled: a report was filed here. ForwardTo lists the accounts whose instances
// must receive it (the reported account, a board), when the reporter asked to forward.
type ReportFiled struct {
	Report    Report
	Target    Account
	Statuses  []Status
	ForwardTo []*Account
}

func (ReportFiled) eventName() string { return "report.filed" }

// CreateReport files a report by a local account.
func (s *Service) CreateReport(ctx context.Context, reporter *Account, in NewReport) (*Report, error) {
	if reporter == nil {
		return nil, ErrForbidden
	}
	target, err := s.accountByID(ctx, in.TargetAccountID)
	if err != nil {
		return nil, err
	}
	if target.ID == reporter.ID {
		return nil, Invalid("You cannot report yourself")
	}
	in.Comment = strings.TrimSpace(in.Comment)
	if utf8.RuneCountInString(in.Comment) > MaxReportComment {
		return nil, Invalid("Comment is too long (maximum is %d characters)", MaxReportComment)
	}
	if in.Category == "" {
		in.Category = ReportOther
	}
	if !ValidReportCategory(in.Category) {
		return nil, Invalid("Category %q is not one of spam, legal, violation, other", in.Category)
	}
	ids := uniqueIDs(in.StatusIDs)
	if len(ids) > MaxReportStatuses {
		return nil, Invalid("A report names at most %d statuses", MaxReportStatuses)
	}
	statuses, err := s.GetStatuses(ctx, AsAccount(reporter), ids)
	if err != nil {
		return nil, err
	}
	if len(statuses) != len(ids) {
		return nil, ErrNotFound
	}
	var boardAcct *Account
	for i := range statuses {
		if statuses[i].AccountID != target.ID {
			return nil, Invalid("The reported statuses must be the reported account's")
		}
		if boardAcct == nil {
			b, _, err := s.ThreadBoard(ctx, &statuses[i])
			if err != nil {
				return nil, err
			}
			if b != nil {
				if boardAcct, err = s.accountByID(ctx, b.AccountID); err != nil {
					return nil, err
				}
			}
		}
	}
	now := s.clock()
	r := &Report{ID: NewID(), AccountID: &reporter.ID, TargetAccountID: target.ID, StatusIDs: IDList(ids),
		Category: in.Category, Comment: in.Comment, CreatedAt: now, UpdatedAt: now}
	if boardAcct != nil {
		r.BoardAccountID = &boardAcct.ID
	}
	var forwardTo []*Account
	if in.Forward {
		// Forwarded means sent: not to a server this one no longer talks to.
		if !target.IsLocal() && !s.DomainBlocked(target.Domain) {
			forwardTo = append(forwardTo, target)
		}
		if boardAcct != nil && !boardAcct.IsLocal() && boardAcct.Domain != target.Domain && !s.DomainBlocked(boardAcct.Domain) {
			forwardTo = append(forwardTo, boardAcct)
		}
		r.Forwarded = len(forwardTo) > 0
	}
	err = s.tx(ctx, func(tx *gorm.DB, ev *[]Event) error {
		if err := tx.Create(r).Error; err != nil {
			return fmt.Errorf("create report: %w", err)
		}
		*ev = append(*ev, ReportFiled{Report: *r, Target: *target, Statuses: statuses, ForwardTo: forwardTo})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// RemoteReport is a report another instance forwarded (a Flag).
type RemoteReport struct {
	URI string
	// Reporter is who sent it: usually the other instance's own actor.
	Reporter *Account
	// Accounts and Statuses are what the Flag names, as far as this instance knows them.
	Accounts []*Account
	Statuses []Status
	Comment  string
}

// ReceiveReport stores a forwarded report when it concerns this instance: an account
// of this instance, or posts in the discussions of one of its boards. Anything else is
// not this instance's to judge and is dropped. The same Flag delivered twice is one
// report.
func (s *Service) ReceiveReport(ctx context.Context, in RemoteReport) (*Report, error) {
	if in.Reporter == nil || in.Reporter.IsLocal() {
		return nil, Forbidden("A forwarded report comes from another instance")
	}
	if blocked := s.domainBlock(in.Reporter.Domain); blocked != nil && blocked.RejectReports {
		return nil, nil
	}
	var target *Account
	for _, a := range in.Accounts {
		if a.IsLocal() {
			target = a
			break
		}
	}
	var boardID *int64
	var statusIDs IDList
	for i := range in.Statuses {
		st := &in.Statuses[i]
		b, _, err := s.ThreadBoard(ctx, st)
		if err != nil {
			return nil, err
		}
		local := b != nil && b.Local
		if (target != nil && st.AccountID == target.ID) || local {
			statusIDs = append(statusIDs, st.ID)
		}
		if local && boardID == nil {
			boardID = &b.AccountID
			if target == nil {
				if target, err = s.accountByID(ctx, st.AccountID); err != nil {
					return nil, err
				}
			}
		}
	}
	if target == nil {
		return nil, nil
	}
	now := s.clock()
	r := &Report{ID: NewID(), AccountID: &in.Reporter.ID, TargetAccountID: target.ID, StatusIDs: statusIDs,
		Category: ReportOther, Comment: truncateRunes(strings.TrimSpace(in.Comment), MaxReportComment), URI: in.URI,
		Origin: in.Reporter.Domain, BoardAccountID: boardID, CreatedAt: now, UpdatedAt: now}
	if r.StatusIDs == nil {
		r.StatusIDs = IDList{}
	}
	res := s.read(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(r)
	if res.Error != nil {
		return nil, fmt.Errorf("store forwarded report: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		var existing Report
		if err := s.read(ctx).Where("uri = ?", in.URI).Take(&existing).Error; err != nil {
			return nil, fmt.Errorf("load forwarded report: %w", err)
		}
		return &existing, nil
	}
	return r, nil
}

// ReportQuery filters the reports moderators list.
type ReportQuery struct {
	// Resolved lists the reports acted on instead of the open ones.
	Resolved        bool
	AccountID       int64
	TargetAccountID int64
	Page            Page
}

// AdminReports lists reports for the instance's moderators, newest first.
func (s *Service) AdminReports(ctx context.Context, actor *Account, q ReportQuery) ([]Report, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	db := s.read(ctx).Model(&Report{}).Where("action_taken = ?", q.Resolved)
	if q.AccountID != 0 {
		db = db.Where("account_id = ?", q.AccountID)
	}
	if q.TargetAccountID != 0 {
		db = db.Where("target_account_id = ?", q.TargetAccountID)
	}
	return findPage[Report](db, q.Page.Normalize(DefaultLimit, 200), "id", "reports")
}

// AdminReport returns one report for the instance's moderators.
func (s *Service) AdminReport(ctx context.Context, actor *Account, id int64) (*Report, error) {
	if err := s.requireStaff(ctx, actor); err != nil {
		return nil, err
	}
	var r Report
	if err := s.read(ctx).Take(&r, id).Error; err != nil {
		return nil, notFound(err, "report")
	}
	return &r, nil
}

// ReportAction is what a moderator does with a report.
type ReportAction string

// Report actions.
const (
	ReportAssign   ReportAction = "assign"
	ReportUnassign ReportAction = "unassign"
	ReportResolve  ReportAction = "resolve"
	ReportReopen   ReportAction = "reopen"
)

// HandleReport assigns a report to the acting moderator, unassigns, resolves or
// reopens it, and records that in the audit log.
func (s *Service) HandleReport(ctx context.Context, actor *Account, id int64, act ReportAction) (*Report, error) {
	r, err := s.AdminReport(ctx, actor, id)
	if err != nil {
		return nil, err
	}
	err = s.tx(ctx, func(tx *gorm.DB, _ *[]Event) error {
		return s.handleReportTx(tx, actor, r, act)
	})
	if err != nil {
		return nil, err
	}
	return s.AdminReport(ctx, actor, id)
}

func (s *Service) handleReportTx(tx *gorm.DB, actor *Account, r *Report, act ReportAction) error {
	now := s.clock()
	updates := map[string]any{"updated_at": now}
	var action string
	switch act {
	case ReportAssign:
		updates["assigned_account_id"] = actor.ID
		action = ActionAssignReport
	case ReportUnassign:
		updates["assigned_account_id"] = nil
		action = ActionUnassignReport
	case ReportResolve:
		updates["action_taken"] = true
		updates["action_taken_at"] = now
		updates["action_taken_by_account_id"] = actor.ID
		action = ActionResolveReport
	case ReportReopen:
		updates["action_taken"] = false
		updates["action_taken_at"] = nil
		updates["action_taken_by_account_id"] = nil
		action = ActionReopenReport
	default:
		return Invalid("Unknown report action %q", act)
	}
	if err := tx.Model(&Report{}).Where("id = ?", r.ID).Updates(updates).Error; err != nil {
		return fmt.Errorf("%s report: %w", act, err)
	}
	return s.logStaffAction(tx, actor, action, s.baseURL+"/reports/"+FormatID(r.ID), "", "")
}

// ReportStatuses loads the statuses a report names that still exist.
func (s *Service) ReportStatuses(ctx context.Context, r *Report) ([]Status, error) {
	if len(r.StatusIDs) == 0 {
		return []Status{}, nil
	}
	var rows []Status
	if err := s.read(ctx).Where("id IN ?", []int64(r.StatusIDs)).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load reported statuses: %w", err)
	}
	return rows, nil
}

// reportByID loads a report inside a transaction.
func reportByID(tx *gorm.DB, id int64) (*Report, error) {
	var r Report
	err := tx.Take(&r, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Invalid("Report %s does not exist", FormatID(id))
	}
	if err != nil {
		return nil, fmt.Errorf("load report: %w", err)
	}
	return &r, nil
}
