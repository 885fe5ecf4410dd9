package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

const sqlUsage = `usage: bpfdb -c SQL [--db FILE] [--format table|csv|json] [--threads N]
       bpfdb shell [--format table|csv|json] [--threads N] [FILE]

  -c SQL      run the statements of SQL (separated by ';') in order and print
              each one's result; the first that fails stops the run: its
              error goes to stderr with a caret under its position, exit 1.
              Ctrl-C cancels the running statement (exit 1)
  --db FILE   the database: a file (created if absent) or ":memory:" (the
              default); options may follow as in the database/sql driver's
              data source names: FILE?threads=2&memory_limit=1GB&read_only=true
              (also no_programs=true, hook_max_errors=N)
  --format F  table (aligned, psql-like, the default), csv (a header row;
              NULL is an empty field) or json (per query an array of objects)
  --threads N worker threads (default: the --db option, else GOMAXPROCS)
  --no-programs
              open without attaching the eBPF programs the database records
  --hook-engine E
              how hook programs run: auto (the JIT where available), jit or
              interpreter

Without -c, bpfdb --db FILE starts the shell on FILE.
`

// isSQLFlag reports whether a command line starts with one of the flags of
// the SQL commands (-c, --db, --format, --threads), so that main routes it
// to sqlCommand.
func isSQLFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	if !strings.HasPrefix(arg, "-") {
		return false
	}
	switch name {
	case "c", "db", "format", "threads", "no-programs", "hook-engine":
		return true
	}
	return false
}

// outputFormat is how results print.
type outputFormat uint8

const (
	formatTable outputFormat = iota
	formatCSV
	formatJSON
)

var formatNames = [...]string{formatTable: "table", formatCSV: "csv", formatJSON: "json"}

func (f outputFormat) String() string {
	if int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("outputFormat(%d)", uint8(f))
}

func parseFormat(s string) (outputFormat, error) {
	for f, name := range formatNames {
		if s == name {
			return outputFormat(f), nil
		}
	}
	return 0, fmt.Errorf("unknown format %q (table, csv or json)", s)
}

// dbFlags are the flags -c and the shell share.
type dbFlags struct {
	db         string
	format     string
	threads    int
	noPrograms bool
	engine     string
	log        io.Writer // where hook events go (attach, detach after errors); nil: discarded
}

func (f *dbFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", "", "database file (\"\" or :memory: for an in-memory database), with options as FILE?threads=2&memory_limit=1GB")
	fs.StringVar(&f.format, "format", "table", "output format: table, csv or json")
	fs.IntVar(&f.threads, "threads", 0, "worker threads (0: the --db option, else GOMAXPROCS)")
	fs.BoolVar(&f.noPrograms, "no-programs", false, "open the database without attaching the eBPF programs it records")
	fs.StringVar(&f.engine, "hook-engine", "auto", "how hook programs run: auto (the JIT where available), jit or interpreter")
}

// parseEngine parses an eBPF engine name.
func parseEngine(s string) (ebpf.Engine, error) {
	for _, e := range []ebpf.Engine{ebpf.EngineAuto, ebpf.EngineJIT, ebpf.EngineInterpreter} {
		if s == e.String() {
			return e, nil
		}
	}
	return 0, fmt.Errorf("unknown engine %q (auto, jit or interpreter)", s)
}

// open opens the database the flags name.
func (f *dbFlags) open() (*bpfdb.DB, error) {
	path, opts, err := bpfdb.ParseDSN(f.db)
	if err != nil {
		return nil, err
	}
	if f.threads > 0 {
		opts.Threads = f.threads
	}
	opts.NoPrograms = opts.NoPrograms || f.noPrograms
	if opts.HookEngine, err = parseEngine(f.engine); err != nil {
		return nil, err
	}
	w := f.log
	if w == nil {
		w = io.Discard
	}
	opts.Logf = func(format string, args ...any) { fmt.Fprintf(w, "bpfdb: "+format+"\n", args...) }
	db, err := bpfdb.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("open database %q: %w", f.db, err)
	}
	return db, nil
}

// sqlCommand runs bpfdb -c SQL, or the shell when there is no -c.
func sqlCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bpfdb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, sqlUsage) }
	f := dbFlags{log: stderr}
	f.register(fs)
	command := fs.String("c", "", "SQL statements to run")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	hasC := false // -c "" runs nothing; no -c at all starts the shell
	fs.Visit(func(f *flag.Flag) { hasC = hasC || f.Name == "c" })
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bpfdb: unexpected argument %q\n%s", fs.Arg(0), sqlUsage)
		return 2
	}
	format, err := parseFormat(f.format)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb: %v\n", err)
		return 2
	}
	if !hasC {
		return runShell(f, format, stdin, stdout, stderr)
	}
	db, err := f.open()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb: %v\n", err)
		return 1
	}
	defer db.Close()
	// Ctrl-C cancels the running statement, so that the database closes
	// cleanly before the command exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	p := &printer{w: stdout, format: format}
	err = db.QueryEach(ctx, *command, p.print)
	switch {
	case err != nil && ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(stderr, "error: interrupted")
		return 1
	case err != nil:
		fmt.Fprint(stderr, errorText(err, *command))
		return 1
	}
	return 0
}

// errorText renders a statement's error for the terminal: "error: " and
// the message, then, for an error that points into src (the SQL text that
// ran), the source line with a caret under the position. A syntax error's
// message holds its line and caret already.
//
//	error: at 1:8: column "x" does not exist
//	SELECT x FROM t
//	       ^
func errorText(err error, src string) string {
	msg := "error: " + strings.TrimRight(err.Error(), "\n") + "\n"
	var pe *parser.Error
	if errors.As(err, &pe) {
		return msg
	}
	var be *planner.Error
	if errors.As(err, &be) && be.Pos.IsValid() && be.Pos.Offset < len(src) {
		msg += be.Caret(src) + "\n"
	}
	return msg
}

// scriptErrorText renders the error of a statement of a script: "error: ",
// the place in the input, the message, and for a syntax or binding error
// the statement's line with a caret. The place is the error's own line and
// column (input:LINE:COL) when it has one, else the line where the
// statement starts.
//
//	error: stdin:4:7: column "nope" does not exist
//	WHERE nope = 1
//	      ^
func scriptErrorText(err error, stmt string, at origin) string {
	place := func(p ast.Pos) string {
		line, col := at.line+p.Line-1, p.Col
		if p.Line == 1 {
			col += at.col - 1 // the statement starts inside its first line
		}
		return fmt.Sprintf("%s:%d:%d", at.name, line, col)
	}
	if pe, ok := err.(*parser.Error); ok {
		return fmt.Sprintf("error: %s: syntax error: %s\n%s\n", place(pe.Pos), pe.Msg, pe.Caret())
	}
	if be, ok := err.(*planner.Error); ok && be.Pos.IsValid() && be.Pos.Offset < len(stmt) {
		return fmt.Sprintf("error: %s: %s\n%s\n", place(be.Pos), be.Msg, be.Caret(stmt))
	}
	line := at.line
	if toks := parser.Lex(stmt); toks[0].Kind != parser.EOF {
		line += toks[0].Pos.Line - 1 // the statement's text may start with line breaks
	}
	return fmt.Sprintf("error: %s:%d: %s", at.name, line, strings.TrimPrefix(errorText(err, stmt), "error: "))
}

// printer prints results in one format.
type printer struct {
	w      io.Writer
	format outputFormat
}

// print prints one statement's result: a query's rows in the printer's
// format; for other statements, in table format, the command tag and the
// row count (INSERT 3); in csv and json nothing, so that the output holds
// only data.
func (p *printer) print(res *bpfdb.Result) error {
	if len(res.Columns) == 0 {
		if p.format != formatTable {
			return nil
		}
		_, err := fmt.Fprintln(p.w, commandTag(res))
		return err
	}
	switch p.format {
	case formatCSV:
		return writeCSV(p.w, res)
	case formatJSON:
		return writeJSON(p.w, res)
	}
	return writeTable(p.w, res)
}

// commandTag is the line that reports a statement without rows: its tag,
// and the rows it added when it adds rows.
func commandTag(res *bpfdb.Result) string {
	switch {
	case res.Tag == "INSERT" || res.Tag == "COPY" || res.RowsAffected != 0:
		return res.Tag + " " + strconv.FormatInt(res.RowsAffected, 10)
	case res.Tag == "":
		return "OK"
	}
	return res.Tag
}

// eachRow calls f with every row of res, reading the chunks directly.
func eachRow(res *bpfdb.Result, f func(c *vector.Chunk, r int) error) error {
	return res.Chunks(func(c *vector.Chunk) error {
		for r := range c.Len() {
			if err := f(c, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// isNumeric reports whether a column right-aligns in a table.
func isNumeric(t types.Type) bool {
	switch t.ID() {
	case types.Integer, types.BigInt, types.Double, types.Decimal:
		return true
	}
	return false
}

// tableEscaper keeps a table cell on one line.
var tableEscaper = strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)

// writeTable prints res aligned, as psql does: a header, a rule, the rows
// (numbers right-aligned, NULL printed as NULL) and a row count.
//
//	 a  | b
//	----+------
//	  1 | x
//	 10 | NULL
//	(2 rows)
func writeTable(w io.Writer, res *bpfdb.Result) error {
	n := len(res.Columns)
	widths := make([]int, n)
	for j, c := range res.Columns {
		widths[j] = utf8.RuneCountInString(c)
	}
	var cells [][]string
	_ = eachRow(res, func(c *vector.Chunk, r int) error {
		row := make([]string, n)
		for j := range row {
			v := c.Value(j, r)
			if v.IsNull() {
				row[j] = "NULL"
			} else {
				row[j] = tableEscaper.Replace(v.String())
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(row[j]))
		}
		cells = append(cells, row)
		return nil
	})
	var b bytes.Buffer
	spaces := func(n int) {
		for range n {
			b.WriteByte(' ')
		}
	}
	line := func(cols []string, align func(j int) bool) {
		for j, s := range cols {
			if j > 0 {
				b.WriteByte('|')
			}
			pad := widths[j] - utf8.RuneCountInString(s)
			b.WriteByte(' ')
			switch {
			case align == nil: // header: centered, the odd space right
				spaces(pad / 2)
				b.WriteString(s)
				spaces(pad - pad/2)
			case align(j):
				spaces(pad)
				b.WriteString(s)
			default:
				b.WriteString(s)
				spaces(pad)
			}
			b.WriteByte(' ')
		}
		trimmed := bytes.TrimRight(b.Bytes(), " ")
		b.Truncate(len(trimmed))
		b.WriteByte('\n')
	}
	line(res.Columns, nil)
	for j := range n {
		if j > 0 {
			b.WriteString("+")
		}
		b.WriteString(strings.Repeat("-", widths[j]+2))
	}
	b.WriteByte('\n')
	right := func(j int) bool { return isNumeric(res.Types[j]) }
	for _, row := range cells {
		line(row, right)
	}
	if len(cells) == 1 {
		b.WriteString("(1 row)\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n", len(cells))
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeCSV prints res as CSV (RFC 4180): a header row, then the rows;
// NULL is an empty field, decimals keep their scale (12.50), dates are
// YYYY-MM-DD.
func writeCSV(w io.Writer, res *bpfdb.Result) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(res.Columns); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	err := eachRow(res, func(c *vector.Chunk, r int) error {
		for j := range rec {
			v := c.Value(j, r)
			if v.IsNull() {
				rec[j] = ""
			} else {
				rec[j] = v.String()
			}
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON prints res as a JSON array with an object per row, one row a
// line, keys in column order. Numbers are JSON numbers (decimals exact,
// with their scale); a DOUBLE that is NaN or infinite is a string ("NaN",
// "Infinity"), as JSON has no such numbers; dates are "YYYY-MM-DD"
// strings; NULL is null.
func writeJSON(w io.Writer, res *bpfdb.Result) error {
	keys := make([][]byte, len(res.Columns))
	for j, c := range res.Columns {
		keys[j] = jsonString(c)
	}
	b := bufio.NewWriter(w) // streamed, not built whole in memory first
	b.WriteString("[")
	rows := 0
	_ = eachRow(res, func(c *vector.Chunk, r int) error {
		if rows > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{")
		for j := range keys {
			if j > 0 {
				b.WriteString(",")
			}
			b.Write(keys[j])
			b.WriteString(":")
			b.Write(jsonValue(c.Value(j, r)))
		}
		b.WriteString("}")
		rows++
		return nil
	})
	if rows > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	return b.Flush()
}

func jsonValue(v types.Value) []byte {
	if v.IsNull() {
		return []byte("null")
	}
	switch v.Type().ID() {
	case types.Boolean, types.Integer, types.BigInt, types.Decimal:
		return []byte(v.String())
	case types.Double:
		if f := v.Float64(); math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonString(v.String())
		}
		return []byte(v.String())
	}
	return jsonString(v.String())
}

// jsonString quotes s as a JSON string, without HTML escapes.
func jsonString(s string) []byte {
	plain := utf8.ValidString(s)
	for i := 0; plain && i < len(s); i++ {
		plain = s[i] >= 0x20 && s[i] != '"' && s[i] != '\\'
	}
	if plain { // nothing to escape: the common case, without an encoder
		return []byte(`"` + s + `"`)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic("BUG: a string does not encode as JSON: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
