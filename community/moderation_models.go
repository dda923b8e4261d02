package community

import "time"

// The rows of moderation: the audit log, reports, account sanctions and domain rules.

// ModerationLogEntry records one moderation action: who did what, to which object,
// why, when, and on which instance it was decided.
type ModerationLogEntry struct {
	ID             int64 `gorm:"primaryKey;autoIncrement:false"`
	BoardAccountID *int64
	ActorAccountID *int64
	ActorURI       string `gorm:"not null;default:''"`
	Action         string `gorm:"not null"`
	ObjectURI      string `gorm:"not null;default:''"`
	TargetURI      string `gorm:"not null;default:''"`
	Reason         string `gorm:"not null;default:''"`
	// Detail is what the action set: an idea's new status, a block's severity…
	Detail string `gorm:"not null;default:''"`
	// Origin is the host of the instance where the moderator acted.
	Origin string `gorm:"not null;default:''"`
	// ActivityURI is the id of the activity that carries the action between instances;
	// an action delivered twice is recorded once.
	ActivityURI string    `gorm:"not null;default:''"`
	CreatedAt   time.Time `gorm:"not null"`
}

// ReportCategory is Mastodon's reason for a report.
type ReportCategory string

// Report categories, as Mastodon's.
const (
	ReportSpam      ReportCategory = "spam"
	ReportLegal     ReportCategory = "legal"
	ReportViolation ReportCategory = "violation"
	ReportOther     ReportCategory = "other"
)

// Report is a complaint about an account and some of its statuses, filed here or
// forwarded (as a Flag) from another instance.
type Report struct {
	ID int64 `gorm:"primaryKey;autoIncrement:false"`
	// AccountID is who reported: a local account, or the remote instance's actor.
	AccountID       *int64
	TargetAccountID int64          `gorm:"not null"`
	StatusIDs       IDList         `gorm:"type:text;not null;default:'[]'"`
	Category        ReportCategory `gorm:"not null;default:'other'"`
	Comment         string         `gorm:"not null;default:''"`
	Forwarded       bool           `gorm:"not null;default:false"`
	// URI is the Flag's id for a report received from another instance.
	URI                    string `gorm:"not null;default:''"`
	Origin                 string `gorm:"not null;default:''"`
	BoardAccountID         *int64
	AssignedAccountID      *int64
	ActionTaken            bool `gorm:"not null;default:false"`
	ActionTakenAt          *time.Time
	ActionTakenByAccountID *int64
	CreatedAt              time.Time `gorm:"not null"`
	UpdatedAt              time.Time `gorm:"not null"`
}

// AccountIDs are the accounts a report names: the reported one, and the reporter, the
// moderator it is assigned to and the one who acted, when set. Presenters load them in
// one batch for a page of reports.
func (r *Report) AccountIDs() []int64 {
	ids := []int64{r.TargetAccountID}
	for _, p := range []*int64{r.AccountID, r.AssignedAccountID, r.ActionTakenByAccountID} {
		if p != nil {
			ids = append(ids, *p)
		}
	}
	return ids
}

// AccountSanction is what the instance's moderators decided about an account:
// silenced accounts stay out of public timelines, suspended ones out of everything.
type AccountSanction struct {
	AccountID int64     `gorm:"primaryKey;autoIncrement:false"`
	Silenced  bool      `gorm:"not null;default:false"`
	Suspended bool      `gorm:"not null;default:false"`
	UpdatedAt time.Time `gorm:"not null"`
}

// DomainBlock cuts (suspend) or limits (silence) federation with a domain.
type DomainBlock struct {
	ID             int64     `gorm:"primaryKey;autoIncrement:false"`
	Domain         string    `gorm:"not null"`
	Severity       string    `gorm:"not null;default:'suspend'"`
	RejectMedia    bool      `gorm:"not null;default:false"`
	RejectReports  bool      `gorm:"not null;default:false"`
	PrivateComment string    `gorm:"not null;default:''"`
	PublicComment  string    `gorm:"not null;default:''"`
	Obfuscate      bool      `gorm:"not null;default:false"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// DomainAllow lets a domain outside the company federate (world-scope content only).
type DomainAllow struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	Domain    string    `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}
