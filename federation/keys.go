package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// keyFetcher finds the public key behind a signature's keyId: the stored account's
// key, or the key fetched from its server (signed by the instance actor) and checked
// against its owner's actor document, which is stored. Keys found are kept in memory
// for keyCacheTTL, since a busy peer signs every delivery with the same few keys; a
// signature that does not match makes the verifier ask again with refresh, which
// bypasses and replaces the cached key.
//
// Servers name their keys differently: Mastodon, Pleroma, Akkoma, Misskey and Lemmy
// use a fragment of the actor's id (https://host/users/alice#main-key), so fetching
// the key id gives the actor; GoToSocial uses a path of its own
// (https://host/users/alice/main-key), which answers with a stub naming the actor;
// others publish a Key document with an owner. Whatever the form, the key is taken
// from the owner's actor document only when that document lists it under the same
// id, as Mastodon checks.
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
	if !refresh {
		if v, ok := k.cache.Load(keyID); ok && time.Now().Before(v.(cachedKey).until) {
			return v.(cachedKey).pem, v.(cachedKey).owner, nil
		}
		// A stored account whose id the key id names is tried first. Should the
		// guess be wrong, the signature does not match its key and Verify asks again
		// with refresh; if it matches, that account's key signed, whatever the id.
		for _, actorURI := range likelyOwners(keyID) {
			if a, err := k.f.c.Unchecked().AccountByURI(ctx, actorURI); err == nil && a.PublicKeyPEM != "" {
				k.remember(keyID, a.PublicKeyPEM, a.URI)
				return a.PublicKeyPEM, a.URI, nil
			}
		}
	}
	pemKey, owner, err := k.f.fetchKey(ctx, keyID)
	if err != nil {
		k.cache.Delete(keyID)
		return "", "", err
	}
	k.remember(keyID, pemKey, owner)
	return pemKey, owner, nil
}

// likelyOwners are the actor ids a key id probably belongs to: the id without its
// fragment (Mastodon and most others) and, for GoToSocial's form, without its last
// "/main-key" segment.
func likelyOwners(keyID string) []string {
	if actor, _, found := strings.Cut(keyID, "#"); found {
		return []string{actor}
	}
	if actor, ok := strings.CutSuffix(keyID, "/main-key"); ok {
		return []string{actor}
	}
	return []string{keyID}
}

func (k keyFetcher) remember(keyID, pemKey, owner string) {
	k.cache.Store(keyID, cachedKey{pem: pemKey, owner: owner, until: time.Now().Add(keyCacheTTL)})
}

// forget drops the cached keys of a remote actor that changed or went away.
func (k keyFetcher) forget(actorURI string) {
	k.cache.Range(func(key, v any) bool {
		if v.(cachedKey).owner == actorURI {
			k.cache.Delete(key)
		}
		return true
	})
}

// keyDocument is what a key id dereferences to: an actor (with publicKey), or a key
// (with publicKeyPem and owner, or controller as newer vocabularies name it).
type keyDocument struct {
	ID           string          `json:"id"`
	Owner        string          `json:"owner"`
	Controller   string          `json:"controller"`
	PublicKeyPEM string          `json:"publicKeyPem"`
	PublicKey    json.RawMessage `json:"publicKey"`
}

// publishedKey is one entry of an actor's publicKey.
type publishedKey struct {
	ID           string `json:"id"`
	Owner        string `json:"owner"`
	PublicKeyPEM string `json:"publicKeyPem"`
}

// maxPublishedKeys bounds the keys read from one actor.
const maxPublishedKeys = 16

// keys returns the entries of publicKey, an object or an array of them; entries
// given by reference only are skipped.
func (d *keyDocument) keys() []publishedKey {
	var one publishedKey
	if json.Unmarshal(d.PublicKey, &one) == nil && one.ID != "" {
		return []publishedKey{one}
	}
	var many []json.RawMessage
	if json.Unmarshal(d.PublicKey, &many) != nil {
		return nil
	}
	var out []publishedKey
	for _, raw := range many {
		var k publishedKey
		if json.Unmarshal(raw, &k) == nil && k.ID != "" && len(out) < maxPublishedKeys {
			out = append(out, k)
		}
	}
	return out
}

// listedKey returns the PEM of the key keyID as the actor document body of actorURI
// lists it, owned by that actor.
func listedKey(body []byte, actorURI, keyID string) (string, error) {
	var d keyDocument
	if err := json.Unmarshal(body, &d); err != nil {
		return "", fmt.Errorf("actor %s: %w", actorURI, err)
	}
	if d.ID != actorURI {
		return "", fmt.Errorf("actor %s: document describes %q", actorURI, d.ID)
	}
	for _, k := range d.keys() {
		if k.ID != keyID {
			continue
		}
		if k.Owner != "" && k.Owner != actorURI {
			return "", fmt.Errorf("actor %s lists key %s as owned by %s", actorURI, keyID, k.Owner)
		}
		if k.PublicKeyPEM == "" {
			return "", fmt.Errorf("actor %s: key %s has no publicKeyPem", actorURI, keyID)
		}
		return k.PublicKeyPEM, nil
	}
	return "", fmt.Errorf("actor %s does not list key %s", actorURI, keyID)
}

// fetchKey dereferences a key id and returns the key and its owner, storing the
// owner's account. The owner must be on the key's host and its actor document must
// list the key under keyID.
func (f *Federator) fetchKey(ctx context.Context, keyID string) (string, string, error) {
	keyHost := hostOf(keyID)
	if keyHost == "" || strings.EqualFold(keyHost, f.cfg.Host) {
		return "", "", fmt.Errorf("key %s: not a remote key", keyID)
	}
	docURL, _, _ := strings.Cut(keyID, "#")
	body, err := f.client.Get(ctx, docURL, f.instanceSigner())
	if err != nil {
		return "", "", err
	}
	var d keyDocument
	if err := json.Unmarshal(body, &d); err != nil {
		return "", "", fmt.Errorf("key %s: %w", keyID, err)
	}
	var owner string
	switch {
	case d.PublicKeyPEM != "":
		// A Key document: it must be the key asked for, and its owner says whose.
		if d.ID != keyID {
			return "", "", fmt.Errorf("key %s: document describes %q", keyID, d.ID)
		}
		owner = d.Owner
		if owner == "" {
			owner = d.Controller
		}
	case len(d.PublicKey) > 0:
		// An actor, or GoToSocial's stub of one: the key's owner is the actor.
		owner = d.ID
	default:
		return "", "", fmt.Errorf("key %s: document is neither a key nor an actor", keyID)
	}
	if owner == "" || hostOf(owner) != keyHost {
		return "", "", fmt.Errorf("key %s: owner %q is not on the key's host", keyID, owner)
	}
	// The owner's own document is the authority on its keys. When the key id
	// dereferenced to that very document (Mastodon's #main-key), it is at hand.
	ownerBody := body
	if owner != docURL {
		if ownerBody, err = f.client.Get(ctx, owner, f.instanceSigner()); err != nil {
			return "", "", fmt.Errorf("key %s: owner: %w", keyID, err)
		}
	}
	pemKey, err := listedKey(ownerBody, owner, keyID)
	if err != nil {
		return "", "", fmt.Errorf("key %s: %w", keyID, err)
	}
	if _, err := f.storeActor(ctx, owner, ownerBody); err != nil {
		return "", "", fmt.Errorf("key %s: %w", keyID, err)
	}
	return pemKey, owner, nil
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
	a, err := f.c.Unchecked().AccountByURI(ctx, actorURI)
	if err == nil {
		return a, nil
	}
	if community.KindOf(err) != community.KindNotFound {
		return nil, err
	}
	return f.fetchAccount(ctx, actorURI)
}
