// Package instance assembles one Tacit instance from its parts: configuration, database,
// domain services and the HTTP server. The command line and the tests both start
// instances through it, so a test runs exactly what an operator runs.
package instance

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/media"
	"github.com/tacit-social/tacit/metrics"
	"github.com/tacit-social/tacit/scim"
	"github.com/tacit-social/tacit/search"
	"github.com/tacit-social/tacit/sso"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/web"
	"github.com/tacit-social/tacit/web/app"
)

// Instance is a running Tacit instance's parts.
type Instance struct {
	Config    config.Config
	DB        *gorm.DB
	Events    *community.Bus
	Community *community.Service
	Auth      *auth.Service
	Web       *web.Server
	Queue     *queue.Queue
	Federator *federation.Federator
	// Index, Indexer and Search are nil when the instance was opened WithoutSearch.
	Index   *search.Index
	Indexer *search.Indexer
	Search  *search.Searcher
	// Metrics are the instance's Prometheus figures, served where Config.Metrics says.
	Metrics *metrics.Metrics
	// SCIM serves the identity provider's provisioning under scim.Prefix.
	SCIM *scim.Server
	log  *slog.Logger
}

// Option tunes Open.
type Option func(*options)

type options struct{ noSearch, existing bool }

// WithoutSearch opens the instance without its search index, for admin commands that
// run beside a live server: only one process may write the index, and the server
// holds it. What such commands change reaches the index through its catch-up.
func WithoutSearch() Option { return func(o *options) { o.noSearch = true } }

// Existing opens only an instance that has been started before, for admin commands:
// run from the wrong folder or without the server's settings, they would otherwise
// create a second, empty instance, or mint accounts whose ids name another host.
// Open then refuses a missing data dir, a missing SQLite database, and a database
// whose recorded host and protocol differ from the configuration.
func Existing() Option { return func(o *options) { o.existing = true } }

// Open prepares an instance: creates the data dir, opens and migrates the database,
// opens the search index and builds the services. It does not listen yet.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, opts ...Option) (*Instance, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if log == nil {
		log = slog.Default()
	}
	if o.existing {
		if err := requireExisting(cfg); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	instanceKey, err := federation.LoadOrCreateInstanceKey(cfg.KeysDir())
	if err != nil {
		return nil, err
	}
	files, err := media.NewDir(cfg.MediaDir())
	if err != nil {
		return nil, err
	}
	if err := store.WaitForDatabase(ctx, cfg.Database, cfg.DatabaseWait, log); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Database, cfg.SQLitePath(), log)
	if err != nil {
		return nil, err
	}
	identity := store.Identity{Host: cfg.Host, Protocol: cfg.Protocol}
	if err := store.CheckIdentity(ctx, db, identity, !o.existing); err != nil {
		_ = store.Close(db)
		if errors.Is(err, store.ErrNoIdentity) {
			return nil, fmt.Errorf("the database has never been started as an instance: run `tacit serve` (or `tacit init`) once first")
		}
		return nil, err
	}
	inst := &Instance{Config: cfg, DB: db, Events: &community.Bus{Logger: log}, log: log}
	inst.Community = community.NewService(db, community.Options{
		Host:         cfg.Host,
		BaseURL:      cfg.BaseURL(),
		DefaultScope: community.Scope(cfg.DefaultScope),
		// The admin page's settings override these once saved.
		InstanceName:        cfg.InstanceName,
		InstanceDescription: cfg.InstanceDescription,
		InstanceRules:       cfg.InstanceRules,
		Registrations:       registrations(cfg.Registrations),
		Peers:               cfg.IsPeer,
		Events:              inst.Events,
		Media:               files,
		// Open mode shows world-scope content, and so people, beyond the company.
		PublicProfiles: cfg.Federation.Mode == config.FederationOpen,
		Logger:         log,
	})
	inst.Auth = auth.NewService(db)
	inst.Metrics = inst.newMetrics()
	// Deliveries time out after 10 seconds, so a 30-second lease is ample, and the jobs
	// of a process that crashed resume within half a minute of its restart.
	inst.Queue = queue.New(db, queue.Options{Logger: log, Lease: 30 * time.Second, PerHost: 8,
		Observe: inst.Metrics.ObserveJob})
	inst.Federator = federation.New(federation.Options{
		Config:          cfg,
		Community:       inst.Community,
		Queue:           inst.Queue,
		InstanceKey:     instanceKey,
		Logger:          log,
		UserAgent:       "Tacit/" + web.Version + " (+" + cfg.BaseURL() + "/)",
		SignatureFailed: inst.Metrics.ObserveSignatureFailure,
	})
	inst.Federator.Subscribe(inst.Events)
	inst.Community.SetAccountResolver(inst.Federator)
	// Remote pictures are served from local copies fetched through the federation
	// client's rules; the proxy addresses are signed with a secret derived from the
	// instance key, so they survive restarts.
	inst.Community.SetRemoteMedia(inst.Federator, mediaProxySecret(instanceKey))
	if !o.noSearch {
		ix, err := search.Open(cfg.IndexDir())
		if err != nil {
			inst.Close()
			return nil, fmt.Errorf("open search index %s: %w", cfg.IndexDir(), err)
		}
		inst.Index = ix
		inst.Indexer = search.NewIndexer(ix, inst.Community, log)
		inst.Indexer.SetLagObserver(inst.Metrics.ObserveIndexLag)
		inst.Indexer.Subscribe(inst.Events)
		inst.Search = search.NewSearcher(search.Options{
			Index: ix, Community: inst.Community, Indexer: inst.Indexer,
			Peers: inst.Federator, PeerTimeout: cfg.Search.PeerTimeout, Logger: log,
			Observe: inst.Metrics.ObserveSearch,
		})
		inst.Federator.SetSearcher(inst.Search)
	}
	// The web app's pages share the API's engine and middleware; the profile and post
	// addresses are federation's, which hands browsers to the app.
	signOn := sso.New(cfg, sso.Options{Key: ssoFlowSecret(instanceKey), Logger: log})
	pages, err := app.New(ctx, app.Deps{Config: cfg, Community: inst.Community, Auth: inst.Auth, Search: inst.Search,
		Federation: inst.Federator, Logger: log, SSO: signOn})
	if err != nil {
		inst.Close()
		return nil, err
	}
	browser := federation.BrowserPages{Profile: pages.ProfilePage, Status: pages.StatusPage}
	inst.Web = web.New(web.Deps{
		Config:         cfg,
		Community:      inst.Community,
		Auth:           inst.Auth,
		Logger:         log,
		Ping:           inst.ping,
		Routes:         []func(*gin.Engine){inst.Federator.RoutesWithPages(browser), pages.Routes},
		Resolver:       inst.Federator,
		Search:         inst.Search,
		ObserveRequest: inst.Metrics.ObserveRequest,
	})
	inst.SCIM, err = scim.New(scim.Deps{Config: cfg, Community: inst.Community, Auth: inst.Auth, Logger: log})
	if err != nil {
		inst.Close()
		return nil, err
	}
	return inst, nil
}

// registrations are the configured sign-up settings in the domain's terms.
func registrations(r config.Registrations) community.Registrations {
	return community.Registrations{Mode: community.RegistrationMode(r.Mode), ApprovalRequired: r.ApprovalRequired,
		AllowedEmailDomains: r.AllowedEmailDomains}
}

// requireExisting refuses to go on when cfg names no instance that was started before.
func requireExisting(cfg config.Config) error {
	hint := "run the command from the server's folder, or give it the server's configuration (--config, TACIT_DATA_DIR); `tacit init` or `tacit serve` creates a new instance"
	if _, err := os.Stat(cfg.DataDir); err != nil {
		return fmt.Errorf("no instance data dir at %s: %s", cfg.DataDir, hint)
	}
	if !cfg.UsesPostgres() {
		if _, err := os.Stat(cfg.SQLitePath()); err != nil {
			return fmt.Errorf("no database at %s: %s", cfg.SQLitePath(), hint)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.KeysDir(), federation.InstanceKeyFile)); err != nil {
		return fmt.Errorf("no instance key in %s: %s", cfg.KeysDir(), hint)
	}
	return nil
}

func (inst *Instance) ping(ctx context.Context) error {
	sqlDB, err := inst.DB.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return sqlDB.PingContext(ctx)
}

// Handler is the instance's HTTP handler: the web server's, SCIM beside it, and
// /metrics when metrics.on_listen asks for it. SCIM answers beside the web server's
// engine rather than on it: the engine's middleware takes every bearer token for an
// OAuth access token and refuses the rest, and the identity provider's token is not
// one; SCIM checks its own tokens and logs its own requests.
func (inst *Instance) Handler() http.Handler {
	h := inst.Web.Handler()
	// /metrics stays out of the web server's middleware: its bearer token is not an
	// access token, and a scraper is neither a client to rate-limit nor a request to
	// count.
	var scrape http.Handler
	if inst.Config.Metrics.OnListen {
		scrape = inst.Metrics.Handler(inst.Config.Metrics.Token)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if scrape != nil && r.URL.Path == "/metrics" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			scrape.ServeHTTP(w, r)
			return
		}
		if scim.Handles(r.URL.Path) {
			inst.SCIM.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r.WithContext(inst.withMetrics(r.Context())))
	})
}

// RunWorkers works the federation queue (deliveries out, activities in), keeps the
// search index in step, delivers events to streaming clients, prunes unattached uploads
// and announces ended polls until ctx ends. Serve runs it; tests that serve through
// their own listener call it themselves.
func (inst *Instance) RunWorkers(ctx context.Context) error {
	const jobs = 6
	done := make(chan struct{}, jobs)
	defer func() {
		for range jobs {
			<-done
		}
	}()
	// The other jobs stop with the queue, also when it stops on an error.
	ctx, cancel := context.WithCancel(inst.withMetrics(ctx))
	defer cancel()
	go func() { inst.pruneMedia(ctx); done <- struct{}{} }()
	go func() { inst.endPolls(ctx); done <- struct{}{} }()
	go func() { inst.publishScheduled(ctx); done <- struct{}{} }()
	go func() { inst.applyRetention(ctx); done <- struct{}{} }()
	go func() { _ = inst.Web.RunStreaming(ctx); done <- struct{}{} }() // it only stops when ctx ends
	go func() {
		defer func() { done <- struct{}{} }()
		if inst.Indexer == nil {
			return
		}
		// A broken index degrades search; it does not stop federation.
		if err := inst.Indexer.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			inst.log.Error("search indexer stopped", "err", err)
		}
	}()
	return inst.Federator.Run(ctx)
}

// endPolls announces, every 30 seconds, the polls whose time is up.
func (inst *Instance) endPolls(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		if _, err := inst.Community.EndExpiredPolls(ctx); err != nil && ctx.Err() == nil {
			inst.log.WarnContext(ctx, "end expired polls", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// publishScheduled publishes, every 30 seconds, the scheduled statuses that are due;
// a status is published at most 30 seconds after its time (or at the first run after
// a restart, since the schedule lives in the database).
func (inst *Instance) publishScheduled(ctx context.Context) {
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		for {
			n, err := inst.Community.PublishDueStatuses(ctx, time.Now(), inst.log)
			if err != nil && ctx.Err() == nil {
				inst.log.WarnContext(ctx, "publish scheduled statuses", "err", err)
			}
			if n > 0 {
				inst.log.InfoContext(ctx, "published scheduled statuses", "count", n)
			}
			if err != nil || n < 100 {
				break // a full batch means more may be due now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// applyRetention deletes the posts the retention rules no longer keep, every
// retention.interval (docs/retention.md).
func (inst *Instance) applyRetention(ctx context.Context) {
	r := inst.Config.Retention
	inst.Community.RunRetention(ctx, RetentionRules(inst.Config), r.Interval, r.Batch)
}

// RetentionRules converts the configured retention rules (validated at load) for the
// domain: "any" matches every scope or visibility.
func RetentionRules(cfg config.Config) []community.RetentionRule {
	var rules []community.RetentionRule
	for _, r := range cfg.Retention.Rules {
		age, _ := r.Age()
		rule := community.RetentionRule{OlderThan: age}
		if r.Scope != "any" {
			rule.Scope = community.Scope(r.Scope)
		}
		if r.Visibility != "any" {
			rule.Visibility = community.Visibility(r.Visibility)
		}
		rules = append(rules, rule)
	}
	return rules
}

// pruneMedia deletes, every hour, uploads that have waited more than a day for a post.
func (inst *Instance) pruneMedia(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		n, err := inst.Community.PruneUnattachedMedia(ctx, time.Now().Add(-community.UnattachedMediaTTL))
		switch {
		case err != nil && ctx.Err() == nil:
			inst.log.WarnContext(ctx, "prune unattached media", "err", err)
		case n > 0:
			inst.log.InfoContext(ctx, "pruned unattached media", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Serve answers HTTP on l and runs the workers until ctx is cancelled, then shuts down
// gracefully.
func (inst *Instance) Serve(ctx context.Context, l net.Listener) error {
	workersDone := make(chan error, 1)
	go func() { workersDone <- inst.RunWorkers(ctx) }()
	defer func() {
		if err := <-workersDone; err != nil && !errors.Is(err, context.Canceled) {
			inst.log.Error("federation workers stopped", "err", err)
		}
	}()
	srv := &http.Server{
		Handler:           inst.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(inst.log.Handler(), slog.LevelWarn),
	}
	// Streaming responses never end by themselves: a graceful shutdown ends them.
	srv.RegisterOnShutdown(inst.Web.CloseStreams)
	metricsSrv, err := inst.serveMetrics()
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	inst.log.Info("tacit is listening", "addr", l.Addr().String(), "url", inst.Config.BaseURL())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(shutdownCtx)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the search index and the database. Call it after the workers have
// stopped.
func (inst *Instance) Close() error {
	var errs []error
	if inst.Index != nil {
		errs = append(errs, inst.Index.Close())
	}
	return errors.Join(append(errs, store.Close(inst.DB))...)
}

// ssoFlowSecret derives the key that signs single sign-on's flow cookie from the
// instance key, as mediaProxySecret does.
func ssoFlowSecret(key *rsa.PrivateKey) []byte {
	sum := sha256.Sum256(append([]byte("tacit sso flow\n"), x509.MarshalPKCS1PrivateKey(key)...))
	return sum[:]
}

// mediaProxySecret derives the key that signs remote media addresses from the instance
// key: secret, stable across restarts, and nothing more to keep.
func mediaProxySecret(key *rsa.PrivateKey) []byte {
	sum := sha256.Sum256(append([]byte("tacit media proxy\n"), x509.MarshalPKCS1PrivateKey(key)...))
	return sum[:]
}
