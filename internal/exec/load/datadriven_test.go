package load

import (
	"errors"
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestDataDriven runs testdata/load.txt. Commands:
//
//	create NAME COL:TYPE[!]…   a table; '!' marks a NOT NULL column
//	load NAME [tbl] [header] [delim=C] [threads=N] [block=N] [noeol]
//	                           the input lines (\r and \t escapes; each line
//	                           ends in \n unless noeol is given) loaded into
//	                           NAME; prints the rows loaded or the error, and
//	                           the table's row count after
//	scan NAME                  the table's rows, fields joined by '|', NULL as NULL
func TestDataDriven(t *testing.T) {
	db := newDB(t)
	notNull := map[string][]bool{}
	datadriven.Run(t, "testdata/load.txt", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		switch c.Cmd {
		case "create":
			var cols []table.Column
			var nn []bool
			for _, a := range c.Args[1:] {
				name, typ, _ := strings.Cut(a, ":")
				bang := strings.HasSuffix(typ, "!")
				ty, err := types.ParseType(strings.TrimSuffix(typ, "!"))
				if err != nil {
					return "error: " + err.Error()
				}
				cols = append(cols, table.Column{Name: name, Type: ty})
				nn = append(nn, bang)
			}
			if _, err := db.CreateTable(c.Args[0], cols); err != nil {
				return "error: " + err.Error()
			}
			notNull[c.Args[0]] = nn
			return "ok"
		case "load":
			tbl := db.Table(c.Args[0])
			opts := Options{NotNull: notNull[c.Args[0]]}
			eol := "\n"
			for _, a := range c.Args[1:] {
				k, v, _ := strings.Cut(a, "=")
				switch k {
				case "tbl":
					opts.Format = TBL
				case "header":
					opts.Header = true
				case "delim":
					opts.Delimiter = v[0]
				case "threads":
					opts.Threads, _ = strconv.Atoi(v)
				case "block":
					opts.BlockSize, _ = strconv.Atoi(v)
				case "noeol":
					eol = ""
				default:
					t.Fatalf("line %d: unknown argument %q", c.Line, a)
				}
			}
			var in strings.Builder
			for i, l := range c.Input {
				in.WriteString(strings.NewReplacer(`\r`, "\r", `\t`, "\t").Replace(l))
				if i < len(c.Input)-1 {
					in.WriteString("\n")
				}
			}
			if len(c.Input) > 0 {
				in.WriteString(eol)
			}
			before := tbl.Rows()
			st, err := Reader(tbl, "in."+opts.Format.String(), strings.NewReader(in.String()), opts)
			if err != nil {
				if re := (*RowError)(nil); errors.As(err, &re) != errors.Is(err, ErrBadRow) {
					t.Errorf("line %d: errors.As(*RowError) and errors.Is(ErrBadRow) disagree for %v", c.Line, err)
				}
				if tbl.Rows() != before {
					t.Errorf("line %d: a failed load changed the table from %d to %d rows", c.Line, before, tbl.Rows())
				}
				return fmt.Sprintf("error: %v\ntable has %d rows", err, tbl.Rows())
			}
			return fmt.Sprintf("loaded %d rows\ntable has %d rows", st.Rows, tbl.Rows())
		case "scan":
			return strings.Join(scanText(t, db.Table(c.Args[0]), "NULL"), "\n")
		}
		t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
		return ""
	})
}
