package table

import (
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestDataDriven runs testdata/tables: a script of table operations on one
// database, each with its printed result.
//
//	create t=NAME            input: "column TYPE" lines
//	append t=NAME            input: a table in vector.ParseTable's form
//	fill t=NAME rows=N       N generated rows (see fillValue)
//	checkpoint
//	reopen [limit=BYTES]     close and open the file again
//	scan t=NAME [cols=a,b] [start=G] [end=G] [max=N]
//	                         input: filters "column op value"; prints up to
//	                         max rows (default 10) and the scan's stats
//	segments t=NAME          the segment list
//	snapshot t=NAME as=ALIAS a snapshot of the table, known as ALIAS to the
//	                         other commands
//	truncate t=NAME groups=N
//	drop t=NAME              drop the table (the other commands still find it)
//	attach t=NAME            undo its drop
//	extra [set]              print the caller's metadata, or set it to the input
func TestDataDriven(t *testing.T) {
	e := newEnv(t, 0, 0)
	r := rand.New(rand.NewPCG(9, 9))
	others := map[string]*Table{} // snapshots and dropped tables by name
	datadriven.Run(t, "testdata/tables", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		opt := func(key, def string) string {
			for _, a := range c.Args {
				if k, v, ok := strings.Cut(a, "="); ok && k == key {
					return v
				}
			}
			return def
		}
		atoi := func(s string) int {
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			return n
		}
		table := func() *Table {
			if tbl := others[c.Arg(t, "t")]; tbl != nil {
				return tbl
			}
			tbl := e.db.Table(c.Arg(t, "t"))
			if tbl == nil {
				t.Fatalf("line %d: no table %s", c.Line, c.Arg(t, "t"))
			}
			return tbl
		}
		colIndex := func(tbl *Table, name string) int {
			j := tbl.ColumnIndex(name)
			if j < 0 {
				t.Fatalf("line %d: no column %s", c.Line, name)
			}
			return j
		}
		switch c.Cmd {
		case "create":
			var cols []Column
			for _, l := range c.Input {
				name, typ, _ := strings.Cut(l, " ")
				ty, err := types.ParseType(strings.TrimSpace(typ))
				if err != nil {
					return "error: " + err.Error()
				}
				cols = append(cols, Column{Name: name, Type: ty})
			}
			if _, err := e.db.CreateTable(c.Arg(t, "t"), cols); err != nil {
				return "error: " + err.Error()
			}
			return "ok"
		case "append":
			ch, err := vector.ParseTable(strings.Join(c.Input, "\n"))
			if err != nil {
				t.Fatalf("line %d: %v", c.Line, err)
			}
			return appendChunks(table(), []*vector.Chunk{ch})
		case "fill":
			tbl := table()
			n := atoi(c.Arg(t, "rows"))
			ts := tbl.Types()
			rows := make([][]types.Value, n)
			for i := range rows {
				rows[i] = make([]types.Value, len(ts))
				for j, ty := range ts {
					rows[i][j] = fillValue(ty, i, j)
				}
			}
			return appendChunks(tbl, vectortest.Chunks(r, ts, rows, vectortest.Configs[1]))
		case "checkpoint":
			if err := e.db.Checkpoint(); err != nil {
				return "error: " + err.Error()
			}
			return fmt.Sprintf("ok: %d blocks in use", e.f.Info().UsedBlocks)
		case "reopen":
			e = e.reopen(t, int64(atoi(opt("limit", "0"))))
			clear(others)
			var names []string
			for _, tbl := range e.db.Tables() {
				names = append(names, fmt.Sprintf("%s (%d rows)", tbl.Name(), tbl.Rows()))
			}
			return "tables: " + strings.Join(names, ", ")
		case "scan":
			tbl := table()
			opts := ScanOptions{Start: atoi(opt("start", "0")), End: atoi(opt("end", "0"))}
			if cols := opt("cols", ""); cols != "" {
				for _, name := range strings.Split(cols, ",") {
					opts.Columns = append(opts.Columns, colIndex(tbl, name))
				}
			}
			for _, l := range c.Input {
				f := strings.SplitN(l, " ", 3)
				if len(f) != 3 {
					t.Fatalf("line %d: filter %q is not \"column op value\"", c.Line, l)
				}
				j := colIndex(tbl, f[0])
				op := Op(0)
				for op < numOps && op.String() != f[1] {
					op++
				}
				v := types.Null(tbl.Types()[j])
				if f[2] != "NULL" {
					var err error
					if v, err = types.ParseValue(tbl.Types()[j], f[2]); err != nil {
						t.Fatalf("line %d: %v", c.Line, err)
					}
				}
				opts.Filters = append(opts.Filters, Filter{Column: j, Op: op, Value: v})
			}
			s, err := tbl.Scan(opts)
			if err != nil {
				return "error: " + err.Error()
			}
			max := atoi(opt("max", "10"))
			var sb strings.Builder
			ch := s.NewChunk()
			var rows [][]types.Value
			for {
				ok, err := s.Next(ch)
				if err != nil {
					return "error: " + err.Error()
				}
				if !ok {
					break
				}
				rows = append(rows, vectortest.Collect(ch)...)
			}
			if len(rows) > 0 && max > 0 {
				sb.WriteString(strings.TrimRight(vectortest.Format(rows[:min(max, len(rows))]), "\n"))
				sb.WriteByte('\n')
			}
			if len(rows) > max {
				fmt.Fprintf(&sb, "… %d more rows; last: %s\n", len(rows)-max, strings.TrimRight(vectortest.Format(rows[len(rows)-1:]), "\n"))
			}
			sb.WriteString(s.Stats().String())
			return sb.String()
		case "snapshot":
			snap := table().Snapshot()
			others[c.Arg(t, "as")] = snap
			return fmt.Sprintf("%s: %d rows in %d row groups", c.Arg(t, "as"), snap.Rows(), snap.RowGroups())
		case "truncate":
			tbl := table()
			if err := tbl.Truncate(atoi(c.Arg(t, "groups"))); err != nil {
				return "error: " + err.Error()
			}
			return fmt.Sprintf("%d rows in %d row groups", tbl.Rows(), tbl.RowGroups())
		case "drop":
			tbl := table()
			if err := e.db.DropTable(c.Arg(t, "t")); err != nil {
				return "error: " + err.Error()
			}
			others[c.Arg(t, "t")] = tbl
			return "ok"
		case "attach":
			if err := e.db.Attach(table()); err != nil {
				return "error: " + err.Error()
			}
			delete(others, c.Arg(t, "t"))
			return "ok"
		case "extra":
			if len(c.Args) > 0 && c.Args[0] == "set" {
				e.db.SetExtra([]byte(strings.Join(c.Input, "\n")))
				return "ok"
			}
			if e.db.Extra() == nil {
				return "(none)"
			}
			return string(e.db.Extra())
		case "segments":
			var lines []string
			for _, s := range table().Segments() {
				lines = append(lines, s.String())
			}
			return strings.Join(lines, "\n")
		}
		t.Fatalf("line %d: unknown command %s", c.Line, c.Cmd)
		return ""
	})
}

func appendChunks(tbl *Table, chunks []*vector.Chunk) string {
	a, err := tbl.NewAppender()
	if err != nil {
		return "error: " + err.Error()
	}
	n := 0
	for _, ch := range chunks {
		if err := a.Append(ch); err != nil {
			return "error: " + err.Error()
		}
		n += ch.Len()
	}
	if err := a.Close(); err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("appended %d rows; %d row groups", n, tbl.RowGroups())
}

// fillValue is row i of column j of type t for the fill command: column 0
// counts rows; the others are NULL every 101 rows and otherwise derived from
// the row number (VARCHAR: "g" and the row group's number).
func fillValue(t types.Type, i, j int) types.Value {
	if j > 0 && (i+j)%101 == 0 {
		return types.Null(t)
	}
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(i%7 == 0)
	case types.Integer:
		return types.IntegerValue(int32(i%50 + 1))
	case types.BigInt:
		return types.BigIntValue(int64(i))
	case types.Double:
		return types.DoubleValue(float64(i) / 4)
	case types.Decimal:
		return types.DecimalValue(int64(i%1000), t)
	case types.Date:
		return types.DateValue(int32(8036 + i/1000))
	case types.Varchar:
		return types.VarcharValue(fmt.Sprintf("g%d", i/RowGroupSize))
	}
	panic("BUG: fillValue of " + t.String())
}
