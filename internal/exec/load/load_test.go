package load

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

func TestStatsString(t *testing.T) {
	st := Stats{Rows: 60175, Bytes: 7_500_000, Time: 40 * time.Millisecond}
	want := "60175 rows, 7.5 MB in 40ms (1.50 M rows/s, 188 MB/s)"
	if got := st.String(); got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := (Format(7)).String(); got != "Format(7)" {
		t.Fatalf("Format(7) prints %q", got)
	}
}

// TestRefused covers loads refused before any row is read.
func TestRefused(t *testing.T) {
	db := newDB(t)
	tbl, err := db.CreateTable("t", []table.Column{{Name: "a", Type: types.IntegerType}, {Name: "b", Type: types.VarcharType}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		opts Options
		want string
	}{
		{Options{NotNull: []bool{true}}, "load in: 1 NOT NULL flags for the 2 columns of table t"},
		{Options{Format: 9}, "load in: unknown format Format(9)"},
		{Options{Delimiter: '\n'}, `load in: delimiter '\x0a' cannot separate CSV fields`},
	} {
		if _, err := Reader(tbl, "in", strings.NewReader("1,x\n"), tc.opts); err == nil || err.Error() != tc.want {
			t.Errorf("%+v: error %v, want %s", tc.opts, err, tc.want)
		}
	}
	if _, err := File(tbl, "testdata/no such file.csv", Options{}); !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "load no such file.csv: ") {
		t.Errorf("missing file: %v", err)
	}
	// A table with an open appender is busy.
	a, err := tbl.NewAppender()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Reader(tbl, "in", strings.NewReader("1,x\n"), Options{}); !errors.Is(err, table.ErrBusy) {
		t.Errorf("busy table: %v, want table.ErrBusy", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if tbl.Rows() != 0 {
		t.Fatalf("refused loads left %d rows", tbl.Rows())
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestReadError: an input that fails part way loads nothing.
func TestReadError(t *testing.T) {
	db := newDB(t)
	tbl, err := db.CreateTable("t", []table.Column{{Name: "a", Type: types.IntegerType}})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	_, err = Reader(tbl, "in", &failingReader{data: strings.Repeat("1\n", 5000), err: boom}, Options{BlockSize: 1024})
	if !errors.Is(err, boom) || err.Error() != "load in: read: disk on fire" {
		t.Fatalf("error %v", err)
	}
	if tbl.Rows() != 0 {
		t.Fatalf("a failed read left %d rows", tbl.Rows())
	}
}
