package main

import (
	"strings"
	"testing"
	"time"
)

func TestAdminInvite(t *testing.T) {
	env := initialized(t, []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_LOG_LEVEL=error",
		"TACIT_HOST=sales.example:8080", "TACIT_REGISTRATIONS_MODE=invite"})

	out, _, err := tacit(t, env, "admin", "invite", "--max-uses", "3", "--expires", "7d", "--comment", "new hires")
	if err != nil {
		t.Fatalf("invite: %v", err)
	}
	link := strings.TrimSpace(out)
	code, ok := strings.CutPrefix(link, "http://sales.example:8080/signup?invite=")
	if !ok || len(code) != 12 {
		t.Fatalf("invite printed %q, want the sign-up link with a code", out)
	}
	out, _, err = tacit(t, env, "admin", "invite", "--list")
	if err != nil || !strings.Contains(out, code) || !strings.Contains(out, "active") || !strings.Contains(out, "0/3") ||
		!strings.Contains(out, "new hires") {
		t.Fatalf("invite --list: %v\n%s", err, out)
	}
	if out, _, err := tacit(t, env, "admin", "invite", "--revoke", code); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("invite --revoke: %v %q", err, out)
	}
	if out, _, err := tacit(t, env, "admin", "invite", "--list"); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("invite --list after revoking: %v\n%s", err, out)
	}
	if _, _, err := tacit(t, env, "admin", "invite", "--revoke", code); err == nil {
		t.Fatal("revoking a revoked invite succeeded")
	}
	for _, bad := range [][]string{{"--expires", "soon"}, {"--max-uses", "-1"}, {"--expires", "1s"}} {
		if _, _, err := tacit(t, env, append([]string{"admin", "invite"}, bad...)...); err == nil {
			t.Errorf("invite %v succeeded", bad)
		}
	}
}

func TestParseLifetime(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "7d": 7 * 24 * time.Hour, "90m": 90 * time.Minute, " 12h ": 12 * time.Hour} {
		if got, err := parseLifetime(in); err != nil || got != want {
			t.Errorf("parseLifetime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"d", "-1d", "0", "-5m", "week"} {
		if _, err := parseLifetime(in); err == nil {
			t.Errorf("parseLifetime(%q) succeeded", in)
		}
	}
}
