package community

import (
	"slices"
	"time"
)

// Visibility is Mastodon's per-post visibility, the only values the API ever emits.
type Visibility string

// The four visibilities, from widest to narrowest.
const (
	VisibilityPublic   Visibility = "public"
	VisibilityUnlisted Visibility = "unlisted"
	VisibilityPrivate  Visibility = "private"
	VisibilityDirect   Visibility = "direct"
)

// Scope says who may ever read a post, independently of its visibility (DESIGN.md §2).
type Scope string

// The three scopes, from widest to narrowest.
const (
	ScopeWorld      Scope = "world"
	ScopeCompany    Scope = "company"
	ScopeDepartment Scope = "department"
)

// Role is an account's standing on its instance.
type Role string

// Roles, in increasing order of power.
const (
	RoleUser      Role = "user"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

// Account is a person (or later a group or the instance itself) on this instance or
// a remote one. Domain is "" for local accounts.
type Account struct {
	ID           int64  `gorm:"primaryKey;autoIncrement:false"`
	Username     string `gorm:"not null"`
	Domain       string `gorm:"not null;default:''"`
	DisplayName  string `gorm:"not null;default:''"`
	Note         string `gorm:"not null;default:''"` // rendered, safe HTML
	NoteSource   string `gorm:"not null;default:''"` // what the owner typed (local accounts)
	Fields       Fields `gorm:"type:text;not null;default:'[]'"`
	Expertise    Topics `gorm:"type:text;not null;default:'[]'"` // topics the person knows (account_expertise.go)
	Locked       bool   `gorm:"not null;default:false"`
	Bot          bool   `gorm:"not null;default:false"`
	Group        bool   `gorm:"column:is_group;not null;default:false"`
	Discoverable bool   `gorm:"not null"`
	AvatarURL    string `gorm:"not null;default:''"`
	HeaderURL    string `gorm:"not null;default:''"`

	// ActivityPub identity; empty until federation fills it for remote accounts.
	URI            string `gorm:"not null;default:''"`
	URL            string `gorm:"not null;default:''"`
	InboxURL       string `gorm:"not null;default:''"`
	SharedInboxURL string `gorm:"not null;default:''"`
	FollowersURL   string `gorm:"not null;default:''"`
	PublicKeyPEM   string `gorm:"not null;default:''"`
	PrivateKeyPEM  string `gorm:"not null;default:''"`

	// Counters kept in step with the rows they count, in the same transaction, so that
	// rendering an account never needs a COUNT query.
	FollowersCount int64 `gorm:"not null;default:0"`
	FollowingCount int64 `gorm:"not null;default:0"`
	StatusesCount  int64 `gorm:"not null;default:0"`
	LastStatusAt   *time.Time

	CreatedAt time.Time `gorm:"not null"`
	UpdatedAt time.Time `gorm:"not null"`
}

// clone copies the account, its lists included, so that a cached row is never
// changed through a copy handed out.
func (a *Account) clone() *Account {
	c := *a
	c.Fields = slices.Clone(a.Fields)
	c.Expertise = slices.Clone(a.Expertise)
	return &c
}

// IsLocal reports whether the account lives on this instance.
func (a *Account) IsLocal() bool { return a.Domain == "" }

// Acct is the account's handle as Mastodon shows it: "user" for local, "user@host" for remote.
func (a *Account) Acct() string {
	if a.Domain == "" {
		return a.Username
	}
	return a.Username + "@" + a.Domain
}

// Field is one of the name/value pairs on a profile.
type Field struct {
	Name       string     `json:"name"`
	Value      string     `json:"value"` // rendered, safe HTML
	Source     string     `json:"source,omitempty"`
	VerifiedAt *time.Time `json:"verified_at,omitempty"`
}

// User holds what a local account needs to log in. Remote accounts have no User.
type User struct {
	ID                int64      `gorm:"primaryKey;autoIncrement:false"`
	AccountID         int64      `gorm:"not null;uniqueIndex"`
	Email             string     `gorm:"not null;default:''"`
	PasswordHash      string     `gorm:"not null"`
	Role              Role       `gorm:"not null;default:'user'"`
	Locale            string     `gorm:"not null;default:'en'"`
	DefaultVisibility Visibility `gorm:"not null;default:'public'"`
	DefaultScope      Scope      `gorm:"not null;default:''"` // "" = the instance's default
	DefaultSensitive  bool       `gorm:"not null;default:false"`
	DefaultLanguage   string     `gorm:"not null;default:''"`
	Disabled          bool       `gorm:"not null;default:false"`
	CreatedAt         time.Time  `gorm:"not null"`
	UpdatedAt         time.Time  `gorm:"not null"`
	LastSignInAt      *time.Time
	// Approved is false while an account that signed up waits for a moderator
	// (account_registration.go); such a login is refused until then.
	Approved bool `gorm:"not null"`
	// RegistrationReason is what the person wrote to the moderators when signing up.
	RegistrationReason string `gorm:"not null;default:''"`
	// InviteID is the invite the account signed up with, if any.
	InviteID *int64
}

// Status is a post, a reply or a reblog (ReblogOfID set, no text of its own).
type Status struct {
	ID        int64  `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64  `gorm:"not null"`
	URI       string `gorm:"not null;default:''"`
	URL       string `gorm:"not null;default:''"`
	// ActivityURI is the id of the Create that brought a remote status ("" for local
	// statuses, whose activity id is their URI with "/activity").
	ActivityURI        string     `gorm:"not null;default:''"`
	Text               string     `gorm:"not null;default:''"` // source as typed (local statuses)
	Content            string     `gorm:"not null;default:''"` // rendered, safe HTML
	SpoilerText        string     `gorm:"not null;default:''"`
	Sensitive          bool       `gorm:"not null;default:false"`
	Visibility         Visibility `gorm:"not null"`
	Scope              Scope      `gorm:"not null"`
	Language           string     `gorm:"not null;default:''"`
	InReplyToID        *int64
	InReplyToAccountID *int64
	ReblogOfID         *int64
	ApplicationID      *int64
	Local              bool `gorm:"not null"`

	RepliesCount    int64 `gorm:"not null;default:0"`
	ReblogsCount    int64 `gorm:"not null;default:0"`
	FavouritesCount int64 `gorm:"not null;default:0"`

	CreatedAt time.Time `gorm:"not null"`
	EditedAt  *time.Time
	UpdatedAt time.Time `gorm:"not null"`
}

// IsReblog reports whether the status only shares another one.
func (s *Status) IsReblog() bool { return s.ReblogOfID != nil }

// StatusEdit is one revision of a status, kept for /history. The first revision is the
// original text; each edit adds the new one.
type StatusEdit struct {
	ID          int64     `gorm:"primaryKey;autoIncrement:false"`
	StatusID    int64     `gorm:"not null;index"`
	AccountID   int64     `gorm:"not null"`
	Text        string    `gorm:"not null;default:''"`
	Content     string    `gorm:"not null;default:''"`
	SpoilerText string    `gorm:"not null;default:''"`
	Sensitive   bool      `gorm:"not null;default:false"`
	CreatedAt   time.Time `gorm:"not null"`
}

// Mention links a status to an account it names. Mentioned accounts are part of the
// audience of private and direct statuses.
type Mention struct {
	ID        int64 `gorm:"primaryKey;autoIncrement:false"`
	StatusID  int64 `gorm:"not null"`
	AccountID int64 `gorm:"not null"`
}

// Tag is a hashtag, stored lowercased; the display form comes from the status text.
type Tag struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	Name      string    `gorm:"not null;uniqueIndex"`
	CreatedAt time.Time `gorm:"not null"`
}

// StatusTag links a status to its hashtags.
type StatusTag struct {
	StatusID int64 `gorm:"primaryKey;autoIncrement:false"`
	TagID    int64 `gorm:"primaryKey;autoIncrement:false"`
}

// Follow is an accepted follow: AccountID follows TargetAccountID.
type Follow struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	ShowReblogs     bool      `gorm:"not null"`
	Notify          bool      `gorm:"not null;default:false"`
	URI             string    `gorm:"not null;default:''"`
	CreatedAt       time.Time `gorm:"not null"`
}

// FollowRequest is a follow waiting for a locked account's approval.
type FollowRequest struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	ShowReblogs     bool      `gorm:"not null"`
	Notify          bool      `gorm:"not null;default:false"`
	URI             string    `gorm:"not null;default:''"`
	CreatedAt       time.Time `gorm:"not null"`
}

// Block hides each account from the other and ends follows both ways.
type Block struct {
	ID              int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64     `gorm:"not null"`
	TargetAccountID int64     `gorm:"not null"`
	URI             string    `gorm:"not null;default:''"`
	CreatedAt       time.Time `gorm:"not null"`
}

// Mute hides an account's posts (and optionally notifications) from the muter only.
type Mute struct {
	ID              int64 `gorm:"primaryKey;autoIncrement:false"`
	AccountID       int64 `gorm:"not null"`
	TargetAccountID int64 `gorm:"not null"`
	Notifications   bool  `gorm:"not null"`
	ExpiresAt       *time.Time
	CreatedAt       time.Time `gorm:"not null"`
}

// Favourite is a like.
type Favourite struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64     `gorm:"not null"`
	StatusID  int64     `gorm:"not null"`
	URI       string    `gorm:"not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
}

// Bookmark is a private save of a status.
type Bookmark struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64     `gorm:"not null"`
	StatusID  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// StatusPin is a status its author shows at the top of their profile.
type StatusPin struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64     `gorm:"not null"`
	StatusID  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// NotificationType is one of Mastodon's notification kinds.
type NotificationType string

// Notification kinds Tacit emits.
const (
	NotifyMention       NotificationType = "mention"
	NotifyFollow        NotificationType = "follow"
	NotifyFollowRequest NotificationType = "follow_request"
	NotifyFavourite     NotificationType = "favourite"
	NotifyReblog        NotificationType = "reblog"
	NotifyUpdate        NotificationType = "update"
	NotifyStatus        NotificationType = "status"
	NotifyPoll          NotificationType = "poll"
)

// Notification tells AccountID that FromAccountID did something, possibly to a status.
type Notification struct {
	ID            int64            `gorm:"primaryKey;autoIncrement:false"`
	AccountID     int64            `gorm:"not null"`
	FromAccountID int64            `gorm:"not null"`
	Type          NotificationType `gorm:"not null"`
	StatusID      *int64
	CreatedAt     time.Time `gorm:"not null"`
}

// Marker remembers the last item read in a timeline, across the user's devices.
type Marker struct {
	AccountID  int64     `gorm:"primaryKey;autoIncrement:false"`
	Timeline   string    `gorm:"primaryKey"`
	LastReadID int64     `gorm:"not null"`
	Version    int64     `gorm:"not null;default:0"`
	UpdatedAt  time.Time `gorm:"not null"`
}

// FeaturedTag is a hashtag an account shows on its profile: what they are known for.
type FeaturedTag struct {
	ID        int64     `gorm:"primaryKey;autoIncrement:false"`
	AccountID int64     `gorm:"not null"`
	TagID     int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// IdempotencyKey makes a retried status creation return the first result instead of
// posting twice.
type IdempotencyKey struct {
	AccountID int64     `gorm:"primaryKey;autoIncrement:false"`
	Key       string    `gorm:"primaryKey"`
	StatusID  int64     `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
}

// ReceivedActivity remembers the id of an activity a peer delivered, so that a replay
// (a retried delivery, or a malicious resend) is applied only once.
type ReceivedActivity struct {
	URI        string    `gorm:"primaryKey"`
	ReceivedAt time.Time `gorm:"not null"`
}

// AccountTombstone is what remains of a deleted local account: its username stays
// taken, its actor id answers "gone", and its key signs the Delete that tells peers.
type AccountTombstone struct {
	AccountID     int64     `gorm:"primaryKey;autoIncrement:false"`
	Username      string    `gorm:"not null"`
	URI           string    `gorm:"not null"`
	PrivateKeyPEM string    `gorm:"not null;default:''"`
	PublicKeyPEM  string    `gorm:"not null;default:''"`
	DeletedAt     time.Time `gorm:"not null"`
}
