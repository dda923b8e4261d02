package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tacit-social/tacit/store"
)

// pgConn is a database URL as PostgreSQL's own programs (libpq) take it. Tacit's URL is
// read by pgx, which sends query parameters libpq does not know (search_path, …) to the
// server as settings, and understands a few of its own (pool sizes, statement caches);
// libpq refuses both. The password travels in PGPASSWORD, out of the process list.
type pgConn struct {
	url string
	env []string
	// schema is the search_path the URL names, "" for the server's default.
	schema string
}

// libpqParams are the URL query parameters libpq accepts.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "fallback_application_name": true, "keepalives": true,
	"keepalives_idle": true, "keepalives_interval": true, "keepalives_count": true,
	"tcp_user_timeout": true, "gssencmode": true, "sslmode": true, "sslnegotiation": true,
	"sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslcertmode": true, "sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true,
	"requirepeer": true, "ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"krbsrvname": true, "gsslib": true, "gssdelegation": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true,
}

// pgxParams are pgx's own parameters, which mean nothing to the server.
var pgxParams = map[string]bool{
	"statement_cache_capacity": true, "description_cache_capacity": true,
	"default_query_exec_mode": true, "min_read_buffer_size": true,
}

func pgConnection(dsn string) (pgConn, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return pgConn{}, errors.New("backup: the database URL does not parse")
	}
	var c pgConn
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			c.env = append(c.env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	if pw := q.Get("password"); pw != "" {
		c.env = append(c.env, "PGPASSWORD="+pw)
	}
	q.Del("password")
	var settings []string
	for _, name := range slices.Sorted(maps.Keys(q)) {
		values := q[name]
		switch {
		case libpqParams[name]:
		case pgxParams[name], strings.HasPrefix(name, "pool_"):
			q.Del(name)
		default:
			if name == "search_path" {
				c.schema = strings.TrimSpace(values[len(values)-1])
				if strings.Contains(c.schema, ",") {
					return pgConn{}, fmt.Errorf("backup: search_path %q names several schemas; name one", c.schema)
				}
			}
			settings = append(settings, "-c "+name+"="+strings.ReplaceAll(values[len(values)-1], " ", `\ `))
			q.Del(name)
		}
	}
	if len(settings) > 0 {
		c.env = append(c.env, "PGOPTIONS="+strings.Join(settings, " "))
	}
	u.RawQuery = q.Encode()
	c.url = u.String()
	return c, nil
}

// dumpPostgres runs pg_dump into work, or, when pg_dump is not installed, records in
// res the command that takes the dump instead.
func dumpPostgres(ctx context.Context, src Source, work string, opt Options, m *Manifest, res *Result) (file, name string, err error) {
	conn, err := pgConnection(src.Config.Database)
	if err != nil {
		return "", "", err
	}
	m.Schema = conn.schema
	if m.SchemaVersion, err = store.Version(ctx, src.DB); err != nil {
		return "", "", fmt.Errorf("backup: %w", err)
	}
	args := []string{"--format=custom"}
	if conn.schema != "" {
		args = append(args, "--schema="+conn.schema)
	}
	bin, err := exec.LookPath(orDefault(opt.PgDump, "pg_dump"))
	if err != nil {
		res.DatabaseCommand = shellCommand(conn, "pg_dump", append(args, "--file=tacit.pgdump", "--dbname="+conn.url))
		opt.logger().WarnContext(ctx, "pg_dump not found: the backup holds keys, media and configuration, not the database", "command", res.DatabaseCommand)
		return "", "", nil
	}
	file = filepath.Join(work, "tacit.pgdump")
	if err := runPg(ctx, bin, conn, append(args, "--file="+file, "--dbname="+conn.url)); err != nil {
		return "", "", fmt.Errorf("backup: %w", err)
	}
	m.DatabaseIncluded = true
	return file, pgDumpName, nil
}

// restorePostgres runs pg_restore of the backup's dump into the configured database
// (checkPostgresTarget has found it fit), or returns the command that does it when
// pg_restore is not installed.
func restorePostgres(ctx context.Context, dump, dsn string, opt Options) (command string, err error) {
	conn, err := pgConnection(dsn)
	if err != nil {
		return "", err
	}
	args := []string{"--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"}
	bin, err := exec.LookPath(orDefault(opt.PgRestore, "pg_restore"))
	if err != nil {
		cmd := shellCommand(conn, "pg_restore", append(args, "--dbname="+conn.url, "tacit.pgdump"))
		return "tar -xzf BACKUP " + pgDumpName + " && " + strings.Replace(cmd, "tacit.pgdump", pgDumpName, 1), nil
	}
	if err := runPg(ctx, bin, conn, append(args, "--dbname="+conn.url, dump)); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	return "", nil
}

// checkPostgresTarget refuses a database URL that names another schema than the
// backup's, a database that holds tables in the schema Tacit would use, and a backup
// whose schema is newer than this binary's.
func checkPostgresTarget(ctx context.Context, dsn string, m Manifest, opt Options) error {
	conn, err := pgConnection(dsn)
	if err != nil {
		return err
	}
	if conn.schema != m.Schema {
		return fmt.Errorf("backup: the backup holds schema %q, but the database URL names %q (search_path): they must be the same", m.Schema, conn.schema)
	}
	db, err := store.OpenNoMigrate(ctx, dsn, "", opt.logger())
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer store.Close(db)
	var tables int64
	// current_schema() is NULL while the search_path schema does not exist yet.
	if err := db.WithContext(ctx).Raw("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables).Error; err != nil {
		return fmt.Errorf("backup: inspect the database: %w", err)
	}
	if tables > 0 {
		return fmt.Errorf("backup: the database holds %d tables already: restore into a new, empty database (or schema)", tables)
	}
	latest, err := store.LatestVersion(db)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return checkSchemaVersion(m.SchemaVersion, latest)
}

func runPg(ctx context.Context, bin string, conn pgConn, args []string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), conn.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", filepath.Base(bin), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// shellCommand is the command line an operator runs, with the password left out.
func shellCommand(conn pgConn, program string, args []string) string {
	var b strings.Builder
	for _, kv := range conn.env {
		name, value, _ := strings.Cut(kv, "=")
		if name == "PGPASSWORD" {
			value = "…"
		}
		b.WriteString(name + "=" + shellQuote(value) + " ")
	}
	b.WriteString(program)
	for _, a := range args {
		b.WriteString(" " + shellQuote(a))
	}
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " '\"\\$&;|<>()*?`!#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
