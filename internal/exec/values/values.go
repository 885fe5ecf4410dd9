package values

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// ErrRow is wrapped by New's errors about a row that does not fit the
// columns (wrong width or a value of another type).
var ErrRow = errors.New("row does not match the columns")

// Source is a parallel.Source of constant rows. It is immutable after New
// and may be scanned by many pipeline runs, also concurrently.
type Source struct {
	types  []types.Type
	chunks []*vector.Chunk
	rows   int
}

var _ parallel.Source = (*Source)(nil)

// New returns a source of rows with the given column types. Every row must
// have len(ts) values, each of its column's type or a NULL (a NULL of any
// type is taken as the column's NULL). One row with no columns is what a
// SELECT without FROM scans; no rows at all is an empty source. The
// result is a *Source.
func New(ts []types.Type, rows [][]types.Value) (parallel.Source, error) {
	for j, t := range ts {
		if t.Physical() == types.PhysInvalid {
			return nil, fmt.Errorf("values: column %d has invalid type %v", j+1, t)
		}
	}
	s := &Source{types: slices.Clone(ts), rows: len(rows)}
	var c *vector.Chunk
	vals := make([]types.Value, len(ts))
	for i, row := range rows {
		if len(row) != len(ts) {
			return nil, fmt.Errorf("values: row %d has %d values for %d columns: %w", i+1, len(row), len(ts), ErrRow)
		}
		for j, v := range row {
			switch {
			case v.IsNull():
				vals[j] = types.Null(ts[j])
			case v.Type() != ts[j]:
				return nil, fmt.Errorf("values: row %d column %d: %s is %v, the column is %v: %w", i+1, j+1, v, v.Type(), ts[j], ErrRow)
			default:
				vals[j] = v
			}
		}
		if c == nil || c.Len() == vector.Size {
			c = vector.NewChunk(ts)
			s.chunks = append(s.chunks, c)
		}
		c.AppendRow(vals...)
	}
	return s, nil
}

// Rows returns the number of rows.
func (s *Source) Rows() int { return s.rows }

// String describes the source as EXPLAIN prints it: "values 3 rows".
func (s *Source) String() string { return fmt.Sprintf("values %d rows", s.rows) }

// Types returns the column types.
func (s *Source) Types() []types.Type { return slices.Clone(s.types) }

// Init returns the run's state; the rows are shared, read only.
func (s *Source) Init(*parallel.Producer) (parallel.SourceState, error) { return state{s}, nil }

type state struct{ s *Source }

// Morsels returns one morsel per stored chunk.
func (st state) Morsels() int { return len(st.s.chunks) }

// NewLocal returns a task's state; scanning needs none of its own.
func (st state) NewLocal() (parallel.SourceLocal, error) { return st, nil }

// Scan makes out a view of chunk m: its columns reference the stored
// vectors, which nothing writes.
func (st state) Scan(m int, out *vector.Chunk) (bool, error) {
	if m < 0 || m >= len(st.s.chunks) {
		return false, fmt.Errorf("values: morsel %d of %d", m, len(st.s.chunks))
	}
	out.ReferenceChunk(st.s.chunks[m])
	return false, nil
}
