package community

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Board is an idea board: a group account (Account.Group) and what makes it a board.
// A board lives on one instance (Local) and is followed from every instance; the rows
// of remote boards are this instance's copy of what their home instance publishes.
type Board struct {
	AccountID int64 `gorm:"primaryKey;autoIncrement:false"`
	// Description is the text the board's creator typed (local boards) or the plain
	// text of the board's summary (remote ones); the account's Note holds it as HTML.
	Description string `gorm:"not null;default:''"`
	Rules       string `gorm:"not null;default:''"`
	// Scope is who may read the board's ideas: company-wide boards federate, department
	// boards never leave their instance.
	Scope              Scope `gorm:"not null"`
	Local              bool  `gorm:"not null"`
	CreatedByAccountID *int64
	CreatedAt          time.Time `gorm:"not null"`
	UpdatedAt          time.Time `gorm:"not null"`
}

// BoardModerator makes an account (of any instance) a moderator of a board.
type BoardModerator struct {
	ID             int64     `gorm:"primaryKey;autoIncrement:false"`
	BoardAccountID int64     `gorm:"not null"`
	AccountID      int64     `gorm:"not null"`
	CreatedAt      time.Time `gorm:"not null"`
}

// BoardBan keeps an account from posting, replying or voting on a board.
type BoardBan struct {
	ID             int64     `gorm:"primaryKey;autoIncrement:false"`
	BoardAccountID int64     `gorm:"not null"`
	AccountID      int64     `gorm:"not null"`
	Reason         string    `gorm:"not null;default:''"`
	CreatedAt      time.Time `gorm:"not null"`
}

// IdeaStatus is where an idea stands in the board's workflow.
type IdeaStatus string

// The workflow: new → under_review → planned → done, or declined.
const (
	IdeaNew         IdeaStatus = "new"
	IdeaUnderReview IdeaStatus = "under_review"
	IdeaPlanned     IdeaStatus = "planned"
	IdeaDone        IdeaStatus = "done"
	IdeaDeclined    IdeaStatus = "declined"
)

// Idea is what makes a status an idea on a board. The status (StatusID) carries the
// text, author and thread; the idea adds what the board owns: title, workflow status,
// votes, lock, pin and merge. Only the board's home instance changes the board-owned
// fields; the others take them from the board's updates, newest Version first.
type Idea struct {
	StatusID       int64  `gorm:"primaryKey;autoIncrement:false"`
	BoardAccountID int64  `gorm:"not null"`
	Title          string `gorm:"not null"`
	// Body is the idea's text without its title: as typed for local ideas, plain text
	// for remote ones; BodyHTML is it rendered and safe.
	Body           string     `gorm:"not null;default:''"`
	BodyHTML       string     `gorm:"not null;default:''"`
	State          IdeaStatus `gorm:"not null;default:'new'"`
	StateComment   string     `gorm:"not null;default:''"`
	StateChangedAt *time.Time
	Locked         bool `gorm:"not null;default:false"`
	PinnedAt       *time.Time
	MergedIntoID   *int64
	VotesCount     int64     `gorm:"not null;default:0"`
	Version        int64     `gorm:"not null;default:0"`
	CreatedAt      time.Time `gorm:"not null"`
	UpdatedAt      time.Time `gorm:"not null"`
}

// IdeaVote is one person's vote on an idea, keyed by the voter's actor id so that a
// person counts once however many times their vote is delivered. The board's home
// instance counts them; other instances keep the votes they know of, for "voted".
type IdeaVote struct {
	ID        int64  `gorm:"primaryKey;autoIncrement:false"`
	IdeaID    int64  `gorm:"not null"`
	VoterURI  string `gorm:"not null"`
	AccountID *int64
	CreatedAt time.Time `gorm:"not null"`
}

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

// IDList is a list of ids stored as JSON text (strings, as the API writes ids).
type IDList []int64

// Value implements driver.Valuer.
func (l IDList) Value() (driver.Value, error) {
	out := make([]string, len(l))
	for i, id := range l {
		out[i] = strconv.FormatInt(id, 10)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode id list: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (l *IDList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = IDList{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan id list: unexpected %T", src)
	}
	var raw []string
	if len(b) > 0 {
		if err := json.Unmarshal(b, &raw); err != nil {
			return fmt.Errorf("decode id list: %w", err)
		}
	}
	out := make(IDList, 0, len(raw))
	for _, s := range raw {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("decode id list: %w", err)
		}
		out = append(out, id)
	}
	*l = out
	return nil
}
