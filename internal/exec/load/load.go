package load

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// Format is the text format of the input.
type Format uint8

// The formats.
const (
	CSV Format = iota // RFC 4180: delimiter-separated, fields may be quoted with '"'
	TBL               // TPC-H dbgen: '|'-separated, an optional trailing '|', no quoting
)

// String returns the format's name ("csv").
func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case TBL:
		return "tbl"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Options say how to read the input.
type Options struct {
	// Format is CSV (the zero value) or TBL.
	Format Format
	// Delimiter separates CSV fields; 0 means ','. TBL always uses '|'.
	Delimiter byte
	// Header: the first record is a header row, skipped (CSV only).
	Header bool
	// NotNull[j] forbids NULLs (empty fields) in column j; nil allows them
	// everywhere. Otherwise it has one entry per column of the table.
	NotNull []bool
	// Threads is the number of parse workers; 0 means GOMAXPROCS.
	Threads int
	// BlockSize is the size of the blocks the input is cut into for the
	// workers (a block grows to hold at least one whole record); 0 means
	// DefaultBlockSize.
	BlockSize int
}

// DefaultBlockSize is the input block size when Options.BlockSize is 0.
const DefaultBlockSize = 1 << 20

// Stats describe a finished load.
type Stats struct {
	Rows  int64         // rows added to the table
	Bytes int64         // bytes of input read
	Time  time.Duration // wall time of the load
}

// String prints the stats with rates: "60175 rows, 7.5 MB in 40ms (1.5 M rows/s, 187 MB/s)".
func (s Stats) String() string {
	sec := s.Time.Seconds()
	if sec <= 0 {
		sec = 1e-9
	}
	return fmt.Sprintf("%d rows, %.1f MB in %v (%.2f M rows/s, %.0f MB/s)",
		s.Rows, float64(s.Bytes)/1e6, s.Time.Round(time.Millisecond), float64(s.Rows)/sec/1e6, float64(s.Bytes)/sec/1e6)
}

// ErrBadRow is wrapped by every *RowError, for errors.Is.
var ErrBadRow = errors.New("bad row")

// A RowError is a record of the input that cannot be loaded.
type RowError struct {
	Input  string // the input's name (a file's base name)
	Line   int    // 1-based line where the record starts
	Column int    // 1-based field number; 0 when the record as a whole is wrong
	Name   string // the column's name, when Column names one of the table's
	Field  string // the field's text, printed when its value is what is wrong
	Msg    string // what is wrong: "invalid DATE", "out of range for INTEGER", "unterminated quoted field"…

	value bool // the field's value is what is wrong: Error prints Field
}

// Error prints `load lineitem.tbl: line 1234, column 5 (l_quantity): "1x": invalid DECIMAL(15,2)`.
func (e *RowError) Error() string {
	s := fmt.Sprintf("load %s: line %d", e.Input, e.Line)
	if e.Column > 0 {
		s += fmt.Sprintf(", column %d", e.Column)
		if e.Name != "" {
			s += " (" + e.Name + ")"
		}
	}
	s += ": "
	if e.value {
		s += strconv.Quote(e.Field) + ": "
	}
	return s + e.Msg
}

// Unwrap returns ErrBadRow.
func (e *RowError) Unwrap() error { return ErrBadRow }

// File loads the file at path into t; errors name the file by its base name.
func File(t *table.Table, path string, opts Options) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, fmt.Errorf("load %s: %w", filepath.Base(path), err)
	}
	defer f.Close()
	return Reader(t, filepath.Base(path), f, opts)
}

// Reader loads the input r, called name in errors, into t. It appends
// through a staged appender: on success every row is published at once,
// on any error none is and the table is unchanged. It fails with
// table.ErrBusy if t has an open appender.
func Reader(t *table.Table, name string, r io.Reader, opts Options) (Stats, error) {
	start := time.Now()
	l, err := newLoader(t, name, opts)
	if err != nil {
		return Stats{}, err
	}
	a, err := t.NewStagedAppender()
	if err != nil {
		return Stats{}, fmt.Errorf("load %s: %w", name, err)
	}
	defer a.Close() // aborts unless committed
	rows, bytes, err := l.run(r, a)
	if err != nil {
		return Stats{}, err
	}
	if err := a.Commit(); err != nil {
		return Stats{}, fmt.Errorf("load %s: %w", name, err)
	}
	return Stats{Rows: rows, Bytes: bytes, Time: time.Since(start)}, nil
}

// newLoader checks opts against t and prepares a load of input name.
func newLoader(t *table.Table, name string, opts Options) (*loader, error) {
	cols := t.Columns()
	if opts.NotNull != nil && len(opts.NotNull) != len(cols) {
		return nil, fmt.Errorf("load %s: %d NOT NULL flags for the %d columns of table %s", name, len(opts.NotNull), len(cols), t.Name())
	}
	l := &loader{name: name, opts: opts, types: t.Types()}
	switch opts.Format {
	case CSV:
		l.delim, l.quoting = opts.Delimiter, true
		if l.delim == 0 {
			l.delim = ','
		}
		if l.delim == '"' || l.delim == '\n' || l.delim == '\r' {
			return nil, fmt.Errorf("load %s: delimiter %s cannot separate CSV fields", name, quoteByte(l.delim))
		}
	case TBL:
		l.delim = '|'
		if opts.Header {
			return nil, fmt.Errorf("load %s: a .tbl file has no header row", name)
		}
	default:
		return nil, fmt.Errorf("load %s: unknown format %v", name, opts.Format)
	}
	for j, c := range cols {
		lc := column{name: c.Name, typ: c.Type, id: c.Type.ID()}
		if lc.id == types.Decimal {
			lc.prec, lc.scale = c.Type.Precision(), c.Type.Scale()
		}
		if opts.NotNull != nil {
			lc.notNull = opts.NotNull[j]
		}
		l.cols = append(l.cols, lc)
	}
	return l, nil
}

// loader is one load: its configuration, read-only, and pools of chunks and
// buffers, shared by its goroutines.
type loader struct {
	name    string
	opts    Options
	delim   byte
	quoting bool
	cols    []column
	types   []types.Type

	chunks sync.Pool // *vector.Chunk of types
	bufs   sync.Pool // *[]byte: block buffers, returned once parsed (chunks copy what they keep)
}

// getBuf returns a buffer of length n for a block.
func (l *loader) getBuf(n int) []byte {
	if p, ok := l.bufs.Get().(*[]byte); ok && cap(*p) >= n {
		return (*p)[:n]
	}
	return make([]byte, n)
}

func (l *loader) putBuf(b []byte) { l.bufs.Put(&b) }

// block is a run of whole records of the input.
type block struct {
	seq  int
	data []byte // ends just past a newline, except the input's last block
}

// parsed is a worker's result for one block.
type parsed struct {
	seq    int
	chunks []*vector.Chunk
	lines  int       // newlines the block holds
	err    *RowError // Line relative to the block's first line (1-based)
}

func (l *loader) getChunk() *vector.Chunk {
	if c, ok := l.chunks.Get().(*vector.Chunk); ok {
		c.Reset()
		return c
	}
	return vector.NewChunk(l.types)
}

// run reads r, parses it on the workers and appends the chunks to a in
// input order. It returns the rows and bytes loaded.
func (l *loader) run(r io.Reader, a *table.Appender) (rows, nbytes int64, err error) {
	threads := l.opts.Threads
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	size := l.opts.BlockSize
	if size <= 0 {
		size = DefaultBlockSize
	}
	done := make(chan struct{})
	blocks := make(chan block, threads)
	results := make(chan parsed, threads)
	tokens := make(chan struct{}, 2*threads+2) // blocks in flight: bounds memory
	var wg sync.WaitGroup
	var readErr error
	var readBytes int64
	wg.Go(func() {
		defer close(blocks)
		readBytes, readErr = l.read(r, size, blocks, tokens, done)
	})
	var workers sync.WaitGroup
	for range threads {
		workers.Go(func() {
			for b := range blocks {
				p := l.parseBlock(b)
				l.putBuf(b.data)
				select {
				case results <- p:
				case <-done:
					return
				}
			}
		})
	}
	wg.Go(func() {
		workers.Wait()
		close(results)
	})
	defer func() {
		close(done)
		for range results { // let the workers finish
		}
		wg.Wait()
	}()

	pending := map[int]parsed{}
	next, line := 0, 0
	for p := range results {
		pending[p.seq] = p
		for {
			p, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if p.err != nil {
				e := *p.err
				e.Line += line
				return 0, 0, &e
			}
			for _, c := range p.chunks {
				rows += int64(c.Len())
				if err := a.Append(c); err != nil {
					return 0, 0, fmt.Errorf("load %s: %w", l.name, err)
				}
				l.chunks.Put(c)
			}
			line += p.lines
			<-tokens
		}
	}
	wg.Wait() // the reader has finished: readErr is set
	if readErr != nil {
		return 0, 0, fmt.Errorf("load %s: read: %w", l.name, readErr)
	}
	return rows, readBytes, nil
}

// read cuts r into blocks of whole records and sends them in order. Each
// block takes a token first, which the appender returns.
func (l *loader) read(r io.Reader, size int, out chan<- block, tokens chan struct{}, done <-chan struct{}) (int64, error) {
	var total int64
	var carry []byte
	for seq := 0; ; seq++ {
		select {
		case tokens <- struct{}{}:
		case <-done:
			return total, nil
		}
		buf := l.getBuf(max(size, 2*len(carry)))
		n := copy(buf, carry)
		eof := false
		for {
			m, err := io.ReadFull(r, buf[n:])
			n += m
			total += int64(m)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
				break
			}
			if err != nil {
				return total, err
			}
			if k := cut(buf[:n], l.quoting); k > 0 {
				carry = append(carry[:0], buf[k:n]...)
				n = k
				break
			}
			// No record ends in the buffer: grow it.
			bigger := l.getBuf(2 * len(buf))
			copy(bigger, buf[:n])
			l.putBuf(buf)
			buf = bigger
		}
		if eof {
			if n > 0 {
				select {
				case out <- block{seq: seq, data: buf[:n]}:
				case <-done:
				}
			}
			return total, nil
		}
		select {
		case out <- block{seq: seq, data: buf[:n]}:
		case <-done:
			return total, nil
		}
	}
}
