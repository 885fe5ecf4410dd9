package tpch

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strconv"
	"strings"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Kind says how the cells of a column compare.
type Kind uint8

// The kinds.
const (
	// Unknown is the kind of a column read from CSV: two cells are equal
	// if their texts are, or if both are numbers within the tolerance of
	// Float.
	Unknown Kind = iota
	// Text compares byte for byte (VARCHAR, DATE, BOOLEAN).
	Text
	// Exact compares numbers exactly whatever their scale (INTEGER,
	// BIGINT, DECIMAL): 12.5 equals 12.50.
	Exact
	// Float compares numbers to a relative difference of 1e-9 (DOUBLE).
	Float
)

var kindNames = [...]string{Unknown: "unknown", Text: "text", Exact: "exact", Float: "float"}

// String returns the kind's name: "exact".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// FloatTolerance is the largest relative difference between two DOUBLE
// cells that compare equal.
const FloatTolerance = 1e-9

// A Cell is one value of an answer as text.
type Cell struct {
	Text string // the value's text; "" for NULL
	Null bool
}

// String returns the cell's text, or NULL.
func (c Cell) String() string {
	if c.Null {
		return "NULL"
	}
	return c.Text
}

// An Answer is a query result as text.
type Answer struct {
	Columns []string // the header: column names
	Kinds   []Kind   // how each column compares
	Rows    [][]Cell // a cell per column
}

// FromResult turns a result into an answer: DECIMALs print with their
// scale (12.50), DOUBLEs as FormatDouble prints them, dates as
// 1998-12-01. The kinds come from the column types.
func FromResult(r *bpfdb.Result) *Answer {
	a := &Answer{Columns: append([]string(nil), r.Columns...), Kinds: make([]Kind, len(r.Types))}
	for j, t := range r.Types {
		switch t.ID() {
		case types.Integer, types.BigInt, types.Decimal:
			a.Kinds[j] = Exact
		case types.Double:
			a.Kinds[j] = Float
		default:
			a.Kinds[j] = Text
		}
	}
	for i := range r.Rows() {
		row := r.Row(i)
		cells := make([]Cell, len(row))
		for j, v := range row {
			cells[j] = FormatValue(v)
		}
		a.Rows = append(a.Rows, cells)
	}
	return a
}

// FormatValue returns a value as an answer's cell.
func FormatValue(v types.Value) Cell {
	if v.IsNull() {
		return Cell{Null: true}
	}
	if v.Type().ID() == types.Double {
		return Cell{Text: FormatDouble(v.Float64())}
	}
	return Cell{Text: v.String()}
}

// FormatDouble prints a DOUBLE as the reference answers do: the shortest
// digits that read back as the same number, in plain notation with at
// least one decimal (2.0, 0.05008133906964238) from 1e-5 up to 1e15, in
// exponent notation (1e+20) beyond, and NaN, Infinity, -Infinity.
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

// ReadCSV reads an answer from a CSV file with a header row.
func ReadCSV(path string) (*Answer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return ParseCSV(path, data)
}

// ErrCSV is returned for text that is not a well-formed answer.
var ErrCSV = errors.New("malformed CSV")

// ParseCSV reads an answer from CSV text (RFC 4180: fields separated by
// commas, optionally in double quotes with "" for a quote, records ending
// in LF or CRLF) whose first record names the columns. An empty unquoted
// field is NULL; "" is the empty string. name is for errors only.
func ParseCSV(name string, data []byte) (*Answer, error) {
	var recs [][]Cell
	var lines []int
	line := 1
	for len(data) > 0 {
		start := line
		rec, rest, n, err := parseRecord(data)
		if err != nil {
			return nil, fmt.Errorf("parse answer %s: line %d: %w", name, start, err)
		}
		line += n
		data = rest
		recs = append(recs, rec)
		lines = append(lines, start)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("parse answer %s: no header row: %w", name, ErrCSV)
	}
	a := &Answer{Kinds: make([]Kind, len(recs[0]))}
	for _, c := range recs[0] {
		a.Columns = append(a.Columns, c.Text)
	}
	for i, r := range recs[1:] {
		if len(r) != len(a.Columns) {
			return nil, fmt.Errorf("parse answer %s: line %d: %d fields, the header has %d: %w", name, lines[i+1], len(r), len(a.Columns), ErrCSV)
		}
		a.Rows = append(a.Rows, r)
	}
	return a, nil
}

// parseRecord reads one record from data and returns it, the rest of the
// data and the number of lines the record spanned.
func parseRecord(data []byte) (rec []Cell, rest []byte, lines int, err error) {
	i := 0
	for {
		if i < len(data) && data[i] == '"' {
			var b []byte
			i++
			for {
				j := bytes.IndexByte(data[i:], '"')
				if j < 0 {
					return nil, nil, 0, fmt.Errorf("quoted field never ends: %w", ErrCSV)
				}
				b = append(b, data[i:i+j]...)
				lines += bytes.Count(data[i:i+j], []byte("\n"))
				i += j + 1
				if i < len(data) && data[i] == '"' {
					b = append(b, '"')
					i++
					continue
				}
				break
			}
			rec = append(rec, Cell{Text: string(b)})
			if i < len(data) && data[i] != ',' && data[i] != '\n' && data[i] != '\r' {
				return nil, nil, 0, fmt.Errorf("field %d: text after the closing quote: %w", len(rec), ErrCSV)
			}
		} else {
			j := i
			for j < len(data) && data[j] != ',' && data[j] != '\n' && data[j] != '\r' {
				if data[j] == '"' {
					return nil, nil, 0, fmt.Errorf("field %d: quote inside an unquoted field: %w", len(rec)+1, ErrCSV)
				}
				j++
			}
			s := string(data[i:j])
			rec = append(rec, Cell{Text: s, Null: s == ""})
			i = j
		}
		switch {
		case i >= len(data):
			return rec, nil, lines + 1, nil
		case data[i] == ',':
			i++
		case data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n':
			return rec, data[i+2:], lines + 1, nil
		case data[i] == '\n':
			return rec, data[i+1:], lines + 1, nil
		default:
			return nil, nil, 0, fmt.Errorf("field %d: carriage return without line feed: %w", len(rec), ErrCSV)
		}
	}
}

// WriteCSV writes the answer as CSV with a header row: NULL as an empty
// field, fields quoted when they are empty, hold a comma, a quote or a
// line break, or start or end with a space.
func (a *Answer) WriteCSV(w io.Writer) error {
	var b bytes.Buffer
	header := make([]Cell, len(a.Columns))
	for j, c := range a.Columns {
		header[j] = Cell{Text: c}
	}
	writeRecord(&b, header)
	for _, r := range a.Rows {
		writeRecord(&b, r)
	}
	_, err := w.Write(b.Bytes())
	return err
}

func writeRecord(b *bytes.Buffer, rec []Cell) {
	for j, c := range rec {
		if j > 0 {
			b.WriteByte(',')
		}
		switch {
		case c.Null:
		case c.Text == "" || strings.ContainsAny(c.Text, ",\"\r\n") || strings.TrimSpace(c.Text) != c.Text:
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(c.Text, `"`, `""`))
			b.WriteByte('"')
		default:
			b.WriteString(c.Text)
		}
	}
	b.WriteByte('\n')
}

// ErrMismatch is the cause of every error Compare returns.
var ErrMismatch = errors.New("answer differs")

// maxProblems bounds the differences one Compare error lists.
const maxProblems = 10

// Check compares got with the reference answer want by the rules of
// Compare, with q's ORDER BY keys and LIMIT.
func (q Query) Check(want, got *Answer) error {
	if err := Compare(want, got, q.OrderBy, q.Limit); err != nil {
		return fmt.Errorf("%s: %w", q.Name(), err)
	}
	return nil
}

// Compare checks got against the expected answer want (see the package
// documentation for the rules). orderBy names the columns the query sorts
// by; limit is its LIMIT or 0. A column's kind is got's, or want's if
// got's is Unknown. The error wraps ErrMismatch and lists up to ten
// differences.
func Compare(want, got *Answer, orderBy []string, limit int) error {
	c := comparer{want: want, got: got}
	if len(want.Columns) != len(got.Columns) {
		return fmt.Errorf("%d columns %v, want %d %v: %w", len(got.Columns), got.Columns, len(want.Columns), want.Columns, ErrMismatch)
	}
	for j := range want.Columns {
		if want.Columns[j] != got.Columns[j] {
			c.problem("column %d is named %q, want %q", j+1, got.Columns[j], want.Columns[j])
		}
	}
	c.kinds = make([]Kind, len(want.Columns))
	for j := range c.kinds {
		c.kinds[j] = kindAt(got, j)
		if c.kinds[j] == Unknown {
			c.kinds[j] = kindAt(want, j)
		}
	}
	for _, name := range orderBy {
		j := indexOf(want.Columns, name)
		if j < 0 {
			return fmt.Errorf("ORDER BY column %q is not a column of the answer %v: %w", name, want.Columns, ErrMismatch)
		}
		c.keys = append(c.keys, j)
	}
	if len(want.Rows) != len(got.Rows) {
		c.problem("%d rows, want %d", len(got.Rows), len(want.Rows))
	}
	n := min(len(want.Rows), len(got.Rows))
	for lo := 0; lo < n; {
		hi := lo + 1 // the group is want.Rows[lo:hi], tied on the keys
		for hi < len(want.Rows) && (len(c.keys) == 0 || c.rowsEqual(want.Rows[lo], want.Rows[hi], c.keys)) {
			hi++
		}
		cut := limit > 0 && len(want.Rows) == limit && hi == len(want.Rows) && len(c.keys) > 0
		c.group(lo, hi, min(hi, n), cut)
		lo = hi
	}
	if len(c.problems) == 0 {
		return nil
	}
	msg := strings.Join(c.problems, "\n  ")
	if c.more > 0 {
		msg += fmt.Sprintf("\n  and %d more", c.more)
	}
	return fmt.Errorf("%w:\n  %s", ErrMismatch, msg)
}

func kindAt(a *Answer, j int) Kind {
	if j < len(a.Kinds) {
		return a.Kinds[j]
	}
	return Unknown
}

func indexOf(names []string, name string) int {
	for j, n := range names {
		if n == name {
			return j
		}
	}
	return -1
}

type comparer struct {
	want, got *Answer
	kinds     []Kind
	keys      []int
	problems  []string
	more      int
}

func (c *comparer) problem(format string, args ...any) {
	if len(c.problems) == maxProblems {
		c.more++
		return
	}
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// group compares the tied rows want.Rows[lo:hi] with got.Rows[lo:gotHi]
// as multisets. When cut is set the LIMIT may have cut the group, and
// rows need only agree on the keys.
func (c *comparer) group(lo, hi, gotHi int, cut bool) {
	cols := c.allColumns()
	if cut {
		cols = c.keys
	}
	if hi-lo == 1 {
		c.rowDiff(lo, c.want.Rows[lo], c.got.Rows[lo], cols)
		return
	}
	used := make([]bool, gotHi-lo)
	var missing []int
	for i := lo; i < hi; i++ {
		found := false
		for k := lo; k < gotHi; k++ {
			if !used[k-lo] && c.rowsEqual(c.want.Rows[i], c.got.Rows[k], cols) {
				used[k-lo], found = true, true
				break
			}
		}
		if !found {
			missing = append(missing, i)
		}
	}
	what := "rows %d-%d tie on the ORDER BY keys"
	if len(c.keys) == 0 {
		what = "rows %d-%d may come in any order (no ORDER BY)"
	}
	what = fmt.Sprintf(what, lo+1, hi)
	for _, i := range missing {
		c.problem("%s; none of the result's matches expected row %d: %s", what, i+1, formatRow(c.want.Rows[i]))
	}
	for k, u := range used {
		if !u && len(missing) > 0 {
			c.problem("%s; result row %d matches no expected row: %s", what, lo+k+1, formatRow(c.got.Rows[lo+k]))
		}
	}
}

func (c *comparer) allColumns() []int {
	cols := make([]int, len(c.kinds))
	for j := range cols {
		cols[j] = j
	}
	return cols
}

func (c *comparer) rowDiff(i int, want, got []Cell, cols []int) {
	for _, j := range cols {
		if !c.cellsEqual(j, want[j], got[j]) {
			c.problem("row %d, column %s: got %s, want %s", i+1, c.want.Columns[j], got[j], want[j])
		}
	}
}

func (c *comparer) rowsEqual(a, b []Cell, cols []int) bool {
	for _, j := range cols {
		if !c.cellsEqual(j, a[j], b[j]) {
			return false
		}
	}
	return true
}

func (c *comparer) cellsEqual(j int, a, b Cell) bool {
	if a.Null || b.Null {
		return a.Null == b.Null
	}
	return CellsEqual(c.kinds[j], a.Text, b.Text)
}

// CellsEqual reports whether the texts of two non-NULL cells of kind k
// are equal values.
func CellsEqual(k Kind, a, b string) bool {
	if a == b {
		return true
	}
	switch k {
	case Exact:
		x, ok1 := new(big.Rat).SetString(a)
		y, ok2 := new(big.Rat).SetString(b)
		return ok1 && ok2 && x.Cmp(y) == 0
	case Float, Unknown:
		x, err1 := strconv.ParseFloat(a, 64)
		y, err2 := strconv.ParseFloat(b, 64)
		return err1 == nil && err2 == nil && floatsEqual(x, y)
	}
	return false
}

func floatsEqual(x, y float64) bool {
	switch {
	case x == y:
		return true
	case math.IsNaN(x) || math.IsNaN(y):
		return math.IsNaN(x) && math.IsNaN(y)
	case math.IsInf(x, 0) || math.IsInf(y, 0):
		return false
	}
	return math.Abs(x-y) <= FloatTolerance*math.Max(math.Abs(x), math.Abs(y))
}

func formatRow(r []Cell) string {
	s := make([]string, len(r))
	for j, c := range r {
		s[j] = c.String()
	}
	return strings.Join(s, " | ")
}
