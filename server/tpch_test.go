package server

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/tpch"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// The reference data and answers of ../shared/tpch.
const (
	sharedData    = "../../shared/tpch/sf0.01"
	sharedAnswers = "../../shared/tpch/answers/sf0.01"
)

// tpchServer serves an in-memory database with TPC-H SF 0.01 loaded and
// returns the reference answers by query number; it skips the test when
// ../shared lacks them.
func tpchServer(t *testing.T) (*testServer, map[int]*tpch.Answer) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	answers := map[int]*tpch.Answer{}
	for n := 1; n <= 22; n++ {
		a, err := tpch.ReadCSV(filepath.Join(sharedAnswers, fmt.Sprintf("q%02d.csv", n)))
		if err != nil {
			t.Skipf("TPC-H SF 0.01 answers: %v", err)
		}
		answers[n] = a
	}
	db, err := bpfdb.Open("", bpfdb.Options{Threads: 2, Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tpch.Load(context.Background(), db, sharedData, nil); err != nil {
		db.Close()
		t.Fatal(err)
	}
	return startServer(t, db, Options{}), answers
}

// kindOf says how cells of a column of type oid compare.
func kindOf(oid uint32) tpch.Kind {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidNumeric:
		return tpch.Exact
	case oidFloat8, oidFloat4:
		return tpch.Float
	}
	return tpch.Text
}

// answerOf reads a query's rows into an answer: values decoded by pgx
// (binary formats in the extended protocol) turned back into text.
func answerOf(rows pgx.Rows) (*tpch.Answer, error) {
	defer rows.Close()
	a := &tpch.Answer{}
	for _, f := range rows.FieldDescriptions() {
		a.Columns = append(a.Columns, f.Name)
		a.Kinds = append(a.Kinds, kindOf(f.DataTypeOID))
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		cells := make([]tpch.Cell, len(vals))
		for j, v := range vals {
			switch v := v.(type) {
			case nil:
				cells[j] = tpch.Cell{Null: true}
			case float64:
				cells[j] = tpch.Cell{Text: tpch.FormatDouble(v)}
			case time.Time:
				cells[j] = tpch.Cell{Text: v.Format(time.DateOnly)}
			case pgtype.Numeric:
				dv, err := v.Value()
				if err != nil {
					return nil, err
				}
				cells[j] = tpch.Cell{Text: fmt.Sprint(dv)}
			default:
				cells[j] = tpch.Cell{Text: fmt.Sprint(v)}
			}
		}
		a.Rows = append(a.Rows, cells)
	}
	return a, rows.Err()
}

// TestTPCH runs every TPC-H query through pgx, in the extended protocol
// (binary results) and in the simple protocol (text results), and checks
// the answers against the reference.
func TestTPCH(t *testing.T) {
	ts, answers := tpchServer(t)
	ctx := context.Background()
	c := ts.connect(t, adminUser, adminPassword)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		for _, q := range tpch.All() {
			t.Run(fmt.Sprintf("%s/%v", q.Name(), mode), func(t *testing.T) {
				if q.Setup != "" {
					if _, err := c.Exec(ctx, q.Setup, mode); err != nil {
						t.Fatalf("setup: %v", err)
					}
				}
				defer func() {
					if q.Teardown != "" {
						if _, err := c.Exec(ctx, q.Teardown, mode); err != nil {
							t.Errorf("teardown: %v", err)
						}
					}
				}()
				rows, err := c.Query(ctx, q.SQL, mode)
				if err != nil {
					t.Fatal(err)
				}
				got, err := answerOf(rows)
				if err != nil {
					t.Fatal(err)
				}
				if err := q.Check(answers[q.N], got); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestPsql: psql runs TPC-H Q1 with -c and prints the reference answer as
// CSV; psql's errors show the SQLSTATE's message.
func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not found (Debian postgresql-client)")
	}
	ts, answers := tpchServer(t)
	host, port, _ := strings.Cut(ts.addr, ":")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(psql, append([]string{"-h", host, "-p", port, "-U", adminUser, "-d", "bpfdb", "-X", "-v", "ON_ERROR_STOP=1"}, args...)...)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+adminPassword, "PGSSLMODE=prefer", "PGCONNECT_TIMEOUT=10")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	q, err := tpch.Get(1, tpch.Dates)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run("--csv", "-c", q.SQL)
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	got, err := tpch.ParseCSV("psql", []byte(out))
	if err != nil {
		t.Fatalf("psql's CSV: %v\n%s", err, out)
	}
	if err := q.Check(answers[1], got); err != nil {
		t.Fatalf("psql's answer: %v\n%s", err, out)
	}
	out, err = run("-c", "SELECT n_name, n_nationkey FROM nation WHERE n_nationkey < 2 ORDER BY 2")
	want := "  n_name   | n_nationkey \n-----------+-------------\n ALGERIA   |           0\n ARGENTINA |           1\n(2 rows)\n\n"
	if err != nil || out != want {
		t.Fatalf("psql table: %v\n%q\nwant\n%q", err, out, want)
	}
	out, err = run("-c", "SELECT nope FROM nation")
	if err == nil || !strings.Contains(out, `column "nope" does not exist`) {
		t.Fatalf("psql error: %v\n%s", err, out)
	}
}
