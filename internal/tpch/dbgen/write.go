package dbgen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// chunkRows is the number of driving rows one goroutine generates at a time.
const chunkRows = 8192

// Progress is called after each chunk of a table is written, with the
// driving rows done so far and in total (see DrivingRows). It is called from
// one goroutine at a time.
type Progress func(t Table, done, total int64)

// WriteTable writes all rows of table t to w, generating chunks on up to
// `workers` goroutines (GOMAXPROCS when workers < 1) and writing them in
// order. progress may be nil.
func (g *Generator) WriteTable(w io.Writer, t Table, workers int, progress Progress) error {
	gen := func(b [][]byte, first, n int64) { b[0] = g.AppendRows(b[0][:0], t, first, n) }
	return g.writeChunks([]io.Writer{w}, []Table{t}, workers, gen, progress)
}

// writeChunks writes the rows of tables (all driven by the same table) to
// ws, one writer per table, chunk by chunk: gen fills one buffer per table
// with driving rows first..first+n-1.
func (g *Generator) writeChunks(ws []io.Writer, tables []Table, workers int, gen func(bufs [][]byte, first, n int64), progress Progress) error {
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	total := g.DrivingRows(tables[0])
	if total < 4*chunkRows {
		workers = 1
	}
	g.textPool() // build the pool once, before the workers race for it

	// Chunks are handed out in order; each carries its own reply channel, and
	// the replies are queued in the same order, so the writer below receives
	// chunks in order while up to cap(queue) of them are generated ahead.
	type job struct {
		first, n int64
		reply    chan [][]byte
	}
	jobs := make(chan job)
	queue := make(chan job, 2*workers)
	stop := make(chan struct{})
	go func() {
		defer close(jobs)
		defer close(queue)
		for first := int64(1); first <= total; first += chunkRows {
			j := job{first, min(chunkRows, total-first+1), make(chan [][]byte, 1)}
			select {
			case queue <- j:
			case <-stop:
				return
			}
			select {
			case jobs <- j:
			case <-stop:
				return
			}
		}
	}()
	// Written buffers are recycled; at most cap(queue)+workers sets exist.
	free := make(chan [][]byte, 3*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var bufs [][]byte
				select {
				case bufs = <-free:
				default:
					bufs = make([][]byte, len(ws))
				}
				gen(bufs, j.first, j.n)
				j.reply <- bufs
			}
		}()
	}
	var err error
	var done int64
	for j := range queue {
		bufs := <-j.reply
		for i, w := range ws {
			if _, werr := w.Write(bufs[i]); werr != nil {
				err = fmt.Errorf("write %s rows driven by %d..%d: %w", tables[i], j.first, j.first+j.n-1, werr)
				break
			}
		}
		if err != nil {
			break
		}
		select {
		case free <- bufs:
		default:
		}
		done += j.n
		if progress != nil {
			for _, t := range tables {
				progress(t, done, total)
			}
		}
	}
	close(stop)
	wg.Wait()
	return err
}

// WriteDir writes every table as dir/<table>.tbl (creating dir if needed).
// Orders and lineitem are generated together, each order once.
func (g *Generator) WriteDir(dir string, workers int, progress Progress) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write tpch tables: %w", err)
	}
	for _, t := range []Table{Region, Nation, Supplier, Customer, Part, PartSupp} {
		gen := func(b [][]byte, first, n int64) { b[0] = g.AppendRows(b[0][:0], t, first, n) }
		if err := g.writeFiles(dir, []Table{t}, workers, gen, progress); err != nil {
			return err
		}
	}
	gen := func(b [][]byte, first, n int64) {
		b[0], b[1] = g.AppendOrdersLineitems(b[0][:0], b[1][:0], first, n)
	}
	return g.writeFiles(dir, []Table{Orders, Lineitem}, workers, gen, progress)
}

// writeFiles creates dir/<table>.tbl for each of tables and fills them.
func (g *Generator) writeFiles(dir string, tables []Table, workers int, gen func([][]byte, int64, int64), progress Progress) (err error) {
	var files []*os.File
	var ws []io.Writer
	var bws []*bufio.Writer
	defer func() {
		for _, f := range files {
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("write %s: %w", f.Name(), cerr)
			}
		}
	}()
	for _, t := range tables {
		f, err := os.Create(filepath.Join(dir, t.String()+".tbl"))
		if err != nil {
			return fmt.Errorf("write %s: %w", t, err)
		}
		files = append(files, f)
		bw := bufio.NewWriterSize(f, 1<<20)
		bws = append(bws, bw)
		ws = append(ws, bw)
	}
	if err := g.writeChunks(ws, tables, workers, gen, progress); err != nil {
		return fmt.Errorf("write %s: %w", files[0].Name(), err)
	}
	var errs []error
	for i, bw := range bws {
		if err := bw.Flush(); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", files[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}
