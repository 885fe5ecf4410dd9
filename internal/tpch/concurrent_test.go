package tpch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// TestConcurrentClients runs the 22 queries from four goroutines at once on
// one database, each in its own shuffled order, while a fifth keeps
// inserting into a table of its own; every answer must match the
// reference. (A DB's methods are safe for concurrent use.)
func TestConcurrentClients(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	answers := map[int]*Answer{}
	for n := 1; n <= 22; n++ {
		a, err := ReadCSV(filepath.Join(sharedAnswers, fmt.Sprintf("q%02d.csv", n)))
		if err != nil {
			t.Skipf("TPC-H SF 0.01 answers not found at %s: %v", sharedAnswers, err)
		}
		answers[n] = a
	}
	db := openLoaded(t, cell{threads: 2})
	defer db.Close()
	ctx := context.Background()
	if err := db.Exec(ctx, "CREATE TABLE side (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	seed := vectortest.Seed(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := rand.New(rand.NewPCG(seed, uint64(c))).Perm(22)
			for _, i := range order {
				q, _ := Get(i+1, Dates)
				res, _, err := Run(ctx, db, q)
				if err == nil {
					err = q.Check(answers[q.N], FromResult(res))
				}
				if err != nil {
					errs <- fmt.Errorf("client %d: %w", c, err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 50 {
			if err := db.Exec(ctx, fmt.Sprintf("INSERT INTO side VALUES (%d)", i)); err != nil {
				errs <- fmt.Errorf("writer: %w", err)
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	res, err := db.Query(ctx, "SELECT count(*), sum(n) FROM side")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Row(0)); got != "[50 1225]" {
		t.Errorf("side holds %s, want [50 1225]", got)
	}
}

// TestCopyIsAtomicToReaders copies lineitem three times while two readers
// count its rows: a reader sees whole copies only, never part of one.
func TestCopyIsAtomicToReaders(t *testing.T) {
	path := filepath.Join(sharedData, "lineitem.tbl")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	db := openLoaded(t, cell{threads: 2})
	defer db.Close()
	ctx := context.Background()
	var lineitem Table
	for _, tb := range Tables {
		if tb.Name == "lineitem" {
			lineitem = tb
		}
	}
	lineitem.Name = "lineitem_copy"
	if err := db.Exec(ctx, lineitem.CreateSQL()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := db.Query(ctx, "SELECT count(*) FROM lineitem_copy")
				if err != nil {
					errs <- fmt.Errorf("reader %d: %w", r, err)
					return
				}
				if n := res.Value(0, 0).Int64(); n%60175 != 0 {
					errs <- fmt.Errorf("reader %d saw %d rows, not a whole number of copies of 60175", r, n)
					return
				}
			}
		}()
	}
	for range 3 {
		if err := db.Exec(ctx, CopySQL("lineitem_copy", path)); err != nil {
			t.Error(err)
		}
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCancel stops a query that would run for hours (a cross join of
// lineitem with itself) through its context, then runs a query on the same
// database.
func TestCancel(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	if raceEnabled {
		// A cancelled query stops at its next chunk; under the race
		// detector one chunk of this nested-loop join (2048 × 60,175
		// pairs) takes longer than the test's minute.
		t.Skip("cancellation latency is not measurable under the race detector")
	}
	db := openLoaded(t, cell{threads: 2})
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := db.Query(ctx, "SELECT count(*) FROM lineitem a, lineitem b WHERE a.l_orderkey + b.l_orderkey = -1")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("cancelled query returned %v, want context.DeadlineExceeded", err)
		}
		t.Logf("the query returned %v after it started, its deadline 200ms", time.Since(start).Round(time.Millisecond))
	case <-time.After(time.Minute):
		t.Fatal("the query did not stop a minute after its context ended")
	}
	q, _ := Get(6, Dates)
	res, _, err := Run(context.Background(), db, q)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReadCSV(filepath.Join(sharedAnswers, "q06.csv"))
	if err != nil {
		t.Skipf("answers not found: %v", err)
	}
	if err := q.Check(want, FromResult(res)); err != nil {
		t.Error(err)
	}
}
