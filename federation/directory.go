package federation

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// People directories. Profiles federate when people post, follow or edit them, but a
// colleague who never did any of that would stay unknown to the other instances, and
// "who knows X?" must know everyone. So each instance lists its people to its peers (a
// signed, allowlisted collection of profiles) and pulls its peers' lists periodically,
// storing the profiles as remote accounts, which feeds them to the search index. A
// pull writes only the profiles that changed.

const (
	directoryPath = "/ap/directory"
	// directoryPage is the number of profiles per page: a profile is at most a few
	// kilobytes, well within MaxBodyBytes.
	directoryPage = 100
	// maxDirectoryPages bounds one pull of one peer.
	maxDirectoryPages = 10_000
)

// directoryPageJSON is one page of a directory, an ActivityStreams OrderedCollectionPage
// of actor documents.
type directoryPageJSON struct {
	Context      any               `json:"@context,omitempty"`
	ID           string            `json:"id"`
	Type         string            `json:"type"`
	OrderedItems []json.RawMessage `json:"orderedItems"`
	Next         string            `json:"next,omitempty"`
}

// directory serves a page of this instance's people to a peer: ?after=<account id>.
func (f *Federator) directory(c *gin.Context) {
	r, ok := f.authorizePeer(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	var after int64
	if raw := c.Query("after"); raw != "" {
		id, ok := community.ParseID(raw)
		if !ok {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "after must be an account id"})
			return
		}
		after = id
	}
	accounts, err := f.c.LocalAccountsAfter(ctx, after, directoryPage)
	if err != nil {
		f.log.ErrorContext(ctx, "list directory", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	page := directoryPageJSON{
		Context:      activitystreams.Context(),
		ID:           f.base + directoryPath + "?after=" + community.FormatID(after),
		Type:         "OrderedCollectionPage",
		OrderedItems: []json.RawMessage{},
	}
	list := make([]*community.Account, len(accounts))
	for i := range accounts {
		list[i] = &accounts[i]
	}
	// Only the people the peer may see: never a suspended account or a department
	// board. The next page still starts after the last row read.
	if list, err = f.c.VisibleAccounts(ctx, r.viewer, list); err != nil {
		f.log.ErrorContext(ctx, "filter directory", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	profiles, err := f.profilesJSON(ctx, list)
	if err != nil {
		f.log.ErrorContext(ctx, "render directory", "err", err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "Internal server error"})
		return
	}
	for _, p := range profiles {
		if p != nil {
			page.OrderedItems = append(page.OrderedItems, p)
		}
	}
	if len(accounts) == directoryPage {
		page.Next = f.base + directoryPath + "?after=" + community.FormatID(accounts[len(accounts)-1].ID)
	}
	body, err := json.Marshal(page)
	if err != nil {
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeActivityJSON(c, http.StatusOK, body)
}

// servedAccount loads the local account the request names (:username) when the
// requester may see it (community's account rule), or ends the request with 404: an
// account that does not exist, a suspended one and a department board all look the
// same to a peer.
func (f *Federator) servedAccount(c *gin.Context, r requester) (*community.Account, bool) {
	acct, err := f.c.LocalAccountFor(c.Request.Context(), r.viewer, c.Param("username"))
	if err != nil {
		f.fail(c, "load account", err)
		return nil, false
	}
	return acct, true
}

// SyncDirectories pulls every peer's directory once and stores the profiles that are
// new or changed. A peer that cannot be reached is skipped until the next round.
func (f *Federator) SyncDirectories(ctx context.Context) error {
	var firstErr error
	for _, host := range f.PeerHosts() {
		n, err := f.pullDirectory(ctx, host)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			f.log.InfoContext(ctx, "could not pull a peer's directory", "peer", host, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		f.log.DebugContext(ctx, "pulled a peer's directory", "peer", host, "profiles", n)
	}
	return firstErr
}

// pullDirectory reads one peer's directory, page by page.
func (f *Federator) pullDirectory(ctx context.Context, host string) (int, error) {
	next := f.cfg.Protocol + "://" + host + directoryPath
	total := 0
	for pages := 0; next != "" && pages < maxDirectoryPages; pages++ {
		u, err := url.Parse(next)
		if err != nil || u.Host != host || u.Path != directoryPath {
			return total, fmt.Errorf("directory of %s: next page %q is not on its directory", host, next)
		}
		body, err := f.client.Get(ctx, next, f.instanceSigner())
		if err != nil {
			return total, err
		}
		var page directoryPageJSON
		if err := json.Unmarshal(body, &page); err != nil {
			return total, fmt.Errorf("directory of %s: %w", host, err)
		}
		profiles := make([]peerProfile, 0, len(page.OrderedItems))
		for _, raw := range page.OrderedItems {
			if p, ok := profileOf(raw, host); ok {
				profiles = append(profiles, p)
			}
		}
		if _, err := f.storeProfiles(ctx, host, profiles, true); err != nil {
			return total, err
		}
		total += len(profiles)
		next = page.Next
	}
	return total, nil
}

// syncDirectoriesEvery pulls the peers' directories at start and then every interval.
func (f *Federator) syncDirectoriesEvery(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		_ = f.SyncDirectories(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
