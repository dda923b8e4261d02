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
//	tacit health [--url URL]         exit 0 if the running server's /health answers 200
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
	"runtime/debug"
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
  health                      exit 0 if the server's /health answers 200, 1 otherwise
                              ([--url http://127.0.0.1:8080/health], [--timeout 5s])
  version                     print the version
  help                        print this text (also: <command> --help)

Admin commands work only on an instance that has been started (or created with init),
with the host and protocol it was started with.

Configuration: defaults < YAML file (--config FILE or TACIT_CONFIG) < TACIT_* environment.
docs/admin.md lists every setting.
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
	switch cmd {
	case "version":
		fmt.Fprintf(stdout, "tacit %s (Mastodon API %s)\n", version(), web.MastodonVersion)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "health":
		return health(ctx, *configPath, environ, cmdArgs, stdout, stderr)
	}
	help := asksHelp(cmdArgs)
	if help && cmd == "init" {
		fmt.Fprint(stdout, usage) // it takes no flags: its line in the usage is all
		return nil
	}
	cfg, err := config.Load(*configPath, environ)
	switch {
	case err != nil && !help:
		return fmt.Errorf("configuration: %w", err)
	case err != nil:
		// Help is what one reads when the configuration is wrong, so it needs none.
		// Without a data dir no instance can be opened, should a flag's value have
		// looked like a request for help.
		cfg = config.Default()
		cfg.DataDir = ""
	}
	log := newLogger(cfg, stderr)
	if err == nil {
		reportUnknownEnv(log, environ)
	}
	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log, cmdArgs, stderr)
	case "init":
		err = initInstance(ctx, cfg, log, stdout)
	case "migrate":
		err = migrate(ctx, cfg, log, cmdArgs, stdout, stderr)
	case "admin":
		err = admin(ctx, cfg, log, cmdArgs, stdin, stdout, stderr, configFileOf(*configPath, environ))
	case "demo":
		err = runDemo(ctx, cmdArgs, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "tacit: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
	// The flag set has printed the command's help (commands that do not tell
	// flag.ErrHelp apart report it as a usage error).
	if errors.Is(err, flag.ErrHelp) || (help && errors.Is(err, errUsage)) {
		return nil
	}
	return err
}

// asksHelp reports whether a command's arguments ask for its help.
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		case "--":
			return false
		}
	}
	return false
}

// reportUnknownEnv warns of TACIT_* variables that configure nothing: a mistyped name
// otherwise leaves its setting at the default without a word.
func reportUnknownEnv(log *slog.Logger, environ []string) {
	for _, u := range config.UnknownEnv(environ) {
		if u.Nearest != "" {
			log.Warn("unknown environment variable ignored", "name", u.Name, "did_you_mean", u.Nearest)
		} else {
			log.Warn("unknown environment variable ignored", "name", u.Name)
		}
	}
}

// revision is the source revision, set at build time with
// -ldflags "-X main.revision=…" where the build has no version control data (the
// container build leaves .git out of its context).
var revision string

// version is Tacit's version with the revision it was built from, when known.
func version() string {
	rev, dirty := revision, false
	if info, ok := debug.ReadBuildInfo(); ok && rev == "" {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if rev == "" {
		return web.Version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return web.Version + " (" + rev + ")"
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
