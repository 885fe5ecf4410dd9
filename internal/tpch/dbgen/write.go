package dbgen

import (
	"bufio"
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
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	total := g.DrivingRows(t)
	if t == Region || t == Nation || t == Supplier {
		workers = 1
	}
	textPool() // build the pool once, before the workers race for it

	// Chunks are handed out in order; each carries its own reply channel, and
	// the replies are queued in the same order, so the writer below receives
	// chunks in order while up to cap(queue) of them are generated ahead.
	type job struct {
		first, n int64
		reply    chan []byte
	}
	jobs := make(chan job)
	queue := make(chan job, 2*workers)
	stop := make(chan struct{})
	go func() {
		defer close(jobs)
		defer close(queue)
		for first := int64(1); first <= total; first += chunkRows {
			j := job{first, min(chunkRows, total-first+1), make(chan []byte, 1)}
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
	// Written buffers are recycled; at most cap(queue)+workers exist.
	free := make(chan []byte, 3*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				j.reply <- g.AppendRows(buf[:0], t, j.first, j.n)
			}
		}()
	}
	var err error
	var done int64
	for j := range queue {
		buf := <-j.reply
		if _, werr := w.Write(buf); werr != nil {
			err = fmt.Errorf("write %s rows %d..%d: %w", t, j.first, j.first+j.n-1, werr)
			break
		}
		select {
		case free <- buf:
		default:
		}
		done += j.n
		if progress != nil {
			progress(t, done, total)
		}
	}
	close(stop)
	wg.Wait()
	return err
}

// WriteDir writes every table as dir/<table>.tbl (creating dir if needed).
func (g *Generator) WriteDir(dir string, workers int, progress Progress) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write tpch tables: %w", err)
	}
	for _, t := range AllTables {
		if err := g.writeFile(filepath.Join(dir, t.String()+".tbl"), t, workers, progress); err != nil {
			return err
		}
	}
	return nil
}

func (g *Generator) writeFile(path string, t Table, workers int, progress Progress) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", t, err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = g.WriteTable(bw, t, workers, progress)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
