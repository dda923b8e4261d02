package community

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Lists that live in one column (profile fields, poll options, expertise) are stored as
// JSON text, which SQLite and PostgreSQL both keep; these two helpers do the encoding
// for their Value and Scan methods. what names the column in errors.

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
