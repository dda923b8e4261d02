package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/tacit-social/tacit/demo"
)

// runDemo starts the three-department demo company, seeds it on its first start and
// serves it until ctx ends (Ctrl-C).
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "./demo", "folder for the departments' data (reused on the next start)")
	port := fs.Int("port", 0, fmt.Sprintf("port of the first department on 127.0.0.1, the others taking the next two\n(default %d for a new dir, then the ports it was first started with)", demo.DefaultPort))
	verbose := fs.Bool("verbose", false, "log every request and delivery, not only warnings")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The servers stop when ctx ends: Ctrl-C, or a seeding that failed.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	opt := demo.Options{Dir: *dir, Log: log}
	if *port != 0 {
		opt.Ports = []int{*port, *port + 1, *port + 2}
	}
	company, err := demo.Start(ctx, opt)
	if err != nil {
		return err
	}
	seeded, err := company.Seed(ctx, stdout)
	if err != nil {
		stop()
		return errors.Join(err, company.Wait())
	}
	if !seeded {
		fmt.Fprintf(stdout, "reusing the demo company in %s\n", *dir)
	}
	fmt.Fprintln(stdout, "\nThe demo company is running:")
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, d := range company.Departments {
		fmt.Fprintf(tw, "  %s\t%s\n", d.Name, d.URL)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nSign in with (every password is the same):")
	tw = tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, s := range company.SignIns() {
		fmt.Fprintf(tw, "  %s\t%s\t%s\tpassword %s\t%s\n", s.Role, s.Username, s.Department, s.Password, s.URL)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nOpen an address in a browser and sign in, or point a Mastodon client at it; try \"Who knows…?\" with kubernetes.")
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping the demo company")
	return company.Wait()
}
