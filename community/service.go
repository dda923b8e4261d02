package community

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/media"
	"github.com/tacit-social/tacit/rowcache"
	"github.com/tacit-social/tacit/store"
)

// Options configures a Service.
type Options struct {
	// Host is the instance's public host, possibly with a port ("sales.example.com").
	Host string
	// BaseURL is the scheme and host ("https://sales.example.com"); it prefixes every
	// URL the domain mints (profiles, statuses, tags).
	BaseURL string
	// DefaultScope applies to posts whose author and client did not choose one.
	DefaultScope Scope
	// InstanceName, InstanceDescription and InstanceRules are the configured settings,
	// which apply until an admin saves others (instance_settings.go).
	InstanceName        string
	InstanceDescription string
	InstanceRules       []string
	// Registrations are the configured sign-up settings; the admin page's apply once
	// saved. The zero value is closed.
	Registrations Registrations
	// Peers reports whether a host is one of the company's instances. Remote accounts
	// from a peer are part of the company audience. Nil means no peers.
	Peers func(host string) bool
	// Events receives domain events; nil drops them.
	Events *Bus
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Media stores uploaded files; nil refuses uploads.
	Media media.Store
	// PublicProfiles shows people's profiles to logged-out visitors and to servers
	// outside the company, as in open federation mode. Without it (company mode) only
	// the company sees who works here (account_audience.go).
	PublicProfiles bool
	// Logger receives the domain's log lines; nil means slog.Default().
	Logger *slog.Logger
}

// Service is the domain's entry point. It is safe for concurrent use.
type Service struct {
	db      *gorm.DB
	host    string
	baseURL string
	// settings are the instance's name, rules and default scope (instance_settings.go).
	settings *instanceSettings
	peers    func(string) bool
	events   *Bus
	now      func() time.Time
	files    media.Store
	log      *slog.Logger
	// publicProfiles: see Options.PublicProfiles.
	publicProfiles bool
	// proxy serves remote pictures from local copies; nil until SetRemoteMedia.
	proxy *remoteMediaProxy
	// domains caches the domain blocks and allows federation consults on every request.
	domains domainCache
	// resolver looks up remote accounts this instance has not met; nil leaves them
	// unresolved.
	resolver AccountResolver
	// accounts and users keep the rows read by id most (every status shows its
	// author, every request its login); the store's change feed drops a copy when
	// its row changes, whoever changed it.
	accounts *rowcache.Cache[int64, *Account]
	users    *rowcache.Cache[int64, *User]
	// handles keeps accounts by "username@domain" (lowered), for lookups and mentions.
	handles *rowcache.Cache[string, *Account]
	// parts keeps statuses' mentions, hashtags and attachments by row version.
	parts *rowcache.Cache[partsKey, *statusParts]
	// feeds keeps readers' home feed candidates (feed_home.go); nil without a
	// change feed.
	feeds *homeFeeds
}

// Cache sizes: rows kept in memory. An account row is about 2 KB with its keys.
const (
	cachedAccounts = 10_000
	cachedUsers    = 5_000
)

// NewService returns a Service over db.
func NewService(db *gorm.DB, opt Options) *Service {
	s := &Service{
		db:      db,
		host:    opt.Host,
		baseURL: opt.BaseURL,
		peers:   opt.Peers,
		events:  opt.Events,
		now:     opt.Now,
		files:   opt.Media,
		log:     opt.Logger,

		publicProfiles: opt.PublicProfiles,
	}
	changes := store.ChangesOf(db)
	s.accounts = rowcache.New[int64](changes, "accounts", cachedAccounts, func(a *Account) int64 { return a.ID })
	s.users = rowcache.New[int64](changes, "users", cachedUsers, func(u *User) int64 { return u.ID })
	s.handles = rowcache.New[string](changes, "accounts", cachedAccounts, func(a *Account) int64 { return a.ID })
	s.parts = rowcache.NewVersioned[partsKey, *statusParts](cachedStatusParts)
	// The parts change with their status's version whenever the domain writes them; a
	// row written any other way (a repair, an import) drops them all.
	s.parts.ClearOn(changes, "media_attachments", "mentions", "status_tags", "polls")
	s.feeds = newHomeFeeds(changes)
	s.settings = newInstanceSettings(changes, InstanceSettings{Name: opt.InstanceName,
		Description: opt.InstanceDescription, Rules: opt.InstanceRules, DefaultScope: opt.DefaultScope,
		Registrations: opt.Registrations})
	if s.peers == nil {
		s.peers = func(string) bool { return false }
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Host is the instance's public host.
func (s *Service) Host() string { return s.host }

// BaseURL is the instance's scheme and host.
func (s *Service) BaseURL() string { return s.baseURL }

// DB exposes the domain's database handle. The web and federation adapters take the
// store's change feed from it (store.ChangesOf) to know when their page caches go
// stale, and tests of other packages arrange rows through it; a narrower accessor
// would still leave those. Nothing outside this package writes the domain's tables.
func (s *Service) DB() *gorm.DB { return s.db }

// Events returns the bus the service publishes to (possibly nil).
func (s *Service) Events() *Bus { return s.events }

func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// tx runs fn in a transaction and publishes the events fn recorded once it commits.
func (s *Service) tx(ctx context.Context, fn func(tx *gorm.DB, ev *[]Event) error) error {
	var events []Event
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(tx, &events)
	})
	if err != nil {
		return err
	}
	s.events.Publish(ctx, events...)
	return nil
}

// txRetryingRace is tx for storing what a peer sent. Two deliveries of one object (a
// post delivered while a search resolves it, an actor fetched by two requests at once)
// can both find it missing and both insert it; on PostgreSQL the second then fails on
// the unique key (SQLite's single writer serialises them). Run once more, fn finds the
// first one's row and updates it instead.
func (s *Service) txRetryingRace(ctx context.Context, fn func(tx *gorm.DB, ev *[]Event) error) error {
	err := s.tx(ctx, fn)
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		err = s.tx(ctx, fn)
	}
	return err
}

// read returns a session for queries bound to ctx.
func (s *Service) read(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// notFound turns gorm's "no rows" into the domain's not-found error and wraps the rest.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return fmt.Errorf("load %s: %w", what, err)
}

// AccountURL is the public profile URL of a local account.
func (s *Service) AccountURL(username string) string {
	return s.baseURL + "/@" + url.PathEscape(username)
}

// AccountURI is the ActivityPub id of a local account.
func (s *Service) AccountURI(username string) string {
	return s.baseURL + "/users/" + url.PathEscape(username)
}

// StatusURI is the ActivityPub id of a local status.
func (s *Service) StatusURI(username string, id int64) string {
	return s.AccountURI(username) + "/statuses/" + FormatID(id)
}

// StatusURL is the public web page of a local status.
func (s *Service) StatusURL(username string, id int64) string {
	return s.AccountURL(username) + "/" + FormatID(id)
}

// TagURL is the page of a hashtag on this instance.
func (s *Service) TagURL(name string) string {
	return s.baseURL + "/tags/" + url.PathEscape(name)
}
