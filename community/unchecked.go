package community

import "context"

// Unchecked holds the lookups that do not check the audience: by id, by ActivityPub
// address, by web address, and the idea or poll of a status. They exist for the callers
// that decide the audience themselves — federation delivering and serving its own
// objects (through Recipients and CanSee), search indexing every status and checking
// each hit before showing it, and the wiring of a signed-in request (the account behind
// a token). A presenter that shows content to a reader uses the Viewer-taking methods on
// Service instead (GetStatus, GetStatuses, AccountFor…); whatever comes from here must
// pass the audience rule (CanSee, CanSeeAccount) before anyone reads it.
//
// They live on their own type so that each use says so at the call site:
// svc.Unchecked().StatusByURI(ctx, uri).
type Unchecked struct{ s *Service }

// Unchecked returns the lookups that skip the audience rule (see Unchecked).
func (s *Service) Unchecked() Unchecked { return Unchecked{s} }

// AccountByID loads one account, or ErrNotFound.
func (u Unchecked) AccountByID(ctx context.Context, id int64) (*Account, error) {
	return u.s.accountByID(ctx, id)
}

// AccountsByID loads accounts by id, keyed by id; unknown ids are absent.
func (u Unchecked) AccountsByID(ctx context.Context, ids []int64) (map[int64]*Account, error) {
	return u.s.accountsByID(ctx, ids)
}

// AccountByURI finds an account (local or remote) by its ActivityPub id.
func (u Unchecked) AccountByURI(ctx context.Context, uri string) (*Account, error) {
	return u.s.accountByURI(ctx, uri)
}

// AccountsByURI finds accounts by their ActivityPub ids, keyed by id; unknown ids are
// absent.
func (u Unchecked) AccountsByURI(ctx context.Context, uris []string) (map[string]*Account, error) {
	return u.s.accountsByURI(ctx, uris)
}

// AccountByURL finds an account by its ActivityPub id or its profile's web address.
func (u Unchecked) AccountByURL(ctx context.Context, raw string) (*Account, error) {
	return u.s.accountByURL(ctx, raw)
}

// UserByID loads a login by its own id, with its account.
func (u Unchecked) UserByID(ctx context.Context, id int64) (*User, *Account, error) {
	return u.s.userByID(ctx, id)
}

// StatusByID loads a status, or ErrNotFound.
func (u Unchecked) StatusByID(ctx context.Context, id int64) (*Status, error) {
	return u.s.statusByID(ctx, id)
}

// StatusesByID loads statuses by id, keyed by id; unknown ids are absent.
func (u Unchecked) StatusesByID(ctx context.Context, ids []int64) (map[int64]*Status, error) {
	return u.s.statusesByID(ctx, ids)
}

// StatusByURI finds a status (local or remote) by its ActivityPub id.
func (u Unchecked) StatusByURI(ctx context.Context, uri string) (*Status, error) {
	return u.s.statusByURI(ctx, uri)
}

// StatusIDsByURI maps the ActivityPub ids of stored statuses to their ids here; unknown
// ids are absent.
func (u Unchecked) StatusIDsByURI(ctx context.Context, uris []string) (map[string]int64, error) {
	return u.s.statusIDsByURI(ctx, uris)
}

// StatusByURL finds a status by its ActivityPub id or its web address.
func (u Unchecked) StatusByURL(ctx context.Context, raw string) (*Status, error) {
	return u.s.statusByURL(ctx, raw)
}

// IdeaOf returns the idea a status is, or ErrNotFound.
func (u Unchecked) IdeaOf(ctx context.Context, statusID int64) (*Idea, error) {
	return u.s.ideaOf(ctx, statusID)
}

// IdeasOf returns the ideas among statuses, keyed by status id.
func (u Unchecked) IdeasOf(ctx context.Context, statusIDs []int64) (map[int64]*Idea, error) {
	return u.s.ideasOf(ctx, statusIDs)
}

// PollOf returns the poll of a status, or nil when it has none.
func (u Unchecked) PollOf(ctx context.Context, statusID int64) (*Poll, error) {
	return u.s.pollOf(ctx, statusID)
}
