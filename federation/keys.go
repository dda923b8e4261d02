package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tacit-social/tacit/community"
	"github.com/tacit-social/tacit/federation/activitystreams"
)

// keyFetcher finds the public key behind a signature's keyId: the stored account's
// key, or the actor document fetched (signed by the instance actor) and stored.
type keyFetcher struct{ f *Federator }

func (k keyFetcher) PublicKey(ctx context.Context, keyID string, refresh bool) (string, string, error) {
	actorURI, _, _ := strings.Cut(keyID, "#")
	if !refresh {
		if a, err := k.f.c.AccountByURI(ctx, actorURI); err == nil && a.PublicKeyPEM != "" {
			return a.PublicKeyPEM, a.URI, nil
		}
	}
	a, err := k.f.fetchAccount(ctx, actorURI)
	if err != nil {
		return "", "", err
	}
	if a.PublicKeyPEM == "" {
		return "", "", fmt.Errorf("actor %s publishes no key", actorURI)
	}
	return a.PublicKeyPEM, a.URI, nil
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
	return f.c.UpsertRemoteAccount(ctx, remoteAccountOf(pa))
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
