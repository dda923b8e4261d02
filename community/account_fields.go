package community

import (
	"database/sql/driver"
)

// Fields is a profile's list of name/value pairs, stored as JSON text so that both
// SQLite and PostgreSQL keep it in one column.
type Fields []Field

// Value implements driver.Valuer.
func (f Fields) Value() (driver.Value, error) { return jsonListValue([]Field(f), "profile fields") }

// Scan implements sql.Scanner.
func (f *Fields) Scan(src any) error { return scanJSONList(src, (*[]Field)(f), "profile fields") }
