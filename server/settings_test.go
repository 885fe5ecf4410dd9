package server

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestSessionSettings: SET and SHOW of a session's own settings, in both
// protocols and by a user who is not a superuser; statement_timeout
// cancels a long statement of that session only.
func TestSessionSettings(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	admin := ts.connect(t, adminUser, adminPassword)
	bigTables(t, admin, 6000)
	if _, err := admin.Exec(ctx, "CREATE USER bob PASSWORD 'b'"); err != nil {
		t.Fatal(err)
	}
	bob := ts.connect(t, "bob", "b")
	show := func(c *pgx.Conn, name string, mode pgx.QueryExecMode) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, "SHOW "+name, mode).Scan(&v); err != nil {
			t.Fatalf("SHOW %s: %v", name, err)
		}
		return v
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		for _, tc := range []struct{ set, name, want string }{
			{"SET extra_float_digits = 3", "extra_float_digits", "3"},
			{"SET application_name TO 'psql-test'", "application_name", "psql-test"},
			{"SET statement_timeout = '2s'", "statement_timeout", "2000ms"},
			{"SET statement_timeout TO DEFAULT", "statement_timeout", "0"},
			{"SET client_encoding = 'utf8'", "client_encoding", "UTF8"},
			{"SET extra_float_digits = 2", "extra_float_digits", "2"},
			{"RESET extra_float_digits", "extra_float_digits", "1"},
		} {
			if tag, err := bob.Exec(ctx, tc.set, mode); err != nil || tag.String() != "SET" {
				t.Fatalf("%v: %s: %q %v", mode, tc.set, tag, err)
			}
			if got := show(bob, tc.name, mode); got != tc.want {
				t.Errorf("%v: after %s, %s is %q, want %q", mode, tc.set, tc.name, got, tc.want)
			}
		}
		if _, err := bob.Exec(ctx, "SET DateStyle = 'German'", mode); pgCode(err) != "22023" {
			t.Errorf("%v: SET DateStyle = 'German': %v, want 22023", mode, err)
		}
		if got := bob.PgConn().ParameterStatus("application_name"); got != "psql-test" {
			t.Errorf("%v: application_name reported as %q", mode, got)
		}
	}
	if got := show(admin, "application_name", pgx.QueryExecModeSimpleProtocol); got != "" {
		t.Errorf("bob's setting leaked to admin's session: %q", got)
	}

	if _, err := bob.Exec(ctx, "SET statement_timeout = 100"); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		var n int64
		err := bob.QueryRow(ctx, crossJoin, mode).Scan(&n)
		if pgCode(err) != "57014" || !strings.Contains(err.Error(), "statement timeout") {
			t.Errorf("%v: a statement past the timeout: %v", mode, err)
		}
	}
	var n int64
	if err := bob.QueryRow(ctx, "SELECT count(*) FROM k").Scan(&n); err != nil || n != 6000 {
		t.Fatalf("a short statement under the timeout: %d %v", n, err)
	}
}
