package community

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
)

// Lists that live in one column (profile fields, poll options, expertise, a report's
// statuses) are stored as JSON text, which SQLite and PostgreSQL both keep; these two
// helpers do the encoding for their Value and Scan methods. what names the column in
// errors.

// jsonListValue encodes a list column; a nil list is stored as [].
func jsonListValue[T any](list []T, what string) (driver.Value, error) {
	if list == nil {
		list = []T{}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", what, err)
	}
	return string(b), nil
}

// scanJSONList decodes a list column into dst; NULL and empty text are an empty list.
func scanJSONList[T any](src any, dst *[]T, what string) error {
	var b []byte
	switch v := src.(type) {
	case nil:
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan %s: unexpected %T", what, src)
	}
	list := []T{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &list); err != nil {
			return fmt.Errorf("decode %s: %w", what, err)
		}
	}
	*dst = list
	return nil
}

// IDList is a list of ids stored as JSON text (strings, as the API writes ids).
type IDList []int64

// Value implements driver.Valuer.
func (l IDList) Value() (driver.Value, error) {
	out := make([]string, len(l))
	for i, id := range l {
		out[i] = strconv.FormatInt(id, 10)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode id list: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (l *IDList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = IDList{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan id list: unexpected %T", src)
	}
	var raw []string
	if len(b) > 0 {
		if err := json.Unmarshal(b, &raw); err != nil {
			return fmt.Errorf("decode id list: %w", err)
		}
	}
	out := make(IDList, 0, len(raw))
	for _, s := range raw {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("decode id list: %w", err)
		}
		out = append(out, id)
	}
	*l = out
	return nil
}
