package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/tacit-social/tacit/config"
)

// health runs `tacit health`: it asks the running server's /health and succeeds only
// on 200, so that a container image without a shell can have a HEALTHCHECK. The
// address comes from --url, or else from the configuration's listen address.
func health(ctx context.Context, configPath string, environ, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	address := fs.String("url", "", "the /health address (default: http://<listen>/health, with 127.0.0.1 for an unspecified listen host)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage
	}
	target := *address
	if target == "" {
		cfg, err := config.Load(configPath, environ)
		if err != nil {
			return fmt.Errorf("health: configuration (or give --url): %w", err)
		}
		target = healthURL(cfg.Listen)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // it names the address again
		}
		return fmt.Errorf("health: %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %s: %s", target, resp.Status, body)
	}
	fmt.Fprintf(stdout, "healthy: %s answered %s\n", target, resp.Status)
	return nil
}

// healthURL is the /health address of a server listening on listen: the server is on
// this machine, so an unspecified host (0.0.0.0, ::, none) is reached on loopback.
// The listener speaks plain HTTP; TLS, if any, ends at a proxy in front.
func healthURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://" + listen + "/health"
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health"
}
