package community

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// Fields is a profile's list of name/value pairs, stored as JSON text so that both
// SQLite and PostgreSQL keep it in one column.
type Fields []Field

// Value implements driver.Valuer.
func (f Fields) Value() (driver.Value, error) {
	if f == nil {
		f = Fields{}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("encode profile fields: %w", err)
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (f *Fields) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*f = Fields{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan profile fields: unexpected %T", src)
	}
	if len(b) == 0 {
		*f = Fields{}
		return nil
	}
	if err := json.Unmarshal(b, f); err != nil {
		return fmt.Errorf("decode profile fields: %w", err)
	}
	return nil
}
