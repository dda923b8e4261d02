package community

import (
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
