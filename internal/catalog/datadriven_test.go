package catalog

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")

// TestDataDriven runs the catalog scripts in testdata/. Each script works on
// one database file; commands run in a transaction of their own (begun and
// committed around the command) unless tx=NAME names one opened by begin.
//
//	open [memory]                       (re)open the database (file unless memory)
//	reopen                              close and open the file again
//	begin NAME / commit NAME / rollback NAME
//	create-table NAME COL:TYPE[!|*]… [if-not-exists]   ! NOT NULL, * PRIMARY KEY
//	create-view NAME [cols=a,b] [or-replace]           input: the query
//	drop table|view NAME [if-exists]
//	insert NAME [fail]                  input: rows, values separated by |
//	load NAME [fail]                    the same through Tx.Load; fail: the loader fails after appending
//	lookup NAME…                        what Table and View return for each name
//	show                                tables (CREATE TABLE, rows) and views (CREATE VIEW)
//	scan NAME                           the rows of a table
//	set NAME VALUE… / setting NAME / settings
func TestDataDriven(t *testing.T) {
	paths, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s := &script{dbPath: filepath.Join(t.TempDir(), "test.db"), txs: map[string]*Tx{}}
			defer s.close(t)
			datadriven.Run(t, path, *rewrite, s.run)
		})
		if *rewrite || usesReopen(t, path) {
			continue
		}
		// A script that never reopens must give the same output in memory.
		t.Run(filepath.Base(path)+"/memory", func(t *testing.T) {
			s := &script{memory: true, txs: map[string]*Tx{}}
			defer s.close(t)
			datadriven.Run(t, path, false, s.run)
		})
	}
}

type script struct {
	dbPath string
	memory bool // every open is of an in-memory database
	c      *Catalog
	txs    map[string]*Tx
}

// usesReopen reports whether the script at path reopens its database.
func usesReopen(t *testing.T, path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(data), "\nreopen\n")
}

func (s *script) close(t *testing.T) {
	for _, tx := range s.txs {
		tx.Rollback()
	}
	s.txs = map[string]*Tx{}
	if s.c != nil {
		if err := s.c.Close(); err != nil {
			t.Fatal(err)
		}
		s.c = nil
	}
}

func (s *script) open(t *testing.T, path string) string {
	s.close(t)
	c, err := Open(path, Options{MemoryLimit: 64 << 20, Threads: 2})
	if err != nil {
		return "error: " + strings.ReplaceAll(err.Error(), s.dbPath, "DB")
	}
	s.c = c
	return "ok"
}

// flagArg reports whether word is among the case's arguments.
func flagArg(c *datadriven.Case, word string) bool {
	for _, a := range c.Args {
		if a == word {
			return true
		}
	}
	return false
}

func optArg(c *datadriven.Case, key string) (string, bool) {
	for _, a := range c.Args {
		if k, v, ok := strings.Cut(a, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// unquote strips the double quotes of a "Quoted" name argument.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func (s *script) run(t *testing.T, c *datadriven.Case) string {
	for i, a := range c.Args {
		c.Args[i] = unquote(a)
	}
	switch c.Cmd {
	case "open":
		if flagArg(c, "memory") || s.memory {
			return s.open(t, ":memory:")
		}
		return s.open(t, s.dbPath)
	case "reopen":
		return s.open(t, s.dbPath)
	case "begin":
		s.txs[c.Args[0]] = s.c.Begin()
		return "ok"
	case "commit", "rollback": // the Tx stays known, to test its use after the end
		tx := s.txs[c.Args[0]]
		if tx == nil {
			t.Fatalf("line %d: no transaction %s", c.Line, c.Args[0])
		}
		if c.Cmd == "rollback" {
			tx.Rollback()
			return "ok"
		}
		return result(tx.Commit())
	case "set":
		return result(s.c.Set(c.Args[0], strings.Join(c.Args[1:], " ")))
	case "setting":
		v, err := s.c.Setting(c.Args[0])
		if err != nil {
			return result(err)
		}
		return v
	case "settings":
		var b strings.Builder
		for _, st := range s.c.Settings() {
			if st.Name != "memory_limit" && st.Name != "threads" || !flagArg(c, "short") {
				fmt.Fprintf(&b, "%s = %s\n", st.Name, st.Value)
			}
		}
		return b.String()
	case "show":
		var b strings.Builder
		for _, ti := range s.c.Tables() {
			fmt.Fprintf(&b, "%s -- %d rows\n", ti.SQL(), ti.Rows)
		}
		for _, vi := range s.c.Views() {
			fmt.Fprintln(&b, vi.SQL())
		}
		return b.String()
	}

	// The rest run in a transaction.
	name, shared := optArg(c, "tx")
	tx := s.txs[name]
	if !shared {
		tx = s.c.Begin()
		defer tx.Rollback()
	} else if tx == nil {
		t.Fatalf("line %d: no transaction %s", c.Line, name)
	}
	out, err := s.inTx(t, c, tx)
	if err != nil {
		return result(err)
	}
	if !shared {
		if err := tx.Commit(); err != nil {
			return result(err)
		}
	}
	return out
}

func (s *script) inTx(t *testing.T, c *datadriven.Case, tx *Tx) (string, error) {
	switch c.Cmd {
	case "create-table":
		var cols []ColumnDef
		for _, a := range c.Args[1:] {
			name, typ, ok := strings.Cut(a, ":")
			if !ok {
				continue
			}
			col := ColumnDef{Name: name}
			col.NotNull = strings.HasSuffix(typ, "!")
			col.PrimaryKey = strings.HasSuffix(typ, "*")
			var err error
			if col.Type, err = types.ParseType(strings.TrimRight(typ, "!*")); err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			cols = append(cols, col)
		}
		return "ok", tx.CreateTable(c.Args[0], cols, flagArg(c, "if-not-exists"))
	case "create-view":
		var cols []string
		if v, ok := optArg(c, "cols"); ok {
			cols = strings.Split(v, ",")
		}
		return "ok", tx.CreateView(c.Args[0], strings.Join(c.Input, "\n"), cols, flagArg(c, "or-replace"))
	case "drop":
		kind := KindTable
		if c.Args[0] == "view" {
			kind = KindView
		}
		return "ok", tx.Drop(kind, c.Args[1], flagArg(c, "if-exists"))
	case "insert":
		in, err := tx.Insert(c.Args[0])
		if err != nil {
			return "", err
		}
		ts, _ := tx.Columns(c.Args[0])
		if err := in.Append(parseRows(t, c, ts)); err != nil {
			return "", err
		}
		if flagArg(c, "fail") {
			return "", errors.New("the statement fails after inserting")
		}
		return fmt.Sprintf("%d rows", in.Rows()), nil
	case "load":
		cols, _ := tx.Columns(c.Args[0])
		n, err := tx.Load(c.Args[0], func(tbl *table.Table, notNull []bool) (int64, error) {
			a, err := tbl.NewStagedAppender()
			if err != nil {
				return 0, err
			}
			defer a.Close()
			ch := parseRows(t, c, cols)
			if err := a.Append(ch); err != nil {
				return 0, err
			}
			if err := a.Commit(); err != nil {
				return 0, err
			}
			if flagArg(c, "fail") {
				return 0, errors.New("the load fails after publishing its rows")
			}
			return int64(ch.Len()), nil
		})
		return fmt.Sprintf("%d rows", n), err
	case "lookup":
		var b strings.Builder
		for _, name := range c.Args {
			if strings.Contains(name, "=") {
				continue
			}
			if tbl := tx.Table(name); tbl != nil {
				fmt.Fprintf(&b, "%s: table %s %v rows=%d\n", name, tbl.Name(), tbl.Columns(), tbl.Rows())
			} else if q, cols, ok := tx.View(name); ok {
				fmt.Fprintf(&b, "%s: view %q columns=%v\n", name, q, cols)
			} else {
				fmt.Fprintf(&b, "%s: none\n", name)
			}
		}
		return b.String(), nil
	case "scan":
		tbl := tx.Table(c.Args[0])
		if tbl == nil {
			return "", notFound(KindTable, c.Args[0])
		}
		return scanText(t, tbl), nil
	}
	t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
	return "", nil
}

func result(err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}

// parseRows reads the case's input as rows of the columns' types.
func parseRows(t *testing.T, c *datadriven.Case, cols []ColumnDef) *vector.Chunk {
	ts := make([]types.Type, len(cols))
	for j, col := range cols {
		ts[j] = col.Type
	}
	ch := vector.NewChunk(ts)
	for _, l := range c.Input {
		fields := strings.Split(l, "|")
		if len(fields) != len(ts) {
			t.Fatalf("line %d: %q has %d fields for %d columns", c.Line, l, len(fields), len(ts))
		}
		row := make([]types.Value, len(ts))
		for j, f := range fields {
			if f == "NULL" {
				row[j] = types.Null(ts[j])
				continue
			}
			v, err := types.ParseValue(ts[j], f)
			if err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			row[j] = v
		}
		ch.AppendRow(row...)
	}
	return ch
}

// scanText returns the rows of tbl, values separated by |, one row a line.
func scanText(t testing.TB, tbl *table.Table) string {
	sc, err := tbl.Scan(table.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch := sc.NewChunk()
	var b strings.Builder
	for {
		ok, err := sc.Next(ch)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		for r := range ch.Len() {
			for j := range ch.Width() {
				if j > 0 {
					b.WriteByte('|')
				}
				b.WriteString(ch.Value(j, r).String())
			}
			b.WriteByte('\n')
		}
	}
	if b.Len() == 0 {
		return "(no rows)"
	}
	return b.String()
}
