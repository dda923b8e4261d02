// Command tacit runs a Tacit instance and administers it.
//
//	tacit serve                      run the instance
//	tacit init                       create the data dir, database and keys, and exit
//	tacit migrate                    apply database migrations
//	tacit migrate --dry-run          list the migrations that would run
//	tacit admin create-user …        create an account
//	tacit admin set-role …           change an account's role
//	tacit admin reset-password …     set a new password
//	tacit admin token …              issue an access token for scripts
//	tacit admin delete-user …        delete an account and tell the peers
//	tacit admin reindex              rebuild the search index from the database
//	tacit admin backup DEST          back up the running instance
//	tacit admin restore BACKUP       restore a backup into an empty data dir
//	tacit demo                       run a demo company of three federating departments
//	tacit version                    print the version
//
// Every command reads the same configuration: defaults, then the YAML file named by
// --config or TACIT_CONFIG, then TACIT_* environment variables.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/web"
)

// usage is the help text; the admin subcommands' lines come from adminCommands.
var usage = `Tacit: a federated community server for companies.

Usage:
  tacit [--config FILE] <command> [flags]

Commands:
  serve                       run the instance (creates it on first start)
  init                        create the instance (data dir, database, keys) and exit
  migrate                     apply pending database migrations and exit
                              ([--dry-run] lists them and applies nothing)
` + adminUsage() + `  demo                        run a demo company: three federating departments on 127.0.0.1,
                              seeded on first start ([--dir ./demo], [--port 8181], [--verbose])
  version                     print the version

Admin commands work only on an instance that has been started (or created with init),
with the host and protocol it was started with.

Configuration: defaults < YAML file (--config FILE or TACIT_CONFIG) < TACIT_* environment.
See the README for every setting.
`

// errUsage marks a command line that could not be understood: exit status 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tacit:", err)
		os.Exit(1)
	}
}

// run is main without the process: arguments, environment and output are parameters,
// so tests can run commands in-process.
func run(ctx context.Context, args, environ []string, stdin io.Reader, stdout, stderr io.Writer) error {
	global := flag.NewFlagSet("tacit", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	configPath := global.String("config", "", "YAML configuration file")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	rest := global.Args()
	if len(rest) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, cmdArgs := rest[0], rest[1:]
	if cmd == "version" {
		fmt.Fprintf(stdout, "tacit %s (Mastodon API %s)\n", web.Version, web.MastodonVersion)
		return nil
	}
	cfg, err := config.Load(*configPath, environ)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, stderr)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, cmdArgs, stderr)
	case "init":
		return initInstance(ctx, cfg, log, stdout)
	case "migrate":
		return migrate(ctx, cfg, log, cmdArgs, stdout, stderr)
	case "admin":
		return admin(ctx, cfg, log, cmdArgs, stdin, stdout, stderr, configFileOf(*configPath, environ))
	case "demo":
		return runDemo(ctx, cmdArgs, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "tacit: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(cfg.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// roleFlag validates --role as it is parsed.
func parseRole(s string) (community.Role, error) {
	r := community.Role(strings.ToLower(strings.TrimSpace(s)))
	if err := community.ValidateRole(r); err != nil {
		return "", err
	}
	return r, nil
}
