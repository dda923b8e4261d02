// Package config loads, normalizes and validates Tacit's runtime
// configuration.
//
// Configuration is layered, later layers overriding earlier ones:
//
//  1. built-in defaults (see Default),
//  2. an optional YAML file (see Load),
//  3. TACIT_* environment variables.
//
// EnvNames is the single table of environment variables, used both by Load
// and by documentation, so the two cannot drift apart.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Accepted values for the enumerated settings.
const (
	// ProtocolHTTPS serves and federates over TLS (the default).
	ProtocolHTTPS = "https"
	// ProtocolHTTP serves plain HTTP, e.g. behind a TLS-terminating proxy in
	// development.
	ProtocolHTTP = "http"

	// ScopeWorld makes new posts visible to everyone, including other
	// federated companies.
	ScopeWorld = "world"
	// ScopeCompany makes new posts visible to the whole company (the default).
	ScopeCompany = "company"
	// ScopeDepartment makes new posts visible to the author's department.
	ScopeDepartment = "department"

	// FederationCompany federates only with the configured peers (the
	// default).
	FederationCompany = "company"
	// FederationOpen federates with any ActivityPub server.
	FederationOpen = "open"

	// LogFormatText writes human-readable log lines (the default).
	LogFormatText = "text"
	// LogFormatJSON writes one JSON object per log line.
	LogFormatJSON = "json"
)

// RedactedPassword replaces secrets in Config.Redacted.
const RedactedPassword = "xxxxx"

// EnvConfigFile names the environment variable holding the path of the YAML
// configuration file, used by Load when no path is given explicitly.
const EnvConfigFile = "TACIT_CONFIG"

// Config is Tacit's complete runtime configuration.
type Config struct {
	// Host is the public host name, optionally with a port, under which the
	// instance is reachable (e.g. "social.example.com"). It becomes part of
	// every actor and object ID, so it must not change after first start.
	Host string `yaml:"host"`
	// Listen is the TCP address the HTTP server binds to.
	Listen string `yaml:"listen"`
	// Protocol is the public URL scheme: "https" or "http".
	Protocol string `yaml:"protocol"`
	// DataDir holds the SQLite database, search index, media and keys.
	DataDir string `yaml:"data_dir"`
	// Database is empty for a SQLite file in DataDir, or a postgres:// or
	// postgresql:// URL for PostgreSQL.
	Database string `yaml:"database"`
	// InstanceName is the human-readable name of the instance.
	InstanceName string `yaml:"instance_name"`
	// InstanceDescription is a short description shown to users and in the
	// instance API.
	InstanceDescription string `yaml:"instance_description"`
	// InstanceRules are the instance's rules, one sentence each, shown on the landing
	// page and to Mastodon apps (/api/v1/instance/rules).
	InstanceRules []string `yaml:"instance_rules"`
	// ContactEmail is the administrator's contact address (optional).
	ContactEmail string `yaml:"contact_email"`
	// Department is department metadata published in nodeinfo (optional).
	Department string `yaml:"department"`
	// Location is location metadata published in nodeinfo (optional).
	Location string `yaml:"location"`
	// DefaultScope is the visibility of new posts: "world", "company" or
	// "department".
	DefaultScope string `yaml:"default_scope"`
	// LogLevel is one of "debug", "info", "warn" or "error".
	LogLevel string `yaml:"log_level"`
	// LogFormat is "text" or "json".
	LogFormat string `yaml:"log_format"`
	// RateLimit configures API rate limiting.
	RateLimit RateLimit `yaml:"rate_limit"`
	// TrustedProxies lists the reverse proxies (IP addresses or CIDR ranges) whose
	// X-Forwarded-For and X-Real-IP headers name the client. Empty means none: the
	// client is the TCP peer, and forwarded headers are ignored, since anyone can
	// send them.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Federation configures which servers this instance talks to.
	Federation Federation `yaml:"federation"`
	// Media configures where uploaded files are kept.
	Media Media `yaml:"media"`
	// Search configures the search index and company-wide search.
	Search Search `yaml:"search"`
	// RoleGroups maps the identity provider's groups to roles, for single sign-on
	// and SCIM alike.
	RoleGroups RoleGroups `yaml:"role_groups"`
	// Retention deletes the instance's own posts once they are older than its rules
	// allow (docs/retention.md).
	Retention Retention `yaml:"retention"`
	// SSO configures single sign-on through the company's OpenID Connect provider.
	SSO SSO `yaml:"sso"`
	// Metrics configures where the Prometheus metrics are served.
	Metrics Metrics `yaml:"metrics"`
	// DatabaseWait is how long the start waits for a PostgreSQL server that does not
	// answer yet (it may be starting beside Tacit); 0 fails at once.
	DatabaseWait time.Duration `yaml:"database_wait"`
	// Registrations say who may sign up without the identity provider; the admin
	// page /admin/instance overrides them once saved.
	Registrations Registrations `yaml:"registrations"`
	// SCIM configures provisioning by the identity provider (docs/scim.md).
	SCIM SCIM `yaml:"scim"`
}

// Retention configures the deletion of old posts. No rules (the default) keeps
// everything.
type Retention struct {
	// Rules: a post goes once it is older than any rule matching its scope and
	// visibility.
	Rules []RetentionRule `yaml:"rules"`
	// Interval is how often the server applies the rules; 0 disables the job (the
	// command `tacit admin retention` still runs a pass by hand).
	Interval time.Duration `yaml:"interval"`
	// Batch bounds the posts deleted in one pass, so that a first pass on a large
	// instance does not hold the database's writer for long.
	Batch int `yaml:"batch"`
}

// RetentionRule matches posts by scope ("world", "company", "department" or "any") and
// visibility ("public", "unlisted", "private", "direct" or "any") older than OlderThan:
// a Go duration ("8760h") or a number of days ("730d").
type RetentionRule struct {
	Scope      string `yaml:"scope"`
	Visibility string `yaml:"visibility"`
	OlderThan  string `yaml:"older_than"`
}

// Age is the rule's OlderThan as a duration.
func (r RetentionRule) Age() (time.Duration, error) {
	s := strings.TrimSpace(r.OlderThan)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("invalid age %q (use days such as 730d or a Go duration such as 8760h)", r.OlderThan)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid age %q (use days such as 730d or a Go duration such as 8760h)", r.OlderThan)
	}
	return d, nil
}

// String is the rule in the environment variable's form, "scope:visibility:age".
func (r RetentionRule) String() string { return r.Scope + ":" + r.Visibility + ":" + r.OlderThan }

// check reports what is wrong with the rule.
func (r RetentionRule) check() error {
	switch r.Scope {
	case ScopeWorld, ScopeCompany, ScopeDepartment, "any":
	default:
		return fmt.Errorf("rule %s: scope must be world, company, department or any, got %q", r, r.Scope)
	}
	switch r.Visibility {
	case "public", "unlisted", "private", "direct", "any":
	default:
		return fmt.Errorf("rule %s: visibility must be public, unlisted, private, direct or any, got %q", r, r.Visibility)
	}
	age, err := r.Age()
	if err != nil {
		return fmt.Errorf("rule %s: %w", r, err)
	}
	if age < time.Hour {
		return fmt.Errorf("rule %s: the age must be at least an hour, got %s", r, age)
	}
	return nil
}

// parseRetentionRules reads TACIT_RETENTION_RULES: comma-separated
// "scope:visibility:age" triples.
func parseRetentionRules(v string) ([]RetentionRule, error) {
	var rules []RetentionRule
	for _, item := range splitList(v) {
		parts := strings.Split(item, ":")
		if len(parts) != 3 {
			return nil, fmt.Errorf("invalid rule %q (use scope:visibility:age, e.g. department:any:730d)", item)
		}
		rules = append(rules, RetentionRule{Scope: parts[0], Visibility: parts[1], OlderThan: parts[2]})
	}
	return rules, nil
}

// SSO configures single sign-on through an OpenID Connect provider (Keycloak,
// authentik, Entra ID, Okta…). It is off while Issuer is empty.
type SSO struct {
	// Issuer is the provider's issuer URL, exactly as its discovery document
	// (Issuer + "/.well-known/openid-configuration") names it.
	Issuer string `yaml:"issuer"`
	// ClientID and ClientSecret are the credentials of this instance's client
	// registration at the provider. The secret is never logged.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// Scopes are asked for at sign-in; "openid" is always among them.
	Scopes []string `yaml:"scopes"`
	// UsernameClaim, EmailClaim, NameClaim and GroupsClaim name the ID token (or
	// userinfo) claims that give the username of a new account, its e-mail address,
	// its display name and the groups that decide its role (see RoleGroups).
	UsernameClaim string `yaml:"username_claim"`
	EmailClaim    string `yaml:"email_claim"`
	NameClaim     string `yaml:"name_claim"`
	GroupsClaim   string `yaml:"groups_claim"`
	// ProvisioningClaim names the claim whose value is the externalId the provider's
	// SCIM provisioning gave the person ("sub" for Okta; "oid" for Entra ID once its
	// externalId is mapped to objectId): the first sign-in of a provisioned person
	// then finds their account. Empty links no provisioned account.
	ProvisioningClaim string `yaml:"provisioning_claim"`
	// AllowedEmailDomains, when set, admits only people whose verified e-mail
	// address is in one of these domains.
	AllowedEmailDomains []string `yaml:"allowed_email_domains"`
	// PasswordLogin keeps local passwords working beside single sign-on; false
	// refuses every password sign-in (the web app, the authorize page and the
	// password grant), while the `tacit admin` commands keep working.
	PasswordLogin bool `yaml:"password_login"`
	// ButtonLabel is the text of the sign-in button, e.g. "Sign in with Okta".
	ButtonLabel string `yaml:"button_label"`
}

// Enabled reports whether single sign-on is configured.
func (s SSO) Enabled() bool { return s.Issuer != "" }

// Metrics configures the Prometheus metrics endpoint. They name the peers and show
// the instance's volumes, so by default they are served nowhere: an operator chooses
// a private address (Listen) or the public listener (OnListen), ideally with a Token.
type Metrics struct {
	// Listen is an address of its own for GET /metrics, e.g. 127.0.0.1:9090; empty
	// means none.
	Listen string `yaml:"listen"`
	// OnListen also serves GET /metrics on the instance's listen address.
	OnListen bool `yaml:"on_listen"`
	// Token, when set, must come as "Authorization: Bearer <token>" on both.
	Token string `yaml:"token"`
}

// Enabled reports whether the metrics are served anywhere.
func (m Metrics) Enabled() bool { return m.Listen != "" || m.OnListen }

// Registration modes.
const (
	RegistrationsClosed = "closed"
	RegistrationsInvite = "invite"
	RegistrationsOpen   = "open"
)

// Registrations are the sign-up settings an instance starts with.
type Registrations struct {
	// Mode: "closed" (staff create accounts), "invite" (an invite code is required)
	// or "open" (anyone whose e-mail domain is allowed).
	Mode string `yaml:"mode"`
	// ApprovalRequired makes accounts that sign up without an invite wait for a
	// moderator's approval.
	ApprovalRequired bool `yaml:"approval_required"`
	// AllowedEmailDomains limits open sign-up to these e-mail domains; empty: any.
	AllowedEmailDomains []string `yaml:"allowed_email_domains"`
}

// SCIM configures provisioning by the company's identity provider over SCIM 2.0.
type SCIM struct {
	// DeleteAccounts makes the provider's DELETE of a user delete the account for
	// good, with its posts, and tell the peers; by default the account is suspended
	// and kept, as on deactivation.
	DeleteAccounts bool `yaml:"delete_accounts"`
}

// RoleGroups names the identity provider's groups whose members get a role here. A
// group is named as the provider sends it: a name, or an id (Entra ID sends object
// ids unless told otherwise).
type RoleGroups struct {
	// Admin: members become admins.
	Admin []string `yaml:"admin"`
	// Moderator: members become moderators (unless they are admins).
	Moderator []string `yaml:"moderator"`
}

// RoleOf is the role that membership of groups gives: "admin", "moderator" or "user".
// Names compare without regard to case, as providers differ in how they spell them.
func (g RoleGroups) RoleOf(groups []string) string {
	member := func(names []string) bool {
		for _, n := range names {
			for _, have := range groups {
				if n != "" && strings.EqualFold(strings.TrimSpace(have), n) {
					return true
				}
			}
		}
		return false
	}
	switch {
	case member(g.Admin):
		return "admin"
	case member(g.Moderator):
		return "moderator"
	}
	return "user"
}

// Media configures the storage of uploaded pictures.
type Media struct {
	// Dir is the directory of uploaded files; empty means "media" inside DataDir.
	Dir string `yaml:"dir"`
}

// Search configures the search index and company-wide search.
type Search struct {
	// IndexDir is the directory of the search index; empty means "index" in
	// DataDir.
	IndexDir string `yaml:"index_dir"`
	// PeerTimeout is how long a company-wide search waits for the peers before
	// answering with what it has.
	PeerTimeout time.Duration `yaml:"peer_timeout"`
	// DirectoryInterval is how often the peers' people directories are pulled, so
	// that the index knows everyone in the company; 0 disables the pulls.
	DirectoryInterval time.Duration `yaml:"directory_interval"`
}

// RateLimit configures request rate limiting: per account for logged-in
// requests, per application token for app-only tokens, per client IP for
// anonymous ones, and per verified peer host for signed federation requests.
type RateLimit struct {
	// Requests is the number of client API requests allowed per Window; 0
	// disables the client limits (Requests and Credentials).
	Requests int `yaml:"requests"`
	// Window is the length of the rate limiting window. In YAML and in the
	// environment it is written in Go duration syntax, e.g. "5m" or "90s".
	Window time.Duration `yaml:"window"`
	// Credentials is the number of app registrations and token requests (OAuth
	// token endpoint, all grants but refresh_token) allowed per Window from one
	// client address, so that nobody mints tokens or apps without bound.
	Credentials int `yaml:"credentials"`
	// Federation is the number of signed requests (inbox deliveries and signed
	// fetches) allowed per Window from one verified peer host; 0 disables it.
	// It is counted after the signature is verified, apart from the client
	// limits.
	Federation int `yaml:"federation"`
}

// Federation configures which servers this instance federates with.
type Federation struct {
	// Mode is "company" (federate only with Peers) or "open" (federate with
	// any server).
	Mode string `yaml:"mode"`
	// Peers lists the host[:port] of the company's other instances. It may
	// include the instance itself.
	Peers []string `yaml:"peers"`
	// AllowNetworks lists address ranges (CIDR) that open mode may reach although
	// they are private or loopback, e.g. a partner's server on an internal network.
	// Peers are always reachable; nothing else on a private network is, unless
	// listed here.
	AllowNetworks []string `yaml:"allow_networks"`
}

// EnvVar documents one environment variable understood by Load.
type EnvVar struct {
	// Name is the environment variable name, e.g. "TACIT_HOST".
	Name string
	// YAMLKey is the dotted key of the same setting in the YAML file, e.g.
	// "rate_limit.window"; empty if the variable has no YAML equivalent.
	YAMLKey string
	// Default is the built-in default rendered as it would be written in
	// the environment; empty if there is none.
	Default string
	// Description is a one-line human-readable explanation.
	Description string
}

// envBinding ties an EnvVar to the Config field it reads and writes.
type envBinding struct {
	EnvVar
	// get renders the field as an environment value (used for Default).
	get func(Config) string
	// set parses an environment value into the field; nil for variables
	// that are not Config fields (TACIT_CONFIG).
	set func(*Config, string) error
}

// envTable is the single source of truth for environment variable names.
// Default values are not written here: EnvNames renders them from Default().
var envTable = []envBinding{
	{
		EnvVar: EnvVar{Name: EnvConfigFile, Description: "Path of the YAML configuration file (used when no path is given on the command line)."},
		get:    func(Config) string { return "" },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_HOST", YAMLKey: "host", Description: "Public host name, optionally with port, without scheme or path (e.g. social.example.com). Must not change after first start."},
		get:    func(c Config) string { return c.Host },
		set:    func(c *Config, v string) error { c.Host = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_LISTEN", YAMLKey: "listen", Description: "TCP address the HTTP server listens on."},
		get:    func(c Config) string { return c.Listen },
		set:    func(c *Config, v string) error { c.Listen = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_PROTOCOL", YAMLKey: "protocol", Description: `Public URL scheme: "https" or "http".`},
		get:    func(c Config) string { return c.Protocol },
		set:    func(c *Config, v string) error { c.Protocol = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_DATA_DIR", YAMLKey: "data_dir", Description: "Directory for the SQLite database, search index, media and keys."},
		get:    func(c Config) string { return c.DataDir },
		set:    func(c *Config, v string) error { c.DataDir = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_DATABASE", YAMLKey: "database", Description: "Empty for SQLite in the data directory, or a postgres:// or postgresql:// URL for PostgreSQL."},
		get:    func(c Config) string { return c.Database },
		set:    func(c *Config, v string) error { c.Database = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_INSTANCE_NAME", YAMLKey: "instance_name", Description: "Human-readable name of the instance."},
		get:    func(c Config) string { return c.InstanceName },
		set:    func(c *Config, v string) error { c.InstanceName = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_INSTANCE_DESCRIPTION", YAMLKey: "instance_description", Description: "Short description of the instance."},
		get:    func(c Config) string { return c.InstanceDescription },
		set:    func(c *Config, v string) error { c.InstanceDescription = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_INSTANCE_RULES", YAMLKey: "instance_rules", Description: "The instance's rules, one per line (a list in YAML)."},
		get:    func(c Config) string { return strings.Join(c.InstanceRules, "\n") },
		set: func(c *Config, v string) error {
			c.InstanceRules = strings.Split(v, "\n")
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_CONTACT_EMAIL", YAMLKey: "contact_email", Description: "Administrator contact e-mail address (optional)."},
		get:    func(c Config) string { return c.ContactEmail },
		set:    func(c *Config, v string) error { c.ContactEmail = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_DEPARTMENT", YAMLKey: "department", Description: "Department metadata shown in nodeinfo (optional)."},
		get:    func(c Config) string { return c.Department },
		set:    func(c *Config, v string) error { c.Department = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_LOCATION", YAMLKey: "location", Description: "Location metadata shown in nodeinfo (optional)."},
		get:    func(c Config) string { return c.Location },
		set:    func(c *Config, v string) error { c.Location = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_DEFAULT_SCOPE", YAMLKey: "default_scope", Description: `Default scope (audience) of new posts when neither the author nor the client chose one: "world", "company" or "department".`},
		get:    func(c Config) string { return c.DefaultScope },
		set:    func(c *Config, v string) error { c.DefaultScope = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_LOG_LEVEL", YAMLKey: "log_level", Description: `Log level: "debug", "info", "warn" or "error".`},
		get:    func(c Config) string { return c.LogLevel },
		set:    func(c *Config, v string) error { c.LogLevel = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_LOG_FORMAT", YAMLKey: "log_format", Description: `Log format: "text" or "json".`},
		get:    func(c Config) string { return c.LogFormat },
		set:    func(c *Config, v string) error { c.LogFormat = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RATE_LIMIT_REQUESTS", YAMLKey: "rate_limit.requests", Description: "Requests allowed per window, per access token or per client IP; 0 disables rate limiting."},
		get:    func(c Config) string { return strconv.Itoa(c.RateLimit.Requests) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid integer %q", v)
			}
			c.RateLimit.Requests = n
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RATE_LIMIT_WINDOW", YAMLKey: "rate_limit.window", Description: `Rate limiting window in Go duration syntax, e.g. "5m" or "90s".`},
		get:    func(c Config) string { return c.RateLimit.Window.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q (use Go syntax such as 5m or 90s)", v)
			}
			c.RateLimit.Window = d
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RATE_LIMIT_CREDENTIALS", YAMLKey: "rate_limit.credentials", Description: "App registrations and token requests allowed per window from one client address; 0 disables."},
		get:    func(c Config) string { return strconv.Itoa(c.RateLimit.Credentials) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid integer %q", v)
			}
			c.RateLimit.Credentials = n
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RATE_LIMIT_FEDERATION", YAMLKey: "rate_limit.federation", Description: "Signed federation requests allowed per window from one verified peer host, counted after the signature check; 0 disables."},
		get:    func(c Config) string { return strconv.Itoa(c.RateLimit.Federation) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid integer %q", v)
			}
			c.RateLimit.Federation = n
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_TRUSTED_PROXIES", YAMLKey: "trusted_proxies", Description: "Comma-separated IP addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client; empty trusts none (the client is the TCP peer)."},
		get:    func(c Config) string { return strings.Join(c.TrustedProxies, ",") },
		set: func(c *Config, v string) error {
			c.TrustedProxies = strings.Split(v, ",")
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_FEDERATION_MODE", YAMLKey: "federation.mode", Description: `"company" federates only with the listed peers; "open" also federates world-scope content with the wider fediverse.`},
		get:    func(c Config) string { return c.Federation.Mode },
		set:    func(c *Config, v string) error { c.Federation.Mode = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_FEDERATION_PEERS", YAMLKey: "federation.peers", Description: "Comma-separated host[:port] list of the company's instances; may include this instance."},
		get:    func(c Config) string { return strings.Join(c.Federation.Peers, ",") },
		set: func(c *Config, v string) error {
			c.Federation.Peers = strings.Split(v, ",")
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_FEDERATION_ALLOW_NETWORKS", YAMLKey: "federation.allow_networks", Description: "Comma-separated CIDR ranges that open mode may reach although private or loopback (peers always may)."},
		get:    func(c Config) string { return strings.Join(c.Federation.AllowNetworks, ",") },
		set: func(c *Config, v string) error {
			c.Federation.AllowNetworks = strings.Split(v, ",")
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SEARCH_INDEX_DIR", YAMLKey: "search.index_dir", Description: "Directory of the search index; empty means \"index\" in the data directory."},
		get:    func(c Config) string { return c.Search.IndexDir },
		set:    func(c *Config, v string) error { c.Search.IndexDir = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SEARCH_PEER_TIMEOUT", YAMLKey: "search.peer_timeout", Description: `How long a company-wide search waits for the peers before answering with what it has (Go duration, e.g. "300ms").`},
		get:    func(c Config) string { return c.Search.PeerTimeout.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q (use Go syntax such as 300ms or 1s)", v)
			}
			c.Search.PeerTimeout = d
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_MEDIA_DIR", YAMLKey: "media.dir", Description: "Directory of uploaded pictures (attachments, avatars, headers); empty means media/ inside the data directory."},
		get:    func(c Config) string { return c.Media.Dir },
		set:    func(c *Config, v string) error { c.Media.Dir = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SEARCH_DIRECTORY_INTERVAL", YAMLKey: "search.directory_interval", Description: `How often the peers' people directories are pulled into the search index (Go duration); 0 disables.`},
		get:    func(c Config) string { return c.Search.DirectoryInterval.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q (use Go syntax such as 15m)", v)
			}
			c.Search.DirectoryInterval = d
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_ROLE_GROUPS_ADMIN", YAMLKey: "role_groups.admin", Description: "Comma-separated groups of the identity provider whose members are admins here (single sign-on and SCIM)."},
		get:    func(c Config) string { return strings.Join(c.RoleGroups.Admin, ",") },
		set: func(c *Config, v string) error {
			c.RoleGroups.Admin = splitList(v)
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_ROLE_GROUPS_MODERATOR", YAMLKey: "role_groups.moderator", Description: "Comma-separated groups of the identity provider whose members are moderators here."},
		get:    func(c Config) string { return strings.Join(c.RoleGroups.Moderator, ",") },
		set: func(c *Config, v string) error {
			c.RoleGroups.Moderator = splitList(v)
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RETENTION_RULES", YAMLKey: "retention.rules", Description: `Comma-separated retention rules scope:visibility:age (scope world, company, department or any; visibility public, unlisted, private, direct or any; age in days such as 730d or a Go duration): local posts older than a matching rule are deleted. Empty keeps everything.`},
		get: func(c Config) string {
			var out []string
			for _, r := range c.Retention.Rules {
				out = append(out, r.String())
			}
			return strings.Join(out, ",")
		},
		set: func(c *Config, v string) error {
			rules, err := parseRetentionRules(v)
			if err != nil {
				return err
			}
			c.Retention.Rules = rules
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RETENTION_INTERVAL", YAMLKey: "retention.interval", Description: `How often the retention rules are applied (Go duration); 0 disables the job.`},
		get:    func(c Config) string { return c.Retention.Interval.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q (use Go syntax such as 1h)", v)
			}
			c.Retention.Interval = d
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_RETENTION_BATCH", YAMLKey: "retention.batch", Description: "Most posts one retention pass deletes; the rest wait for the next pass."},
		get:    func(c Config) string { return strconv.Itoa(c.Retention.Batch) },
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid integer %q", v)
			}
			c.Retention.Batch = n
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_ISSUER", YAMLKey: "sso.issuer", Description: "Issuer URL of the company's OpenID Connect provider; empty turns single sign-on off."},
		get:    func(c Config) string { return c.SSO.Issuer },
		set:    func(c *Config, v string) error { c.SSO.Issuer = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_CLIENT_ID", YAMLKey: "sso.client_id", Description: "Client id of this instance at the provider."},
		get:    func(c Config) string { return c.SSO.ClientID },
		set:    func(c *Config, v string) error { c.SSO.ClientID = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_CLIENT_SECRET", YAMLKey: "sso.client_secret", Description: "Client secret of this instance at the provider (never logged)."},
		get:    func(c Config) string { return c.SSO.ClientSecret },
		set:    func(c *Config, v string) error { c.SSO.ClientSecret = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_SCOPES", YAMLKey: "sso.scopes", Description: "Comma-separated scopes asked for at sign-in (openid is always added)."},
		get:    func(c Config) string { return strings.Join(c.SSO.Scopes, ",") },
		set:    func(c *Config, v string) error { c.SSO.Scopes = splitList(v); return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_USERNAME_CLAIM", YAMLKey: "sso.username_claim", Description: "Claim that gives a new account its username."},
		get:    func(c Config) string { return c.SSO.UsernameClaim },
		set:    func(c *Config, v string) error { c.SSO.UsernameClaim = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_EMAIL_CLAIM", YAMLKey: "sso.email_claim", Description: "Claim that gives the e-mail address (kept only when the provider says it is verified)."},
		get:    func(c Config) string { return c.SSO.EmailClaim },
		set:    func(c *Config, v string) error { c.SSO.EmailClaim = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_NAME_CLAIM", YAMLKey: "sso.name_claim", Description: "Claim that gives the display name."},
		get:    func(c Config) string { return c.SSO.NameClaim },
		set:    func(c *Config, v string) error { c.SSO.NameClaim = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_GROUPS_CLAIM", YAMLKey: "sso.groups_claim", Description: "Claim that lists the groups mapped to roles by role_groups; empty leaves roles to the admins."},
		get:    func(c Config) string { return c.SSO.GroupsClaim },
		set:    func(c *Config, v string) error { c.SSO.GroupsClaim = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_PROVISIONING_CLAIM", YAMLKey: "sso.provisioning_claim", Description: "Claim whose value is the externalId SCIM provisioning gave the person, so that their first sign-in finds the provisioned account; empty links none."},
		get:    func(c Config) string { return c.SSO.ProvisioningClaim },
		set:    func(c *Config, v string) error { c.SSO.ProvisioningClaim = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_ALLOWED_EMAIL_DOMAINS", YAMLKey: "sso.allowed_email_domains", Description: "Comma-separated e-mail domains admitted by single sign-on (checked against a verified address); empty admits everyone the provider signs in."},
		get:    func(c Config) string { return strings.Join(c.SSO.AllowedEmailDomains, ",") },
		set:    func(c *Config, v string) error { c.SSO.AllowedEmailDomains = splitList(v); return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_PASSWORD_LOGIN", YAMLKey: "sso.password_login", Description: "true or false: whether local passwords still sign in beside single sign-on."},
		get:    func(c Config) string { return strconv.FormatBool(c.SSO.PasswordLogin) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid boolean %q (use true or false)", v)
			}
			c.SSO.PasswordLogin = b
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SSO_BUTTON_LABEL", YAMLKey: "sso.button_label", Description: "Text of the single sign-on button."},
		get:    func(c Config) string { return c.SSO.ButtonLabel },
		set:    func(c *Config, v string) error { c.SSO.ButtonLabel = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_METRICS_LISTEN", YAMLKey: "metrics.listen", Description: "Address of its own for the Prometheus metrics at /metrics (e.g. 127.0.0.1:9090); empty serves them on no address of their own."},
		get:    func(c Config) string { return c.Metrics.Listen },
		set:    func(c *Config, v string) error { c.Metrics.Listen = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_METRICS_ON_LISTEN", YAMLKey: "metrics.on_listen", Description: "true also serves /metrics on the instance's listen address (then set a token, or keep /metrics from the internet at the proxy)."},
		get:    func(c Config) string { return strconv.FormatBool(c.Metrics.OnListen) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid boolean %q (use true or false)", v)
			}
			c.Metrics.OnListen = b
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_METRICS_TOKEN", YAMLKey: "metrics.token", Description: "When set, /metrics answers only requests with \"Authorization: Bearer <token>\"."},
		get:    func(c Config) string { return c.Metrics.Token },
		set:    func(c *Config, v string) error { c.Metrics.Token = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_DATABASE_WAIT", YAMLKey: "database_wait", Description: "How long the start waits, retrying, for a PostgreSQL server that does not answer yet (Go duration); 0 fails at once."},
		get:    func(c Config) string { return c.DatabaseWait.String() },
		set: func(c *Config, v string) error {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid duration %q (use Go syntax such as 30s)", v)
			}
			c.DatabaseWait = d
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_REGISTRATIONS_MODE", YAMLKey: "registrations.mode", Description: "Who may sign up without the identity provider: closed, invite (with an invite code) or open (anyone whose e-mail domain is allowed)."},
		get:    func(c Config) string { return c.Registrations.Mode },
		set:    func(c *Config, v string) error { c.Registrations.Mode = v; return nil },
	},
	{
		EnvVar: EnvVar{Name: "TACIT_REGISTRATIONS_APPROVAL_REQUIRED", YAMLKey: "registrations.approval_required", Description: "Accounts that sign up without an invite wait for a moderator's approval (true or false)."},
		get:    func(c Config) string { return strconv.FormatBool(c.Registrations.ApprovalRequired) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid boolean %q (use true or false)", v)
			}
			c.Registrations.ApprovalRequired = b
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_REGISTRATIONS_ALLOWED_EMAIL_DOMAINS", YAMLKey: "registrations.allowed_email_domains", Description: "Comma-separated e-mail domains open sign-up is limited to; empty allows any."},
		get:    func(c Config) string { return strings.Join(c.Registrations.AllowedEmailDomains, ",") },
		set: func(c *Config, v string) error {
			c.Registrations.AllowedEmailDomains = splitList(v)
			return nil
		},
	},
	{
		EnvVar: EnvVar{Name: "TACIT_SCIM_DELETE_ACCOUNTS", YAMLKey: "scim.delete_accounts", Description: "true: the identity provider's SCIM DELETE deletes the account and its posts for good; false (default): it suspends the account and keeps it."},
		get:    func(c Config) string { return strconv.FormatBool(c.SCIM.DeleteAccounts) },
		set: func(c *Config, v string) error {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fmt.Errorf("invalid boolean %q (use true or false)", v)
			}
			c.SCIM.DeleteAccounts = b
			return nil
		},
	},
}

// splitList reads a comma-separated list, dropping blanks around and between items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// EnvNames returns every environment variable understood by Load, with its
// YAML key, built-in default and description. It is the single source of
// truth for environment variable names and may be used to generate
// documentation. The returned slice is a fresh copy.
func EnvNames() []EnvVar {
	def := Default()
	out := make([]EnvVar, 0, len(envTable))
	for _, b := range envTable {
		v := b.EnvVar
		v.Default = b.get(def)
		out = append(out, v)
	}
	return out
}

// label names a setting for error messages, e.g. "host (TACIT_HOST)".
func label(yamlKey string) string {
	for _, b := range envTable {
		if b.YAMLKey == yamlKey {
			return yamlKey + " (" + b.Name + ")"
		}
	}
	return yamlKey
}

// Default returns the built-in configuration, the lowest layer of Load.
func Default() Config {
	return Config{
		Host:                "localhost:8080",
		Listen:              "127.0.0.1:8080",
		Protocol:            ProtocolHTTPS,
		DataDir:             "./data",
		Database:            "",
		InstanceName:        "Tacit",
		InstanceDescription: "A Tacit community server.",
		DefaultScope:        ScopeCompany,
		LogLevel:            "info",
		LogFormat:           LogFormatText,
		RateLimit: RateLimit{
			Requests:    300,
			Window:      5 * time.Minute,
			Credentials: 100,
			// 1,500,000 per 5 minutes is 5,000 a second on average: room for a busy
			// peer's bursts of deliveries, yet a bound on a compromised one.
			Federation: 1_500_000,
		},
		Federation: Federation{
			Mode: FederationCompany,
		},
		Search: Search{
			PeerTimeout:       300 * time.Millisecond,
			DirectoryInterval: 15 * time.Minute,
		},
		RoleGroups: RoleGroups{
			Admin:     []string{"tacit-admins"},
			Moderator: []string{"tacit-moderators"},
		},
		Retention: Retention{Interval: time.Hour, Batch: 500},
		SSO: SSO{
			Scopes:            []string{"openid", "profile", "email"},
			UsernameClaim:     "preferred_username",
			EmailClaim:        "email",
			NameClaim:         "name",
			GroupsClaim:       "groups",
			ProvisioningClaim: "sub",
			PasswordLogin:     true,
			ButtonLabel:       "Sign in with your company account",
		},
		// Long enough for a PostgreSQL container started at the same time to accept
		// connections; short enough that a wrong address is reported soon.
		DatabaseWait:  30 * time.Second,
		Registrations: Registrations{Mode: RegistrationsClosed},
	}
}

// Load builds the configuration from Default(), then the YAML file at path,
// then the TACIT_* variables in environ, and returns it normalized and
// validated.
//
// If path is empty, the file named by TACIT_CONFIG in environ is used, if
// any; with neither, no file is read. A file that was named but does not
// exist is an error, as are unknown YAML keys.
//
// environ has the form of os.Environ() ("KEY=value" entries); Load never
// reads the process environment itself. A variable that is present
// overrides the lower layers even if its value is empty; when a name
// appears more than once the last entry wins.
func Load(path string, environ []string) (Config, error) {
	env := parseEnviron(environ)
	cfg := Default()

	if path == "" {
		path = env[EnvConfigFile]
	}
	if path != "" {
		if err := loadYAML(path, &cfg); err != nil {
			return Config{}, err
		}
	}

	if err := applyEnv(&cfg, env); err != nil {
		return Config{}, fmt.Errorf("config: environment: %w", err)
	}

	cfg = cfg.Normalize()
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("config: invalid configuration: %w", err)
	}
	return cfg, nil
}

// parseEnviron turns "KEY=value" entries into a map; later entries win.
// Entries without "=" are ignored.
func parseEnviron(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			continue
		}
		env[k] = v
	}
	return env
}

// loadYAML decodes the file at path over cfg. Keys absent from the file
// keep their current values; unknown keys are an error.
func loadYAML(path string, cfg *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: read config file: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: nothing to override
		}
		return fmt.Errorf("config: parse %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return fmt.Errorf("config: parse %s: only one YAML document is allowed", path)
	}
	return nil
}

// applyEnv sets every field whose variable is present in env. All parse
// errors are reported together.
func applyEnv(cfg *Config, env map[string]string) error {
	var errs []error
	for _, b := range envTable {
		if b.set == nil {
			continue
		}
		v, ok := env[b.Name]
		if !ok {
			continue
		}
		if err := b.set(cfg, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Normalize returns a copy of c with surrounding spaces trimmed from all
// settings, host, peers and enumerated values lowercased, and empty or
// duplicate peers dropped. Load calls it before Validate.
func (c Config) Normalize() Config {
	lower := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

	c.Host = lower(c.Host)
	c.Listen = strings.TrimSpace(c.Listen)
	c.Protocol = lower(c.Protocol)
	c.DataDir = strings.TrimSpace(c.DataDir)
	c.Database = strings.TrimSpace(c.Database)
	c.InstanceName = strings.TrimSpace(c.InstanceName)
	c.InstanceDescription = strings.TrimSpace(c.InstanceDescription)
	c.ContactEmail = strings.TrimSpace(c.ContactEmail)
	c.Department = strings.TrimSpace(c.Department)
	c.Location = strings.TrimSpace(c.Location)
	c.DefaultScope = lower(c.DefaultScope)
	c.LogLevel = lower(c.LogLevel)
	c.LogFormat = lower(c.LogFormat)
	c.Federation.Mode = lower(c.Federation.Mode)
	c.Registrations.Mode = lower(c.Registrations.Mode)
	var regDomains []string
	for _, d := range c.Registrations.AllowedEmailDomains {
		if d = strings.TrimPrefix(lower(d), "@"); d != "" && !slices.Contains(regDomains, d) {
			regDomains = append(regDomains, d)
		}
	}
	c.Registrations.AllowedEmailDomains = regDomains
	c.Media.Dir = strings.TrimSpace(c.Media.Dir)
	c.Search.IndexDir = strings.TrimSpace(c.Search.IndexDir)
	var retention []RetentionRule
	for _, r := range c.Retention.Rules {
		retention = append(retention, RetentionRule{Scope: lower(r.Scope), Visibility: lower(r.Visibility), OlderThan: lower(r.OlderThan)})
	}
	c.Retention.Rules = retention
	c.SSO.Issuer = strings.TrimSpace(c.SSO.Issuer)
	c.SSO.ClientID = strings.TrimSpace(c.SSO.ClientID)
	c.SSO.UsernameClaim = strings.TrimSpace(c.SSO.UsernameClaim)
	c.SSO.EmailClaim = strings.TrimSpace(c.SSO.EmailClaim)
	c.SSO.NameClaim = strings.TrimSpace(c.SSO.NameClaim)
	c.SSO.GroupsClaim = strings.TrimSpace(c.SSO.GroupsClaim)
	c.SSO.ProvisioningClaim = strings.TrimSpace(c.SSO.ProvisioningClaim)
	c.SSO.ButtonLabel = strings.TrimSpace(c.SSO.ButtonLabel)
	var domains []string
	for _, d := range c.SSO.AllowedEmailDomains {
		if d = strings.TrimPrefix(lower(d), "@"); d != "" {
			domains = append(domains, d)
		}
	}
	c.SSO.AllowedEmailDomains = domains
	c.Metrics.Listen = strings.TrimSpace(c.Metrics.Listen)
	c.Metrics.Token = strings.TrimSpace(c.Metrics.Token)

	var peers []string
	seen := make(map[string]bool, len(c.Federation.Peers))
	for _, p := range c.Federation.Peers {
		p = lower(p)
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		peers = append(peers, p)
	}
	c.Federation.Peers = peers
	var nets []string
	for _, n := range c.Federation.AllowNetworks {
		if n = strings.TrimSpace(n); n != "" {
			nets = append(nets, n)
		}
	}
	c.Federation.AllowNetworks = nets
	var proxies []string
	for _, p := range c.TrustedProxies {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	c.TrustedProxies = proxies
	var rules []string
	for _, r := range c.InstanceRules {
		if r = strings.TrimSpace(r); r != "" {
			rules = append(rules, r)
		}
	}
	c.InstanceRules = rules
	return c
}

// Validate reports every problem with c at once, joined with errors.Join,
// so an operator can fix all mistakes in one go. It returns nil if c is
// usable. Error messages never contain the database password.
func (c Config) Validate() error {
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", label(key), fmt.Sprintf(format, args...)))
	}

	if err := checkHostPort(c.Host); err != nil {
		add("host", "%v%s", err, got(c.Host))
	}
	if err := checkListen(c.Listen); err != nil {
		add("listen", "%v%s", err, got(c.Listen))
	}
	if c.Protocol != ProtocolHTTPS && c.Protocol != ProtocolHTTP {
		add("protocol", "must be %q or %q, got %q", ProtocolHTTPS, ProtocolHTTP, c.Protocol)
	}
	if c.DataDir == "" {
		add("data_dir", "must not be empty")
	}
	if err := checkDatabase(c.Database); err != nil {
		add("database", "%v", err)
	}
	if c.InstanceName == "" {
		add("instance_name", "must not be empty")
	}
	if c.ContactEmail != "" {
		if a, err := mail.ParseAddress(c.ContactEmail); err != nil || a.Address != c.ContactEmail {
			add("contact_email", "must be a plain e-mail address such as admin@example.com, got %q", c.ContactEmail)
		}
	}
	switch c.DefaultScope {
	case ScopeWorld, ScopeCompany, ScopeDepartment:
	default:
		add("default_scope", "must be %q, %q or %q, got %q", ScopeWorld, ScopeCompany, ScopeDepartment, c.DefaultScope)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log_level", `must be "debug", "info", "warn" or "error", got %q`, c.LogLevel)
	}
	if c.LogFormat != LogFormatText && c.LogFormat != LogFormatJSON {
		add("log_format", "must be %q or %q, got %q", LogFormatText, LogFormatJSON, c.LogFormat)
	}
	if c.RateLimit.Requests < 0 {
		add("rate_limit.requests", "must be 0 (disabled) or more, got %d", c.RateLimit.Requests)
	}
	if c.RateLimit.Window <= 0 {
		add("rate_limit.window", "must be a positive duration such as 5m, got %s", c.RateLimit.Window)
	}
	if c.RateLimit.Credentials < 0 {
		add("rate_limit.credentials", "must be 0 (disabled) or more, got %d", c.RateLimit.Credentials)
	}
	if c.RateLimit.Federation < 0 {
		add("rate_limit.federation", "must be 0 (disabled) or more, got %d", c.RateLimit.Federation)
	}
	for _, p := range c.TrustedProxies {
		if _, err := ParseProxy(p); err != nil {
			add("trusted_proxies", "%q is not an IP address or a CIDR range such as 10.0.0.0/8", p)
		}
	}
	if c.Federation.Mode != FederationCompany && c.Federation.Mode != FederationOpen {
		add("federation.mode", "must be %q or %q, got %q", FederationCompany, FederationOpen, c.Federation.Mode)
	}
	for _, p := range c.Federation.Peers {
		if err := checkHostPort(p); err != nil {
			add("federation.peers", "peer %q: %v", p, err)
		}
	}
	for _, n := range c.Federation.AllowNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			add("federation.allow_networks", "%q is not a CIDR range such as 10.20.0.0/16", n)
		}
	}
	if c.Search.PeerTimeout <= 0 {
		add("search.peer_timeout", "must be a positive duration such as 300ms, got %s", c.Search.PeerTimeout)
	}
	if c.Search.DirectoryInterval < 0 {
		add("search.directory_interval", "must be 0 (disabled) or a positive duration such as 15m, got %s", c.Search.DirectoryInterval)
	}
	switch c.Registrations.Mode {
	case RegistrationsClosed, RegistrationsInvite, RegistrationsOpen:
	default:
		add("registrations.mode", "must be %q, %q or %q, got %q", RegistrationsClosed, RegistrationsInvite, RegistrationsOpen, c.Registrations.Mode)
	}
	for _, d := range c.Registrations.AllowedEmailDomains {
		if strings.ContainsAny(d, "@/: ") || !strings.Contains(d, ".") {
			add("registrations.allowed_email_domains", "%q is not an e-mail domain such as example.com", d)
		}
	}
	if c.Retention.Interval < 0 {
		add("retention.interval", "must be 0 (disabled) or a positive duration such as 1h, got %s", c.Retention.Interval)
	}
	if c.Retention.Batch <= 0 {
		add("retention.batch", "must be a positive number of posts, got %d", c.Retention.Batch)
	}
	for _, r := range c.Retention.Rules {
		if err := r.check(); err != nil {
			add("retention.rules", "%v", err)
		}
	}
	c.validateSSO(add)
	if c.Metrics.Listen != "" {
		if err := checkListen(c.Metrics.Listen); err != nil {
			add("metrics.listen", "%v%s", err, got(c.Metrics.Listen))
		} else if c.Metrics.Listen == c.Listen {
			add("metrics.listen", "must differ from listen (use metrics.on_listen to serve /metrics there)")
		}
	}
	if c.DatabaseWait < 0 {
		add("database_wait", "must be 0 (no wait) or a positive duration such as 30s, got %s", c.DatabaseWait)
	}
	return errors.Join(errs...)
}

// validateSSO checks the sso section; with no issuer, only password_login matters.
func (c Config) validateSSO(add func(key, format string, args ...any)) {
	s := c.SSO
	if !s.Enabled() {
		if !s.PasswordLogin {
			add("sso.password_login", "false needs sso.issuer: without single sign-on nobody could sign in")
		}
		return
	}
	u, err := url.Parse(s.Issuer)
	switch {
	case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
		add("sso.issuer", "must be the provider's issuer URL such as https://id.example.com/realms/company, got %q", s.Issuer)
	case u.Scheme != "https" && !(u.Scheme == "http" && c.Protocol == ProtocolHTTP):
		add("sso.issuer", "must be an https URL (http only with protocol: http, for local use), got %q", s.Issuer)
	}
	if s.ClientID == "" {
		add("sso.client_id", "must not be empty when sso.issuer is set")
	}
	if s.UsernameClaim == "" {
		add("sso.username_claim", "must not be empty when sso.issuer is set")
	}
	if s.ButtonLabel == "" {
		add("sso.button_label", "must not be empty when sso.issuer is set: it is the sign-in button's text")
	}
	for _, d := range s.AllowedEmailDomains {
		if checkHostname(d) != nil {
			add("sso.allowed_email_domains", "%q is not a domain such as example.com", d)
		}
	}
}

// ParseProxy reads one trusted_proxies entry: an IP address (a range of one) or a
// CIDR range.
func ParseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("parse trusted proxy range %q: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("parse trusted proxy address %q: %w", s, err)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// got renders a non-empty offending value for an error message.
func got(s string) string {
	if s == "" {
		return ""
	}
	return fmt.Sprintf(" (got %q)", s)
}

// checkHostPort reports whether s is a bare host[:port]: a DNS name, an
// IPv4 address or a bracketed IPv6 address, with an optional port 1-65535,
// and no scheme, user info, path, query or fragment.
func checkHostPort(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	if strings.Contains(s, "://") {
		return errors.New("must not include a scheme such as https:// (set protocol instead)")
	}
	if strings.ContainsAny(s, "/?#@\\ \t\r\n") {
		return errors.New("must be a bare host[:port] without path, query, user info or spaces")
	}

	host, hasPort := s, false
	if strings.HasPrefix(s, "[") {
		hasPort = strings.Contains(s, "]:")
	} else {
		hasPort = strings.Contains(s, ":")
	}
	if hasPort {
		h, port, err := net.SplitHostPort(s)
		if err != nil {
			return errors.New("must be host or host:port (IPv6 addresses in brackets, e.g. [2001:db8::1]:8443)")
		}
		if err := checkPort(port, 1); err != nil {
			return err
		}
		host = h
	} else if strings.HasPrefix(s, "[") {
		if !strings.HasSuffix(s, "]") {
			return errors.New("unterminated IPv6 address (missing ])")
		}
		host = s[1 : len(s)-1]
	}

	bracketed := strings.HasPrefix(s, "[")
	if ip := net.ParseIP(host); ip != nil {
		if bracketed != (ip.To4() == nil) {
			return errors.New("IPv6 addresses must be in brackets and IPv4 addresses must not be")
		}
		return nil
	}
	if bracketed {
		return errors.New("only IPv6 addresses may be in brackets")
	}
	return checkHostname(host)
}

// checkHostname reports whether s is a syntactically valid DNS name.
// Underscores are accepted because container networks commonly use them.
func checkHostname(s string) error {
	if s == "" {
		return errors.New("host name must not be empty")
	}
	if len(s) > 253 {
		return errors.New("host name is longer than 253 characters")
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return errors.New("host name labels must be 1 to 63 characters (no empty labels or trailing dot)")
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return errors.New("host name labels must not start or end with a hyphen")
		}
		for _, r := range label {
			isAlnum := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
			if !isAlnum && r != '-' && r != '_' {
				return fmt.Errorf("host name contains invalid character %q", r)
			}
		}
	}
	return nil
}

// checkPort reports whether port is a decimal number in [min, 65535].
func checkPort(port string, min int) error {
	if port == "" {
		return errors.New("port must not be empty")
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return fmt.Errorf("port %q is not a number", port)
		}
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < min || n > 65535 {
		return fmt.Errorf("port %s is out of range %d-65535", port, min)
	}
	return nil
}

// checkListen reports whether s is a host:port the server can listen on;
// the host may be empty (all interfaces) and the port may be 0.
func checkListen(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("must be host:port or :port, e.g. 0.0.0.0:8080")
	}
	return checkPort(port, 0)
}

// checkDatabase reports whether s is empty or a PostgreSQL URL. Its errors
// never include the value itself, which may contain a password.
func checkDatabase(s string) error {
	const want = "must be empty (SQLite in the data directory) or a postgres:// or postgresql:// URL"
	if s == "" {
		return nil
	}
	if !isPostgresURL(s) {
		scheme, _, ok := strings.Cut(s, "://")
		if !ok {
			return errors.New(want + ", got a value without a URL scheme")
		}
		return fmt.Errorf("%s, got scheme %q", want, scheme)
	}
	if _, err := url.Parse(s); err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password included
		}
		return fmt.Errorf("is not a valid URL: %v", err)
	}
	return nil
}

// isPostgresURL reports whether s starts with a PostgreSQL URL scheme.
func isPostgresURL(s string) bool {
	s = strings.ToLower(s)
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// BaseURL returns the public base URL, e.g. "https://social.example.com",
// without a trailing slash.
func (c Config) BaseURL() string {
	return c.Protocol + "://" + c.Host
}

// UsesPostgres reports whether Database selects PostgreSQL rather than
// SQLite.
func (c Config) UsesPostgres() bool {
	return isPostgresURL(strings.TrimSpace(c.Database))
}

// SQLitePath returns the path of the SQLite database file in DataDir.
func (c Config) SQLitePath() string {
	return filepath.Join(c.DataDir, "tacit.db")
}

// IndexDir returns the directory of the search index: Search.IndexDir, or "index"
// in DataDir.
func (c Config) IndexDir() string {
	if c.Search.IndexDir != "" {
		return c.Search.IndexDir
	}
	return filepath.Join(c.DataDir, "index")
}

// MediaDir returns the directory of uploaded media: Media.Dir, or "media" in DataDir.
func (c Config) MediaDir() string {
	if c.Media.Dir != "" {
		return c.Media.Dir
	}
	return filepath.Join(c.DataDir, "media")
}

// KeysDir returns the directory of signing keys in DataDir.
func (c Config) KeysDir() string {
	return filepath.Join(c.DataDir, "keys")
}

// IsPeer reports whether host (a host[:port], compared case-insensitively)
// is one of the configured federation peers or the instance's own Host.
// The port is significant: "a.example" and "a.example:8443" differ.
func (c Config) IsPeer(host string) bool {
	host = strings.ToLower(strings.TrimSpace(host))
	if host == "" {
		return false
	}
	if host == strings.ToLower(strings.TrimSpace(c.Host)) {
		return true
	}
	for _, p := range c.Federation.Peers {
		if host == strings.ToLower(strings.TrimSpace(p)) {
			return true
		}
	}
	return false
}

// Redacted returns a copy of c that is safe to log: a password in the
// Database URL (in the user info or a "password" query parameter) is
// replaced by RedactedPassword. A non-empty Database value that is not a
// URL with a scheme is replaced entirely, since it might be a DSN with an
// embedded password.
func (c Config) Redacted() Config {
	if c.SSO.ClientSecret != "" {
		c.SSO.ClientSecret = RedactedPassword
	}
	c.SSO.Scopes = append([]string(nil), c.SSO.Scopes...)
	c.SSO.AllowedEmailDomains = append([]string(nil), c.SSO.AllowedEmailDomains...)
	c.Federation.Peers = append([]string(nil), c.Federation.Peers...)
	c.Federation.AllowNetworks = append([]string(nil), c.Federation.AllowNetworks...)
	c.InstanceRules = append([]string(nil), c.InstanceRules...)
	c.Registrations.AllowedEmailDomains = append([]string(nil), c.Registrations.AllowedEmailDomains...)
	if c.Metrics.Token != "" {
		c.Metrics.Token = RedactedPassword
	}
	if c.Database == "" {
		return c
	}
	u, err := url.Parse(c.Database)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		c.Database = RedactedPassword
		return c
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), RedactedPassword)
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", RedactedPassword)
		u.RawQuery = q.Encode()
	}
	c.Database = u.String()
	return c
}
