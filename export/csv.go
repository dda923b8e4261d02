package export

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/tacit-social/tacit/community"
)

// The CSV files of Mastodon's export page, by the names Mastodon gives them.
const (
	FollowingCSV = "following_accounts.csv"
	BlockedCSV   = "blocked_accounts.csv"
	MutedCSV     = "muted_accounts.csv"
	BookmarksCSV = "bookmarks.csv"
	ListsCSV     = "lists.csv"
)

// CSVNames are the CSV files an archive carries, each also downloadable alone.
var CSVNames = []string{FollowingCSV, BlockedCSV, MutedCSV, BookmarksCSV, ListsCSV}

// The header rows, as Mastodon writes them: following and muted accounts have one;
// blocked accounts, bookmarks and lists have none.
var (
	followingHeader = []string{"Account address", "Show boosts", "Notify on new posts", "Languages"}
	mutedHeader     = []string{"Account address", "Hide notifications"}
)

// CSV renders one of the CSV files (CSVNames) of owner's data.
func (a *Archiver) CSV(ctx context.Context, owner *community.Account, name string) ([]byte, error) {
	var rows [][]string
	switch name {
	case FollowingCSV:
		follows, err := a.Community.OwnFollows(ctx, owner)
		if err != nil {
			return nil, err
		}
		rows = append(rows, followingHeader)
		for _, f := range follows {
			rows = append(rows, []string{a.handle(f.Account), strconv.FormatBool(f.ShowReblogs), strconv.FormatBool(f.Notify), ""})
		}
	case BlockedCSV:
		blocks, err := a.Community.OwnBlocks(ctx, owner)
		if err != nil {
			return nil, err
		}
		for _, b := range blocks {
			rows = append(rows, []string{a.handle(b)})
		}
	case MutedCSV:
		mutes, err := a.Community.OwnMutes(ctx, owner)
		if err != nil {
			return nil, err
		}
		rows = append(rows, mutedHeader)
		for _, m := range mutes {
			rows = append(rows, []string{a.handle(m.Account), strconv.FormatBool(m.Notifications)})
		}
	case BookmarksCSV:
		uris, err := a.Community.OwnBookmarkURIs(ctx, owner)
		if err != nil {
			return nil, err
		}
		for _, u := range uris {
			rows = append(rows, []string{u})
		}
	case ListsCSV:
		members, err := a.Community.OwnListMembers(ctx, owner)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			rows = append(rows, []string{m.Title, a.handle(m.Account)})
		}
	default:
		return nil, fmt.Errorf("export: no CSV file named %q", name)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return nil, fmt.Errorf("export: %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// handle is an account's full address, user@host also for this instance's people, as
// Mastodon writes it so that the file means the same on any server.
func (a *Archiver) handle(acct *community.Account) string {
	if acct.IsLocal() {
		return acct.Username + "@" + a.Community.Host()
	}
	return acct.Acct()
}
