package community

import (
	"context"
	"time"
)

// AccountResolver finds a remote account by its "user@host" handle, asking its server
// when this instance does not know it yet. Federation provides it; it asks only hosts
// the federation policy allows.
type AccountResolver interface {
	ResolveAccount(ctx context.Context, handle string) (*Account, error)
}

// mentionResolveTimeout bounds how long posting waits for the servers of mentioned
// accounts this instance has never met: a slow or dead server must not hold a post up
// for long, and a handle that could not be resolved in time stays plain text.
const mentionResolveTimeout = 3 * time.Second

// SetAccountResolver lets posts mention remote people this instance has not met yet,
// as Mastodon does: their handles are looked up (WebFinger, then the actor) when the
// post is made. Call it once, before serving; without it such mentions stay plain text.
func (s *Service) SetAccountResolver(r AccountResolver) { s.resolver = r }

// resolveUnknown asks the resolver for a remote handle this instance does not know.
// A failure of any kind leaves the mention unresolved: the author's post must not fail
// because another server is down.
func (s *Service) resolveUnknown(ctx context.Context, handle string) *Account {
	if s.resolver == nil {
		return nil
	}
	a, err := s.resolver.ResolveAccount(ctx, handle)
	if err != nil {
		s.log.DebugContext(ctx, "mention not resolved", "handle", handle, "err", err)
		return nil
	}
	return a
}
