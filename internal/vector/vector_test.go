package vector

import (
	"fmt"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/types"
)

func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", seed, seed)
	return seed
}

// TestGolden runs testdata/chunks. Every case's input is a table in the
// text form of ParseTable.
//
//	print             parse and print back
//	select i...       set the selection to the given slots and print
//	flatten i...      select, flatten, print (and check the chunk is dense)
//	append i...       append the selected rows to a copy of the table and print
func TestGolden(t *testing.T) {
	datadriven.Run(t, "testdata/chunks", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		ch, err := ParseTable(strings.Join(c.Input, "\n"))
		if err != nil {
			return "error: " + err.Error()
		}
		var sel Selection
		for _, a := range c.Args {
			n, err := strconv.Atoi(a)
			if err != nil {
				t.Fatal(err)
			}
			sel = append(sel, uint16(n))
		}
		switch c.Cmd {
		case "print":
		case "select":
			ch.SetSel(sel, len(sel))
		case "flatten":
			ch.SetSel(sel, len(sel))
			ch.Flatten()
			if ch.Sel() != nil {
				t.Fatal("chunk still has a selection after Flatten")
			}
		case "append":
			src, _ := ParseTable(strings.Join(c.Input, "\n"))
			src.SetSel(sel, len(sel))
			ch.Append(src)
		default:
			t.Fatalf("unknown command %q", c.Cmd)
		}
		return ch.String()
	})
}

// randValue returns a random non-NULL value of t.
func randValue(r *rand.Rand, t types.Type) types.Value {
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(r.IntN(2) == 0)
	case types.Integer:
		return types.IntegerValue(int32(r.Uint32()))
	case types.BigInt:
		return types.BigIntValue(int64(r.Uint64()))
	case types.Double:
		return types.DoubleValue(r.NormFloat64() * 1e6)
	case types.Decimal:
		return types.DecimalValue(r.Int64N(types.Pow10(t.Precision())), t)
	case types.Date:
		return types.DateValue(int32(r.IntN(20000)))
	case types.Varchar:
		b := make([]byte, r.IntN(30))
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		return types.VarcharValue(string(b))
	}
	panic("unreachable")
}

var allTypes = []types.Type{
	types.BooleanType, types.IntegerType, types.BigIntType, types.DoubleType,
	types.MustDecimal(15, 2), types.VarcharType, types.DateType,
}

// randChunk returns a chunk of random columns and rows with NULLs (each
// column with its own NULL rate, some none), and the rows as values.
func randChunk(r *rand.Rand) (*Chunk, [][]types.Value) {
	ts := make([]types.Type, 1+r.IntN(5))
	for j := range ts {
		ts[j] = allTypes[r.IntN(len(allTypes))]
	}
	c := NewChunk(ts)
	n := []int{0, 1, 2, min(63, Size), min(64, Size), min(65, Size), Size - 1, Size, r.IntN(Size + 1)}[r.IntN(9)]
	nullRate := make([]float64, len(ts))
	for j := range ts {
		nullRate[j] = []float64{0, 0.01, 0.5, 1}[r.IntN(4)]
	}
	rows := make([][]types.Value, n)
	for i := range rows {
		rows[i] = make([]types.Value, len(ts))
		for j, t := range ts {
			v := randValue(r, t)
			if r.Float64() < nullRate[j] {
				v = types.Null(t)
			}
			rows[i][j] = v
		}
		c.AppendRow(rows[i]...)
	}
	return c, rows
}

// randSel returns a random selection over n slots: nil, increasing (a
// filter's), or in any order with repeats (a gather's).
func randSel(r *rand.Rand, n int) Selection {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		var s Selection
		for i := range n {
			if r.IntN(3) != 0 {
				s = append(s, uint16(i))
			}
		}
		if s == nil {
			s = Selection{}
		}
		return s
	}
	s := make(Selection, 0, n)
	if n > 0 {
		for range r.IntN(n + 1) {
			s = append(s, uint16(r.IntN(n)))
		}
	}
	return s
}

func sameValue(a, b types.Value) bool {
	if a.IsNull() || b.IsNull() {
		return a.IsNull() == b.IsNull()
	}
	if a.Type().ID() == types.Double {
		return a.Float64() == b.Float64() || math.IsNaN(a.Float64()) && math.IsNaN(b.Float64())
	}
	return a == b
}

// checkChunk compares every accessor of c against the expected logical rows.
func checkChunk(t *testing.T, what string, c *Chunk, want [][]types.Value) {
	t.Helper()
	if c.Len() != len(want) {
		t.Fatalf("%s: length %d, want %d", what, c.Len(), len(want))
	}
	for j := range c.Width() {
		v := c.Col(j)
		nulls := 0
		for r, row := range want {
			w := row[j]
			if w.IsNull() {
				nulls++
			}
			if got := c.Value(j, r); !sameValue(got, w) {
				t.Fatalf("%s: Value(%d, %d) = %v, want %v", what, j, r, got, w)
			}
			if v.IsNull(c.Index(r)) != w.IsNull() {
				t.Fatalf("%s: IsNull(col %d row %d) = %v", what, j, r, !w.IsNull())
			}
			var got types.Value
			switch v.Type().Physical() {
			case types.PhysBool:
				got = viaCol(ColOf[bool](c, j), r, func(x bool) types.Value { return types.BoolValue(x) })
			case types.PhysInt32:
				got = viaCol(ColOf[int32](c, j), r, func(x int32) types.Value {
					if v.Type().ID() == types.Date {
						return types.DateValue(x)
					}
					return types.IntegerValue(x)
				})
			case types.PhysInt64:
				got = viaCol(ColOf[int64](c, j), r, func(x int64) types.Value {
					if v.Type().ID() == types.Decimal {
						return types.DecimalValue(x, v.Type())
					}
					return types.BigIntValue(x)
				})
			case types.PhysFloat64:
				got = viaCol(ColOf[float64](c, j), r, func(x float64) types.Value { return types.DoubleValue(x) })
			case types.PhysString:
				b, ok := StrColOf(c, j).Get(r)
				got = types.VarcharValue(string(b))
				if !ok {
					got = types.Null(v.Type())
				}
			}
			if !sameValue(got, w) {
				t.Fatalf("%s: typed view of col %d row %d = %v, want %v", what, j, r, got, w)
			}
		}
		if c.Sel() == nil {
			if got := v.Validity().CountValid(c.Len()); got != len(want)-nulls {
				t.Fatalf("%s: CountValid(col %d) = %d, want %d", what, j, got, len(want)-nulls)
			}
			if nulls > 0 && v.Validity().AllValid() {
				t.Fatalf("%s: col %d has NULLs but AllValid", what, j)
			}
		}
	}
}

func viaCol[T Fixed](c Col[T], r int, box func(T) types.Value) types.Value {
	x, ok := c.Get(r)
	if !ok {
		return types.Null(types.BigIntType) // NULLs compare equal whatever their type
	}
	return box(x)
}

// TestRandomChunks builds random chunks with NULLs, applies random
// selections and checks every accessor, Flatten, Append, Copy and the text
// form against a boxed model.
func TestRandomChunks(t *testing.T) {
	r := rand.New(rand.NewPCG(testSeed(t), 0))
	for iter := range 100 {
		c, rows := randChunk(r)
		checkChunk(t, fmt.Sprintf("iter %d dense", iter), c, rows)

		sel := randSel(r, c.Len())
		want := rows
		if sel != nil {
			want = make([][]types.Value, len(sel))
			for i, p := range sel {
				want[i] = rows[p]
			}
			if r.IntN(2) == 0 {
				buf := c.SelBuffer()
				copy(buf, sel)
				c.SetSel(buf, len(sel))
			} else {
				c.SetSel(sel, len(sel))
			}
		}
		checkChunk(t, fmt.Sprintf("iter %d selected", iter), c, want)

		// The text form round-trips through ParseTable (as a dense chunk).
		back, err := ParseTable(c.String())
		if err != nil {
			t.Fatalf("iter %d: ParseTable(String()) failed: %v\n%s", iter, err, c)
		}
		checkChunk(t, fmt.Sprintf("iter %d parsed back", iter), back, want)

		// Append into a dense chunk holding one row already.
		dst := NewChunk(c.Types())
		if c.Len() < Size {
			first := make([]types.Value, c.Width())
			for j, typ := range c.Types() {
				first[j] = randValue(r, typ)
			}
			dst.AppendRow(first...)
			dst.Append(c)
			checkChunk(t, fmt.Sprintf("iter %d appended", iter), dst, append([][]types.Value{first}, want...))
		}

		// A zero-copy filter: reference c, keep every other logical row
		// through a selection of c's slots, flatten, reset; c is untouched.
		ref := NewChunk(c.Types())
		ref.ReferenceChunk(c)
		checkChunk(t, fmt.Sprintf("iter %d referenced", iter), ref, want)
		buf := ref.SelBuffer()
		var kept [][]types.Value
		for r := 0; r < ref.Len(); r += 2 {
			buf[len(kept)] = uint16(ref.Index(r))
			kept = append(kept, want[r])
		}
		ref.SetSel(buf, len(kept))
		checkChunk(t, fmt.Sprintf("iter %d filtered reference", iter), ref, kept)
		ref.Flatten()
		checkChunk(t, fmt.Sprintf("iter %d flattened reference", iter), ref, kept)
		for j := range ref.Width() {
			if !ref.Owned(j) {
				t.Fatalf("iter %d: column %d still referenced after Flatten", iter, j)
			}
		}
		ref.ReferenceChunk(c)
		ref.Reset()
		checkChunk(t, fmt.Sprintf("iter %d after the reference's Flatten and Reset", iter), c, want)

		c.Flatten()
		if c.Sel() != nil {
			t.Fatalf("iter %d: selection survives Flatten", iter)
		}
		checkChunk(t, fmt.Sprintf("iter %d flattened", iter), c, want)

		c.Reset()
		if c.Len() != 0 || c.Sel() != nil {
			t.Fatalf("iter %d: Reset left length %d", iter, c.Len())
		}
		for j := range c.Width() {
			if !c.Col(j).Validity().AllValid() {
				t.Fatalf("iter %d: Reset left NULLs in col %d", iter, j)
			}
		}
	}
}

func TestValidity(t *testing.T) {
	if Size < 256 {
		t.Skipf("checks positions across four mask words; vectors hold %d rows here (-tags tinyvectors)", Size)
	}
	var v Validity
	if !v.AllValid() || v.CountValid(100) != 100 || v.Words() != nil {
		t.Fatal("zero Validity is not all valid")
	}
	v.SetValid(5) // no-op on the fast path
	if !v.AllValid() {
		t.Fatal("SetValid materialized the mask")
	}
	for _, i := range []int{0, 63, 64, 127, Size - 1} {
		v.SetNull(i)
	}
	for _, tc := range []struct{ n, want int }{{0, 0}, {1, 0}, {63, 62}, {64, 62}, {65, 62}, {128, 124}, {Size, Size - 5}} {
		if got := v.CountValid(tc.n); got != tc.want {
			t.Errorf("CountValid(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
	if v.IsValid(64) || !v.IsValid(65) || !v.IsNull(Size-1) {
		t.Fatal("IsValid disagrees with SetNull")
	}
	v.SetValid(64)
	if !v.IsValid(64) {
		t.Fatal("SetValid did not clear the NULL")
	}
	v.Reset()
	if !v.AllValid() || v.IsNull(0) {
		t.Fatal("Reset left NULLs")
	}
	v.SetNull(3)
	if v.IsValid(3) || !v.IsValid(0) {
		t.Fatal("a reused mask kept old NULLs or lost the new one")
	}
	// A result's mask as the AND of two inputs', a word at a time.
	var a, b, res Validity
	a.SetNull(1)
	b.SetNull(70)
	w := res.Writable()
	if len(w) != Size/64 || w[0] != ^uint64(0) {
		t.Fatalf("Writable on an all-valid mask: %d words, first %x", len(w), w[0])
	}
	for i := range w {
		w[i] = a.Writable()[i] & b.Writable()[i]
	}
	if res.CountValid(Size) != Size-2 || res.IsValid(1) || res.IsValid(70) || !res.IsValid(2) {
		t.Fatal("AND of masks through Writable is wrong")
	}
}

func TestStringsShareOneArena(t *testing.T) {
	v := New(types.VarcharType)
	v.SetString(0, "hello")
	v.SetBytes(1, []byte{})
	v.SetString(2, "xyz")
	if got := string(v.Arena()); got != "helloxyz" {
		t.Fatalf("arena = %q", got)
	}
	if got := fmt.Sprint(v.Strs()[:3]); got != "[{0 5} {5 0} {5 3}]" {
		t.Fatalf("headers = %s", got)
	}
	b := v.Bytes(0)
	if cap(b) != 5 {
		t.Fatalf("Bytes returns capacity %d past the string: appends would overwrite the next", cap(b))
	}
	allocs := testing.AllocsPerRun(100, func() {
		v.Reset()
		for i := range Size {
			v.SetString(i, "some string value")
		}
	})
	if allocs != 0 {
		t.Fatalf("filling a reused VARCHAR vector allocates %v times", allocs)
	}
}

func TestParseTableErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "no header line"},
		{"BIGINT | BLOB\n1 | 2", "line 1 column 2"},
		{"BIGINT\n1 | 2", "line 2: 2 cells, want 1"},
		{"DATE\n1998-13-01", "line 2 column 1"},
	} {
		_, err := ParseTable(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTable(%q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

func BenchmarkSumCol(b *testing.B) {
	c := NewChunk([]types.Type{types.BigIntType})
	for i := range Size {
		c.Col(0).Int64s()[i] = int64(i)
	}
	c.SetLen(Size)
	b.Run("get", func(b *testing.B) {
		var sum int64
		for b.Loop() {
			col := ColOf[int64](c, 0)
			for r := range col.Len() {
				if x, ok := col.Get(r); ok {
					sum += x
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*Size), "ns/row")
	})
	b.Run("dense", func(b *testing.B) {
		var sum int64
		for b.Loop() {
			col := ColOf[int64](c, 0)
			if col.Sel() == nil && col.AllValid() {
				for _, x := range col.Data()[:col.Len()] {
					sum += x
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*Size), "ns/row")
	})
}

func TestReferenceRefusesWrites(t *testing.T) {
	src, err := ParseTable("BIGINT\n1\nNULL")
	if err != nil {
		t.Fatal(err)
	}
	c := NewChunk(src.Types())
	c.Reference(0, src.Col(0))
	if c.Owned(0) {
		t.Fatal("referenced column reports owned")
	}
	for name, f := range map[string]func(){
		"AppendRow":      func() { c.AppendRow(types.BigIntValue(3)) },
		"Append":         func() { c.Append(src) },
		"wrong type":     func() { c.Reference(0, New(types.VarcharType)) },
		"ReferenceChunk": func() { NewChunk(nil).ReferenceChunk(src) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(fmt.Sprint(r), "BUG: ") {
					t.Errorf("%s on a referencing chunk: recovered %v, want a BUG panic", name, r)
				}
			}()
			f()
		}()
	}
	c.Reset()
	if !c.Owned(0) || !src.Col(0).IsNull(1) {
		t.Fatal("Reset did not drop the reference or touched the referenced vector")
	}
}

// FuzzParseTable checks that ParseTable never panics and that what it
// accepts prints as a table that parses back to the same text.
func FuzzParseTable(f *testing.F) {
	for _, s := range []string{
		"BIGINT | VARCHAR\n1 | a\nNULL | NULL",
		"DECIMAL(15,2)|DATE\n1.5|1998-12-01",
		"BOOLEAN\ntrue\nf",
		"DOUBLE | INTEGER\nNaN | -2147483648",
		"", "|", "BIGINT\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseTable(s)
		if err != nil {
			return
		}
		text := c.String()
		back, err := ParseTable(text)
		if err != nil {
			t.Fatalf("ParseTable(%q) printed %q, which does not parse: %v", s, text, err)
		}
		if back.String() != text {
			t.Fatalf("round trip changed %q to %q", text, back.String())
		}
	})
}

// TestArenaSlack: however strings are added (SetBytes, SetString, Copy,
// after a Reset), the arena's capacity stays ArenaSlack bytes past its
// length, so that a fixed-size load at any string's offset is in bounds.
func TestArenaSlack(t *testing.T) {
	seed := testSeed(t)
	r := rand.New(rand.NewPCG(seed, 0))
	v, w := New(types.VarcharType), New(types.VarcharType)
	check := func(what string, a []byte) {
		t.Helper()
		if cap(a)-len(a) < ArenaSlack {
			t.Fatalf("%s: arena of %d bytes has capacity %d, want at least %d more", what, len(a), cap(a), ArenaSlack)
		}
	}
	for round := range 3 {
		for i := range Size {
			b := make([]byte, r.IntN(40))
			if r.IntN(2) == 0 {
				v.SetBytes(i, b)
			} else {
				v.SetString(i, string(b))
			}
			check(fmt.Sprintf("round %d, string %d", round, i), v.Arena())
			s := v.Strs()[i]
			if got := v.Arena()[s.Off : s.Off+ArenaSlack]; len(got) != ArenaSlack {
				t.Fatalf("load of %d bytes at offset %d", len(got), s.Off)
			}
		}
		Copy(w, 0, v, nil, Size)
		check(fmt.Sprintf("round %d, copy", round), w.Arena())
		v.Reset()
		w.Reset()
		check(fmt.Sprintf("round %d, reset", round), v.Arena())
	}
}
