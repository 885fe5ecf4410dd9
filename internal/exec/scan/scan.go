package scan

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Options say what a scan reads.
type Options struct {
	// Columns are the indexes of the table's columns to read, in the order
	// the chunks hold them; nil means all.
	Columns []int
	// Filters are pushed-down predicates `column op constant` (column
	// indexes are the table's, not the chunk's) that skip row groups by their
	// zone maps and drop the rows that fail them (table.ScanOptions'
	// FilterRows): the chunks carry the survivors as their selection.
	Filters []table.Filter
}

// Stats count what one run of a scan did.
type Stats struct {
	// Morsels is the number of morsels the run offered (row groups or
	// parts of them).
	Morsels int
	// RowGroups counts the row groups read, Skipped those the zone maps
	// ruled out, Rows the rows produced.
	RowGroups, Skipped int
	Rows               int64
	// Dropped counts the rows of the row groups read that the filters
	// dropped inside the scan.
	Dropped int64
	// Sets lists the set filters of the run (AddSetFilter) as
	// table.SetFilter prints them; "" if none.
	Sets string
}

// String prints the stats as "rows=… rowgroups=… skipped=…", then
// " sets=[…]" if the run had set filters.
func (st Stats) String() string {
	s := fmt.Sprintf("rows=%d rowgroups=%d skipped=%d", st.Rows, st.RowGroups, st.Skipped)
	if st.Sets != "" {
		s += " sets=" + st.Sets
	}
	return s
}

// Source is a parallel.Source scanning one table: the row groups published
// when the pipeline run starts, each cut into morsels of at most
// MorselVectors vectors (a full row group of 60 vectors into two), in row
// order. A Source may be run many times, not concurrently.
type Source struct {
	t       *table.Table
	cols    []int
	filters []table.Filter
	types   []types.Type
	sets    []setSource
	last    atomic.Pointer[state]
}

// setSource is a registered provider of a set filter on output column col.
type setSource struct {
	col int
	get SetFunc
}

// A SetFunc returns a set of integer values as table.SetFilter holds one:
// lo ≤ x ≤ hi and, if bits is not nil, bit x−lo of bits set; ok false if
// it has none (every row passes).
type SetFunc func() (lo, hi int64, bits []uint64, ok bool)

// AddSetFilter makes every run keep only the rows whose value of output
// column col (an INTEGER, BIGINT or DATE column) is in the set get returns
// when the run starts: a hash join whose build side was complete before
// this pipeline started passes its keys, so that rows without a match are
// dropped inside the scan, before the other columns are decoded. Call it
// before the first run.
func (s *Source) AddSetFilter(col int, get SetFunc) error {
	if col < 0 || col >= len(s.cols) {
		return fmt.Errorf("scan %s: set filter on column %d of %d", s.t.Name(), col, len(s.cols))
	}
	switch id := s.types[col].ID(); id {
	case types.Integer, types.BigInt, types.Date:
	default:
		return fmt.Errorf("scan %s: set filter on column %d of type %v", s.t.Name(), col, s.types[col])
	}
	s.sets = append(s.sets, setSource{col: col, get: get})
	return nil
}

var _ parallel.Source = (*Source)(nil)

// New returns a scan of t. Column indexes and filters are checked here (by
// the table's own rules), so a run fails only on damaged data.
func New(t *table.Table, opts Options) (*Source, error) {
	sc, err := t.Scan(table.ScanOptions{Columns: opts.Columns, Filters: opts.Filters, End: 0})
	if err != nil {
		return nil, err
	}
	sc.Close() // read for its checks and types only
	s := &Source{t: t, cols: slices.Clone(opts.Columns), filters: slices.Clone(opts.Filters), types: sc.Types()}
	if s.cols == nil {
		for j := range t.Columns() {
			s.cols = append(s.cols, j)
		}
	}
	return s, nil
}

// Table returns the scanned table.
func (s *Source) Table() *table.Table { return s.t }

// Types returns the types of the columns read, in chunk order.
func (s *Source) Types() []types.Type { return slices.Clone(s.types) }

// String describes the scan as EXPLAIN prints it:
// "scan lineitem [4 10] filters [#10 >= 1994-01-01]".
func (s *Source) String() string {
	str := fmt.Sprintf("scan %s %v", s.t.Name(), s.cols)
	if len(s.filters) > 0 {
		str += fmt.Sprintf(" filters %v", s.filters)
	}
	return str
}

// Stats returns what the latest run did (so far, if it is still running);
// the zero Stats before the first run.
func (s *Source) Stats() Stats {
	st := s.last.Load()
	if st == nil {
		return Stats{}
	}
	return Stats{
		Morsels:   st.morsels,
		RowGroups: int(st.rowGroups.Load()),
		Skipped:   int(st.skipped.Load()),
		Rows:      st.rows.Load(),
		Dropped:   st.dropped.Load(),
		Sets:      st.setsText,
	}
}

// MorselVectors is the most vectors of a morsel: smaller than a row group,
// so that a table of one or two row groups keeps two threads busy and the
// last morsels of a big one end at about the same time.
const MorselVectors = 30

// A morsel is vectors [first, end) of row group group (end 0: to its last).
type morsel struct{ group, first, end int }

// Init starts a run over the row groups published now; row groups
// appended during the run are not read.
func (s *Source) Init(*parallel.Producer) (parallel.SourceState, error) {
	st := &state{s: s}
	for _, ss := range s.sets {
		if lo, hi, bits, ok := ss.get(); ok {
			st.sets = append(st.sets, table.SetFilter{Column: s.cols[ss.col], Min: lo, Max: hi, Bits: bits})
		}
	}
	if len(st.sets) > 0 {
		st.setsText = fmt.Sprint(st.sets)
	}
	for g, rows := range s.t.RowGroupRows() {
		vectors := (rows + vector.Size - 1) / vector.Size
		parts := (vectors + MorselVectors - 1) / MorselVectors
		if parts <= 1 {
			st.list = append(st.list, morsel{group: g})
			continue
		}
		for p := range parts {
			// Equal parts: vectors·p/parts to vectors·(p+1)/parts.
			m := morsel{group: g, first: vectors * p / parts, end: vectors * (p + 1) / parts}
			if p == parts-1 {
				m.end = 0
			}
			st.list = append(st.list, m)
		}
	}
	st.morsels = len(st.list)
	s.last.Store(st)
	return st, nil
}

// state is one run's global state: the morsels and the counters that
// tasks add their scanners' stats to.
type state struct {
	s                  *Source
	sets               []table.SetFilter // of this run
	setsText           string
	list               []morsel
	morsels            int
	rowGroups, skipped atomic.Int64
	rows, dropped      atomic.Int64
}

func (st *state) Morsels() int { return st.morsels }

func (st *state) NewLocal() (parallel.SourceLocal, error) {
	return &local{st: st, morsel: -1}, nil
}

// local is a task's scan: the scanner of the morsel it is reading.
type local struct {
	st     *state
	morsel int
	sc     *table.Scanner
	// next holds the rows of a vector read ahead to fill a small chunk,
	// and held is set while they did not fit and wait for the next call.
	next *vector.Chunk
	held bool
}

// compactBelow is the size under which a chunk that the scan's filters
// thinned out takes in the survivors of the morsel's following vectors
// (until it holds compactBelow rows or the next vector's do not fit).
// Every operator downstream pays for a chunk besides its rows (a hash
// call per key column, a hook call if a Hash program is attached); a
// selective filter otherwise sends on a chunk of a few rows per vector
// read. DuckDB caches small chunks after a join for the same reason.
const compactBelow = vector.Size / 8

// Scan fills out with the next rows of morsel m that pass the filters: a
// vector's, or several vectors' if the filters left few. A row group the
// zone maps skip yields no rows and more = false.
func (l *local) Scan(m int, out *vector.Chunk) (bool, error) {
	if l.sc == nil || l.morsel != m {
		l.flush()
		s := l.st.s
		ms := l.st.list[m]
		sc, err := s.t.Scan(table.ScanOptions{
			Columns: s.cols, Filters: s.filters, FilterRows: true, Sets: l.st.sets,
			Start: ms.group, End: ms.group + 1, FirstVector: ms.first, EndVector: ms.end,
		})
		if err != nil {
			return false, err
		}
		l.sc, l.morsel = sc, m
	}
	if l.held {
		l.held = false
		out.Append(l.next)
	} else if more, err := l.read(out); !more {
		return false, err
	}
	for out.Len() < compactBelow {
		if l.next == nil {
			l.next = l.sc.NewChunk()
		}
		if more, err := l.read(l.next); !more {
			// The rows in out are the morsel's last.
			return false, err
		}
		if out.Len()+l.next.Len() > vector.Size {
			l.held = true
			break
		}
		out.Flatten()
		out.Append(l.next)
	}
	return true, nil
}

// read reads the scanner's next vector of rows into c and reports whether
// it did; at the morsel's end or an error it drops the scanner.
func (l *local) read(c *vector.Chunk) (bool, error) {
	ok, err := l.sc.Next(c)
	if err != nil || !ok {
		l.flush()
		return false, err
	}
	return true, nil
}

// flush adds the current scanner's stats to the run's, closes it (a
// scanner keeps the blocks it reads pinned between vectors) and drops it.
func (l *local) flush() {
	if l.sc == nil {
		return
	}
	l.sc.Close()
	l.held = false
	st := l.sc.Stats()
	l.st.rowGroups.Add(int64(st.RowGroups))
	l.st.skipped.Add(int64(st.Skipped))
	l.st.rows.Add(st.Rows)
	l.st.dropped.Add(st.Dropped)
	l.sc = nil
}

// Close accounts a morsel left unfinished (an operator Finished early).
func (l *local) Close() error {
	l.flush()
	return nil
}

// IntRange returns the least and greatest value of output column col (an
// INTEGER, BIGINT or DATE column) in the table's zone maps now
// (table.Table.IntRange); rows appended later may lie outside it.
func (s *Source) IntRange(col int) (lo, hi int64, ok bool) {
	if col < 0 || col >= len(s.cols) {
		return 0, 0, false
	}
	return s.t.IntRange(s.cols[col])
}
