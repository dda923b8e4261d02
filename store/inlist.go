package store

import (
	"database/sql"
	"strings"
)

// Bounded statement texts
//
// gorm expands `col IN ?` with a slice into `col IN (?,?,…)`, one placeholder per
// element, so a timeline page that hydrates 1 to 40 ids produces up to 40 statement
// texts per query, and every cache keyed by the text (SQLite's compiled statements,
// a driver's statement cache) keeps missing. padInLists rounds each such list up to
// one of a few sizes by repeating its last value, which changes nothing in the
// result (IN and NOT IN ignore duplicates) and bounds the texts per list to about a
// dozen.

// inListSize is the padded size of an IN-list of n values: the next power of two up
// to 256, then the next multiple of 256.
func inListSize(n int) int {
	if n > 256 {
		return (n + 255) / 256 * 256
	}
	size := 1
	for size < n {
		size *= 2
	}
	return size
}

// padInLists rewrites every `IN (?,…,?)` list of query to its padded size and
// inserts the matching repeated arguments. It leaves the statement alone when its
// placeholders do not match args one for one (named arguments, numbered
// placeholders) or when nothing needs padding.
func padInLists(query string, args []any) (string, []any) {
	if !strings.Contains(query, "(?,") {
		return query, args
	}
	for _, a := range args {
		if _, named := a.(sql.NamedArg); named {
			return query, args
		}
	}
	var (
		out     strings.Builder
		outArgs []any
		argIdx  int // placeholders of query seen so far
		copied  int // args already copied to outArgs
		changed bool
	)
	out.Grow(len(query) + 32)
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			// A quoted literal or identifier: copy it whole ('' and "" escape
			// themselves, which this handles as two adjacent quoted runs).
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				return query, args
			}
			out.WriteString(query[i : i+end+2])
			i += end + 2
		case c == '?':
			if i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
				return query, args // ?NNN: numbered placeholders, leave alone
			}
			out.WriteByte(c)
			argIdx++
			i++
		case (c == 'I' || c == 'i') && i+1 < len(query) && (query[i+1] == 'N' || query[i+1] == 'n') &&
			(i == 0 || !isIdentByte(query[i-1])):
			n, end := inList(query, i+2)
			if n == 0 {
				out.WriteString(query[i : i+2])
				i += 2
				break
			}
			if argIdx+n > len(args) {
				return query, args
			}
			size := inListSize(n)
			if outArgs == nil {
				outArgs = make([]any, 0, len(args)+size-n)
			}
			outArgs = append(outArgs, args[copied:argIdx+n]...)
			for range size - n {
				outArgs = append(outArgs, args[argIdx+n-1])
			}
			changed = changed || size != n
			out.WriteString("IN (")
			out.WriteString(strings.Repeat("?,", size-1))
			out.WriteString("?)")
			argIdx += n
			copied = argIdx
			i = end
		default:
			out.WriteByte(c)
			i++
		}
	}
	if argIdx != len(args) || !changed {
		return query, args
	}
	return out.String(), append(outArgs, args[copied:]...)
}

// inList parses ` (?,?,…,?)` at query[i:] (optional white space before the
// parenthesis) and returns the number of placeholders and the index just after the
// closing parenthesis, or 0 when query[i:] is not such a list.
func inList(query string, i int) (n, end int) {
	for i < len(query) && (query[i] == ' ' || query[i] == '\t' || query[i] == '\n') {
		i++
	}
	if i >= len(query) || query[i] != '(' {
		return 0, 0
	}
	i++
	for {
		if i >= len(query) || query[i] != '?' {
			return 0, 0
		}
		if i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			return 0, 0
		}
		n++
		i++
		if i >= len(query) {
			return 0, 0
		}
		switch query[i] {
		case ',':
			i++
		case ')':
			return n, i + 1
		default:
			return 0, 0
		}
	}
}
