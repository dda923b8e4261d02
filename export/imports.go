package export

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tacit-social/tacit/community"
)

// MaxImportSize bounds an uploaded CSV file: 7,500 addresses with their settings take
// well under a megabyte.
const MaxImportSize = 2 << 20

// ImportKind is which of Mastodon's CSV files an import reads.
type ImportKind string

// The files that can be imported.
const (
	ImportFollowing ImportKind = "following"
	ImportBlocks    ImportKind = "blocks"
)

// ParseImport reads a following_accounts.csv or blocked_accounts.csv as Mastodon
// writes them: an optional header row ("Account address", …), then one account per
// row; the following file may give "Show boosts" and "Notify on new posts" as true or
// false. Older Mastodon files have no header. Errors name the line.
func ParseImport(kind ImportKind, r io.Reader) ([]community.ImportEntry, error) {
	if kind != ImportFollowing && kind != ImportBlocks {
		return nil, fmt.Errorf("unknown import type %q (following or blocks)", kind)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the file: %w", err)
	}
	if len(data) > MaxImportSize {
		return nil, fmt.Errorf("the file is larger than %d MiB", MaxImportSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte order mark
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var entries []community.ImportEntry
	columns := map[string]int{"address": 0, "boosts": -1, "notify": -1}
	if kind == ImportFollowing {
		columns["boosts"], columns["notify"] = 1, 2
	}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a CSV file: %w", err)
		}
		if line == 1 && isHeader(rec) {
			columns = headerColumns(rec)
			if columns["address"] < 0 {
				return nil, errors.New(`line 1: the header has no "Account address" column`)
			}
			continue
		}
		if len(rec) == 0 || strings.TrimSpace(strings.Join(rec, "")) == "" {
			continue
		}
		e, err := importEntry(rec, columns)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		entries = append(entries, e)
		if len(entries) > community.MaxImportEntries {
			return nil, fmt.Errorf("the file names more than %d accounts", community.MaxImportEntries)
		}
	}
	return entries, nil
}

// isHeader reports whether a first row is a header rather than an account: it names
// one of Mastodon's columns.
func isHeader(rec []string) bool {
	for _, name := range rec {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "account address", "show boosts", "notify on new posts", "languages", "hide notifications":
			return true
		}
	}
	return false
}

// headerColumns finds the columns by their names in Mastodon's header.
func headerColumns(rec []string) map[string]int {
	cols := map[string]int{"address": -1, "boosts": -1, "notify": -1}
	for i, name := range rec {
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "account address":
			cols["address"] = i
		case "show boosts":
			cols["boosts"] = i
		case "notify on new posts":
			cols["notify"] = i
		}
	}
	return cols
}

func importEntry(rec []string, cols map[string]int) (community.ImportEntry, error) {
	field := func(name string) string {
		if i := cols[name]; i >= 0 && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	e := community.ImportEntry{Address: strings.TrimPrefix(field("address"), "@")}
	user, host, ok := strings.Cut(e.Address, "@")
	if !ok || user == "" || host == "" || strings.ContainsAny(e.Address, " /<>") {
		return e, fmt.Errorf("%q is not an account address such as alice@example.com", field("address"))
	}
	var err error
	if e.ShowReblogs, err = optionalBool(field("boosts")); err != nil {
		return e, fmt.Errorf("Show boosts: %w", err)
	}
	if e.Notify, err = optionalBool(field("notify")); err != nil {
		return e, fmt.Errorf("Notify on new posts: %w", err)
	}
	return e, nil
}

func optionalBool(s string) (*bool, error) {
	switch strings.ToLower(s) {
	case "":
		return nil, nil
	case "true":
		v := true
		return &v, nil
	case "false":
		v := false
		return &v, nil
	}
	return nil, fmt.Errorf("%q is neither true nor false", s)
}
