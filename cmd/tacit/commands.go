package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/tacit-social/tacit/auth"
	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
	"github.com/tacit-social/tacit/search"
	"github.com/tacit-social/tacit/store"
)

func serve(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: tacit [--config FILE] serve\n\n"+
			"Runs the instance: the web server on listen (and metrics.listen), the federation\n"+
			"queue and the search indexer, until SIGINT or SIGTERM. The first start creates the\n"+
			"instance. Every setting comes from the configuration (see the README).\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	start := time.Now()
	log.Info("starting tacit", "version", version(), "host", cfg.Host, "listen", cfg.Listen, "data_dir", cfg.DataDir,
		"database", databaseKind(cfg), "default_scope", cfg.DefaultScope, "federation_mode", cfg.Federation.Mode,
		"peers", strings.Join(cfg.Federation.Peers, ","), "metrics", metricsWhere(cfg.Metrics))
	inst, err := instance.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	reportMemoryOnSignal(ctx, log)
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		inst.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	err = inst.Serve(ctx, l)
	if cerr := inst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		log.Error("tacit stopped", "uptime_ms", time.Since(start).Milliseconds(), "err", err)
		return err
	}
	log.Info("tacit stopped", "uptime_ms", time.Since(start).Milliseconds())
	return nil
}

// metricsWhere says, for the start line, where the metrics are served.
func metricsWhere(m config.Metrics) string {
	var where []string
	if m.Listen != "" {
		where = append(where, m.Listen)
	}
	if m.OnListen {
		where = append(where, "listen")
	}
	if len(where) == 0 {
		return "off"
	}
	return strings.Join(where, ",") + "/metrics"
}

func databaseKind(cfg config.Config) string {
	if cfg.UsesPostgres() {
		return "postgresql"
	}
	return "sqlite:" + cfg.SQLitePath()
}

func migrate(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dryRun := fs.Bool("dry-run", false, "list the pending migrations without applying them")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *dryRun && !cfg.UsesPostgres() {
		if _, err := os.Stat(cfg.SQLitePath()); err != nil {
			fmt.Fprintf(stdout, "no database at %s yet: `tacit init` or `tacit serve` creates it with the current schema\n", cfg.SQLitePath())
			return nil
		}
	}
	db, err := store.OpenNoMigrate(ctx, cfg.Database, cfg.SQLitePath(), log)
	if err != nil {
		return err
	}
	defer closeDB(db)
	if *dryRun {
		return migrateDryRun(ctx, db, stdout)
	}
	applied, err := store.Migrate(ctx, db)
	if err != nil {
		return err
	}
	v, err := store.Version(ctx, db)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "database is up to date (schema version %d)\n", v)
		return nil
	}
	for _, a := range applied {
		fmt.Fprintf(stdout, "applied migration %d\n", a)
	}
	fmt.Fprintf(stdout, "database is at schema version %d\n", v)
	return nil
}

// migrateDryRun lists the migrations `tacit migrate` (or the next start) would apply.
func migrateDryRun(ctx context.Context, db *gorm.DB, stdout io.Writer) error {
	v, err := store.Version(ctx, db)
	if err != nil {
		return err
	}
	pending, err := store.PendingMigrations(ctx, db)
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		fmt.Fprintf(stdout, "database is up to date (schema version %d): no migration would run\n", v)
		return nil
	}
	fmt.Fprintf(stdout, "database is at schema version %d; %d migrations would run, in this order:\n", v, len(pending))
	for _, m := range pending {
		fmt.Fprintf(stdout, "  %05d %s\n", m.Version, m.Name)
	}
	fmt.Fprintln(stdout, "nothing was applied (dry run)")
	return nil
}

// withInstance opens the instance's database and services without serving, for admin
// commands that run beside a live server.
func withInstance(ctx context.Context, cfg config.Config, log *slog.Logger, fn func(*instance.Instance) error) error {
	// The running server holds the search index; what admin commands change reaches it
	// through its catch-up from the database.
	inst, err := instance.Open(ctx, cfg, log, instance.WithoutSearch(), instance.Existing())
	if err != nil {
		return err
	}
	defer inst.Close()
	if err := fn(inst); err != nil {
		return err
	}
	// A running server keeps some rows in memory; it drops the ones this command
	// changed within moments, and the command returns once it has.
	store.Settle(ctx, inst.DB)
	return nil
}

// initInstance creates a new instance's data dir, database, keys and recorded host, as
// the first `serve` would, so that admin commands can run before the server first does.
func initInstance(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) error {
	inst, err := instance.Open(ctx, cfg, log, instance.WithoutSearch())
	if err != nil {
		return err
	}
	defer inst.Close()
	fmt.Fprintf(stdout, "instance %s ready in %s (%s)\n", cfg.BaseURL(), cfg.DataDir, databaseKind(cfg))
	return nil
}

// readPassword returns the password given by --password, or the first line of stdin
// with --password-stdin, which keeps it out of the shell history and the process list.
func readPassword(flagValue string, fromStdin bool, stdin io.Reader) (string, error) {
	if !fromStdin {
		return flagValue, nil
	}
	if flagValue != "" {
		return "", errors.New("give either --password or --password-stdin, not both")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	if password == "" {
		return "", errors.New("--password-stdin: standard input holds no password")
	}
	return password, nil
}

// adminCommand is one subcommand of `tacit admin`: its name, its line in the usage text
// (a newline continues it under the same column) and what runs it.
type adminCommand struct {
	name, usage string
	run         func(ctx context.Context, a adminArgs, args []string) error
}

// adminCommands are the subcommands of `tacit admin`, in the order the usage lists them.
var adminCommands = []adminCommand{
	{"create-user", "create an account (--username, --password or --password-stdin,\n[--email, --role, --display-name, --locked])", adminCreateUser},
	{"set-role", "change an account's role (--username, --role user|moderator|admin)", adminSetRole},
	{"reset-password", "set a new password (--username, --password or --password-stdin)", adminResetPassword},
	{"token", "issue an access token for an account (--username, [--scopes \"read write\"]);\nmoderators and admins get admin:read admin:write by default", adminToken},
	{"delete-user", "delete an account, its posts and its login for good, and tell\nthe peers (--username, --yes)", adminDeleteUser},
	{"invite", "make an invite and print its sign-up link ([--max-uses N] [--expires 7d]\n[--comment TEXT]); --list shows the invites, --revoke CODE ends one", adminInvite},
	{"scim-token", "make a token for the identity provider's SCIM provisioning and print it\nonce ([--name NAME]); --list shows the tokens, --revoke NAME|ID ends one", adminSCIMToken},
	{"reindex", "rebuild the search index from the database (while serve runs: used from its next start)", adminReindex},
	{"backup", "write a backup of the running instance (database, keys, media, configuration)\nto DEST (a .tar.gz file, or a directory to name one in)", adminBackup},
	{"restore", "restore a backup into an empty data dir ([--force] replaces an instance;\nstop its server first), then rebuild the search index", adminRestore},
	{"retention", "apply the retention rules once ([--dry-run]: count what would go)", adminRetention},
	{"legal-hold", "keep an account's posts from the retention rules (USER on|off, [--reason])", adminLegalHold},
	{"export", "write an account's archive, as its owner downloads it (USER DEST.zip)", adminExport},
}

// adminUsage is the admin subcommands' part of the usage text.
func adminUsage() string {
	var b strings.Builder
	for _, c := range adminCommands {
		text := strings.ReplaceAll(c.usage, "\n", "\n"+strings.Repeat(" ", 30))
		fmt.Fprintf(&b, "  %-28s%s\n", "admin "+c.name, text)
	}
	return b.String()
}

// adminArgs is what every admin subcommand is given: the configuration, the standard
// streams, and its flag set, which holds --username already.
type adminArgs struct {
	cfg      config.Config
	log      *slog.Logger
	stdin    io.Reader
	stdout   io.Writer
	flags    *flag.FlagSet
	username *string
	// configFile is the YAML file the configuration was read from, "" for none.
	configFile string
}

// parse parses the subcommand's flags; the flag package has told the user what was
// wrong, or printed the help that was asked for (flag.ErrHelp).
func (a adminArgs) parse(args []string) error {
	if err := a.flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

func (a adminArgs) withInstance(ctx context.Context, fn func(*instance.Instance) error) error {
	return withInstance(ctx, a.cfg, a.log, fn)
}

// admin runs `tacit admin <subcommand> [flags]`; args start with the subcommand.
func admin(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdin io.Reader, stdout, stderr io.Writer, configFile string) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	sub := args[0]
	if asksHelp(args[:1]) {
		fmt.Fprint(stdout, usage)
		return nil
	}
	for _, c := range adminCommands {
		if c.name != sub {
			continue
		}
		fs := flag.NewFlagSet("admin "+sub, flag.ContinueOnError)
		fs.SetOutput(stderr)
		a := adminArgs{cfg: cfg, log: log, stdin: stdin, stdout: stdout, flags: fs,
			username: fs.String("username", "", "the account's username"), configFile: configFile}
		return c.run(ctx, a, args[1:])
	}
	fmt.Fprintf(stderr, "tacit: unknown admin command %q\n\n%s", sub, usage)
	return errUsage
}

func adminCreateUser(ctx context.Context, a adminArgs, args []string) error {
	password := a.flags.String("password", "", "the password (at least 8 characters)")
	passwordStdin := a.flags.Bool("password-stdin", false, "read the password from the first line of standard input")
	email := a.flags.String("email", "", "e-mail address (optional; can be used to log in)")
	role := a.flags.String("role", "user", "user, moderator or admin")
	displayName := a.flags.String("display-name", "", "display name")
	locked := a.flags.Bool("locked", false, "approve followers by hand")
	if err := a.parse(args); err != nil {
		return err
	}
	pw, err := readPassword(*password, *passwordStdin, a.stdin)
	if err != nil {
		return fmt.Errorf("create-user: %w", err)
	}
	r, err := parseRole(*role)
	if err != nil {
		return err
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		acct, _, err := inst.Community.CreateLocalAccount(ctx, community.NewLocalAccount{
			Username: *a.username, Password: pw, Email: *email, Role: r,
			DisplayName: *displayName, Locked: *locked,
		})
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		fmt.Fprintf(a.stdout, "created %s (@%s@%s, role %s, id %d)\n", acct.Username, acct.Username, a.cfg.Host, r, acct.ID)
		return nil
	})
}

func adminSetRole(ctx context.Context, a adminArgs, args []string) error {
	role := a.flags.String("role", "", "user, moderator or admin")
	if err := a.parse(args); err != nil {
		return err
	}
	r, err := parseRole(*role)
	if err != nil {
		return err
	}
	username := *a.username
	if username == "" {
		return errors.New("set-role: --username is required")
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		if err := inst.Community.SetRole(ctx, username, r); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		fmt.Fprintf(a.stdout, "%s is now %s\n", username, r)
		return nil
	})
}

func adminResetPassword(ctx context.Context, a adminArgs, args []string) error {
	password := a.flags.String("password", "", "the new password")
	passwordStdin := a.flags.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := a.parse(args); err != nil {
		return err
	}
	username := *a.username
	if username == "" {
		return errors.New("reset-password: --username is required")
	}
	pw, err := readPassword(*password, *passwordStdin, a.stdin)
	if err != nil {
		return fmt.Errorf("reset-password: %w", err)
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		if err := inst.Community.ResetPassword(ctx, username, pw); err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		// A reset is what one does when a password leaked: the logins made with it
		// end too (their open streams within seconds on the running server).
		n, err := revokeLogins(ctx, inst, username)
		if err != nil {
			return fmt.Errorf("reset password: %w", err)
		}
		fmt.Fprintf(a.stdout, "password of %s changed; %d access tokens revoked\n", username, n)
		return nil
	})
}

func adminDeleteUser(ctx context.Context, a adminArgs, args []string) error {
	yes := a.flags.Bool("yes", false, "confirm: the account cannot be restored")
	if err := a.parse(args); err != nil {
		return err
	}
	username := *a.username
	if username == "" {
		return errors.New("delete-user: --username is required")
	}
	if !*yes {
		return fmt.Errorf("delete-user: deleting %s removes its posts and login for good; add --yes to confirm", username)
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		if _, err := revokeLogins(ctx, inst, username); err != nil {
			return fmt.Errorf("delete-user: %w", err)
		}
		if err := inst.Community.DeleteLocalAccount(ctx, username); err != nil {
			return fmt.Errorf("delete-user: %w", err)
		}
		fmt.Fprintf(a.stdout, "%s deleted; the server tells the peers as soon as it runs\n", username)
		return nil
	})
}

func adminToken(ctx context.Context, a adminArgs, args []string) error {
	scopes := a.flags.String("scopes", "", `space-separated scopes (default "read write follow push", plus "admin:read admin:write" for moderators and admins)`)
	if err := a.parse(args); err != nil {
		return err
	}
	known, unknown := auth.ParseScopes(*scopes)
	if len(unknown) > 0 {
		return fmt.Errorf("token: unknown scopes %s", strings.Join(unknown, ", "))
	}
	if *scopes != "" && len(known) == 0 {
		return errors.New("token: --scopes must name at least one scope")
	}
	username := *a.username
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		acct, err := inst.Community.LocalAccount(ctx, username)
		if err != nil {
			return fmt.Errorf("token: account %q: %w", username, err)
		}
		user, err := inst.Community.UserByAccountID(ctx, acct.ID)
		if err != nil {
			return fmt.Errorf("token: %w", err)
		}
		granted, err := tokenScopes(known, user.Role, username)
		if err != nil {
			return err
		}
		app, err := inst.Auth.CreateApplication(ctx, auth.NewApplication{
			Name: "tacit admin token", RedirectURIs: []string{auth.OOBRedirect}, Scopes: granted,
		})
		if err != nil {
			return err
		}
		tok, err := inst.Auth.IssueToken(ctx, app.ID, user.ID, acct.ID, granted, false)
		if err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, tok.AccessToken)
		return nil
	})
}

// tokenScopes are the scopes an admin token gets: those asked for, or by default the
// client scopes plus, for staff, the admin API's. Admin scopes are for staff only.
func tokenScopes(asked []string, role community.Role, username string) ([]string, error) {
	staff := role == community.RoleModerator || role == community.RoleAdmin
	if len(asked) == 0 {
		// The token an operator asks for is usually for managing the instance:
		// staff get the admin API's scopes with it, as Mastodon's admin apps ask.
		scopes := []string{"read", "write", "follow", "push"}
		if staff {
			scopes = append(scopes, "admin:read", "admin:write")
		}
		return scopes, nil
	}
	if !staff {
		for _, sc := range asked {
			if strings.HasPrefix(sc, "admin:") {
				return nil, fmt.Errorf("token: %s is not a moderator or admin; admin scopes are for staff (tacit admin set-role)", username)
			}
		}
	}
	return asked, nil
}

func adminReindex(ctx context.Context, a adminArgs, args []string) error {
	if err := a.parse(args); err != nil {
		return err
	}
	return a.withInstance(ctx, func(inst *instance.Instance) error {
		return reindex(ctx, a.cfg, inst, a.stdout)
	})
}

// reindex rebuilds the search index from the database. The new index replaces the
// live one at once, or, while a server holds the live one, when the server next starts.
func reindex(ctx context.Context, cfg config.Config, inst *instance.Instance, stdout io.Writer) error {
	bar := newProgressBar(stdout)
	start := time.Now()
	pending, err := search.Rebuild(ctx, cfg.IndexDir(), inst.Community, bar.update)
	bar.finish()
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	took := time.Since(start)
	rate := float64(bar.total) / max(took.Seconds(), 0.001)
	fmt.Fprintf(stdout, "indexed %d documents in %s (%.0f documents/s)\n", bar.total, took.Round(time.Millisecond), rate)
	if pending {
		fmt.Fprintln(stdout, "the server is running and holds the current index: the rebuilt one replaces it when the server restarts")
	} else {
		fmt.Fprintln(stdout, "the search index is rebuilt")
	}
	return nil
}

// progressBar draws the progress of a long command on a terminal, and stays silent
// when the output is a file or a pipe, where redrawn lines would only be noise.
type progressBar struct {
	w        io.Writer
	terminal bool
	total    int64
	drawn    time.Time
}

func newProgressBar(w io.Writer) *progressBar {
	terminal := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			terminal = true
		}
	}
	return &progressBar{w: w, terminal: terminal}
}

func (b *progressBar) update(done, total int64) {
	b.total = total
	if !b.terminal || (time.Since(b.drawn) < 100*time.Millisecond && done < total) {
		return
	}
	b.drawn = time.Now()
	const width = 30
	filled := width
	percent := 100.0
	if total > 0 {
		filled = int(done * width / total)
		percent = float64(done) * 100 / float64(total)
	}
	fmt.Fprintf(b.w, "\r[%s%s] %5.1f%% %d/%d documents", strings.Repeat("#", filled), strings.Repeat(" ", width-filled), percent, done, total)
}

func (b *progressBar) finish() {
	if b.terminal && !b.drawn.IsZero() {
		fmt.Fprintln(b.w)
	}
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

// revokeLogins revokes every access token of a local account.
func revokeLogins(ctx context.Context, inst *instance.Instance, username string) (int, error) {
	acct, err := inst.Community.LocalAccount(ctx, username)
	if err != nil {
		return 0, fmt.Errorf("account %q: %w", username, err)
	}
	return inst.Auth.RevokeAccountTokens(ctx, acct.ID)
}
