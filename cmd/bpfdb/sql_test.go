package main

import (
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/bpfdb/bpfdb"
)

func TestIsSQLFlag(t *testing.T) {
	for arg, want := range map[string]bool{
		"-c": true, "--c": true, "-c=SELECT 1": true, "--db": true, "--db=x.db": true,
		"-format": true, "--threads": true, "--threads=2": true,
		"shell": false, "c": false, "--help": false, "-h": false, "--dbx": false, "bpf": false, "": false,
	} {
		if got := isSQLFlag(arg); got != want {
			t.Errorf("isSQLFlag(%q) = %v, want %v", arg, got, want)
		}
	}
}

// BenchmarkPrint prints a 2^17-row result of INTEGER, DECIMAL, VARCHAR and
// DATE columns in each format; ns/row is the printing cost of one row.
func BenchmarkPrint(b *testing.B) {
	db, err := bpfdb.Open("", bpfdb.Options{Threads: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	setup := "CREATE TABLE t (i INTEGER, d DECIMAL(12,2), s VARCHAR, dt DATE); " +
		"INSERT INTO t VALUES (1, 1.25, 'one', DATE '1998-12-01'), (2, -7.5, 'two', DATE '1970-01-01')"
	for range 16 {
		setup += "; INSERT INTO t SELECT i + 2, d * 2, s, dt FROM t"
	}
	if err := db.Exec(ctx, setup); err != nil {
		b.Fatal(err)
	}
	res, err := db.Query(ctx, "SELECT i, d, s, dt FROM t")
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range []outputFormat{formatTable, formatCSV, formatJSON} {
		b.Run(f.String(), func(b *testing.B) {
			p := &printer{w: io.Discard, format: f}
			for b.Loop() {
				if err := p.print(res); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*res.Rows()), "ns/row")
		})
	}
}

// TestJSONString checks the quoting of JSON strings, the fast path for
// plain text and the encoder's for the rest, by decoding it back.
func TestJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "héllo", `say "hi"`, `back\slash`, "tab\tnew\nline", "\x00\x1f\x7f", "<&>", "\u2028"} {
		q := jsonString(s)
		var back string
		if err := json.Unmarshal(q, &back); err != nil || back != s {
			t.Errorf("jsonString(%q) = %s, which decodes to %q, %v", s, q, back, err)
		}
	}
	if got := string(jsonString("<&>")); got != `"<&>"` {
		t.Errorf("jsonString escapes HTML: %s", got)
	}
	// Invalid UTF-8 becomes U+FFFD, as encoding/json does.
	if got := string(jsonString("a\xffb")); got != `"a\ufffdb"` {
		t.Errorf("jsonString of invalid UTF-8 = %s", got)
	}
}
