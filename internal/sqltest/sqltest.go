package sqltest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Kind is what a record expects.
type Kind uint8

// The kinds of record.
const (
	StatementOK    Kind = iota // statement ok
	StatementError             // statement error [text]
	Query                      // query <types> [sort] [label]
	Restart                    // restart
)

var kindNames = [...]string{StatementOK: "statement ok", StatementError: "statement error", Query: "query", Restart: "restart"}

// String returns the record header's words: "statement ok".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// SortMode says how a query's rows are ordered before they are compared.
type SortMode uint8

// The sort modes.
const (
	NoSort    SortMode = iota // as the query returns them
	RowSort                   // rows sorted as text
	ValueSort                 // every value sorted on its own
)

// A Record is one test of a file.
type Record struct {
	Line int    // line of the header, from 1
	Kind Kind   // what it expects
	SQL  string // the statement text, __TESTDIR__ not yet replaced
	// Error is the text a StatementError expects in the error ("" for
	// any error).
	Error string
	// Types has a letter per column of a Query: I, R or T.
	Types string
	// Sort is how a Query's rows are ordered before they are compared.
	Sort SortMode
	// Label names a Query's result for later queries to compare with.
	Label string
	// Expected are the lines after "----" of a Query; nil when a query
	// repeating an earlier label has no "----" line.
	Expected []string
}

// A File is a parsed test file.
type File struct {
	Path    string    // where it was read from; __TESTDIR__ is its directory
	Records []*Record // in file order
}

// ErrSyntax is the cause of errors in the text of a test file.
var ErrSyntax = errors.New("malformed test file")

// ParseFile reads and parses the test file at path.
func ParseFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read test file: %w", err)
	}
	return Parse(path, string(data))
}

// Parse parses the text of a test file; path is for errors and for
// __TESTDIR__.
func Parse(path, text string) (*File, error) {
	f := &File{Path: path}
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	fail := func(i int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s: %w", path, i+1, fmt.Sprintf(format, args...), ErrSyntax)
	}
	for i := 0; i < len(lines); {
		line := lines[i]
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			i++
			continue
		}
		words := strings.Fields(line)
		r := &Record{Line: i + 1}
		if len(words) == 1 && words[0] == "restart" {
			r.Kind = Restart
			f.Records = append(f.Records, r)
			i++
			continue
		}
		switch {
		case words[0] == "statement" && len(words) == 2 && words[1] == "ok":
			r.Kind = StatementOK
		case words[0] == "statement" && len(words) >= 2 && words[1] == "error":
			r.Kind = StatementError
			_, rest, _ := strings.Cut(line, "error")
			r.Error = strings.TrimSpace(rest)
		case words[0] == "query" && len(words) >= 2:
			r.Kind = Query
			r.Types = words[1]
			for _, c := range r.Types {
				if !strings.ContainsRune("IRT", c) {
					return nil, fail(i, "query column type %q: want I, R or T", c)
				}
			}
			rest := words[2:]
			if len(rest) > 0 {
				switch rest[0] {
				case "nosort":
					rest = rest[1:]
				case "rowsort":
					r.Sort, rest = RowSort, rest[1:]
				case "valuesort":
					r.Sort, rest = ValueSort, rest[1:]
				}
			}
			switch len(rest) {
			case 0:
			case 1:
				r.Label = rest[0]
			default:
				return nil, fail(i, "query header %q: want query <types> [nosort|rowsort|valuesort] [label]", line)
			}
		default:
			return nil, fail(i, "unknown record %q: want statement ok, statement error, query or restart", line)
		}
		i++
		var sql []string
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" && lines[i] != "----" {
			sql = append(sql, lines[i])
			i++
		}
		if len(sql) == 0 {
			return nil, fail(r.Line-1, "%s without SQL", r.Kind)
		}
		r.SQL = strings.Join(sql, "\n")
		if i < len(lines) && lines[i] == "----" {
			if r.Kind == StatementOK {
				return nil, fail(i, "statement ok has no expected output")
			}
			i++
			want := []string{} // not nil: "----" was there
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				want = append(want, lines[i])
				i++
			}
			switch r.Kind {
			case Query:
				r.Expected = want
			case StatementError:
				if r.Error != "" {
					return nil, fail(r.Line-1, "statement error has its text on the header line and after ----")
				}
				r.Error = strings.Join(want, "\n")
			}
		} else if r.Kind == Query && r.Label == "" {
			// A query with no rows has "----" and nothing after it; one
			// without "----" at all is a mistake.
			return nil, fail(r.Line-1, "query without ---- (an empty result still needs the ---- line)")
		}
		f.Records = append(f.Records, r)
	}
	return f, nil
}

// A Failure is a record whose outcome differs from what it expects.
type Failure struct {
	Path   string  // the test file
	Record *Record // the record that failed
	Msg    string  // what went wrong: the error, or got and want
}

// Error returns "path:line: msg", with the SQL.
func (f *Failure) Error() string {
	return fmt.Sprintf("%s:%d: %s\n%s", f.Path, f.Record.Line, f.Msg, indent(f.Record.SQL))
}

// Run opens the database at path ("" for a new in-memory one) with opts,
// runs every record of f on it in order and closes it. A failed record
// does not stop the file. It returns the failures, and an error if the
// database could not be opened or closed.
func (f *File) Run(ctx context.Context, path string, opts bpfdb.Options) ([]*Failure, error) {
	dir, err := filepath.Abs(filepath.Dir(f.Path))
	if err != nil {
		dir = filepath.Dir(f.Path)
	}
	db, err := bpfdb.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", f.Path, err)
	}
	labels := map[string][]string{}
	var fails []*Failure
	for _, r := range f.Records {
		if r.Kind == Restart {
			if path == "" {
				continue // an in-memory database would lose everything
			}
			if err := db.Close(); err != nil {
				return fails, fmt.Errorf("%s:%d: restart: close: %w", f.Path, r.Line, err)
			}
			if db, err = bpfdb.Open(path, opts); err != nil {
				return fails, fmt.Errorf("%s:%d: restart: open: %w", f.Path, r.Line, err)
			}
			continue
		}
		if msg := r.run(ctx, db, strings.ReplaceAll(r.SQL, "__TESTDIR__", dir), labels); msg != "" {
			fails = append(fails, &Failure{Path: f.Path, Record: r, Msg: msg})
		}
	}
	if err := db.Close(); err != nil {
		return fails, fmt.Errorf("run %s: close: %w", f.Path, err)
	}
	return fails, nil
}

// run runs one record and returns what went wrong, or "". A panic of the
// engine is a failure of the record, so that the rest of the corpus still
// runs and reports.
func (r *Record) run(ctx context.Context, db *bpfdb.DB, sql string, labels map[string][]string) (msg string) {
	defer func() {
		if p := recover(); p != nil {
			msg = fmt.Sprintf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	switch r.Kind {
	case StatementOK:
		if err := db.Exec(ctx, sql); err != nil {
			return fmt.Sprintf("statement failed: %v", err)
		}
	case StatementError:
		err := db.Exec(ctx, sql)
		switch {
		case err == nil:
			return fmt.Sprintf("statement succeeded, want an error containing %q", r.Error)
		case !strings.Contains(err.Error(), r.Error):
			return fmt.Sprintf("error %q does not contain %q", err.Error(), r.Error)
		}
	case Query:
		res, err := db.Query(ctx, sql)
		if err != nil {
			return fmt.Sprintf("query failed: %v", err)
		}
		return r.check(res, labels)
	}
	return ""
}

// check compares a query's result with the record's expectation.
func (r *Record) check(res *bpfdb.Result, labels map[string][]string) string {
	if len(res.Columns) != len(r.Types) {
		return fmt.Sprintf("%d result columns %v, the header says %d (%s)", len(res.Columns), res.Columns, len(r.Types), r.Types)
	}
	for j, t := range res.Types {
		if !typeMatches(r.Types[j], t) {
			return fmt.Sprintf("column %d (%s) is %v, the header says %c", j+1, res.Columns[j], t, r.Types[j])
		}
	}
	got := make([][]string, res.Rows())
	for i := range got {
		row := res.Row(i)
		got[i] = make([]string, len(row))
		for j, v := range row {
			got[i][j] = FormatValue(v)
		}
	}
	want, err := splitExpected(r.Expected, len(r.Types))
	if err != nil {
		return err.Error()
	}
	gotLines := r.arrange(got)
	if r.Label != "" {
		if prev, ok := labels[r.Label]; ok {
			if !slices.Equal(prev, gotLines) {
				return fmt.Sprintf("result differs from the earlier query labelled %s\ngot:\n%s\nthe earlier one:\n%s", r.Label, indent(strings.Join(gotLines, "\n")), indent(strings.Join(prev, "\n")))
			}
			if r.Expected == nil {
				return ""
			}
		} else {
			if r.Expected == nil {
				return fmt.Sprintf("the first query labelled %s has no expected rows (no ---- line)", r.Label)
			}
			labels[r.Label] = gotLines
		}
	}
	wantLines := r.arrange(want)
	if !slices.Equal(gotLines, wantLines) {
		return fmt.Sprintf("result differs\ngot:\n%s\nwant:\n%s", indent(strings.Join(gotLines, "\n")), indent(strings.Join(wantLines, "\n")))
	}
	return ""
}

// arrange sorts rows as the record's sort mode says and returns them as
// tab-separated lines (one value per line for valuesort).
func (r *Record) arrange(rows [][]string) []string {
	var lines []string
	for _, row := range rows {
		if r.Sort == ValueSort {
			lines = append(lines, row...)
		} else {
			lines = append(lines, strings.Join(row, "\t"))
		}
	}
	if r.Sort != NoSort {
		slices.Sort(lines)
	}
	return lines
}

// splitExpected splits expected lines into rows of n values: at tabs,
// or at runs of spaces when tabs do not give n values.
func splitExpected(lines []string, n int) ([][]string, error) {
	rows := make([][]string, len(lines))
	for i, l := range lines {
		vals := strings.Split(l, "\t")
		if len(vals) != n {
			vals = strings.Fields(l)
		}
		if len(vals) != n {
			return nil, fmt.Errorf("expected line %d %q has %d values, want %d", i+1, l, len(vals), n)
		}
		rows[i] = vals
	}
	return rows, nil
}

// typeMatches reports whether a column of type t fits the header letter.
func typeMatches(letter byte, t types.Type) bool {
	switch letter {
	case 'I':
		return t.ID() == types.Integer || t.ID() == types.BigInt
	case 'R':
		return t.ID() == types.Double || t.ID() == types.Decimal
	}
	return true
}

// FormatValue returns the text a query's value is compared as: NULL,
// (empty) for the empty string, DOUBLEs by FormatDouble, everything else
// as types.Value.String prints it (DECIMALs with their scale).
func FormatValue(v types.Value) string {
	switch {
	case v.IsNull():
		return "NULL"
	case v.Type().ID() == types.Varchar && v.Str() == "":
		return "(empty)"
	case v.Type().ID() == types.Double:
		return FormatDouble(v.Float64())
	}
	return v.String()
}

// FormatDouble prints a DOUBLE as DuckDB does: the shortest digits that
// read back as the same number, with at least one decimal (3.0, 0.5) from
// 1e-5 up to 1e15, in exponent notation beyond (1e+20), and NaN,
// Infinity, -Infinity.
func FormatDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-5 || a >= 1e15) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
