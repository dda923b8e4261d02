package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// lockedBuffer collects a server's log while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serveLogged runs `tacit serve` like serveInProcess, keeping its log.
func serveLogged(t *testing.T, env []string, addr string) (log *lockedBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	log = &lockedBuffer{}
	go func() {
		done <- run(ctx, []string{"serve"}, env, strings.NewReader(""), &bytes.Buffer{}, log)
	}()
	waitHealthy(t, "http://"+addr+"/health")
	return log, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

func TestHelpWithoutValidConfiguration(t *testing.T) {
	env := []string{"TACIT_PROTOCOL=ftp", "TACIT_DATA_DIR=" + t.TempDir()}
	if _, _, err := tacit(t, env, "serve"); err == nil || !strings.Contains(err.Error(), "protocol") {
		t.Fatalf("serve with protocol ftp: %v, want a configuration error", err)
	}
	for _, args := range [][]string{
		{"help"}, {"--help"}, {"serve", "--help"}, {"serve", "-h"}, {"admin", "--help"},
		{"admin", "create-user", "--help"}, {"admin", "token", "-h"}, {"init", "--help"}, {"migrate", "--help"},
		{"health", "--help"}, {"demo", "--help"}, {"--config", "/nonexistent/tacit.yaml", "serve", "--help"},
	} {
		stdout, stderr, err := tacit(t, env, args...)
		if err != nil {
			t.Errorf("tacit %s: %v", strings.Join(args, " "), err)
			continue
		}
		if !strings.Contains(stdout+stderr, "Usage") && !strings.Contains(stdout+stderr, "-username") &&
			!strings.Contains(stdout+stderr, "-url") {
			t.Errorf("tacit %s printed no help: %q %q", strings.Join(args, " "), stdout, stderr)
		}
	}
}

func TestUnknownEnvironmentVariableReported(t *testing.T) {
	env := []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_PROTOCL=http"}
	_, stderr, err := tacit(t, env, "init")
	if err != nil {
		t.Fatalf("init: %v (an unknown variable must not stop the command)", err)
	}
	if !strings.Contains(stderr, "unknown environment variable ignored") ||
		!strings.Contains(stderr, "name=TACIT_PROTOCL") || !strings.Contains(stderr, "did_you_mean=TACIT_PROTOCOL") {
		t.Errorf("stderr = %q, want the unknown variable and the name meant", stderr)
	}
}

func TestHealthCommand(t *testing.T) {
	addr := freeAddr(t)
	env := []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_HOST=" + addr,
		"TACIT_LISTEN=" + addr, "TACIT_LOG_LEVEL=info", "TACIT_FEDERATION_PEERS=peer-a.example,peer-b.example:8443"}
	log, stop := serveLogged(t, env, addr)

	// The address comes from the listen setting.
	out, _, err := tacit(t, env, "health")
	if err != nil || !strings.Contains(out, "200") {
		t.Fatalf("health of a running server: %v %q", err, out)
	}
	if _, _, err := tacit(t, nil, "health", "--url", "http://"+addr+"/health"); err != nil {
		t.Fatalf("health --url: %v", err)
	}
	if _, _, err := tacit(t, nil, "health", "--url", "http://"+addr+"/no-such-page"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("health of a page that answers 404: %v", err)
	}
	stop()
	if _, _, err := tacit(t, env, "health"); err == nil {
		t.Error("health of a stopped server succeeded")
	}

	// The start line names the version, the database and the peers; a line marks the stop.
	logged := log.String()
	for _, want := range []string{`msg="starting tacit"`, "version=", "database=sqlite:", "federation_mode=company",
		"peers=peer-a.example,peer-b.example:8443", `msg="tacit stopped"`, "uptime_ms="} {
		if !strings.Contains(logged, want) {
			t.Errorf("log lacks %q:\n%s", want, logged)
		}
	}
}

func TestServeMetricsOnTheirOwnAddress(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http", "TACIT_HOST=" + addr,
		"TACIT_LISTEN=" + addr, "TACIT_LOG_LEVEL=warn", "TACIT_METRICS_LISTEN=" + metricsAddr, "TACIT_METRICS_TOKEN=scrape-secret"}
	_, stop := serveLogged(t, env, addr)
	defer stop()

	// Not on the public listener unless configured; not without the token.
	if resp, err := http.Get("http://" + addr + "/metrics"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics on the main listener: %v %v, want 404", resp.StatusCode, err)
	}
	if resp, err := http.Get("http://" + metricsAddr + "/metrics"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %v %v, want 401", resp.StatusCode, err)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer scrape-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics with the token: %v %v", resp, err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	// waitHealthy's requests were counted.
	reqs := families["tacit_http_requests_total"]
	if reqs == nil {
		t.Fatal("no tacit_http_requests_total")
	}
	var health float64
	for _, m := range reqs.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["route"] == "/health" && labels["status"] == "200" {
			health += m.GetCounter().GetValue()
		}
	}
	if health < 1 {
		t.Errorf("GET /health 200 counted %v times", health)
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "go_sql_wait_count_total"} {
		if families[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

func TestServeGivesUpOnUnreachablePostgres(t *testing.T) {
	env := []string{"TACIT_DATA_DIR=" + t.TempDir(), "TACIT_PROTOCOL=http",
		"TACIT_DATABASE=postgres://postgres@" + freeAddr(t) + "/tacit?sslmode=disable", "TACIT_DATABASE_WAIT=1s"}
	_, stderr, err := tacit(t, env, "serve")
	if err == nil || !strings.Contains(err.Error(), "not reachable after 1s") {
		t.Fatalf("serve: %v, want the database given up on after 1s", err)
	}
	if n := strings.Count(stderr, "database not reachable yet"); n != 1 {
		t.Errorf("the failure was logged %d times, want once:\n%s", n, stderr)
	}
}
