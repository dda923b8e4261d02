package web

// The Mastodon API's JSON entities, as Tacit emits them. Field order and names follow
// the Mastodon documentation; lists are never nil so they encode as [] rather than null.

// Account is Mastodon's Account entity.
type Account struct {
	ID             string         `json:"id"`
	Username       string         `json:"username"`
	Acct           string         `json:"acct"`
	DisplayName    string         `json:"display_name"`
	Locked         bool           `json:"locked"`
	Bot            bool           `json:"bot"`
	Discoverable   bool           `json:"discoverable"`
	Indexable      bool           `json:"indexable"`
	Group          bool           `json:"group"`
	Noindex        bool           `json:"noindex"`
	HideCollection bool           `json:"hide_collections"`
	CreatedAt      string         `json:"created_at"`
	Note           string         `json:"note"`
	URL            string         `json:"url"`
	URI            string         `json:"uri"`
	Avatar         string         `json:"avatar"`
	AvatarStatic   string         `json:"avatar_static"`
	Header         string         `json:"header"`
	HeaderStatic   string         `json:"header_static"`
	FollowersCount int64          `json:"followers_count"`
	FollowingCount int64          `json:"following_count"`
	StatusesCount  int64          `json:"statuses_count"`
	LastStatusAt   *string        `json:"last_status_at"`
	Emojis         []CustomEmoji  `json:"emojis"`
	Fields         []AccountField `json:"fields"`
	Roles          []AccountRole  `json:"roles"`
	// Present only on verify_credentials and update_credentials.
	Source *AccountSource `json:"source,omitempty"`
	Role   *AccountRole   `json:"role,omitempty"`
	// Tacit's own account fields.
	Tacit AccountTacit `json:"tacit"`
}

// AccountTacit carries Tacit's own account fields.
type AccountTacit struct {
	// Expertise is the list of topics the person declares they know about.
	Expertise []string `json:"expertise"`
}

// AccountField is a profile name/value pair.
type AccountField struct {
	Name       string  `json:"name"`
	Value      string  `json:"value"`
	VerifiedAt *string `json:"verified_at"`
}

// AccountSource is the owner's raw profile and posting defaults.
type AccountSource struct {
	Note                string         `json:"note"`
	Fields              []AccountField `json:"fields"`
	Privacy             string         `json:"privacy"`
	Sensitive           bool           `json:"sensitive"`
	Language            string         `json:"language"`
	FollowRequestsCount int64          `json:"follow_requests_count"`
	Discoverable        bool           `json:"discoverable"`
	Indexable           bool           `json:"indexable"`
	HideCollections     bool           `json:"hide_collections"`
	AttributionDomains  []string       `json:"attribution_domains"`
	// Tacit's extension: the default scope of new posts.
	Scope string `json:"scope"`
	// Tacit's extension: the expertise topics, as update_credentials takes them.
	Expertise []string `json:"expertise"`
}

// AccountRole is Mastodon's Role entity.
type AccountRole struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Color       string `json:"color"`
	Permissions string `json:"permissions"`
	Highlighted bool   `json:"highlighted"`
}

// CustomEmoji is Mastodon's CustomEmoji entity. Tacit has none yet, but the lists exist.
type CustomEmoji struct {
	Shortcode       string `json:"shortcode"`
	URL             string `json:"url"`
	StaticURL       string `json:"static_url"`
	VisibleInPicker bool   `json:"visible_in_picker"`
	Category        string `json:"category,omitempty"`
}

// Status is Mastodon's Status entity with Tacit's audience extension.
type Status struct {
	ID                 string            `json:"id"`
	URI                string            `json:"uri"`
	URL                *string           `json:"url"`
	CreatedAt          string            `json:"created_at"`
	EditedAt           *string           `json:"edited_at"`
	Account            Account           `json:"account"`
	Content            string            `json:"content"`
	Text               *string           `json:"text,omitempty"`
	Visibility         string            `json:"visibility"`
	Sensitive          bool              `json:"sensitive"`
	SpoilerText        string            `json:"spoiler_text"`
	MediaAttachments   []MediaAttachment `json:"media_attachments"`
	Application        *Application      `json:"application,omitempty"`
	Mentions           []StatusMention   `json:"mentions"`
	Tags               []StatusTag       `json:"tags"`
	Emojis             []CustomEmoji     `json:"emojis"`
	ReblogsCount       int64             `json:"reblogs_count"`
	FavouritesCount    int64             `json:"favourites_count"`
	RepliesCount       int64             `json:"replies_count"`
	InReplyToID        *string           `json:"in_reply_to_id"`
	InReplyToAccountID *string           `json:"in_reply_to_account_id"`
	Reblog             *Status           `json:"reblog"`
	Poll               any               `json:"poll"`
	Card               any               `json:"card"`
	Language           *string           `json:"language"`
	Favourited         *bool             `json:"favourited,omitempty"`
	Reblogged          *bool             `json:"reblogged,omitempty"`
	Muted              *bool             `json:"muted,omitempty"`
	Bookmarked         *bool             `json:"bookmarked,omitempty"`
	Pinned             *bool             `json:"pinned,omitempty"`
	Filtered           []FilterResult    `json:"filtered,omitempty"`
	LocalOnly          bool              `json:"local_only"`
	Tacit              StatusTacit       `json:"tacit"`
}

// StatusTacit carries Tacit's own status fields.
type StatusTacit struct {
	Scope string `json:"scope"`
	// Idea is set when the status is an idea on a board.
	Idea *StatusIdea `json:"idea,omitempty"`
}

// MediaAttachment is Mastodon's MediaAttachment entity.
type MediaAttachment struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	URL         string  `json:"url"`
	PreviewURL  *string `json:"preview_url"`
	RemoteURL   *string `json:"remote_url"`
	Description *string `json:"description"`
	Blurhash    *string `json:"blurhash"`
	Meta        any     `json:"meta"`
}

// Application is the app a status was posted with, or a registered client.
type Application struct {
	Name         string   `json:"name"`
	Website      *string  `json:"website"`
	ID           string   `json:"id,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	ClientSecret string   `json:"client_secret,omitempty"`
	RedirectURI  string   `json:"redirect_uri,omitempty"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	VapidKey     string   `json:"vapid_key,omitempty"`
}

// StatusMention is a mentioned account inside a status.
type StatusMention struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	URL      string `json:"url"`
	Acct     string `json:"acct"`
}

// StatusTag is a hashtag inside a status.
type StatusTag struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Relationship is Mastodon's Relationship entity.
type Relationship struct {
	ID                  string   `json:"id"`
	Following           bool     `json:"following"`
	ShowingReblogs      bool     `json:"showing_reblogs"`
	Notifying           bool     `json:"notifying"`
	Languages           []string `json:"languages"`
	FollowedBy          bool     `json:"followed_by"`
	Blocking            bool     `json:"blocking"`
	BlockedBy           bool     `json:"blocked_by"`
	Muting              bool     `json:"muting"`
	MutingNotifications bool     `json:"muting_notifications"`
	MutingExpiresAt     *string  `json:"muting_expires_at"`
	Requested           bool     `json:"requested"`
	RequestedBy         bool     `json:"requested_by"`
	DomainBlocking      bool     `json:"domain_blocking"`
	Endorsed            bool     `json:"endorsed"`
	Note                string   `json:"note"`
}

// Notification is Mastodon's Notification entity.
type Notification struct {
	ID        string  `json:"id"`
	Type      string  `json:"type"`
	GroupKey  string  `json:"group_key"`
	CreatedAt string  `json:"created_at"`
	Account   Account `json:"account"`
	Status    *Status `json:"status,omitempty"`
}

// Context is a status's ancestors and descendants.
type Context struct {
	Ancestors   []Status `json:"ancestors"`
	Descendants []Status `json:"descendants"`
}

// StatusEdit is one revision in /history.
type StatusEdit struct {
	Content          string            `json:"content"`
	SpoilerText      string            `json:"spoiler_text"`
	Sensitive        bool              `json:"sensitive"`
	CreatedAt        string            `json:"created_at"`
	Account          Account           `json:"account"`
	MediaAttachments []MediaAttachment `json:"media_attachments"`
	Emojis           []CustomEmoji     `json:"emojis"`
	Poll             any               `json:"poll,omitempty"`
}

// StatusSource is the editable text of a status.
type StatusSource struct {
	ID          string `json:"id"`
	Text        string `json:"text"`
	SpoilerText string `json:"spoiler_text"`
}

// Marker is a timeline position.
type Marker struct {
	LastReadID string `json:"last_read_id"`
	Version    int64  `json:"version"`
	UpdatedAt  string `json:"updated_at"`
}

// FeaturedTag is a hashtag shown on a profile.
type FeaturedTag struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	URL           string  `json:"url"`
	StatusesCount int64   `json:"statuses_count,string"` // Mastodon sends a string here
	LastStatusAt  *string `json:"last_status_at"`
}

// Tag is Mastodon's Tag entity (hashtag pages, search).
type Tag struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	URL       string       `json:"url"`
	History   []TagHistory `json:"history"`
	Following *bool        `json:"following,omitempty"`
}

// TagHistory is one day of a hashtag's use.
type TagHistory struct {
	Day      string `json:"day"`
	Uses     string `json:"uses"`
	Accounts string `json:"accounts"`
}

// List is Mastodon's List entity.
type List struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	RepliesPolicy string `json:"replies_policy"`
	Exclusive     bool   `json:"exclusive"`
}

// Filter is Mastodon's (v2) Filter entity. Keywords and Statuses are omitted inside a
// FilterResult and present (possibly empty) everywhere else.
type Filter struct {
	ID           string           `json:"id"`
	Title        string           `json:"title"`
	Context      []string         `json:"context"`
	ExpiresAt    *string          `json:"expires_at"`
	FilterAction string           `json:"filter_action"`
	Keywords     *[]FilterKeyword `json:"keywords,omitempty"`
	Statuses     *[]FilterStatus  `json:"statuses,omitempty"`
}

// FilterKeyword is a keyword of a filter.
type FilterKeyword struct {
	ID        string `json:"id"`
	Keyword   string `json:"keyword"`
	WholeWord bool   `json:"whole_word"`
}

// FilterStatus is a status a filter matches by id.
type FilterStatus struct {
	ID       string `json:"id"`
	StatusID string `json:"status_id"`
}

// FilterResult is a filter a status matched, inside the status's "filtered".
type FilterResult struct {
	Filter         Filter   `json:"filter"`
	KeywordMatches []string `json:"keyword_matches"`
	StatusMatches  []string `json:"status_matches"`
}

// V1Filter is Mastodon's older filter entity: one phrase.
type V1Filter struct {
	ID           string   `json:"id"`
	Phrase       string   `json:"phrase"`
	Context      []string `json:"context"`
	WholeWord    bool     `json:"whole_word"`
	ExpiresAt    *string  `json:"expires_at"`
	Irreversible bool     `json:"irreversible"`
}

// Conversation is Mastodon's Conversation entity: direct messages among some people.
type Conversation struct {
	ID         string    `json:"id"`
	Unread     bool      `json:"unread"`
	Accounts   []Account `json:"accounts"`
	LastStatus *Status   `json:"last_status"`
}
