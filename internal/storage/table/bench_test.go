package table

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// benchRows is the size of the scan benchmark's column: TPC-H SF1's lineitem.
const benchRows = 6_000_000

// loadBigInts creates table t with one BIGINT column of n values from gen.
func loadBigInts(b *testing.B, e *env, n int, gen func(i int) int64) *Table {
	b.Helper()
	tbl, err := e.db.CreateTable("t", []Column{{"v", types.BigIntType}})
	if err != nil {
		b.Fatal(err)
	}
	a, err := tbl.NewAppender()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i += vector.Size {
		if err := a.Append(int64Chunk(min(vector.Size, n-i), func(k int) int64 { return gen(i + k) })); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
	return tbl
}

// BenchmarkScanBigInt scans a 6-million-row BIGINT column from warm buffers
// on one goroutine; MB/s counts the int64 values delivered (8 bytes each).
// "random" is stored uncompressed, "keys" (sequential) bit-packed at 17-23
// bits, "small" (0..999) at 10 bits.
func BenchmarkScanBigInt(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, data := range []struct {
		name string
		gen  func(i int) int64
	}{
		{"random", func(int) int64 { return int64(r.Uint64()) }},
		{"keys", func(i int) int64 { return int64(i) }},
		{"small", func(int) int64 { return r.Int64N(1000) }},
	} {
		b.Run(data.name, func(b *testing.B) {
			e := newEnv(b, 0, 1<<30)
			tbl := loadBigInts(b, e, benchRows, data.gen)
			if err := e.db.Checkpoint(); err != nil {
				b.Fatal(err)
			}
			scan := func() int64 {
				s, err := tbl.Scan(ScanOptions{})
				if err != nil {
					b.Fatal(err)
				}
				c := s.NewChunk()
				var sum int64
				for {
					ok, err := s.Next(c)
					if err != nil {
						b.Fatal(err)
					}
					if !ok {
						break
					}
					sum += c.Col(0).Int64s()[c.Len()-1]
				}
				return s.Stats().Rows
			}
			if n := scan(); n != benchRows { // warm the buffers
				b.Fatalf("scanned %d rows", n)
			}
			loads := e.m.Metrics().Loads
			b.SetBytes(8 * benchRows)
			b.ResetTimer()
			for range b.N {
				scan()
			}
			b.StopTimer()
			if l := e.m.Metrics().Loads; l != loads {
				b.Fatalf("%d blocks read during a warm scan", l-loads)
			}
		})
	}
}

// BenchmarkAppend appends chunks of three columns (BIGINT keys, INTEGER
// quantities, low-cardinality VARCHAR flags) through compression and block
// writes; MB/s counts 8+4+8 bytes per row.
func BenchmarkAppend(b *testing.B) {
	ts := []types.Type{types.BigIntType, types.IntegerType, types.VarcharType}
	c := vector.NewChunk(ts)
	flags := []string{"A", "F", "N", "R"}
	for i := range vector.Size {
		c.Col(0).Int64s()[i] = int64(i)
		c.Col(1).Int32s()[i] = int32(i%50 + 1)
		c.Col(2).SetString(i, flags[i%4])
	}
	c.SetLen(vector.Size)
	const rows = 4 * RowGroupSize
	e := newEnv(b, 0, 1<<30)
	b.SetBytes(20 * rows)
	for i := 0; b.Loop(); i++ {
		tbl, err := e.db.CreateTable(fmt.Sprint("t", i), columnsOf(ts))
		if err != nil {
			b.Fatal(err)
		}
		a, err := tbl.NewAppender()
		if err != nil {
			b.Fatal(err)
		}
		for range rows / vector.Size {
			if err := a.Append(c); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckpoint times Checkpoint after appending 1 million BIGINT rows
// (random, so uncompressed: 8 MB of segments); the append is not timed.
func BenchmarkCheckpoint(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	e := newEnv(b, 0, 1<<30)
	const rows = 1 << 20
	var n int
	for b.Loop() {
		b.StopTimer()
		n++
		tbl, err := e.db.CreateTable(fmt.Sprint("t", n), []Column{{"v", types.BigIntType}})
		if err != nil {
			b.Fatal(err)
		}
		a, err := tbl.NewAppender()
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < rows; i += vector.Size {
			if err := a.Append(int64Chunk(vector.Size, func(int) int64 { return int64(r.Uint64()) })); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := e.db.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReopen times opening the tables of a database with 6 million
// BIGINT rows (the catalog only; no data is read).
func BenchmarkReopen(b *testing.B) {
	e := newEnv(b, 0, 1<<30)
	loadBigInts(b, e, benchRows, func(i int) int64 { return int64(i) * 7919 % 1000003 })
	if err := e.db.Checkpoint(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		db, err := Open(e.f, e.m)
		if err != nil {
			b.Fatal(err)
		}
		if db.Table("t").Rows() != benchRows {
			b.Fatal("rows lost")
		}
	}
}

// lineitemTypes are the column types of TPC-H's lineitem.
var lineitemTypes = []types.Type{
	types.BigIntType, types.BigIntType, types.BigIntType, types.IntegerType, // orderkey, partkey, suppkey, linenumber
	types.MustDecimal(15, 2), types.MustDecimal(15, 2), types.MustDecimal(15, 2), types.MustDecimal(15, 2), // quantity, extendedprice, discount, tax
	types.VarcharType, types.VarcharType, // returnflag, linestatus
	types.DateType, types.DateType, types.DateType, // shipdate, commitdate, receiptdate
	types.VarcharType, types.VarcharType, types.VarcharType, // shipinstruct, shipmode, comment
}

// lineitemChunk fills c with rows [first, first+n) of lineitem-like data:
// the value ranges of TPC-H's generator, not its exact values.
func lineitemChunk(r *rand.Rand, c *vector.Chunk, first, n int) {
	c.Reset()
	flags, status := []string{"A", "N", "R"}, []string{"F", "O"}
	instruct := []string{"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"}
	modes := []string{"AIR", "FOB", "MAIL", "RAIL", "REG AIR", "SHIP", "TRUCK"}
	comment := make([]byte, 44)
	for i := range n {
		row := first + i
		c.Col(0).Int64s()[i] = int64(row/4 + 1)
		c.Col(1).Int64s()[i] = 1 + r.Int64N(200000)
		c.Col(2).Int64s()[i] = 1 + r.Int64N(10000)
		c.Col(3).Int32s()[i] = int32(row%4 + 1)
		q := 1 + r.Int64N(50)
		c.Col(4).Int64s()[i] = q * 100
		c.Col(5).Int64s()[i] = q * (90000 + r.Int64N(110000))
		c.Col(6).Int64s()[i] = r.Int64N(11)
		c.Col(7).Int64s()[i] = r.Int64N(9)
		c.Col(8).SetString(i, flags[r.IntN(3)])
		c.Col(9).SetString(i, status[r.IntN(2)])
		ship := int32(8036 + r.IntN(2526))
		c.Col(10).Int32s()[i] = ship
		c.Col(11).Int32s()[i] = ship + int32(r.IntN(61)) - 30
		c.Col(12).Int32s()[i] = ship + 1 + int32(r.IntN(30))
		c.Col(13).SetString(i, instruct[r.IntN(4)])
		c.Col(14).SetString(i, modes[r.IntN(7)])
		k := 10 + r.IntN(34)
		for j := range k {
			comment[j] = byte('a' + r.IntN(26))
			if r.IntN(6) == 0 {
				comment[j] = ' '
			}
		}
		c.Col(15).SetBytes(i, comment[:k])
	}
	c.SetLen(n)
}

// BenchmarkLoadLineitem appends 1 million lineitem-like rows (16 columns)
// and checkpoints them; it reports rows per second and the stored bytes per
// row. Generating the chunks is not timed.
func BenchmarkLoadLineitem(b *testing.B) {
	const rows = 1 << 20
	r := rand.New(rand.NewPCG(10, 11))
	var chunks []*vector.Chunk
	for i := 0; i < rows; i += vector.Size {
		c := vector.NewChunk(lineitemTypes)
		lineitemChunk(r, c, i, vector.Size)
		chunks = append(chunks, c)
	}
	e := newEnv(b, 0, 1<<30)
	var tbl *Table
	n := 0
	for b.Loop() {
		n++
		var err error
		tbl, err = e.db.CreateTable(fmt.Sprint("lineitem", n), columnsOf(lineitemTypes))
		if err != nil {
			b.Fatal(err)
		}
		a, err := tbl.NewAppender()
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range chunks {
			if err := a.Append(c); err != nil {
				b.Fatal(err)
			}
		}
		if err := a.Close(); err != nil {
			b.Fatal(err)
		}
		if err := e.db.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	stored := 0
	for _, s := range tbl.Segments() {
		stored += s.Bytes
	}
	b.ReportMetric(float64(stored)/rows, "B/row")
}

// BenchmarkScanLineitem scans all 16 columns of 1 million lineitem-like rows
// from warm buffers; it reports rows per second.
func BenchmarkScanLineitem(b *testing.B) {
	const rows = 1 << 20
	r := rand.New(rand.NewPCG(12, 13))
	e := newEnv(b, 0, 1<<30)
	tbl, err := e.db.CreateTable("lineitem", columnsOf(lineitemTypes))
	if err != nil {
		b.Fatal(err)
	}
	a, err := tbl.NewAppender()
	if err != nil {
		b.Fatal(err)
	}
	c := vector.NewChunk(lineitemTypes)
	for i := 0; i < rows; i += vector.Size {
		lineitemChunk(r, c, i, vector.Size)
		if err := a.Append(c); err != nil {
			b.Fatal(err)
		}
	}
	if err := a.Close(); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		s, err := tbl.Scan(ScanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		out := s.NewChunk()
		for {
			ok, err := s.Next(out)
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
		if s.Stats().Rows != rows {
			b.Fatalf("%d rows", s.Stats().Rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
