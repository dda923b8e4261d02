// Package demo is a company in a box: three department instances of Tacit that
// federate with each other on loopback, seeded with people, posts of every audience, a
// thread across departments, idea boards with votes and a moderator's decisions, and a
// report waiting for a moderator.
//
// Everything is made the way people make it: through the domain's services on each
// instance, with the real federation carrying it to the others. Nothing is written
// behind the domain's back, so what the demo shows is what Tacit does.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/instance"
)

// DefaultPort is the first department's port; the others take the next ones. It stays
// clear of a normal `tacit serve` on 8080.
const DefaultPort = 8181

// Options tune Start.
type Options struct {
	// Dir holds one data dir per department.
	Dir string
	// Ports are the departments' ports on 127.0.0.1, in the order of Departments; 0
	// picks a free one. Nil means the ports Dir was first started with, or DefaultPort
	// and the next two for a new Dir.
	Ports []int
	// Log receives the instances' logs; nil discards them.
	Log *slog.Logger
}

// Department is one running instance of the company.
type Department struct {
	Name     string // e.g. Engineering
	Slug     string // its data dir's name
	URL      string // e.g. http://127.0.0.1:8181
	Instance *instance.Instance
	listener net.Listener
}

// Host is the department's host:port.
func (d *Department) Host() string { return d.Instance.Config.Host }

// Company is the three running departments.
type Company struct {
	Departments []*Department
	dir         string
	serving     chan error
}

// Start opens the three instances in opt.Dir (creating them on the first start) and
// serves them on loopback until ctx ends; Wait then returns once they have stopped.
func Start(ctx context.Context, opt Options) (*Company, error) {
	log := opt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(opt.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create demo dir %s: %w", opt.Dir, err)
	}
	c := &Company{dir: opt.Dir}
	// An instance's host, port included, is part of its identity: the ports of the
	// first start are the demo dir's for good.
	recorded, err := readPorts(opt.Dir)
	if err != nil {
		return nil, err
	}
	ports := opt.Ports
	switch {
	case recorded != nil && ports != nil && !slices.Equal(ports, recorded):
		return nil, fmt.Errorf("the demo in %s runs on ports %v; start it on those, or use another dir", opt.Dir, recorded)
	case recorded != nil:
		ports = recorded
	case ports == nil:
		ports = []int{DefaultPort, DefaultPort + 1, DefaultPort + 2}
	}
	// Every host must be known before any instance opens: each lists the others as
	// peers, and the port is part of the host.
	for i, d := range departments {
		port := 0
		if i < len(ports) {
			port = ports[i]
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			c.closeAll()
			return nil, fmt.Errorf("listen for %s: %w", d.name, err)
		}
		c.Departments = append(c.Departments, &Department{Name: d.name, Slug: d.slug, listener: l})
	}
	var hosts []string
	var listening []int
	for _, d := range c.Departments {
		hosts = append(hosts, d.listener.Addr().String())
		listening = append(listening, d.listener.Addr().(*net.TCPAddr).Port)
	}
	if recorded == nil {
		if err := writePorts(opt.Dir, listening); err != nil {
			c.closeAll()
			return nil, err
		}
	}
	for i, d := range c.Departments {
		cfg := departmentConfig(filepath.Join(opt.Dir, d.Slug), hosts[i], hosts, departments[i])
		inst, err := instance.Open(ctx, cfg, log.With("department", d.Slug))
		if err != nil {
			c.closeAll()
			return nil, fmt.Errorf("open %s: %w", d.Name, err)
		}
		d.Instance = inst
		d.URL = cfg.BaseURL()
	}
	c.serving = make(chan error, len(c.Departments))
	for _, d := range c.Departments {
		go func() { c.serving <- d.Instance.Serve(ctx, d.listener) }()
	}
	return c, nil
}

// portsFile records the ports of a demo dir's first start.
const portsFile = "ports"

// readPorts returns the ports recorded in dir, nil when there are none yet.
func readPorts(dir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, portsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the demo's ports: %w", err)
	}
	var ports []int
	for _, f := range strings.Fields(string(b)) {
		p, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a port", filepath.Join(dir, portsFile), f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

func writePorts(dir string, ports []int) error {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintln(&b, p)
	}
	if err := os.WriteFile(filepath.Join(dir, portsFile), []byte(b.String()), 0o640); err != nil {
		return fmt.Errorf("record the demo's ports: %w", err)
	}
	return nil
}

// departmentConfig is an instance's configuration: plain http on loopback, SQLite in
// its own data dir, the other departments as peers.
func departmentConfig(dataDir, host string, peers []string, d department) config.Config {
	cfg := config.Default()
	cfg.Host = host
	cfg.Listen = host
	cfg.Protocol = config.ProtocolHTTP
	cfg.DataDir = dataDir
	cfg.InstanceName = "Tacit " + d.name
	cfg.InstanceDescription = d.description
	cfg.Department = d.name
	cfg.Location = d.location
	cfg.ContactEmail = d.contact
	cfg.Federation.Peers = append([]string(nil), peers...)
	// Three instances share one machine, often a laptop busy with other things: the
	// company-wide searches get more than the production default to hear every peer.
	cfg.Search.PeerTimeout = 2 * time.Second
	return cfg.Normalize()
}

// Wait returns once every department has stopped serving (after the context given to
// Start ends), and closes their databases and indexes.
func (c *Company) Wait() error {
	var errs []error
	for range c.Departments {
		if err := <-c.serving; err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range c.Departments {
		if err := d.Instance.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", d.Name, err))
		}
	}
	return errors.Join(errs...)
}

// closeAll releases what a failed Start had opened.
func (c *Company) closeAll() {
	for _, d := range c.Departments {
		if d.listener != nil {
			d.listener.Close()
		}
		if d.Instance != nil {
			d.Instance.Close()
		}
	}
}

// SignIn is an account to try the demo with.
type SignIn struct {
	Department string
	URL        string
	Username   string
	Password   string
	Role       string
}

// SignIns are the accounts worth trying first: an employee, a moderator and an admin
// of the first department, and the other departments' admins.
func (c *Company) SignIns() []SignIn {
	var out []SignIn
	for i, d := range departments {
		shown := map[community.Role]bool{}
		for _, p := range d.people {
			if shown[p.role] || (i > 0 && p.role != roleAdmin) {
				continue
			}
			shown[p.role] = true
			out = append(out, SignIn{Department: d.name, URL: c.Departments[i].URL,
				Username: p.username, Password: Password, Role: string(p.role)})
		}
	}
	return out
}
