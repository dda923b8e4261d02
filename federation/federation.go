// Package federation speaks ActivityPub with the company's other instances: it serves
// actors, objects and collections, receives activities in inboxes, and delivers the
// instance's own activities through a persistent queue. What may be shown to whom is
// the domain's decision (community.Service.CanSee and Recipients); this package only
// translates and transports.
package federation

import (
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/config"
	"github.com/tacit-social/tacit/federation/queue"
	"github.com/tacit-social/tacit/federation/signature"
	"github.com/tacit-social/tacit/pagecache"
	"github.com/tacit-social/tacit/search"
	"github.com/tacit-social/tacit/store"
)

// Queue job kinds.
const (
	jobDeliver = "deliver"
	jobInbox   = "inbox"
)

// Options are what a Federator needs.
type Options struct {
	Config      config.Config
	Community   *community.Service
	Queue       *queue.Queue
	InstanceKey *rsa.PrivateKey
	Logger      *slog.Logger
	UserAgent   string
	// SignatureFailed, when set, is told of every request whose signature did not
	// verify, for the instance's metrics.
	SignatureFailed func(err error)
}

// Federator is one instance's ActivityPub side.
type Federator struct {
	cfg      config.Config
	c        *community.Service
	q        *queue.Queue
	key      *rsa.PrivateKey
	client   *Client
	policy   HostPolicy
	verifier *signature.Verifier
	log      *slog.Logger
	base     string
	// signers caches parsed account keys by account id: parsing a PEM key costs more
	// than the signature it makes, and accounts' keys never change.
	signers sync.Map
	keys    keyFetcher
	// signerMu makes concurrent first uses of an account's key (a company-wide search
	// asks every peer at once) create the key once.
	signerMu sync.Mutex
	// search answers the peers' company-wide searches (see experts.go).
	search *search.Searcher
	// accepts records received deliveries, several per transaction (see accept.go).
	accepts *acceptBatcher
	// parsed hands activities from the inbox to the workers (see inbox_batch.go).
	parsed parsedHandoff
	// pages keeps WebFinger answers until the next write (see http.go).
	pages *pagecache.Cache
	// signatureFailed reports failed signatures (Options.SignatureFailed).
	signatureFailed func(err error)
}

// New builds a Federator. Call Subscribe to deliver domain events and Run to work the
// queue.
func New(opt Options) *Federator {
	cfg := opt.Config
	f := &Federator{
		cfg:   cfg,
		c:     opt.Community,
		q:     opt.Queue,
		key:   opt.InstanceKey,
		log:   opt.Logger,
		base:  cfg.BaseURL(),
		pages: pagecache.New(store.ChangesOf(opt.Community.DB())),
		// The failures are counted where requests are verified (VerifyRequest).
		signatureFailed: opt.SignatureFailed,
		policy: HostPolicy{
			Peer:    cfg.IsPeer,
			Open:    cfg.Federation.Mode == config.FederationOpen,
			Blocked: opt.Community.DomainBlocked,
			Extra:   opt.Community.DomainAllowed,
		},
	}
	for _, n := range cfg.Federation.AllowNetworks {
		// Validated with the configuration; a range that does not parse allows nothing.
		if prefix, err := netip.ParsePrefix(n); err == nil {
			f.policy.AllowNetworks = append(f.policy.AllowNetworks, prefix.Masked())
		}
	}
	if f.log == nil {
		f.log = slog.Default()
	}
	agent := opt.UserAgent
	if agent == "" {
		agent = "Tacit (+" + f.base + "/)"
	}
	f.client = NewClient(f.policy, agent)
	f.keys = keyFetcher{f: f, cache: &sync.Map{}}
	f.accepts = &acceptBatcher{write: f.writeAccepted}
	// Bound to this instance's host: a request signed for another server is refused.
	f.verifier = &signature.Verifier{Keys: f.keys, Host: cfg.Host, Scheme: cfg.Protocol}
	return f
}

// Subscribe makes the Federator deliver the domain's events.
func (f *Federator) Subscribe(bus *community.Bus) {
	bus.Subscribe(f.onEvent)
}

// seenActivityTTL is how long received activity ids are remembered: well beyond the
// hour a signature's date stays acceptable, after which a replay is refused anyway.
const seenActivityTTL = 24 * time.Hour

// Run works the delivery and inbox queue until ctx ends.
func (f *Federator) Run(ctx context.Context) error {
	go f.pruneSeenActivities(ctx)
	if d := f.cfg.Search.DirectoryInterval; d > 0 && len(f.PeerHosts()) > 0 {
		go f.syncDirectoriesEvery(ctx, d)
	}
	// Received activities run in batches of one sender: a batch of posts is stored in
	// one transaction.
	return f.q.RunBatches(ctx,
		map[string]queue.Handler{jobDeliver: f.deliver},
		map[string]queue.BatchHandler{jobInbox: f.processInboxBatch})
}

func (f *Federator) pruneSeenActivities(ctx context.Context) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		if _, err := f.c.PruneReceivedActivities(ctx, time.Now().Add(-seenActivityTTL)); err != nil && ctx.Err() == nil {
			f.log.WarnContext(ctx, "prune received activities", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// URLs of this instance's ActivityPub documents.

// InstanceActorURI is the id of the instance's own actor, which signs requests made on
// nobody's behalf and whose document is readable without a signature.
func (f *Federator) InstanceActorURI() string { return f.base + "/actor" }

func (f *Federator) instanceSigner() Signer {
	return Signer{KeyID: f.InstanceActorURI() + "#main-key", Key: f.key}
}

// CompanyURI is the collection standing for every account of the company.
func (f *Federator) CompanyURI() string { return f.base + "/ap/company" }

// isCompanyCollection reports whether uri is a peer's (or this instance's) company
// collection, which means "every logged-in account of the company".
func (f *Federator) isCompanyCollection(uri string) bool {
	u, err := url.Parse(uri)
	if err != nil || u.Path != "/ap/company" {
		return false
	}
	return f.cfg.IsPeer(strings.ToLower(u.Host)) || strings.EqualFold(u.Host, f.cfg.Host)
}

// accountSigner returns the key a local account signs with.
func (f *Federator) accountSigner(ctx context.Context, accountID int64) (Signer, error) {
	if s, ok := f.signers.Load(accountID); ok {
		return s.(Signer), nil
	}
	f.signerMu.Lock()
	defer f.signerMu.Unlock()
	if s, ok := f.signers.Load(accountID); ok {
		return s.(Signer), nil
	}
	var uri, priv string
	a, err := f.c.Unchecked().AccountByID(ctx, accountID)
	switch {
	case err == nil:
		if priv, _, err = f.c.AccountKeys(ctx, a.ID); err != nil {
			return Signer{}, err
		}
		uri = a.URI
	case community.KindOf(err) == community.KindNotFound:
		// A deleted account still signs the deliveries queued before it went, its
		// own Delete above all.
		tomb, terr := f.c.AccountTombstone(ctx, accountID, "")
		if community.KindOf(terr) == community.KindNotFound {
			return Signer{}, queue.Permanent(fmt.Errorf("account %d is gone", accountID))
		}
		if terr != nil {
			return Signer{}, terr
		}
		uri, priv = tomb.URI, tomb.PrivateKeyPEM
	default:
		return Signer{}, err
	}
	key, err := signature.ParsePrivateKeyPEM(priv)
	if err != nil {
		return Signer{}, fmt.Errorf("account %d key: %w", accountID, err)
	}
	signer := Signer{KeyID: uri + "#main-key", Key: key}
	f.signers.Store(accountID, signer)
	return signer, nil
}

// hostOf returns the lowercased host[:port] of an absolute URL, or "".
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// now is the clock used for activity timestamps.
func now() time.Time { return time.Now().UTC() }
