package bpfdb

import (
	"sort"

	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Result is what a statement returned: for a query its rows, for other
// statements a command tag and the number of rows they changed.
type Result struct {
	// Columns are the names of the result's columns (none for statements
	// that return no rows).
	Columns []string
	// Types are their types.
	Types []types.Type
	// Tag names what the statement did, as PostgreSQL's command tags do:
	// "SELECT", "INSERT", "COPY", "CREATE TABLE", "SET", ...
	Tag string
	// RowsAffected counts the rows a SELECT returned or an INSERT or
	// COPY added.
	RowsAffected int64

	chunks []*vector.Chunk
	starts []int // starts[i] is the first row of chunks[i]
	rows   int
}

func newResult(cols []string, ts []types.Type, chunks []*vector.Chunk) *Result {
	r := &Result{Columns: cols, Types: ts, Tag: "SELECT"}
	for _, c := range chunks {
		if c.Len() == 0 {
			continue
		}
		r.chunks = append(r.chunks, c)
		r.starts = append(r.starts, r.rows)
		r.rows += c.Len()
	}
	r.RowsAffected = int64(r.rows)
	return r
}

// textResult returns a one-column VARCHAR result with a row per line.
func textResult(name string, lines []string) *Result {
	c := vector.NewChunk([]types.Type{types.VarcharType})
	var chunks []*vector.Chunk
	for _, l := range lines {
		if c.Len() == vector.Size {
			chunks = append(chunks, c)
			c = vector.NewChunk([]types.Type{types.VarcharType})
		}
		c.AppendRow(types.VarcharValue(l))
	}
	chunks = append(chunks, c)
	return newResult([]string{name}, []types.Type{types.VarcharType}, chunks)
}

// Rows returns the number of rows.
func (r *Result) Rows() int { return r.rows }

// Value returns column j of row i.
func (r *Result) Value(i, j int) types.Value {
	c, row := r.locate(i)
	return c.Value(j, row)
}

// locate returns the chunk that holds row i and the row's place in it.
func (r *Result) locate(i int) (*vector.Chunk, int) {
	k := sort.Search(len(r.starts), func(k int) bool { return r.starts[k] > i }) - 1
	return r.chunks[k], i - r.starts[k]
}

// Row returns row i as values.
func (r *Result) Row(i int) []types.Value {
	out := make([]types.Value, len(r.Columns))
	c, row := r.locate(i)
	for j := range out {
		out[j] = c.Value(j, row)
	}
	return out
}

// Chunks calls f with each chunk of rows in order (no selection: row r of
// a chunk is its slot r), for clients that read columns directly.
func (r *Result) Chunks(f func(*vector.Chunk) error) error {
	for _, c := range r.chunks {
		if err := f(c); err != nil {
			return err
		}
	}
	return nil
}
