// Package instance assembles one Tacit instance from its parts: configuration, database,
// domain services and the HTTP server. The command line and the tests both start
// instances through it, so a test runs exactly what an operator runs.
package instance

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation"
	"github.com/tacit-social/tacit/store"
	"github.com/tacit-social/tacit/web"
)

// Instance is a running Tacit instance's parts.
type Instance struct {
	Config    config.Config
	DB        *gorm.DB
	Events    *community.Bus
	Community *community.Service
	Auth      *auth.Service
	Web       *web.Server
	log       *slog.Logger
}

// Open prepares an instance: creates the data dir, opens and migrates the database and
// builds the services. It does not listen yet.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Instance, error) {
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	if _, err := federation.LoadOrCreateInstanceKey(cfg.KeysDir()); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, cfg.Database, cfg.SQLitePath(), log)
	if err != nil {
		return nil, err
	}
	inst := &Instance{Config: cfg, DB: db, Events: &community.Bus{}, log: log}
	inst.Community = community.NewService(db, community.Options{
		Host:         cfg.Host,
		BaseURL:      cfg.BaseURL(),
		DefaultScope: community.Scope(cfg.DefaultScope),
		Peers:        cfg.IsPeer,
		Events:       inst.Events,
	})
	inst.Auth = auth.NewService(db)
	inst.Web = web.New(web.Deps{
		Config:    cfg,
		Community: inst.Community,
		Auth:      inst.Auth,
		Logger:    log,
		Ping:      inst.ping,
	})
	return inst, nil
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

// Handler is the instance's HTTP handler.
func (inst *Instance) Handler() http.Handler { return inst.Web.Handler() }

// Serve answers HTTP on l until ctx is cancelled, then shuts down gracefully.
func (inst *Instance) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           inst.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(inst.log.Handler(), slog.LevelWarn),
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
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down http server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close releases the database.
func (inst *Instance) Close() error {
	sqlDB, err := inst.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
