package tpch

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/extensions"
)

var swapCycles = flag.Int("swap-cycles", 1000, "attach/replace/detach cycles of TestLiveSwap")

// needData skips t without the SF 0.01 data and answers, and returns the
// answers.
func needData(t *testing.T) map[int]*Answer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedData, "lineitem.tbl")); err != nil {
		t.Skipf("TPC-H SF 0.01 data not found at %s: it is part of ../shared", sharedData)
	}
	answers := map[int]*Answer{}
	for n := 1; n <= 22; n++ {
		a, err := ReadCSV(filepath.Join(sharedAnswers, fmt.Sprintf("q%02d.csv", n)))
		if err != nil {
			t.Skipf("TPC-H SF 0.01 answers: %v", err)
		}
		answers[n] = a
	}
	return answers
}

// checkQuiet checks that nothing is held when no query runs: only stored
// tables (and their metadata) are accounted.
func checkQuiet(t *testing.T, db *bpfdb.DB) {
	t.Helper()
	m := db.Memory()
	for tag, n := range m.Tags {
		if tag != "base_table" && tag != "metadata" && n != 0 {
			t.Errorf("%d bytes still accounted to %s with no query running (%+v)", n, tag, m)
		}
	}
}

// TestDefaultPrograms runs the 22 queries with every hook's default
// policy attached, under the interpreter and the JIT, on a database file
// whose memory limit makes scans evict and load blocks: the answers are
// the reference answers, every hook ran, none failed or was repaired.
func TestDefaultPrograms(t *testing.T) {
	answers := needData(t)
	engines := []bpfdb.HookEngine{bpfdb.EngineInterpreter}
	if bpfdb.JITSupported() {
		engines = append(engines, bpfdb.EngineJIT)
	}
	ctx := context.Background()
	for _, engine := range engines {
		t.Run(engine.String(), func(t *testing.T) {
			db := openLoaded(t, cell{threads: 2, memory: tinyFileMemory, file: true, engine: engine})
			defer db.Close()
			for _, h := range db.Hooks() {
				if err := db.AttachStock(h.Hook, "default", bpfdb.AttachOptions{Transient: true}); err != nil {
					t.Fatal(err)
				}
			}
			for _, q := range All() {
				res, _, err := Run(ctx, db, q)
				if err != nil {
					t.Fatalf("%s: %v", q.Name(), err)
				}
				if err := q.Check(answers[q.N], FromResult(res)); err != nil {
					t.Fatalf("%s: %v", q.Name(), err)
				}
			}
			for _, h := range db.Hooks() {
				t.Logf("%-18s %s calls=%d handled=%d errors=%d violations=%d time=%v", h.Hook, h.Engine, h.Calls, h.Handled, h.Errors, h.Violations, h.Time)
				if h.Source != "stock:"+h.Hook+"/default" || h.Engine != engine.String() {
					t.Errorf("%s: program %q from %q on %q, want the default on %s", h.Hook, h.Program, h.Source, h.Engine, engine)
				}
				if h.Calls == 0 || h.Errors != 0 || h.Violations != 0 {
					t.Errorf("%s: %d calls, %d errors, %d violations; want calls, no errors, no violations (last error %q)", h.Hook, h.Calls, h.Errors, h.Violations, h.LastError)
				}
			}
			checkQuiet(t, db)
		})
	}
}

// TestLiveSwap attaches, replaces and detaches programs at random hooks
// while clients run TPC-H queries on every thread: no query fails or
// answers wrongly, and afterwards nothing is held and no goroutine is
// left.
func TestLiveSwap(t *testing.T) {
	answers := needData(t)
	cycles := *swapCycles
	if testing.Short() || raceEnabled {
		cycles = 100
	}
	goroutines := runtime.NumGoroutine()
	db := openLoaded(t, cell{threads: 2, memory: tinyFileMemory, file: true})
	// The policies that keep answers and admit every allocation (a quota
	// may refuse one, by design).
	var policies []extensions.Policy
	for _, p := range extensions.List() {
		if p.Name != "quota" {
			policies = append(policies, p)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (BPFDB_SEED)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var ran, failed atomic.Int64
	var queries []Query
	for _, q := range All() {
		if q.N != 15 { // its view would clash between the clients
			queries = append(queries, q)
		}
	}
	for c := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; ctx.Err() == nil; i++ {
				q := queries[i%len(queries)]
				res, _, err := Run(context.Background(), db, q)
				if err == nil {
					err = q.Check(answers[q.N], FromResult(res))
				}
				if err != nil {
					failed.Add(1)
					t.Errorf("%s during swaps: %v", q.Name(), err)
					return
				}
				ran.Add(1)
			}
		}()
	}
	attached := map[string]bool{}
	var attaches, detaches int
	for range cycles {
		if failed.Load() > 0 {
			break
		}
		p := policies[rng.IntN(len(policies))]
		hook := p.Hook.String()
		if attached[hook] && rng.IntN(3) == 0 {
			if err := db.DetachProgram(hook); err != nil {
				t.Fatal(err)
			}
			attached[hook] = false
			detaches++
			continue
		}
		if err := db.AttachStock(hook, p.Name, bpfdb.AttachOptions{Transient: true}); err != nil {
			t.Fatal(err)
		}
		attached[hook] = true
		attaches++
	}
	cancel()
	wg.Wait()
	for hook, on := range attached {
		if on {
			if err := db.DetachProgram(hook); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d attaches or replaces, %d detaches; %d queries ran meanwhile", attaches, detaches, ran.Load())
	if ran.Load() == 0 && failed.Load() == 0 {
		t.Error("no query ran during the swaps")
	}
	checkQuiet(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after closing, %d before:\n%s", n, goroutines, buf[:runtime.Stack(buf, true)])
	}
}
