package dbgen

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/ from the current results")

// sf1 enables golden cases marked "slow" (SF 1: six million lineitem rows).
var sf1 = flag.Bool("sf1", false, "also run the slow SF 1 golden cases")

// testCase is one block of a data-driven file:
//
//	# comment lines
//	command arg=value flag ...
//	----
//	expected output lines (up to a blank line)
type testCase struct {
	line     int
	command  string
	args     map[string]string
	expected string
}

func parseCases(t *testing.T, path string) (cases []testCase, lines []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		fields := strings.Fields(l)
		c := testCase{line: i + 1, command: fields[0], args: map[string]string{}}
		for _, f := range fields[1:] {
			k, v, _ := strings.Cut(f, "=") // a bare word is a flag
			c.args[k] = v
		}
		i++
		if i >= len(lines) || lines[i] != "----" {
			t.Fatalf("%s:%d: want ---- after the command", path, i+1)
		}
		var exp []string
		for i+1 < len(lines) && lines[i+1] != "" {
			i++
			exp = append(exp, lines[i])
		}
		c.expected = strings.Join(exp, "\n")
		cases = append(cases, c)
	}
	return cases, lines
}

// TestDataDriven runs testdata/*.txt:
//
//	gen sf=S table=T [format=dbgen|duckdb] [first=N] [n=N]   the rows, as written
//	q1 sf=S [slow]                                        TPC-H Q1 sums over lineitem
//
// The q1 expectations are DuckDB's published answers (DuckDB's
// extension/tpch/dbgen/answers/sf*/q01.csv): exact sums of the generated
// lineitem rows, so a match means every quantity, price, discount, tax,
// flag, status and ship date of the scale factor is right in aggregate.
func TestDataDriven(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cases, lines := parseCases(t, path)
			var out []string // rewritten file
			prev := 0
			for _, c := range cases {
				got := runCase(t, path, c)
				// copy the file up to and including the ---- line
				out = append(out, lines[prev:c.line+1]...)
				exp := strings.Count(c.expected, "\n") + 1
				if c.expected == "" {
					exp = 0
				}
				prev = c.line + 1 + exp
				if got == "\x00skip" {
					if c.expected != "" {
						out = append(out, c.expected)
					}
					continue
				}
				if got != "" {
					out = append(out, got)
				}
				if got != c.expected && !*rewrite {
					t.Errorf("%s:%d: %s\n got:\n%s\nwant:\n%s", path, c.line, lines[c.line-1], got, c.expected)
				}
			}
			out = append(out, lines[prev:]...)
			if *rewrite {
				if err := os.WriteFile(path, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func runCase(t *testing.T, path string, c testCase) string {
	t.Helper()
	fail := func(format string, a ...any) string {
		t.Fatalf("%s:%d: %s", path, c.line, fmt.Sprintf(format, a...))
		return ""
	}
	if _, ok := c.args["slow"]; ok && !*sf1 {
		t.Logf("%s:%d: skipped (slow; run with -sf1)", path, c.line)
		return "\x00skip"
	}
	sf, err := strconv.ParseFloat(c.args["sf"], 64)
	if err != nil {
		return fail("sf: %v", err)
	}
	format := FormatDuckDB
	if c.args["format"] == "dbgen" {
		format = FormatDbgen
	}
	g, err := New(sf, format)
	if err != nil {
		return fail("%v", err)
	}
	switch c.command {
	case "gen":
		tb, err := ParseTable(c.args["table"])
		if err != nil {
			return fail("%v", err)
		}
		first, n := int64(1), int64(3)
		if v, ok := c.args["first"]; ok {
			first, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := c.args["n"]; ok {
			n, _ = strconv.ParseInt(v, 10, 64)
		}
		return strings.TrimSuffix(string(g.AppendRows(nil, tb, first, n)), "\n")
	case "q1":
		var buf bytes.Buffer
		if err := g.WriteTable(&buf, Lineitem, 0, nil); err != nil {
			return fail("%v", err)
		}
		res, err := q1(buf.Bytes())
		if err != nil {
			return fail("%v", err)
		}
		return res
	}
	return fail("unknown command %q", c.command)
}

// q1 computes TPC-H query 1's exact sums over lineitem text in either format:
// flag|status|sum_qty|sum_base_price|sum_disc_price|sum_charge|count.
func q1(data []byte) (string, error) {
	type sums struct{ qty, price, disc, charge, n int64 }
	groups := map[string]*sums{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "|")
		if len(f) < 16 {
			return "", fmt.Errorf("lineitem line %d: %d fields", line, len(f))
		}
		if f[10] > "1998-09-02" {
			continue
		}
		qty, err1 := strconv.ParseInt(strings.TrimSuffix(f[4], ".00"), 10, 64)
		price, err2 := cents(f[5])
		disc, err3 := cents(f[6])
		tax, err4 := cents(f[7])
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				return "", fmt.Errorf("lineitem line %d: %w", line, err)
			}
		}
		k := f[8] + "|" + f[9]
		s := groups[k]
		if s == nil {
			s = &sums{}
			groups[k] = s
		}
		s.qty += qty
		s.price += price
		s.disc += price * (100 - disc)
		s.charge += price * (100 - disc) * (100 + tax)
		s.n++
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		s := groups[k]
		out = append(out, fmt.Sprintf("%s|%d.00|%d.%02d|%d.%04d|%d.%06d|%d", k, s.qty,
			s.price/100, s.price%100, s.disc/10000, s.disc%10000, s.charge/1000000, s.charge%1000000, s.n))
	}
	return strings.Join(out, "\n"), nil
}

// cents parses a non-negative money value "123.45".
func cents(s string) (int64, error) {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 2 {
		return 0, fmt.Errorf("money %q", s)
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("money %q: %w", s, err)
	}
	return v, nil
}
