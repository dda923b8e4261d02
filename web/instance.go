package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/media"
)

// Discovery: what an instance says about itself to clients (instance API, preferences)
// and to other servers (NodeInfo, host-meta), and the default images it serves.

// sourceURL is where Tacit's source code lives (AGPL-style clients link to it).
const sourceURL = "https://github.com/tacit-social/tacit"

// thumbnailPath is the instance's default picture in the instance API.
const thumbnailPath = "/instance/thumbnail.png"

// statsTTL is how long instance figures are reused: clients fetch the instance on
// every start and some poll it, and each computation counts whole tables.
const statsTTL = 60 * time.Second

// Limits the instance API advertises, taken from the code that enforces them. Media is
// images only, so every video limit is 0.
const (
	maxStatusChars           = community.MaxStatusChars
	maxMediaAttachments      = community.MaxMediaAttachments
	charactersReservedPerURL = 23
	imageSizeLimit           = media.MaxImageBytes
	imageMatrixLimit         = media.MaxImagePixels
	mediaDescriptionLimit    = community.MaxMediaDescription
	maxPollOptions           = community.MaxPollOptions
	maxPollOptionChars       = community.MaxPollOptionChars
	minPollExpiration        = int(community.MinPollExpiration / time.Second)
	maxPollExpiration        = int(community.MaxPollExpiration / time.Second)
	maxFeaturedTags          = 10
	maxPinnedStatuses        = 5
	activityWeeks            = 12
)

var supportedMimeTypes = media.SupportedTypes

// cached holds a value computed at most once per ttl. Concurrent requests for an
// expired value wait for one computation instead of all running it.
type cached[T any] struct {
	ttl   time.Duration
	load  func(context.Context) (T, error)
	mu    sync.Mutex
	value T
	until time.Time
}

func (c *cached[T]) get(ctx context.Context) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Now().Before(c.until) {
		return c.value, nil
	}
	v, err := c.load(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	c.value, c.until = v, time.Now().Add(c.ttl)
	return v, nil
}

// instanceFacts are the figures and contact details the discovery documents share.
type instanceFacts struct {
	stats        community.InstanceStats
	contact      *community.Account
	contactEmail string
}

// instanceAPI serves the discovery endpoints with their caches.
type instanceAPI struct {
	s        *Server
	facts    *cached[instanceFacts]
	activity *cached[[]community.WeekActivity]
	images   map[string]func() staticImage
}

func (s *Server) mountInstance(e *gin.Engine) {
	a := &instanceAPI{s: s, images: defaultImages()}
	a.facts = &cached[instanceFacts]{ttl: statsTTL, load: a.loadFacts}
	a.activity = &cached[[]community.WeekActivity]{ttl: statsTTL, load: func(ctx context.Context) ([]community.WeekActivity, error) {
		return s.community.WeeklyActivity(ctx, activityWeeks)
	}}

	e.GET("/api/v1/instance", a.v1Instance)
	e.GET("/api/v2/instance", a.v2Instance)
	// Peer host names say which servers the company runs: for its people only in
	// company mode.
	e.GET("/api/v1/instance/peers", s.profileReader("read"), a.peers)
	e.GET("/api/v1/instance/rules", a.rules)
	e.GET("/api/v1/instance/activity", a.weeklyActivity)
	e.GET("/api/v1/custom_emojis", emptyList)
	e.GET("/api/v1/preferences", requireUser("read:accounts"), a.preferences)
	e.GET("/api/v1/announcements", requireUser("read"), emptyList)

	e.GET("/.well-known/nodeinfo", a.nodeinfoLinks)
	e.GET("/nodeinfo/2.0", a.nodeinfo("2.0"))
	e.GET("/nodeinfo/2.1", a.nodeinfo("2.1"))
	e.GET("/.well-known/host-meta", a.hostMeta)

	for path := range a.images {
		e.GET(path, a.image)
		e.HEAD(path, a.image)
	}
}

// emptyList answers with [] for lists Tacit does not have yet (custom emojis,
// announcements), so that clients show nothing rather than an error.
func emptyList(c *gin.Context) { c.JSON(http.StatusOK, []struct{}{}) }

// Rule is one of the instance's rules, as Mastodon's Rule entity.
type Rule struct {
	ID   string `json:"id"`
	Text string `json:"text"`
	Hint string `json:"hint"`
}

// rulesOf numbers the instance's rules from 1, in their order, as Mastodon's ids are.
func rulesOf(rules []string) []Rule {
	out := make([]Rule, 0, len(rules))
	for i, text := range rules {
		out = append(out, Rule{ID: strconv.Itoa(i + 1), Text: text})
	}
	return out
}

// rules is GET /api/v1/instance/rules.
func (a *instanceAPI) rules(c *gin.Context) {
	settings, err := a.s.community.Settings(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, rulesOf(settings.Rules))
}

func (a *instanceAPI) loadFacts(ctx context.Context) (instanceFacts, error) {
	stats, err := a.s.community.InstanceStats(ctx)
	if err != nil {
		return instanceFacts{}, err
	}
	contact, _, err := a.s.community.ContactAccount(ctx)
	if err != nil {
		return instanceFacts{}, err
	}
	// The contact address is the configured one or none: an admin's own login address
	// is personal, and publishing it to anyone who asks (and to every crawler of
	// instance lists) is not the operator's choice to make by omission. Mastodon
	// answers "" when no contact address is set, and clients accept it.
	f := instanceFacts{stats: stats, contact: contact, contactEmail: a.s.cfg.ContactEmail}
	return f, nil
}

// streamingURL is the WebSocket base clients connect streaming to.
func (a *instanceAPI) streamingURL() string {
	if a.s.cfg.Protocol == config.ProtocolHTTP {
		return "ws://" + a.s.cfg.Host
	}
	return "wss://" + a.s.cfg.Host
}

// instanceTacit is Tacit's own block in the instance entities.
type instanceTacit struct {
	Department     string `json:"department"`
	Location       string `json:"location"`
	DefaultScope   string `json:"default_scope"`
	FederationMode string `json:"federation_mode"`
}

func (a *instanceAPI) tacit() instanceTacit {
	cfg := a.s.cfg
	return instanceTacit{
		Department:     cfg.Department,
		Location:       cfg.Location,
		DefaultScope:   string(a.s.community.DefaultScope()),
		FederationMode: cfg.Federation.Mode,
	}
}

type statusLimits struct {
	MaxCharacters            int `json:"max_characters"`
	MaxMediaAttachments      int `json:"max_media_attachments"`
	CharactersReservedPerURL int `json:"characters_reserved_per_url"`
}

type mediaLimits struct {
	SupportedMimeTypes  []string `json:"supported_mime_types"`
	DescriptionLimit    int      `json:"description_limit,omitempty"`
	ImageSizeLimit      int      `json:"image_size_limit"`
	ImageMatrixLimit    int      `json:"image_matrix_limit"`
	VideoSizeLimit      int      `json:"video_size_limit"`
	VideoFrameRateLimit int      `json:"video_frame_rate_limit"`
	VideoMatrixLimit    int      `json:"video_matrix_limit"`
}

type pollLimits struct {
	MaxOptions             int `json:"max_options"`
	MaxCharactersPerOption int `json:"max_characters_per_option"`
	MinExpiration          int `json:"min_expiration"`
	MaxExpiration          int `json:"max_expiration"`
}

// listLimits and filterLimits are Tacit's own configuration blocks (Mastodon's
// entities have none for lists and filters): the bounds the API enforces.
type listLimits struct {
	MaxLists    int `json:"max_lists"`
	MaxAccounts int `json:"max_accounts"`
}

// scheduledLimits is Tacit's own block too: what scheduling a status allows.
type scheduledLimits struct {
	MaxScheduledStatuses int `json:"max_scheduled_statuses"`
	MaxPerDay            int `json:"max_per_day"`
	MinOffset            int `json:"min_offset"` // seconds ahead, at least
}

type filterLimits struct {
	MaxFilters  int `json:"max_filters"`
	MaxKeywords int `json:"max_keywords"`
	MaxStatuses int `json:"max_statuses"`
}

var (
	listConfig   = listLimits{community.MaxLists, community.MaxListAccounts}
	filterConfig = filterLimits{community.MaxFilters, community.MaxFilterKeywords, community.MaxFilterStatuses}
	statusConfig = statusLimits{maxStatusChars, maxMediaAttachments, charactersReservedPerURL}
	pollConfig   = pollLimits{maxPollOptions, maxPollOptionChars, minPollExpiration, maxPollExpiration}

	scheduledConfig = scheduledLimits{community.MaxScheduledStatuses, community.MaxScheduledPerDay,
		int(community.MinScheduleOffset / time.Second)}
)

func mediaConfig(v2 bool) mediaLimits {
	m := mediaLimits{SupportedMimeTypes: supportedMimeTypes, ImageSizeLimit: imageSizeLimit, ImageMatrixLimit: imageMatrixLimit}
	if v2 {
		m.DescriptionLimit = mediaDescriptionLimit
	}
	return m
}

// V1Instance is Mastodon's v1 Instance entity, which older clients still read.
type V1Instance struct {
	URI              string `json:"uri"`
	Title            string `json:"title"`
	ShortDescription string `json:"short_description"`
	Description      string `json:"description"`
	Email            string `json:"email"`
	Version          string `json:"version"`
	URLs             struct {
		StreamingAPI string `json:"streaming_api"`
	} `json:"urls"`
	Stats struct {
		UserCount   int64 `json:"user_count"`
		StatusCount int64 `json:"status_count"`
		DomainCount int64 `json:"domain_count"`
	} `json:"stats"`
	Thumbnail        string   `json:"thumbnail"`
	Languages        []string `json:"languages"`
	Registrations    bool     `json:"registrations"`
	ApprovalRequired bool     `json:"approval_required"`
	InvitesEnabled   bool     `json:"invites_enabled"`
	Configuration    struct {
		Accounts struct {
			MaxFeaturedTags int `json:"max_featured_tags"`
		} `json:"accounts"`
		Statuses          statusLimits    `json:"statuses"`
		MediaAttachments  mediaLimits     `json:"media_attachments"`
		Polls             pollLimits      `json:"polls"`
		Lists             listLimits      `json:"lists"`
		Filters           filterLimits    `json:"filters"`
		ScheduledStatuses scheduledLimits `json:"scheduled_statuses"`
	} `json:"configuration"`
	ContactAccount *Account      `json:"contact_account,omitempty"`
	Rules          []Rule        `json:"rules"`
	Tacit          instanceTacit `json:"tacit"`
}

func (a *instanceAPI) v1Instance(c *gin.Context) {
	f, err := a.facts.get(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	// The settings are not among the cached facts, so that an admin's change shows at once.
	settings, err := a.s.community.Settings(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	cfg := a.s.cfg
	var out V1Instance
	out.URI = cfg.Host
	out.Title = settings.Name
	out.ShortDescription = settings.Description
	out.Description = html.EscapeString(settings.Description)
	out.Email = f.contactEmail
	out.Version = MastodonVersion
	out.URLs.StreamingAPI = a.streamingURL()
	out.Stats.UserCount = f.stats.Users
	out.Stats.StatusCount = f.stats.Statuses
	out.Stats.DomainCount = f.stats.Domains
	out.Thumbnail = cfg.BaseURL() + thumbnailPath
	out.Languages = []string{"en"}
	reg := settings.Registrations
	out.Registrations = reg.Mode == community.RegistrationsOpen
	out.ApprovalRequired = out.Registrations && reg.ApprovalRequired
	out.InvitesEnabled = reg.Mode != community.RegistrationsClosed
	out.Configuration.Accounts.MaxFeaturedTags = maxFeaturedTags
	out.Configuration.Statuses = statusConfig
	out.Configuration.MediaAttachments = mediaConfig(false)
	out.Configuration.Polls = pollConfig
	out.Configuration.Lists = listConfig
	out.Configuration.Filters = filterConfig
	out.Configuration.ScheduledStatuses = scheduledConfig
	if f.contact != nil {
		acct := a.s.account(f.contact)
		out.ContactAccount = &acct
	}
	out.Rules = rulesOf(settings.Rules)
	out.Tacit = a.tacit()
	c.JSON(http.StatusOK, out)
}

// registrationsMessage tells people who cannot simply sign up how they may; open
// registrations need no message (null, as Mastodon's).
func registrationsMessage(reg community.Registrations) *string {
	var msg string
	switch reg.Mode {
	case community.RegistrationsOpen:
		if len(reg.AllowedEmailDomains) == 0 {
			return nil
		}
		msg = "Sign-up is open to addresses at " + strings.Join(reg.AllowedEmailDomains, ", ") + ", and to anyone with an invite."
	case community.RegistrationsInvite:
		msg = "Signing up needs an invite from this server's staff."
	default:
		msg = "Registrations are closed: this server's admins create its accounts."
	}
	return &msg
}

// Instance is Mastodon's v2 Instance entity.
type Instance struct {
	Domain      string `json:"domain"`
	Title       string `json:"title"`
	Version     string `json:"version"`
	SourceURL   string `json:"source_url"`
	Description string `json:"description"`
	Usage       struct {
		Users struct {
			ActiveMonth int64 `json:"active_month"`
		} `json:"users"`
	} `json:"usage"`
	Thumbnail struct {
		URL string `json:"url"`
	} `json:"thumbnail"`
	Icon          []struct{} `json:"icon"`
	Languages     []string   `json:"languages"`
	Configuration struct {
		URLs struct {
			Streaming string `json:"streaming"`
		} `json:"urls"`
		Accounts struct {
			MaxFeaturedTags        int `json:"max_featured_tags"`
			MaxPinnedStatuses      int `json:"max_pinned_statuses"`
			MaxDisplayNameLength   int `json:"max_display_name_length"`
			MaxNoteLength          int `json:"max_note_length"`
			MaxProfileFields       int `json:"max_profile_fields"`
			ProfileFieldNameLimit  int `json:"profile_field_name_limit"`
			ProfileFieldValueLimit int `json:"profile_field_value_limit"`
		} `json:"accounts"`
		Statuses         statusLimits `json:"statuses"`
		MediaAttachments mediaLimits  `json:"media_attachments"`
		Polls            pollLimits   `json:"polls"`
		Translation      struct {
			Enabled bool `json:"enabled"`
		} `json:"translation"`
		Lists             listLimits      `json:"lists"`
		Filters           filterLimits    `json:"filters"`
		ScheduledStatuses scheduledLimits `json:"scheduled_statuses"`
		// LimitedFederation is true in company mode, where only the listed peers are
		// federated with.
		LimitedFederation bool `json:"limited_federation"`
	} `json:"configuration"`
	Registrations struct {
		Enabled          bool    `json:"enabled"`
		ApprovalRequired bool    `json:"approval_required"`
		Message          *string `json:"message"`
	} `json:"registrations"`
	APIVersions struct {
		Mastodon int `json:"mastodon"`
	} `json:"api_versions"`
	Contact struct {
		Email   string   `json:"email"`
		Account *Account `json:"account,omitempty"`
	} `json:"contact"`
	Rules []Rule        `json:"rules"`
	Tacit instanceTacit `json:"tacit"`
}

func (a *instanceAPI) v2Instance(c *gin.Context) {
	f, err := a.facts.get(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	settings, err := a.s.community.Settings(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	cfg := a.s.cfg
	var out Instance
	out.Domain = cfg.Host
	out.Title = settings.Name
	out.Version = MastodonVersion
	out.SourceURL = sourceURL
	out.Description = settings.Description
	out.Usage.Users.ActiveMonth = f.stats.ActiveMonth
	out.Thumbnail.URL = cfg.BaseURL() + thumbnailPath
	out.Icon = []struct{}{}
	out.Languages = []string{"en"}
	conf := &out.Configuration
	conf.URLs.Streaming = a.streamingURL()
	conf.Accounts.MaxFeaturedTags = maxFeaturedTags
	conf.Accounts.MaxPinnedStatuses = maxPinnedStatuses
	conf.Accounts.MaxDisplayNameLength = community.MaxDisplayNameLen
	conf.Accounts.MaxNoteLength = community.MaxNoteLen
	conf.Accounts.MaxProfileFields = community.MaxFields
	conf.Accounts.ProfileFieldNameLimit = community.MaxFieldNameLen
	conf.Accounts.ProfileFieldValueLimit = community.MaxFieldValueLen
	conf.Statuses = statusConfig
	conf.MediaAttachments = mediaConfig(true)
	conf.Polls = pollConfig
	conf.Lists = listConfig
	conf.Filters = filterConfig
	conf.ScheduledStatuses = scheduledConfig
	conf.LimitedFederation = cfg.Federation.Mode == config.FederationCompany
	out.APIVersions.Mastodon = 2
	out.Contact.Email = f.contactEmail
	reg := settings.Registrations
	out.Registrations.Enabled = reg.Mode == community.RegistrationsOpen
	out.Registrations.ApprovalRequired = out.Registrations.Enabled && reg.ApprovalRequired
	out.Registrations.Message = registrationsMessage(reg)
	if f.contact != nil {
		acct := a.s.account(f.contact)
		out.Contact.Account = &acct
	}
	out.Rules = rulesOf(settings.Rules)
	out.Tacit = a.tacit()
	c.JSON(http.StatusOK, out)
}

// peers lists the other servers this instance knows: its configured company peers
// and the hosts of remote accounts it has met.
func (a *instanceAPI) peers(c *gin.Context) {
	known, err := a.s.community.KnownDomains(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	self := strings.ToLower(a.s.cfg.Host)
	out := []string{}
	for _, h := range slices.Concat(a.s.cfg.Federation.Peers, known) {
		h = strings.ToLower(h)
		if h != self && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	slices.Sort(out)
	c.JSON(http.StatusOK, out)
}

func (a *instanceAPI) weeklyActivity(c *gin.Context) {
	weeks, err := a.activity.get(c.Request.Context())
	if err != nil {
		a.s.fail(c, err)
		return
	}
	type week struct {
		Week          string `json:"week"`
		Statuses      string `json:"statuses"`
		Logins        string `json:"logins"`
		Registrations string `json:"registrations"`
	}
	out := make([]week, 0, len(weeks))
	for _, w := range weeks {
		out = append(out, week{
			Week:          strconv.FormatInt(w.Week.Unix(), 10),
			Statuses:      strconv.FormatInt(w.Statuses, 10),
			Logins:        strconv.FormatInt(w.Logins, 10),
			Registrations: strconv.FormatInt(w.Registrations, 10),
		})
	}
	c.JSON(http.StatusOK, out)
}

func (a *instanceAPI) preferences(c *gin.Context) {
	u := currentUser(c)
	if u == nil {
		// requireUser admitted the token, so this does not happen; if it did, the token
		// would authenticate no user, and the answer is requireUser's.
		abort(c, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	var language *string
	if u.DefaultLanguage != "" {
		language = &u.DefaultLanguage
	}
	scope := u.DefaultScope
	if scope == "" {
		scope = a.s.community.DefaultScope()
	}
	c.JSON(http.StatusOK, gin.H{
		"posting:default:visibility": u.DefaultVisibility,
		"posting:default:sensitive":  u.DefaultSensitive,
		"posting:default:language":   language,
		"reading:expand:media":       "default",
		"reading:expand:spoilers":    false,
		"tacit:default_scope":        scope,
	})
}

// nodeinfoSchema is the profile URI of a NodeInfo version.
func nodeinfoSchema(version string) string {
	return "http://nodeinfo.diaspora.software/ns/schema/" + version
}

func (a *instanceAPI) nodeinfoLinks(c *gin.Context) {
	base := a.s.cfg.BaseURL()
	c.JSON(http.StatusOK, gin.H{"links": []gin.H{
		{"rel": nodeinfoSchema("2.0"), "href": base + "/nodeinfo/2.0"},
		{"rel": nodeinfoSchema("2.1"), "href": base + "/nodeinfo/2.1"},
	}})
}

func (a *instanceAPI) nodeinfo(version string) gin.HandlerFunc {
	return func(c *gin.Context) {
		f, err := a.facts.get(c.Request.Context())
		if err != nil {
			a.s.fail(c, err)
			return
		}
		settings, err := a.s.community.Settings(c.Request.Context())
		if err != nil {
			a.s.fail(c, err)
			return
		}
		cfg := a.s.cfg
		software := gin.H{"name": "tacit", "version": Version}
		if version == "2.1" {
			software["repository"] = sourceURL
			software["homepage"] = sourceURL
		}
		doc := gin.H{
			"version":           version,
			"software":          software,
			"protocols":         []string{"activitypub"},
			"services":          gin.H{"inbound": []string{}, "outbound": []string{}},
			"openRegistrations": settings.Registrations.Mode == community.RegistrationsOpen,
			"usage": gin.H{
				"users": gin.H{
					"total":          f.stats.Users,
					"activeMonth":    f.stats.ActiveMonth,
					"activeHalfyear": f.stats.ActiveHalfyear,
				},
				"localPosts": f.stats.Statuses,
			},
			"metadata": gin.H{
				"nodeName":        settings.Name,
				"nodeDescription": settings.Description,
				"department":      cfg.Department,
				"location":        cfg.Location,
				"federationMode":  cfg.Federation.Mode,
				// Apps built on megalodon identify servers by NodeInfo and accept an
				// unknown one that names Mastodon as its upstream, the convention of
				// servers that implement Mastodon's client API.
				"upstream": gin.H{"name": "mastodon", "version": mastodonAPIVersion},
			},
		}
		c.Header("Content-Type", `application/json; profile="`+nodeinfoSchema(version)+`#"`)
		c.JSON(http.StatusOK, doc)
	}
}

// hostMeta points older software at WebFinger.
func (a *instanceAPI) hostMeta(c *gin.Context) {
	template := html.EscapeString(a.s.cfg.BaseURL() + "/.well-known/webfinger?resource={uri}")
	body := `<?xml version="1.0" encoding="UTF-8"?>
<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">
  <Link rel="lrdd" template="` + template + `"/>
</XRD>
`
	c.Data(http.StatusOK, "application/xrd+xml; charset=utf-8", []byte(body))
}

// staticImage is a generated PNG with its validator.
type staticImage struct {
	data []byte
	etag string
}

func (a *instanceAPI) image(c *gin.Context) {
	draw, ok := a.images[c.FullPath()]
	if !ok {
		c.String(http.StatusNotFound, "Not found")
		return
	}
	img := draw()
	h := c.Writer.Header()
	// The paths never change their picture within a version; a year lets browsers and
	// clients keep them, and the ETag lets them check cheaply after an upgrade.
	h.Set("Cache-Control", "public, max-age=31536000")
	h.Set("ETag", img.etag)
	if match := c.GetHeader("If-None-Match"); match != "" && match == img.etag {
		c.Status(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(img.data)))
	if c.Request.Method == http.MethodHead {
		h.Set("Content-Type", "image/png")
		c.Status(http.StatusOK)
		return
	}
	c.Data(http.StatusOK, "image/png", img.data)
}

// defaultImages draws, once each when first asked for, the pictures shown for accounts
// without an avatar or header and for the instance: a grey silhouette on a pale
// background, and soft gradients. Drawing them keeps binary files out of the source
// tree; drawing them when first asked for rather than at start keeps about 80 ms of
// CPU and 7 MB of transient memory out of every start.
func defaultImages() map[string]func() staticImage {
	encode := func(img image.Image) staticImage {
		var buf bytes.Buffer
		enc := png.Encoder{CompressionLevel: png.BestCompression}
		if err := enc.Encode(&buf, img); err != nil {
			panic("encode default image: " + err.Error()) // in-memory encoding of a valid image cannot fail
		}
		sum := sha256.Sum256(buf.Bytes())
		return staticImage{data: buf.Bytes(), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	}
	return map[string]func() staticImage{
		defaultAvatarPath: sync.OnceValue(func() staticImage { return encode(silhouette(400)) }),
		defaultHeaderPath: sync.OnceValue(func() staticImage {
			return encode(gradient(1500, 500, color.RGBA{0xe3, 0xe7, 0xed, 0xff}, color.RGBA{0xc8, 0xd0, 0xda, 0xff}))
		}),
		thumbnailPath: sync.OnceValue(func() staticImage {
			return encode(gradient(1200, 630, color.RGBA{0x4f, 0x61, 0x7a, 0xff}, color.RGBA{0x7a, 0x8b, 0xa3, 0xff}))
		}),
	}
}

// silhouette draws a neutral head-and-shoulders figure, anti-aliased by sampling each
// pixel 4×4 times.
func silhouette(size int) *image.RGBA {
	bg := [3]float64{0xdd, 0xe1, 0xe7}
	fg := [3]float64{0xa4, 0xad, 0xb9}
	n := float64(size)
	inside := func(x, y float64) bool {
		// Head: a circle in the upper middle.
		hx, hy, hr := 0.5*n, 0.40*n, 0.18*n
		if (x-hx)*(x-hx)+(y-hy)*(y-hy) <= hr*hr {
			return true
		}
		// Shoulders: the top of a wide ellipse rising from the bottom edge.
		sx, sy, rx, ry := 0.5*n, 1.02*n, 0.36*n, 0.40*n
		dx, dy := (x-sx)/rx, (y-sy)/ry
		return dx*dx+dy*dy <= 1
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	const samples = 4
	for py := 0; py < size; py++ {
		for px := 0; px < size; px++ {
			hits := 0
			for sy := 0; sy < samples; sy++ {
				for sx := 0; sx < samples; sx++ {
					if inside(float64(px)+(float64(sx)+0.5)/samples, float64(py)+(float64(sy)+0.5)/samples) {
						hits++
					}
				}
			}
			t := float64(hits) / (samples * samples)
			img.SetRGBA(px, py, color.RGBA{
				R: uint8(bg[0] + (fg[0]-bg[0])*t),
				G: uint8(bg[1] + (fg[1]-bg[1])*t),
				B: uint8(bg[2] + (fg[2]-bg[2])*t),
				A: 0xff,
			})
		}
	}
	return img
}

// gradient fills an image from top colour to bottom colour.
func gradient(w, h int, top, bottom color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	mix := func(a, b uint8, t float64) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*t) }
	for y := 0; y < h; y++ {
		t := float64(y) / float64(max(h-1, 1))
		c := color.RGBA{mix(top.R, bottom.R, t), mix(top.G, bottom.G, t), mix(top.B, bottom.B, t), 0xff}
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}
