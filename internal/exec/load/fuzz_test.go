package load

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// encodeCSV writes records of fields as CSV with delimiter d, quoting a
// field when it must be: empty (an unquoted empty field is NULL), or holding
// d, a quote, CR or LF.
func encodeCSV(records [][][]byte, d byte) []byte {
	var out []byte
	for _, rec := range records {
		for i, f := range rec {
			if i > 0 {
				out = append(out, d)
			}
			if len(f) > 0 && !bytes.ContainsAny(f, string([]byte{d, '"', '\r', '\n'})) {
				out = append(out, f...)
				continue
			}
			out = append(out, '"')
			out = append(out, bytes.ReplaceAll(f, []byte(`"`), []byte(`""`))...)
			out = append(out, '"')
		}
		out = append(out, '\n')
	}
	return out
}

// FuzzSplitCSV checks the CSV splitter two ways. The input, cut at 0x00
// into fields and at 0x01 into records, is written as CSV and split back:
// the fields must come back unchanged, and cut must find only record
// boundaries. The raw input is also split as it is: every record must make
// progress and give fields inside the input, whatever the bytes.
func FuzzSplitCSV(f *testing.F) {
	for _, seed := range []string{
		"a\x00b\x01c\x00d",
		"with,comma\x00\"quoted\"\x01two\nlines\x00\r\n",
		"\x00\x01\x00",
		"a,\"b\"\"c\",d\r\ne,f\n",
		"\"unterminated\n,x",
		"x\"y\n\"\"\"\n",
		// Longer than eight bytes, with '-' (',' XOR 1) after delimiters:
		// the word-at-a-time search sees false candidates there.
		"a long field\x00-\x00-x-\x00---\x00twelve bytes\x01x\x00y-\x00more than eight\x00-",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		const d = ','
		var records [][][]byte
		for _, r := range bytes.Split(in, []byte{1}) {
			records = append(records, bytes.Split(r, []byte{0}))
		}
		data := encodeCSV(records, d)
		orig := slices.Clone(data)
		var bounds []int // offsets just past each record
		s := &splitter{delim: d, quoting: true}
		pos := 0
		for i, rec := range records {
			end, _, serr := s.next(data, pos)
			if serr != nil {
				t.Fatalf("record %d of %q: %s at field %d", i, orig, serr.msg, serr.field)
			}
			if len(s.fields) != len(rec) {
				t.Fatalf("record %d of %q: %d fields, want %d", i, orig, len(s.fields), len(rec))
			}
			for j, sp := range s.fields {
				if got := data[sp.start:sp.end]; !bytes.Equal(got, rec[j]) {
					t.Fatalf("record %d field %d of %q: %q, want %q", i, j, orig, got, rec[j])
				}
			}
			pos = end
			bounds = append(bounds, end)
		}
		if pos != len(data) {
			t.Fatalf("%q: records end at %d of %d bytes", orig, pos, len(data))
		}
		for k := 0; k <= len(orig); k++ {
			c := cut(orig[:k], true)
			if c != 0 && !slices.Contains(bounds, c) {
				t.Fatalf("cut(%q) = %d, not a record boundary (%v)", orig[:k], c, bounds)
			}
			if c == 0 && len(bounds) > 0 && k >= bounds[0] {
				t.Fatalf("cut(%q) = 0, but a record ends at %d", orig[:k], bounds[0])
			}
		}

		// Raw bytes: progress, fields in bounds, line counts no more than
		// the newlines consumed.
		raw := slices.Clone(in)
		for _, quoting := range []bool{true, false} {
			s := &splitter{delim: d, quoting: quoting}
			for pos := 0; pos < len(raw); {
				end, lines, serr := s.next(raw, pos)
				if end <= pos || end > len(raw) {
					t.Fatalf("quoting=%v: record at %d of %q ends at %d", quoting, pos, in, end)
				}
				if n := bytes.Count(in[pos:end], []byte{'\n'}); lines > n {
					t.Fatalf("quoting=%v: record at %d of %q: %d lines from %d newlines", quoting, pos, in, lines, n)
				}
				if serr != nil {
					break
				}
				for _, sp := range s.fields {
					if sp.start < int32(pos) || sp.end < sp.start || sp.end > int32(end) {
						t.Fatalf("quoting=%v: record at %d of %q: field %v outside [%d, %d)", quoting, pos, in, sp, pos, end)
					}
				}
				pos = end
			}
			copy(raw, in)
		}
	})
}

// TestParseDate checks the table-driven date parser against types.ParseDate
// on every day of the years it covers and around them, and on invalid days.
func TestParseDate(t *testing.T) {
	for y := fastYear0 - 2; y < fastYear0+len(yearStart)+2; y++ {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				s := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
				want, werr := types.ParseDate(s)
				got, err := parseDate([]byte(s))
				if (err != nil) != (werr != nil) || err == nil && got != want {
					t.Fatalf("parseDate(%s) = %d, %v; types.ParseDate: %d, %v", s, got, err, want, werr)
				}
			}
		}
	}
}

// FuzzLoad loads arbitrary bytes as CSV and as .tbl into a table of every
// type: a load either succeeds or fails with a *RowError, never panics, and
// a failed load leaves the table as it was. Loading in 64-byte blocks on two
// workers and in one block on one must agree: the same error, or the same
// number of rows.
func FuzzLoad(f *testing.F) {
	for _, seed := range []string{
		"1,2,3.5,4e3,true,1999-01-01,x\n",
		"1|2|3.5|4e3|f|1999-1-1|x|\n|||||2000-02-29||\n",
		"-0,-9223372036854775809,.5,-,T,0000-01-01,\"a\"\"b\"\r\n",
		"1,2,3,4,t,1999-01-01,\"x\n",
	} {
		f.Add([]byte(seed))
	}
	db := newDB(f)
	tbl, err := db.CreateTable("t", []table.Column{
		{Name: "i", Type: types.IntegerType}, {Name: "b", Type: types.BigIntType},
		{Name: "d", Type: types.MustDecimal(9, 3)}, {Name: "x", Type: types.DoubleType},
		{Name: "f", Type: types.BooleanType}, {Name: "day", Type: types.DateType},
		{Name: "s", Type: types.VarcharType},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, format := range []Format{CSV, TBL} {
			before := tbl.Rows()
			st, err := Reader(tbl, "fuzz", bytes.NewReader(in), Options{Format: format, Threads: 2, BlockSize: 64})
			one, err1 := Reader(tbl, "fuzz", bytes.NewReader(in), Options{Format: format, Threads: 1, BlockSize: len(in) + 1})
			if fmt.Sprint(err) != fmt.Sprint(err1) || one.Rows != st.Rows {
				t.Fatalf("%v: %q: in blocks: %d rows, %v; in one block: %d rows, %v", format, in, st.Rows, err, one.Rows, err1)
			}
			if err != nil {
				var re *RowError
				if !errors.As(err, &re) {
					t.Fatalf("%v: %q: error %v is not a *RowError", format, in, err)
				}
				if tbl.Rows() != before {
					t.Fatalf("%v: %q: a failed load changed the table", format, in)
				}
				continue
			}
			if tbl.Rows() != before+2*st.Rows {
				t.Fatalf("%v: %q: loaded %d rows twice, the table grew from %d to %d", format, in, st.Rows, before, tbl.Rows())
			}
		}
	})
}
