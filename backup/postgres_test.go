package backup

import (
	"slices"
	"testing"
)

// TestPgConnection: pgx's URL becomes one libpq accepts, with the password and the
// server settings in the environment.
func TestPgConnection(t *testing.T) {
	cases := []struct {
		dsn, url, schema string
		env              []string
	}{
		{"postgres://tacit@db.example/tacit?sslmode=require", "postgres://tacit@db.example/tacit?sslmode=require", "", nil},
		{"postgres://tacit:s3cret@db.example:5433/tacit?search_path=sales&pool_max_conns=20&statement_cache_capacity=10",
			"postgres://tacit@db.example:5433/tacit", "sales", []string{"PGPASSWORD=s3cret", "PGOPTIONS=-c search_path=sales"}},
		{"postgresql://db.example/tacit?password=pw&application_name=tacit&timezone=UTC",
			"postgresql://db.example/tacit?application_name=tacit", "", []string{"PGPASSWORD=pw", "PGOPTIONS=-c timezone=UTC"}},
	}
	for _, tc := range cases {
		c, err := pgConnection(tc.dsn)
		if err != nil {
			t.Fatalf("%s: %v", tc.dsn, err)
		}
		if c.url != tc.url || c.schema != tc.schema || !slices.Equal(c.env, tc.env) {
			t.Errorf("%s:\n got %q %q %q\nwant %q %q %q", tc.dsn, c.url, c.schema, c.env, tc.url, tc.schema, tc.env)
		}
	}
	if _, err := pgConnection("postgres://db.example/tacit?search_path=a,b"); err == nil {
		t.Error("a search_path of several schemas was accepted")
	}
	c, _ := pgConnection("postgres://tacit:s3cret@db.example/tacit")
	if cmd := shellCommand(c, "pg_dump", []string{"--dbname=" + c.url}); cmd != "PGPASSWORD=… pg_dump --dbname=postgres://tacit@db.example/tacit" {
		t.Errorf("command shown: %q", cmd)
	}
}
