package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeFile writes content to name in a fresh temporary directory and
// returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

func TestDefault(t *testing.T) {
	c := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"Host", c.Host, "localhost:8080"},
		{"Listen", c.Listen, "127.0.0.1:8080"},
		{"Protocol", c.Protocol, "https"},
		{"DataDir", c.DataDir, "./data"},
		{"Database", c.Database, ""},
		{"InstanceName", c.InstanceName, "Tacit"},
		{"InstanceDescription", c.InstanceDescription, "A Tacit community server."},
		{"ContactEmail", c.ContactEmail, ""},
		{"Department", c.Department, ""},
		{"Location", c.Location, ""},
		{"DefaultScope", c.DefaultScope, "company"},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "text"},
		{"RateLimit.Requests", c.RateLimit.Requests, 300},
		{"RateLimit.Window", c.RateLimit.Window, 5 * time.Minute},
		{"Federation.Mode", c.Federation.Mode, "company"},
		{"Federation.Peers", len(c.Federation.Peers), 0},
		{"Search.IndexDir", c.Search.IndexDir, ""},
		{"Search.PeerTimeout", c.Search.PeerTimeout, 300 * time.Millisecond},
		{"Search.DirectoryInterval", c.Search.DirectoryInterval, 15 * time.Minute},
		{"Metrics.Enabled", c.Metrics.Enabled(), false},
		{"DatabaseWait", c.DatabaseWait, 30 * time.Second},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("Default().%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Default().Validate() = %v, want nil", err)
	}
}

func TestLoadWithoutFileOrEnvReturnsDefaults(t *testing.T) {
	// The process environment must be ignored: only environ counts.
	t.Setenv("TACIT_HOST", "process-env.example")
	c, err := Load("", nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load(\"\", nil) = %+v, want %+v", c, Default())
	}
}

// layersYAML sets every key, so that each layer's effect shows.
const layersYAML = `
host: YAML.example.com
listen: "0.0.0.0:9000"
protocol: http
data_dir: /var/lib/tacit
database: postgres://tacit:secret@db:5432/tacit
instance_name: Yaml Corp
instance_description: From YAML.
contact_email: admin@yaml.example.com
department: Engineering
location: Berlin
default_scope: department
log_level: debug
log_format: json
rate_limit:
  requests: 50
  window: 90s
  federation: 9000
trusted_proxies: [10.0.0.0/8, "::1"]
federation:
  mode: open
  peers:
    - A.example.com
    - b.example.com:8443
search:
  index_dir: /srv/tacit-index
  peer_timeout: 250ms
  directory_interval: 1h
`

func TestLoadLayers(t *testing.T) {
	path := writeFile(t, "tacit.yaml", layersYAML)
	tests := []struct {
		name    string
		environ []string
		check   func(t *testing.T, c Config)
	}{
		{name: "YAML overrides defaults", check: checkYAMLOverridesDefaults},
		{
			name: "env overrides YAML",
			environ: []string{
				"PATH=/usr/bin",
				"TACIT_HOST=env.example.com",
				"TACIT_DATABASE=",
				"TACIT_RATE_LIMIT_REQUESTS=7",
				"TACIT_RATE_LIMIT_WINDOW=1h30m",
				"TACIT_FEDERATION_MODE=company",
				"TACIT_FEDERATION_PEERS=c.example.com",
				"TACIT_LOG_LEVEL=WARN",
			},
			check: checkEnvOverridesYAML,
		},
		{
			name:    "last duplicate env entry wins",
			environ: []string{"TACIT_HOST=first.example", "TACIT_HOST=second.example"},
			check: func(t *testing.T, c Config) {
				if c.Host != "second.example" {
					t.Errorf("Host = %q, want second.example", c.Host)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(path, tc.environ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tc.check(t, c)
		})
	}
}

// checkYAMLOverridesDefaults: every key of layersYAML, normalized, and the defaults
// of the keys it leaves out.
func checkYAMLOverridesDefaults(t *testing.T, c Config) {
	want := Config{
		Host:                "yaml.example.com",
		Listen:              "0.0.0.0:9000",
		Protocol:            "http",
		DataDir:             "/var/lib/tacit",
		Database:            "postgres://tacit:secret@db:5432/tacit",
		InstanceName:        "Yaml Corp",
		InstanceDescription: "From YAML.",
		ContactEmail:        "admin@yaml.example.com",
		Department:          "Engineering",
		Location:            "Berlin",
		DefaultScope:        "department",
		LogLevel:            "debug",
		LogFormat:           "json",
		RateLimit:           RateLimit{Requests: 50, Window: 90 * time.Second, Credentials: 100, Federation: 9000},
		TrustedProxies:      []string{"10.0.0.0/8", "::1"},
		Federation:          Federation{Mode: "open", Peers: []string{"a.example.com", "b.example.com:8443"}},
		Search:              Search{IndexDir: "/srv/tacit-index", PeerTimeout: 250 * time.Millisecond, DirectoryInterval: time.Hour},
		RoleGroups:          Default().RoleGroups,
		Retention:           Default().Retention,
		SSO:                 Default().SSO,
		DatabaseWait:        Default().DatabaseWait,
		Registrations:       Default().Registrations,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

// checkEnvOverridesYAML: a set variable wins over the file, even when empty; what the
// environment leaves alone still comes from the file.
func checkEnvOverridesYAML(t *testing.T, c Config) {
	if c.Host != "env.example.com" {
		t.Errorf("Host = %q, want env.example.com", c.Host)
	}
	if c.Database != "" || c.UsesPostgres() {
		t.Errorf("Database = %q, want empty (set but empty env var overrides YAML)", c.Database)
	}
	if c.RateLimit.Requests != 7 {
		t.Errorf("RateLimit.Requests = %d, want 7", c.RateLimit.Requests)
	}
	if c.RateLimit.Window != 90*time.Minute {
		t.Errorf("RateLimit.Window = %v, want 1h30m", c.RateLimit.Window)
	}
	if c.Federation.Mode != "company" {
		t.Errorf("Federation.Mode = %q, want company", c.Federation.Mode)
	}
	if !slices.Equal(c.Federation.Peers, []string{"c.example.com"}) {
		t.Errorf("Federation.Peers = %q, want [c.example.com]", c.Federation.Peers)
	}
	if c.LogLevel != "warn" {
		t.Errorf("LogLevel = %q, want warn", c.LogLevel)
	}
	// Untouched by env: still from YAML.
	if c.InstanceName != "Yaml Corp" || c.DefaultScope != "department" {
		t.Errorf("YAML values lost: InstanceName=%q DefaultScope=%q", c.InstanceName, c.DefaultScope)
	}
}

func TestLoadPartialYAMLKeepsDefaults(t *testing.T) {
	path := writeFile(t, "partial.yaml", "rate_limit:\n  requests: 10\n")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Default()
	want.RateLimit.Requests = 10
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
}

func TestLoadEmptyYAMLFile(t *testing.T) {
	path := writeFile(t, "empty.yaml", "# nothing configured yet\n")
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("got %+v, want defaults", c)
	}
}

func TestLoadConfigFileSelection(t *testing.T) {
	envFile := writeFile(t, "env.yaml", "host: from-env-file.example\n")
	argFile := writeFile(t, "arg.yaml", "host: from-arg-file.example\n")

	tests := []struct {
		name     string
		path     string
		environ  []string
		wantHost string
	}{
		{"TACIT_CONFIG picks the file", "", []string{"TACIT_CONFIG=" + envFile}, "from-env-file.example"},
		{"explicit path wins over TACIT_CONFIG", argFile, []string{"TACIT_CONFIG=" + envFile}, "from-arg-file.example"},
		{"env var still overrides file from TACIT_CONFIG", "", []string{"TACIT_CONFIG=" + envFile, "TACIT_HOST=env.example"}, "env.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(tc.path, tc.environ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Host != tc.wantHost {
				t.Errorf("Host = %q, want %q", c.Host, tc.wantHost)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "does-not-exist.yaml")

	tests := []struct {
		name    string
		yaml    string // written to a temp file if non-empty
		path    string // used if yaml is empty
		environ []string
		want    []string // substrings of the error
	}{
		{name: "missing explicit file", path: missing, want: []string{"read config file", "does-not-exist.yaml"}},
		{name: "missing TACIT_CONFIG file", environ: []string{"TACIT_CONFIG=" + missing}, want: []string{"read config file"}},
		{name: "unknown YAML key", yaml: "host: a.example\nhots: typo.example\n", want: []string{"hots", "not found"}},
		{name: "unknown nested YAML key", yaml: "rate_limit:\n  reqests: 5\n", want: []string{"reqests"}},
		{name: "malformed YAML", yaml: "host: [unclosed\n", want: []string{"parse"}},
		{name: "two YAML documents", yaml: "host: a.example\n---\nhost: b.example\n", want: []string{"one YAML document"}},
		{name: "YAML duration without unit", yaml: "rate_limit:\n  window: 300\n", want: []string{"parse"}},
		{name: "YAML bad duration", yaml: "rate_limit:\n  window: five minutes\n", want: []string{"parse"}},
		{name: "env bad integer", environ: []string{"TACIT_RATE_LIMIT_REQUESTS=many"}, want: []string{"TACIT_RATE_LIMIT_REQUESTS", "invalid integer"}},
		{name: "env bad duration", environ: []string{"TACIT_RATE_LIMIT_WINDOW=300"}, want: []string{"TACIT_RATE_LIMIT_WINDOW", "invalid duration"}},
		{
			name:    "all env parse errors reported together",
			environ: []string{"TACIT_RATE_LIMIT_REQUESTS=x", "TACIT_RATE_LIMIT_WINDOW=y"},
			want:    []string{"TACIT_RATE_LIMIT_REQUESTS", "TACIT_RATE_LIMIT_WINDOW"},
		},
		{name: "validation after env", environ: []string{"TACIT_PROTOCOL=gopher"}, want: []string{"invalid configuration", "TACIT_PROTOCOL", "gopher"}},
		{name: "validation after YAML", yaml: "default_scope: galaxy\n", want: []string{"TACIT_DEFAULT_SCOPE", "galaxy"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if tc.yaml != "" {
				path = writeFile(t, "tacit.yaml", tc.yaml)
			}
			c, err := Load(path, tc.environ)
			if err == nil {
				t.Fatalf("Load succeeded with %+v, want error containing %q", c, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDurationParsing(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		environ []string
		want    time.Duration
	}{
		{"YAML minutes", "rate_limit:\n  window: 10m\n", nil, 10 * time.Minute},
		{"YAML compound", "rate_limit:\n  window: \"1h2m3s\"\n", nil, time.Hour + 2*time.Minute + 3*time.Second},
		{"env seconds", "", []string{"TACIT_RATE_LIMIT_WINDOW=45s"}, 45 * time.Second},
		{"env milliseconds with spaces", "", []string{"TACIT_RATE_LIMIT_WINDOW= 1500ms "}, 1500 * time.Millisecond},
		{"env overrides YAML", "rate_limit:\n  window: 10m\n", []string{"TACIT_RATE_LIMIT_WINDOW=2h"}, 2 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = writeFile(t, "tacit.yaml", tc.yaml)
			}
			c, err := Load(path, tc.environ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.RateLimit.Window != tc.want {
				t.Errorf("Window = %v, want %v", c.RateLimit.Window, tc.want)
			}
		})
	}
}

func TestPeersParsing(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		environ []string
		want    []string
	}{
		{"env list with spaces, case and empty entries", "", []string{"TACIT_FEDERATION_PEERS=a.example, B.example:8443,,"}, []string{"a.example", "b.example:8443"}},
		{"env duplicates dropped", "", []string{"TACIT_FEDERATION_PEERS=a.example,A.EXAMPLE, a.example "}, []string{"a.example"}},
		{"env empty clears YAML peers", "federation:\n  peers: [a.example]\n", []string{"TACIT_FEDERATION_PEERS="}, nil},
		{"YAML list normalized", "federation:\n  peers:\n    - ' A.example '\n    - ''\n    - '[2001:DB8::1]:8443'\n", nil, []string{"a.example", "[2001:db8::1]:8443"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := ""
			if tc.yaml != "" {
				path = writeFile(t, "tacit.yaml", tc.yaml)
			}
			c, err := Load(path, tc.environ)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !slices.Equal(c.Federation.Peers, tc.want) {
				t.Errorf("Peers = %q, want %q", c.Federation.Peers, tc.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	c := Default()
	c.Host = "  Social.Example.COM "
	c.Protocol = " HTTP"
	c.DefaultScope = "World "
	c.Federation.Mode = "OPEN"
	c.InstanceName = "  Acme Social  "
	c.Federation.Peers = []string{" X.example ", ""}
	orig := c.Federation.Peers

	n := c.Normalize()
	if n.Host != "social.example.com" || n.Protocol != "http" || n.DefaultScope != "world" ||
		n.Federation.Mode != "open" || n.InstanceName != "Acme Social" {
		t.Errorf("Normalize() = %+v", n)
	}
	if !slices.Equal(n.Federation.Peers, []string{"x.example"}) {
		t.Errorf("Peers = %q, want [x.example]", n.Federation.Peers)
	}
	if orig[0] != " X.example " {
		t.Errorf("Normalize modified the receiver's peers slice: %q", orig)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string // substrings of the error; nil means valid
	}{
		{"defaults", func(c *Config) {}, nil},
		{"plain host", func(c *Config) { c.Host = "social.example.com" }, nil},
		{"host with port", func(c *Config) { c.Host = "social.example.com:8443" }, nil},
		{"IPv4 host", func(c *Config) { c.Host = "192.0.2.1:8080" }, nil},
		{"bracketed IPv6 host", func(c *Config) { c.Host = "[2001:db8::1]" }, nil},
		{"bracketed IPv6 host with port", func(c *Config) { c.Host = "[::1]:8080" }, nil},
		{"underscore host", func(c *Config) { c.Host = "tacit_web:8080" }, nil},
		{"all enumerations", func(c *Config) {
			c.Protocol, c.DefaultScope, c.Federation.Mode, c.LogLevel, c.LogFormat = "http", "world", "open", "error", "json"
		}, nil},
		{"postgres URL", func(c *Config) { c.Database = "postgres://u:p@db:5432/tacit?sslmode=disable" }, nil},
		{"postgresql URL", func(c *Config) { c.Database = "postgresql:///tacit?host=/run/postgresql" }, nil},
		{"rate limit disabled", func(c *Config) { c.RateLimit.Requests = 0 }, nil},
		{"listen any interface", func(c *Config) { c.Listen = ":8080" }, nil},
		{"contact email", func(c *Config) { c.ContactEmail = "admin@example.com" }, nil},
		{"peers including self", func(c *Config) { c.Federation.Peers = []string{c.Host, "b.example:8443"} }, nil},

		{"empty host", func(c *Config) { c.Host = "" }, []string{"TACIT_HOST", "must not be empty"}},
		{"host with scheme", func(c *Config) { c.Host = "https://social.example.com" }, []string{"TACIT_HOST", "scheme"}},
		{"host with path", func(c *Config) { c.Host = "social.example.com/tacit" }, []string{"TACIT_HOST", "path"}},
		{"host with user info", func(c *Config) { c.Host = "me@social.example.com" }, []string{"TACIT_HOST"}},
		{"host with space", func(c *Config) { c.Host = "social example.com" }, []string{"TACIT_HOST"}},
		{"host empty port", func(c *Config) { c.Host = "social.example.com:" }, []string{"TACIT_HOST", "port"}},
		{"host non-numeric port", func(c *Config) { c.Host = "social.example.com:https" }, []string{"TACIT_HOST", "not a number"}},
		{"host port out of range", func(c *Config) { c.Host = "social.example.com:70000" }, []string{"TACIT_HOST", "out of range"}},
		{"host port zero", func(c *Config) { c.Host = "social.example.com:0" }, []string{"TACIT_HOST", "out of range"}},
		{"host unbracketed IPv6", func(c *Config) { c.Host = "2001:db8::1" }, []string{"TACIT_HOST", "brackets"}},
		{"host bracketed name", func(c *Config) { c.Host = "[social.example.com]" }, []string{"TACIT_HOST", "brackets"}},
		{"host empty label", func(c *Config) { c.Host = "social..example.com" }, []string{"TACIT_HOST", "labels"}},
		{"host trailing dot", func(c *Config) { c.Host = "social.example.com." }, []string{"TACIT_HOST", "trailing dot"}},
		{"host leading hyphen", func(c *Config) { c.Host = "-social.example.com" }, []string{"TACIT_HOST", "hyphen"}},
		{"host bad character", func(c *Config) { c.Host = "soc!al.example.com" }, []string{"TACIT_HOST", "invalid character"}},
		{"empty listen", func(c *Config) { c.Listen = "" }, []string{"TACIT_LISTEN"}},
		{"listen without port", func(c *Config) { c.Listen = "127.0.0.1" }, []string{"TACIT_LISTEN"}},
		{"bad protocol", func(c *Config) { c.Protocol = "ftp" }, []string{"TACIT_PROTOCOL", `"ftp"`}},
		{"empty data dir", func(c *Config) { c.DataDir = "" }, []string{"TACIT_DATA_DIR"}},
		{"sqlite path as database", func(c *Config) { c.Database = "/data/tacit.db" }, []string{"TACIT_DATABASE", "without a URL scheme"}},
		{"mysql database", func(c *Config) { c.Database = "mysql://u:p@db/tacit" }, []string{"TACIT_DATABASE", `"mysql"`}},
		{"malformed postgres URL", func(c *Config) { c.Database = "postgres://u:p@db:port/tacit" }, []string{"TACIT_DATABASE", "not a valid URL"}},
		{"empty instance name", func(c *Config) { c.InstanceName = "" }, []string{"TACIT_INSTANCE_NAME"}},
		{"bad contact email", func(c *Config) { c.ContactEmail = "not an address" }, []string{"TACIT_CONTACT_EMAIL"}},
		{"contact email with display name", func(c *Config) { c.ContactEmail = "Admin <admin@example.com>" }, []string{"TACIT_CONTACT_EMAIL"}},
		{"bad scope", func(c *Config) { c.DefaultScope = "team" }, []string{"TACIT_DEFAULT_SCOPE", `"team"`}},
		{"bad log level", func(c *Config) { c.LogLevel = "verbose" }, []string{"TACIT_LOG_LEVEL", `"verbose"`}},
		{"bad log format", func(c *Config) { c.LogFormat = "xml" }, []string{"TACIT_LOG_FORMAT", `"xml"`}},
		{"negative requests", func(c *Config) { c.RateLimit.Requests = -1 }, []string{"TACIT_RATE_LIMIT_REQUESTS", "-1"}},
		{"negative federation limit", func(c *Config) { c.RateLimit.Federation = -1 }, []string{"TACIT_RATE_LIMIT_FEDERATION", "-1"}},
		{"bad trusted proxy", func(c *Config) { c.TrustedProxies = []string{"proxy.internal"} }, []string{"TACIT_TRUSTED_PROXIES", "proxy.internal"}},
		{"zero window", func(c *Config) { c.RateLimit.Window = 0 }, []string{"TACIT_RATE_LIMIT_WINDOW", "positive"}},
		{"negative window", func(c *Config) { c.RateLimit.Window = -time.Second }, []string{"TACIT_RATE_LIMIT_WINDOW"}},
		{"bad federation mode", func(c *Config) { c.Federation.Mode = "closed" }, []string{"TACIT_FEDERATION_MODE", `"closed"`}},
		{"bad peer", func(c *Config) { c.Federation.Peers = []string{"ok.example", "https://bad.example"} }, []string{"TACIT_FEDERATION_PEERS", "bad.example", "scheme"}},
		{"empty peer in unnormalized config", func(c *Config) { c.Federation.Peers = []string{""} }, []string{"TACIT_FEDERATION_PEERS"}},
		{"bad network", func(c *Config) { c.Federation.AllowNetworks = []string{"10.0.0.0/8", "intranet"} }, []string{"TACIT_FEDERATION_ALLOW_NETWORKS", "intranet", "CIDR"}},
		{
			name: "all problems reported at once",
			mutate: func(c *Config) {
				c.Host = ""
				c.Protocol = "ftp"
				c.DefaultScope = "team"
				c.Federation.Mode = "closed"
				c.RateLimit.Window = 0
			},
			want: []string{"TACIT_HOST", "TACIT_PROTOCOL", "TACIT_DEFAULT_SCOPE", "TACIT_FEDERATION_MODE", "TACIT_RATE_LIMIT_WINDOW"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestValidateDatabaseErrorHidesPassword(t *testing.T) {
	for _, db := range []string{
		"mysql://tacit:hunter2@db/tacit",
		"postgres://tacit:hunter2@db:notaport/tacit",
		"host=db password=hunter2",
	} {
		c := Default()
		c.Database = db
		err := c.Validate()
		if err == nil {
			t.Fatalf("Validate(%q) = nil, want error", db)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error for %q leaks the password: %v", db, err)
		}
	}
}

func TestRedacted(t *testing.T) {
	tests := []struct {
		name     string
		database string
		want     string
	}{
		{"empty", "", ""},
		{"no password", "postgres://tacit@db:5432/tacit", "postgres://tacit@db:5432/tacit"},
		{"password in user info", "postgres://tacit:s3cret@db:5432/tacit?sslmode=disable", "postgres://tacit:xxxxx@db:5432/tacit?sslmode=disable"},
		{"password in query", "postgresql://db/tacit?password=s3cret&user=tacit", "postgresql://db/tacit?password=xxxxx&user=tacit"},
		{"not a URL", "host=db password=s3cret", "xxxxx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			c.Database = tc.database
			c.Federation.Peers = []string{"a.example"}
			r := c.Redacted()
			if r.Database != tc.want {
				t.Errorf("Redacted().Database = %q, want %q", r.Database, tc.want)
			}
			if strings.Contains(r.Database, "s3cret") {
				t.Errorf("Redacted().Database leaks the password: %q", r.Database)
			}
			if c.Database != tc.database {
				t.Errorf("Redacted modified the receiver: %q", c.Database)
			}
			r.Federation.Peers[0] = "changed.example"
			if c.Federation.Peers[0] != "a.example" {
				t.Errorf("Redacted copy shares the peers slice with the receiver")
			}
		})
	}
}

func TestDerivedValues(t *testing.T) {
	c := Default()
	c.Host = "social.example.com"
	c.DataDir = "/srv/tacit"

	if got, want := c.BaseURL(), "https://social.example.com"; got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}
	c.Protocol = "http"
	if got, want := c.BaseURL(), "http://social.example.com"; got != want {
		t.Errorf("BaseURL() = %q, want %q", got, want)
	}

	paths := []struct{ name, got, want string }{
		{"SQLitePath", c.SQLitePath(), filepath.Join("/srv/tacit", "tacit.db")},
		{"IndexDir", c.IndexDir(), filepath.Join("/srv/tacit", "index")},
		{"MediaDir", c.MediaDir(), filepath.Join("/srv/tacit", "media")},
		{"KeysDir", c.KeysDir(), filepath.Join("/srv/tacit", "keys")},
	}
	for _, p := range paths {
		if p.got != p.want {
			t.Errorf("%s() = %q, want %q", p.name, p.got, p.want)
		}
	}
	if got, want := Default().SQLitePath(), filepath.Join("data", "tacit.db"); got != want {
		t.Errorf("Default().SQLitePath() = %q, want %q", got, want)
	}
}

func TestUsesPostgres(t *testing.T) {
	tests := []struct {
		database string
		want     bool
	}{
		{"", false},
		{"postgres://db/tacit", true},
		{"postgresql://db/tacit", true},
		{"POSTGRES://db/tacit", true},
		{"/data/tacit.db", false},
	}
	for _, tc := range tests {
		c := Default()
		c.Database = tc.database
		if got := c.UsesPostgres(); got != tc.want {
			t.Errorf("UsesPostgres() with %q = %v, want %v", tc.database, got, tc.want)
		}
	}
}

func TestIsPeer(t *testing.T) {
	c := Default()
	c.Host = "a.example"
	c.Federation.Peers = []string{"b.example", "c.example:8443"}

	tests := []struct {
		host string
		want bool
	}{
		{"a.example", true}, // the instance itself
		{"A.EXAMPLE", true},
		{"b.example", true},
		{" B.Example ", true},
		{"c.example:8443", true},
		{"c.example", false}, // port is significant
		{"b.example:443", false},
		{"evil.example", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := c.IsPeer(tc.host); got != tc.want {
			t.Errorf("IsPeer(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

// TestEnvNamesCoverConfig keeps the environment table true: every YAML key
// of Config must have exactly one variable, and every variable must work.
func TestEnvNamesCoverConfig(t *testing.T) {
	vars := EnvNames()

	byKey := map[string]EnvVar{}
	names := map[string]bool{}
	for _, v := range vars {
		if !strings.HasPrefix(v.Name, "TACIT_") {
			t.Errorf("%s: name must start with TACIT_", v.Name)
		}
		if names[v.Name] {
			t.Errorf("%s: duplicate name", v.Name)
		}
		names[v.Name] = true
		if v.Description == "" {
			t.Errorf("%s: missing description", v.Name)
		}
		if v.YAMLKey != "" {
			if _, dup := byKey[v.YAMLKey]; dup {
				t.Errorf("%s: duplicate YAML key %q", v.Name, v.YAMLKey)
			}
			byKey[v.YAMLKey] = v
		}
	}
	if !names[EnvConfigFile] {
		t.Errorf("%s missing from EnvNames", EnvConfigFile)
	}

	keys := yamlLeafKeys(reflect.TypeOf(Config{}), "")
	for _, k := range keys {
		if _, ok := byKey[k]; !ok {
			t.Errorf("YAML key %q has no environment variable", k)
		}
	}
	if len(byKey) != len(keys) {
		t.Errorf("EnvNames has %d YAML keys, Config has %d: %q", len(byKey), len(keys), keys)
	}

	defaults := map[string]string{
		"TACIT_HOST":                "localhost:8080",
		"TACIT_PROTOCOL":            "https",
		"TACIT_DATABASE":            "",
		"TACIT_RATE_LIMIT_REQUESTS": "300",
		"TACIT_RATE_LIMIT_WINDOW":   "5m0s",
		"TACIT_FEDERATION_MODE":     "company",
		"TACIT_FEDERATION_PEERS":    "",
	}
	for _, v := range vars {
		if want, ok := defaults[v.Name]; ok && v.Default != want {
			t.Errorf("%s: Default = %q, want %q", v.Name, v.Default, want)
		}
	}

	// Feeding every documented default back through the environment must
	// reproduce Default().
	var environ []string
	for _, v := range vars {
		if v.Name != EnvConfigFile {
			environ = append(environ, v.Name+"="+v.Default)
		}
	}
	c, err := Load("", environ)
	if err != nil {
		t.Fatalf("Load(documented defaults): %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load(documented defaults) = %+v, want %+v", c, Default())
	}

	// EnvNames returns a copy.
	vars[0].Name = "CHANGED"
	if EnvNames()[0].Name == "CHANGED" {
		t.Error("EnvNames exposes the internal table")
	}
}

// yamlLeafKeys lists the dotted YAML keys of the non-struct fields of t.
func yamlLeafKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if f.Type.Kind() == reflect.Struct && f.Type != reflect.TypeOf(time.Duration(0)) {
			keys = append(keys, yamlLeafKeys(f.Type, prefix+name+".")...)
			continue
		}
		keys = append(keys, prefix+name)
	}
	return keys
}

// TestEveryEnvVarIsApplied sets each variable to a distinctive valid value
// and checks that Load changes the configuration.
func TestEveryEnvVarIsApplied(t *testing.T) {
	values := map[string]string{
		"TACIT_HOST":                                "env.example",
		"TACIT_LISTEN":                              "0.0.0.0:9999",
		"TACIT_PROTOCOL":                            "http",
		"TACIT_DATA_DIR":                            "/tmp/tacit-env",
		"TACIT_DATABASE":                            "postgres://db/tacit",
		"TACIT_INSTANCE_NAME":                       "Env Corp",
		"TACIT_INSTANCE_DESCRIPTION":                "From the environment.",
		"TACIT_INSTANCE_RULES":                      "Be kind.\nNo secrets in world posts.",
		"TACIT_CONTACT_EMAIL":                       "ops@env.example",
		"TACIT_DEPARTMENT":                          "Ops",
		"TACIT_LOCATION":                            "Lisbon",
		"TACIT_DEFAULT_SCOPE":                       "world",
		"TACIT_LOG_LEVEL":                           "error",
		"TACIT_LOG_FORMAT":                          "json",
		"TACIT_RATE_LIMIT_REQUESTS":                 "12",
		"TACIT_RATE_LIMIT_WINDOW":                   "2m",
		"TACIT_RATE_LIMIT_CREDENTIALS":              "7",
		"TACIT_RATE_LIMIT_FEDERATION":               "70",
		"TACIT_TRUSTED_PROXIES":                     "192.0.2.1, 10.0.0.0/8",
		"TACIT_FEDERATION_MODE":                     "open",
		"TACIT_FEDERATION_PEERS":                    "p.example",
		"TACIT_FEDERATION_ALLOW_NETWORKS":           "10.20.0.0/16",
		"TACIT_MEDIA_DIR":                           "/srv/tacit-media",
		"TACIT_SEARCH_INDEX_DIR":                    "/srv/index",
		"TACIT_SEARCH_PEER_TIMEOUT":                 "1s",
		"TACIT_SEARCH_DIRECTORY_INTERVAL":           "1h",
		"TACIT_ROLE_GROUPS_ADMIN":                   "it-admins",
		"TACIT_ROLE_GROUPS_MODERATOR":               "community-team",
		"TACIT_RETENTION_RULES":                     "any:direct:365d",
		"TACIT_RETENTION_INTERVAL":                  "15m",
		"TACIT_RETENTION_BATCH":                     "20",
		"TACIT_SSO_ISSUER":                          "https://id.example.com/realms/company",
		"TACIT_SSO_CLIENT_ID":                       "tacit-sales",
		"TACIT_SSO_CLIENT_SECRET":                   "s3cret",
		"TACIT_SSO_SCOPES":                          "openid,profile,email,groups",
		"TACIT_SSO_USERNAME_CLAIM":                  "upn",
		"TACIT_SSO_EMAIL_CLAIM":                     "mail",
		"TACIT_SSO_NAME_CLAIM":                      "display_name",
		"TACIT_SSO_GROUPS_CLAIM":                    "roles",
		"TACIT_SSO_PROVISIONING_CLAIM":              "oid",
		"TACIT_SSO_ALLOWED_EMAIL_DOMAINS":           "example.com",
		"TACIT_SSO_PASSWORD_LOGIN":                  "false",
		"TACIT_SSO_BUTTON_LABEL":                    "Sign in with Okta",
		"TACIT_METRICS_LISTEN":                      "127.0.0.1:9090",
		"TACIT_METRICS_ON_LISTEN":                   "true",
		"TACIT_METRICS_TOKEN":                       "scrape-secret",
		"TACIT_DATABASE_WAIT":                       "0s",
		"TACIT_SCIM_DELETE_ACCOUNTS":                "true",
		"TACIT_REGISTRATIONS_MODE":                  "invite",
		"TACIT_REGISTRATIONS_APPROVAL_REQUIRED":     "true",
		"TACIT_REGISTRATIONS_ALLOWED_EMAIL_DOMAINS": "example.com",
	}
	// Some values are valid only beside others: they are compared with a load of
	// those others alone.
	context := map[string][]string{
		"TACIT_SSO_PASSWORD_LOGIN": {"TACIT_SSO_ISSUER=https://id.example.com", "TACIT_SSO_CLIENT_ID=tacit"},
		"TACIT_SSO_ISSUER":         {"TACIT_SSO_CLIENT_ID=tacit"},
	}
	for _, v := range EnvNames() {
		if v.Name == EnvConfigFile {
			continue
		}
		value, ok := values[v.Name]
		if !ok {
			t.Errorf("no test value for %s", v.Name)
			continue
		}
		base, err := Load("", context[v.Name])
		if err != nil {
			t.Fatalf("%s: load its context: %v", v.Name, err)
		}
		c, err := Load("", append(context[v.Name], v.Name+"="+value))
		if err != nil {
			t.Errorf("%s=%s: %v", v.Name, value, err)
			continue
		}
		if reflect.DeepEqual(c, base) {
			t.Errorf("%s=%s had no effect", v.Name, value)
		}
	}
}

func TestRoleGroups(t *testing.T) {
	g := Default().RoleGroups
	for _, c := range []struct {
		groups []string
		want   string
	}{
		{nil, "user"},
		{[]string{"engineering"}, "user"},
		{[]string{"Tacit-Moderators"}, "moderator"},
		{[]string{"tacit-moderators", "tacit-admins"}, "admin"},
		{[]string{" tacit-admins "}, "admin"},
		{[]string{""}, "user"},
	} {
		if got := g.RoleOf(c.groups); got != c.want {
			t.Errorf("RoleOf(%q) = %q, want %q", c.groups, got, c.want)
		}
	}
	cfg, err := Load("", []string{"TACIT_ROLE_GROUPS_ADMIN=ops, it-admins ,", "TACIT_ROLE_GROUPS_MODERATOR="})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.RoleGroups; len(got.Admin) != 2 || got.Admin[1] != "it-admins" || len(got.Moderator) != 0 {
		t.Fatalf("from the environment: %+v", got)
	}
	if cfg.RoleGroups.RoleOf([]string{"tacit-moderators"}) != "user" {
		t.Fatal("an emptied moderator list still names tacit-moderators")
	}
}

// TestAdminGuideListsEverySetting keeps the configuration reference in docs/admin.md
// complete: every variable has a row naming it and its YAML key.
func TestAdminGuideListsEverySetting(t *testing.T) {
	guide, err := os.ReadFile(filepath.Join("..", "docs", "admin.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(guide), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`TACIT_") {
			continue
		}
		rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.Trim(strings.TrimSpace(cells[2]), "`")
	}
	for _, v := range EnvNames() {
		key, ok := rows[v.Name]
		switch {
		case !ok:
			t.Errorf("docs/admin.md has no row for %s", v.Name)
		case key != v.YAMLKey:
			t.Errorf("docs/admin.md gives %s the YAML key %q, want %q", v.Name, key, v.YAMLKey)
		}
		delete(rows, v.Name)
	}
	for name := range rows {
		t.Errorf("docs/admin.md documents %s, which Tacit does not read", name)
	}
}

func TestRetentionRules(t *testing.T) {
	c, err := Load("", []string{"TACIT_RETENTION_RULES=Department:any:730d, any:direct:8760h", "TACIT_RETENTION_INTERVAL=30m"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := []RetentionRule{{"department", "any", "730d"}, {"any", "direct", "8760h"}}
	if !reflect.DeepEqual(c.Retention.Rules, want) || c.Retention.Interval != 30*time.Minute {
		t.Errorf("Retention = %+v, want rules %+v every 30m", c.Retention, want)
	}
	if age, err := c.Retention.Rules[0].Age(); err != nil || age != 730*24*time.Hour {
		t.Errorf("Age of 730d = %v, %v", age, err)
	}
	path := writeFile(t, "retention.yaml", "retention:\n  rules:\n    - {scope: company, visibility: public, older_than: 90d}\n  batch: 50\n")
	c, err = Load(path, nil)
	if err != nil {
		t.Fatalf("Load YAML: %v", err)
	}
	if !reflect.DeepEqual(c.Retention.Rules, []RetentionRule{{"company", "public", "90d"}}) || c.Retention.Batch != 50 {
		t.Errorf("Retention from YAML = %+v", c.Retention)
	}
	for _, bad := range []string{"department:any", "team:any:30d", "any:secret:30d", "any:any:soon", "any:any:10m"} {
		if _, err := Load("", []string{"TACIT_RETENTION_RULES=" + bad}); err == nil || !strings.Contains(strings.ToLower(err.Error()), "retention") {
			t.Errorf("rule %q: err = %v, want a retention error", bad, err)
		}
	}
	if _, err := Load("", []string{"TACIT_RETENTION_INTERVAL=-1h"}); err == nil {
		t.Error("negative interval accepted")
	}
}

func TestValidateSSO(t *testing.T) {
	on := func(edit func(*SSO)) Config {
		c := Default()
		c.SSO.Issuer, c.SSO.ClientID = "https://id.example.com/realms/company", "tacit"
		edit(&c.SSO)
		return c
	}
	for _, tc := range []struct {
		name string
		c    Config
		key  string // "" = valid
	}{
		{"off", Default(), ""},
		{"on", on(func(*SSO) {}), ""},
		{"passwords off without sso", func() Config { c := Default(); c.SSO.PasswordLogin = false; return c }(), "sso.password_login"},
		{"passwords off with sso", on(func(s *SSO) { s.PasswordLogin = false }), ""},
		{"no client id", on(func(s *SSO) { s.ClientID = "" }), "sso.client_id"},
		{"http issuer under https", on(func(s *SSO) { s.Issuer = "http://id.example.com" }), "sso.issuer"},
		{"not a URL", on(func(s *SSO) { s.Issuer = "id.example.com" }), "sso.issuer"},
		{"no username claim", on(func(s *SSO) { s.UsernameClaim = "" }), "sso.username_claim"},
		{"no button label", on(func(s *SSO) { s.ButtonLabel = "" }), "sso.button_label"},
		{"bad domain", on(func(s *SSO) { s.AllowedEmailDomains = []string{"exa mple.com"} }), "sso.allowed_email_domains"},
	} {
		err := tc.c.Validate()
		switch {
		case tc.key == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.key != "" && (err == nil || !strings.Contains(err.Error(), tc.key)):
			t.Errorf("%s: got %v, want an error about %s", tc.name, err, tc.key)
		}
	}
	c := on(func(s *SSO) { s.ClientSecret = "hunter2-secret" })
	if got := fmt.Sprintf("%+v", c.Redacted()); strings.Contains(got, "hunter2-secret") {
		t.Errorf("Redacted keeps the client secret: %s", got)
	}
}

func TestUnknownEnv(t *testing.T) {
	got := UnknownEnv([]string{
		"TACIT_PROTOCL=http",               // a slip: reported with the name meant
		"TACIT_HOST=a.example",             // known
		"TACIT_PROTOCL=https",              // the same name again: reported once
		"TACIT_SOMETHING_ELSE=1",           // nothing near it
		"TACIT_TEST_POSTGRES=postgres://x", // the test suite's own
		"TACIT_SCREENSHOTS=docs",
		"HOME=/root",
		"TACIT_METRICS_LISTN=:9090",
	})
	want := []UnknownVar{
		{Name: "TACIT_PROTOCL", Nearest: "TACIT_PROTOCOL"},
		{Name: "TACIT_SOMETHING_ELSE", Nearest: ""},
		{Name: "TACIT_METRICS_LISTN", Nearest: "TACIT_METRICS_LISTEN"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UnknownEnv = %+v, want %+v", got, want)
	}
	// An unknown variable is reported, never refused.
	if _, err := Load("", []string{"TACIT_PROTOCL=http"}); err != nil {
		t.Errorf("Load with an unknown variable: %v", err)
	}
}

func TestMetricsAndDatabaseWaitValidation(t *testing.T) {
	for _, tc := range []struct {
		env     []string
		wantErr string
	}{
		{[]string{"TACIT_METRICS_LISTEN=127.0.0.1:9090"}, ""},
		{[]string{"TACIT_METRICS_LISTEN=nonsense"}, "metrics.listen (TACIT_METRICS_LISTEN)"},
		{[]string{"TACIT_METRICS_LISTEN=127.0.0.1:8080"}, "must differ from listen"},
		{[]string{"TACIT_METRICS_ON_LISTEN=perhaps"}, "TACIT_METRICS_ON_LISTEN: invalid boolean"},
		{[]string{"TACIT_DATABASE_WAIT=-1s"}, "database_wait (TACIT_DATABASE_WAIT)"},
	} {
		_, err := Load("", tc.env)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%v: error %v, want one containing %q", tc.env, err, tc.wantErr)
		}
	}
	c := Default()
	c.Metrics.Token = "scrape-secret"
	if got := c.Redacted().Metrics.Token; got != RedactedPassword {
		t.Errorf("Redacted().Metrics.Token = %q", got)
	}
}

func TestRegistrations(t *testing.T) {
	if got := Default().Registrations; got.Mode != RegistrationsClosed || got.ApprovalRequired || len(got.AllowedEmailDomains) != 0 {
		t.Fatalf("default registrations: %+v, want closed", got)
	}
	cfg, err := Load("", []string{"TACIT_REGISTRATIONS_MODE= Open ", "TACIT_REGISTRATIONS_APPROVAL_REQUIRED=1",
		"TACIT_REGISTRATIONS_ALLOWED_EMAIL_DOMAINS=@Example.com, eng.example.com,example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Registrations; got.Mode != RegistrationsOpen || !got.ApprovalRequired ||
		!reflect.DeepEqual(got.AllowedEmailDomains, []string{"example.com", "eng.example.com"}) {
		t.Fatalf("from the environment: %+v", got)
	}
	for _, env := range []string{"TACIT_REGISTRATIONS_MODE=approved", "TACIT_REGISTRATIONS_APPROVAL_REQUIRED=maybe",
		"TACIT_REGISTRATIONS_ALLOWED_EMAIL_DOMAINS=alice@example.com"} {
		name, _, _ := strings.Cut(env, "=")
		if _, err := Load("", []string{env}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the variable", env, err)
		}
	}
}
