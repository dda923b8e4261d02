package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// keyFetcher finds the public key behind a signature's keyId: the stored account's
// key, or the actor document fetched (signed by the instance actor) and stored.
// Keys found are kept in memory for keyCacheTTL, since a busy peer signs every
// delivery with the same few keys; a signature that does not match makes the
// verifier ask again with refresh, which bypasses and replaces the cached key.
type keyFetcher struct {
	f     *Federator
	cache *sync.Map // keyID → cachedKey
}

const keyCacheTTL = 5 * time.Minute

type cachedKey struct {
	pem, owner string
	until      time.Time
}

func (k keyFetcher) PublicKey(ctx context.Context, keyID string, refresh bool) (string, string, error) {
	actorURI, _, _ := strings.Cut(keyID, "#")
	if !refresh {
		if v, ok := k.cache.Load(keyID); ok && time.Now().Before(v.(cachedKey).until) {
			return v.(cachedKey).pem, v.(cachedKey).owner, nil
		}
		if a, err := k.f.c.AccountByURI(ctx, actorURI); err == nil && a.PublicKeyPEM != "" {
			k.remember(keyID, a)
			return a.PublicKeyPEM, a.URI, nil
		}
	}
	a, err := k.f.fetchAccount(ctx, actorURI)
	if err != nil {
		k.cache.Delete(keyID)
		return "", "", err
	}
	if a.PublicKeyPEM == "" {
		return "", "", fmt.Errorf("actor %s publishes no key", actorURI)
	}
	k.remember(keyID, a)
	return a.PublicKeyPEM, a.URI, nil
}

func (k keyFetcher) remember(keyID string, a *community.Account) {
	k.cache.Store(keyID, cachedKey{pem: a.PublicKeyPEM, owner: a.URI, until: time.Now().Add(keyCacheTTL)})
}

// forget drops the cached keys of a remote actor that changed or went away.
func (k keyFetcher) forget(actorURI string) {
	k.cache.Range(func(key, _ any) bool {
		if id, _, _ := strings.Cut(key.(string), "#"); id == actorURI {
			k.cache.Delete(key)
		}
		return true
	})
}

// fetchAccount fetches a remote actor document and stores the account it describes.
func (f *Federator) fetchAccount(ctx context.Context, actorURI string) (*community.Account, error) {
	host := hostOf(actorURI)
	if host == "" || strings.EqualFold(host, f.cfg.Host) {
		return nil, fmt.Errorf("fetch actor %s: not a remote actor", actorURI)
	}
	body, err := f.client.Get(ctx, actorURI, f.instanceSigner())
	if err != nil {
		return nil, err
	}
	return f.storeActor(ctx, actorURI, body)
}

// storeActor parses an actor document and upserts the remote account it describes.
// The document must be the one asked for: its id equal to the URL fetched, on the
// same host, so a peer cannot answer for another server's accounts.
func (f *Federator) storeActor(ctx context.Context, actorURI string, body []byte) (*community.Account, error) {
	pa, err := activitystreams.ParseActor(body)
	if err != nil {
		return nil, fmt.Errorf("actor %s: %w", actorURI, err)
	}
	if pa.ID != actorURI {
		return nil, fmt.Errorf("actor %s: document describes %s", actorURI, pa.ID)
	}
	if pa.PublicKeyPEM != "" && pa.PublicKeyOwner != "" && pa.PublicKeyOwner != pa.ID {
		return nil, fmt.Errorf("actor %s: key belongs to %s", actorURI, pa.PublicKeyOwner)
	}
	if pa.PreferredUsername == "" {
		return nil, errors.New("actor " + actorURI + " has no preferredUsername")
	}
	a, err := f.c.UpsertRemoteAccount(ctx, remoteAccountOf(pa))
	if err != nil || pa.Board == nil {
		return a, err
	}
	if err := f.syncBoard(ctx, a, pa.Board); err != nil {
		return nil, fmt.Errorf("board %s: %w", actorURI, err)
	}
	return a, nil
}

// account returns the stored account for an actor id, fetching it when unknown.
func (f *Federator) account(ctx context.Context, actorURI string) (*community.Account, error) {
	a, err := f.c.AccountByURI(ctx, actorURI)
	if err == nil {
		return a, nil
	}
	if community.KindOf(err) != community.KindNotFound {
		return nil, err
	}
	return f.fetchAccount(ctx, actorURI)
}
