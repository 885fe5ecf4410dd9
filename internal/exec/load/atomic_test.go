package load

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// TestAtomicAfterRowGroups loads inputs large enough that row groups are
// written before the bad row is reached: the table must still show none of
// them, keep the rows it had, and accept the next load.
func TestAtomicAfterRowGroups(t *testing.T) {
	const rows = 2*table.RowGroupSize + 1000
	var good strings.Builder
	for i := range rows {
		fmt.Fprintf(&good, "%d|%d.%02d|1998-%02d-%02d|row %d|\n", i, i%1000, i%100, i%12+1, i%28+1, i)
	}
	db := newDB(t)
	tbl, err := db.CreateTable("t", []table.Column{
		{Name: "k", Type: types.BigIntType},
		{Name: "p", Type: types.MustDecimal(15, 2)},
		{Name: "d", Type: types.DateType},
		{Name: "s", Type: types.VarcharType},
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := Reader(tbl, "good.tbl", strings.NewReader(good.String()), Options{Format: TBL})
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows != rows || tbl.Rows() != rows {
		t.Fatalf("loaded %d rows, table has %d; want %d", st.Rows, tbl.Rows(), rows)
	}
	groups := tbl.RowGroups()
	for _, threads := range []int{1, 2, 4} {
		for _, at := range []int{rows - 1, table.RowGroupSize + 5} { // bad line (0-based)
			lines := strings.SplitAfter(good.String(), "\n")
			lines[at] = "x|1|1998-01-01|bad|\n"
			_, err := Reader(tbl, "bad.tbl", strings.NewReader(strings.Join(lines, "")), Options{Format: TBL, Threads: threads, BlockSize: 64 << 10})
			want := fmt.Sprintf(`load bad.tbl: line %d, column 1 (k): "x": invalid BIGINT`, at+1)
			if err == nil || err.Error() != want {
				t.Fatalf("threads=%d: error %v, want %s", threads, err, want)
			}
			var re *RowError
			if !errors.As(err, &re) || re.Line != at+1 || re.Column != 1 || re.Name != "k" || re.Field != "x" {
				t.Fatalf("threads=%d: RowError %+v", threads, re)
			}
			if tbl.Rows() != rows || tbl.RowGroups() != groups {
				t.Fatalf("threads=%d: after a failed load the table has %d rows in %d row groups, want %d in %d", threads, tbl.Rows(), tbl.RowGroups(), rows, groups)
			}
		}
	}
	if got := scanText(t, tbl, ""); len(got) != rows || got[rows-1] != fmt.Sprintf("%d|%d.%02d|1998-%02d-%02d|row %d", rows-1, (rows-1)%1000, (rows-1)%100, (rows-1)%12+1, (rows-1)%28+1, rows-1) {
		t.Fatalf("after the failed loads: %d rows, last %q", len(got), got[len(got)-1])
	}
	// The appender was released: the next load works.
	if _, err := Reader(tbl, "good.tbl", strings.NewReader(good.String()), Options{Format: TBL}); err != nil {
		t.Fatal(err)
	}
	if tbl.Rows() != 2*rows {
		t.Fatalf("after a second good load: %d rows, want %d", tbl.Rows(), 2*rows)
	}
}
