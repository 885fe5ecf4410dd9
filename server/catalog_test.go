package server

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestPsqlDescribe: psql's \dt, \dv, \d and \d NAME list and describe
// the database's tables and views.
func TestPsqlDescribe(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found (Debian postgresql-client)")
	}
	ts := startServer(t, nil, Options{})
	admin := ts.connect(t, adminUser, adminPassword)
	for _, sql := range []string{
		"CREATE TABLE t (a INTEGER PRIMARY KEY, b DECIMAL(12,2) NOT NULL, c VARCHAR, d DATE, e DOUBLE, f BOOLEAN, g BIGINT)",
		"CREATE VIEW v AS SELECT a, c FROM t",
	} {
		if _, err := admin.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := strings.Cut(ts.addr, ":")
	cmd := exec.Command(psql, "-h", host, "-p", port, "-U", adminUser, "-d", "bpfdb", "-X",
		"-c", `\dt`, "-c", `\d`, "-c", `\d t`, "-c", `\d v`, "-c", `\d nope`)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+adminPassword)
	out, err := cmd.CombinedOutput()
	// \d nope fails: psql exits 1.
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	want := `       List of relations
 Schema | Name | Type  | Owner 
--------+------+-------+-------
 public | t    | table | bpfdb
(1 row)

       List of relations
 Schema | Name | Type  | Owner 
--------+------+-------+-------
 public | t    | table | bpfdb
 public | v    | view  | bpfdb
(2 rows)

                      Table "public.t"
 Column |       Type        | Collation | Nullable | Default 
--------+-------------------+-----------+----------+---------
 a      | integer           |           | not null | 
 b      | numeric(12,2)     |           | not null | 
 c      | character varying |           |          | 
 d      | date              |           |          | 
 e      | double precision  |           |          | 
 f      | boolean           |           |          | 
 g      | bigint            |           |          | 

                       View "public.v"
 Column |       Type        | Collation | Nullable | Default 
--------+-------------------+-----------+----------+---------
 a      | integer           |           |          | 
 c      | character varying |           |          | 

Did not find any relation named "nope".
`
	if string(out) != want {
		t.Fatalf("psql printed:\n%s\nwant:\n%s", out, want)
	}
}
