package community

import (
	"context"
	"strings"
	"sync"
	"time"
)

// Importing the people one follows or blocks from another server (Mastodon's
// following_accounts.csv and blocked_accounts.csv, read by the export package): each
// address is found as a mention is, this instance's accounts and known remote ones
// first, then the remote server through the account resolver, and followed or blocked
// through the same methods a client calls, so that peers hear of it.

// MaxImportEntries bounds one import: Mastodon caps following at 7,500 accounts.
const MaxImportEntries = 7500

// importResolveTimeout bounds the wait for one unknown remote account's server.
const importResolveTimeout = 10 * time.Second

// ImportEntry is one account to follow or block, by its address ("user@host").
// ShowReblogs and Notify, when set, are the follow's settings.
type ImportEntry struct {
	Address     string
	ShowReblogs *bool
	Notify      *bool
}

// ImportFailure is an address that could not be imported, and why.
type ImportFailure struct {
	Address string
	Reason  string
}

// ImportResult tells what an import did: every address is either imported or failed,
// none is dropped silently.
type ImportResult struct {
	Imported int
	// Removed counts the follows or blocks an overwrite ended.
	Removed int
	Failed  []ImportFailure
}

// ImportFollows follows the accounts of entries as owner. With overwrite, the owner
// also stops following accounts the list does not name, as Mastodon's "overwrite".
func (s *Service) ImportFollows(ctx context.Context, owner *Account, entries []ImportEntry, overwrite bool) (ImportResult, error) {
	return s.importRelations(ctx, owner, entries, overwrite, relationImport{
		apply: func(target *Account, e ImportEntry) error {
			return s.Follow(ctx, owner, target.ID, FollowOptions{Reblogs: e.ShowReblogs, Notify: e.Notify})
		},
		current: func() ([]*Account, error) {
			follows, err := s.OwnFollows(ctx, owner)
			out := make([]*Account, 0, len(follows))
			for _, f := range follows {
				out = append(out, f.Account)
			}
			return out, err
		},
		remove: func(target *Account) error { return s.Unfollow(ctx, owner, target.ID) },
	})
}

// ImportBlocks blocks the accounts of entries as owner. With overwrite, the owner also
// unblocks accounts the list does not name.
func (s *Service) ImportBlocks(ctx context.Context, owner *Account, entries []ImportEntry, overwrite bool) (ImportResult, error) {
	return s.importRelations(ctx, owner, entries, overwrite, relationImport{
		apply:   func(target *Account, _ ImportEntry) error { return s.Block(ctx, owner, target.ID) },
		current: func() ([]*Account, error) { return s.OwnBlocks(ctx, owner) },
		remove:  func(target *Account) error { return s.Unblock(ctx, owner, target.ID) },
	})
}

// relationImport is what differs between importing follows and blocks.
type relationImport struct {
	apply   func(*Account, ImportEntry) error
	current func() ([]*Account, error)
	remove  func(*Account) error
}

func (s *Service) importRelations(ctx context.Context, owner *Account, entries []ImportEntry, overwrite bool, r relationImport) (ImportResult, error) {
	res := ImportResult{Failed: []ImportFailure{}}
	if owner == nil {
		return res, ErrForbidden
	}
	if len(entries) > MaxImportEntries {
		return res, Invalid("An import holds at most %d accounts, this one %d", MaxImportEntries, len(entries))
	}
	targets, errs := s.resolveAllImported(ctx, entries)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	named := map[int64]bool{}
	for i, e := range entries {
		target, err := targets[i], errs[i]
		if err != nil && KindOf(err) == 0 {
			return res, err // the database, not the address
		}
		if err != nil {
			res.Failed = append(res.Failed, ImportFailure{Address: e.Address, Reason: err.Error()})
			continue
		}
		named[target.ID] = true
		if err := r.apply(target, e); err != nil {
			if KindOf(err) == 0 {
				return res, err // the database, not the entry
			}
			res.Failed = append(res.Failed, ImportFailure{Address: e.Address, Reason: err.Error()})
			continue
		}
		res.Imported++
	}
	if !overwrite {
		return res, nil
	}
	current, err := r.current()
	if err != nil {
		return res, err
	}
	for _, a := range current {
		if named[a.ID] {
			continue
		}
		if err := r.remove(a); err != nil {
			return res, err
		}
		res.Removed++
	}
	return res, nil
}

// importResolvers is how many addresses are looked up at once: most wait on other
// servers, and a file of thousands must not wait for them one by one.
const importResolvers = 8

// resolveAllImported finds the accounts of entries, several at a time; the results
// are in the entries' order.
func (s *Service) resolveAllImported(ctx context.Context, entries []ImportEntry) ([]*Account, []error) {
	targets := make([]*Account, len(entries))
	errs := make([]error, len(entries))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(importResolvers, len(entries)) {
		wg.Go(func() {
			for i := range next {
				targets[i], errs[i] = s.resolveImported(ctx, entries[i].Address)
			}
		})
	}
	for i := range entries {
		next <- i
	}
	close(next)
	wg.Wait()
	return targets, errs
}

// resolveImported finds the account an address names: known here, or asked of its
// server. The error says, in words for the person importing, why it was not found.
func (s *Service) resolveImported(ctx context.Context, address string) (*Account, error) {
	address = strings.TrimPrefix(strings.TrimSpace(address), "@")
	username, domain, _ := strings.Cut(address, "@")
	if username == "" || strings.ContainsAny(address, " /") {
		return nil, Invalid("not an account address")
	}
	a, err := s.LookupAccount(ctx, address)
	if err == nil {
		return a, nil
	}
	if KindOf(err) != KindNotFound {
		return nil, err
	}
	if domain == "" || strings.EqualFold(domain, s.host) || s.resolver == nil {
		return nil, Invalid("no such account")
	}
	rctx, cancel := context.WithTimeout(ctx, importResolveTimeout)
	defer cancel()
	a, err = s.resolver.ResolveAccount(rctx, address)
	if err != nil || a == nil {
		return nil, Invalid("no such account, or its server could not be reached")
	}
	return a, nil
}
