package vectortest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// SeedEnv names the environment variable that replays a randomized test.
const SeedEnv = "BPFDB_SEED"

// Seed returns the seed for a randomized test: $BPFDB_SEED if set, else a
// fresh one, logged so that a failure can be replayed.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(SeedEnv); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", SeedEnv, s, err)
		}
		seed = v
	}
	t.Logf("seed %d (replay with %s=%d)", seed, SeedEnv, seed)
	return seed
}

// Rand returns a generator seeded by Seed.
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
	return rand.New(rand.NewPCG(Seed(t), 0x6270_6664_62))
}

// Value returns a random value of t, NULL with probability nullRate.
// Values cluster (small integers, few distinct strings) so that joins and
// groups find matches.
func Value(r *rand.Rand, t types.Type, nullRate float64) types.Value {
	if r.Float64() < nullRate {
		return types.Null(t)
	}
	switch t.ID() {
	case types.Boolean:
		return types.BoolValue(r.IntN(2) == 0)
	case types.Integer:
		return types.IntegerValue(int32(r.IntN(200) - 100))
	case types.BigInt:
		if r.IntN(10) == 0 {
			return types.BigIntValue(int64(r.Uint64()))
		}
		return types.BigIntValue(int64(r.IntN(1000)))
	case types.Double:
		return types.DoubleValue(float64(r.IntN(2000)-1000) / 8)
	case types.Decimal:
		return types.DecimalValue(r.Int64N(types.DecimalBound(t)), t)
	case types.Date:
		return types.DateValue(int32(8000 + r.IntN(3000))) // 1991..1999
	case types.Varchar:
		words := []string{"", "a", "AIR", "MAIL", "SHIP", "TRUCK", "Customer#000000001", "ünïcode", "x y"}
		return types.VarcharValue(words[r.IntN(len(words))] + strings.Repeat("z", r.IntN(3)))
	}
	panic(fmt.Sprintf("BUG: vectortest.Value of %v", t))
}

// Rows returns n random rows of the given types.
func Rows(r *rand.Rand, ts []types.Type, n int, nullRate float64) [][]types.Value {
	rows := make([][]types.Value, n)
	for i := range rows {
		rows[i] = make([]types.Value, len(ts))
		for j, t := range ts {
			rows[i][j] = Value(r, t, nullRate)
		}
	}
	return rows
}

// Config is one way of cutting rows into chunks.
type Config struct {
	// BatchSize is the most logical rows per chunk (1..vector.Size).
	BatchSize int
	// Selection hides junk rows between the real ones: every chunk gets a
	// selection vector and NULL-laden garbage in the unselected slots.
	Selection bool
}

// String returns e.g. "batch=7/sel".
func (c Config) String() string {
	s := fmt.Sprintf("batch=%d", c.BatchSize)
	if c.Selection {
		s += "/sel"
	}
	return s
}

// Configs is the standard matrix: batch sizes 1, 3 and vector.Size, each
// dense and with a selection.
var Configs = []Config{
	{BatchSize: vector.Size}, {BatchSize: vector.Size, Selection: true},
	{BatchSize: 3}, {BatchSize: 3, Selection: true},
	{BatchSize: 1}, {BatchSize: 1, Selection: true},
}

// Chunks cuts rows of types ts into chunks as cfg says; r places the junk
// rows of selections.
func Chunks(r *rand.Rand, ts []types.Type, rows [][]types.Value, cfg Config) []*vector.Chunk {
	var out []*vector.Chunk
	size := max(1, min(cfg.BatchSize, vector.Size))
	if cfg.Selection {
		size = max(1, min(size, vector.Size/2)) // room for junk
	}
	for len(rows) > 0 {
		batch := rows[:min(size, len(rows))]
		rows = rows[len(batch):]
		c := vector.NewChunk(ts)
		if !cfg.Selection {
			for _, row := range batch {
				c.AppendRow(row...)
			}
			out = append(out, c)
			continue
		}
		var sel vector.Selection
		junk := vector.Size - 1 - len(batch) // slots left for junk, keeping one for the end
		for _, row := range batch {
			for ; junk > 0 && r.IntN(2) == 0; junk-- {
				c.AppendRow(Rows(r, ts, 1, 0.5)[0]...)
			}
			sel = append(sel, uint16(c.Len()))
			c.AppendRow(row...)
		}
		c.AppendRow(Rows(r, ts, 1, 0.5)[0]...)
		c.SetSel(sel, len(sel))
		out = append(out, c)
	}
	return out
}

// Collect returns the logical rows of chunks, boxed.
func Collect(chunks ...*vector.Chunk) [][]types.Value {
	var rows [][]types.Value
	for _, c := range chunks {
		for r := range c.Len() {
			row := make([]types.Value, c.Width())
			for j := range row {
				row[j] = c.Value(j, r)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// Format prints rows one per line, values separated by " | ".
func Format(rows [][]types.Value) string {
	var b strings.Builder
	for _, row := range rows {
		for j, v := range row {
			if j > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v.String())
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Sorted returns the rows' text lines sorted, for results whose order is
// not defined.
func Sorted(rows [][]types.Value) string {
	lines := strings.Split(strings.TrimSuffix(Format(rows), "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// Matrix runs op on rows cut into chunks under every configuration of
// Configs and fails the test unless each gives the same result as the
// first (compared as text: in order, or sorted if !ordered). It returns
// the first result, for the caller to check.
func Matrix(t testing.TB, ts []types.Type, rows [][]types.Value, ordered bool, op func(in []*vector.Chunk) [][]types.Value) [][]types.Value {
	t.Helper()
	got, err := RunMatrix(Rand(t), ts, rows, ordered, op)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// RunMatrix is Matrix returning the first disagreement as an error.
func RunMatrix(r *rand.Rand, ts []types.Type, rows [][]types.Value, ordered bool, op func(in []*vector.Chunk) [][]types.Value) ([][]types.Value, error) {
	text := Format
	if !ordered {
		text = Sorted
	}
	var first [][]types.Value
	var firstText string
	for i, cfg := range Configs {
		got := op(Chunks(r, ts, rows, cfg))
		if i == 0 {
			first, firstText = got, text(got)
			continue
		}
		if g := text(got); g != firstText {
			return first, fmt.Errorf("%v gives a different result than %v:\n%s\nversus:\n%s", cfg, Configs[0], g, firstText)
		}
	}
	return first, nil
}
