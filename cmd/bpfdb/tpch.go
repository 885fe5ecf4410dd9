package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/internal/tpch/dbgen"
)

const tpchUsage = `usage: bpfdb tpch <command> [flags]

commands:
  gen --sf X --dir D [--format duckdb|dbgen] [--threads N] [--quiet]
                     write the eight TPC-H tables as D/<table>.tbl, exactly
                     as the official dbgen 2.14 writes them for scale factor
                     X (0.01, 0.1, 1, 10, ...). --format duckdb (the default)
                     writes no trailing '|' and l_quantity as a decimal
                     (17.00), as ../shared/tpch holds them; --format dbgen
                     writes dbgen's own lines. A progress bar goes to stderr
                     unless --quiet.
  load --dir D --db FILE [--threads N]
                     create the eight tables in the database FILE (created
                     if absent) and COPY D/<table>.tbl into each; prints
                     rows and time per table.
  run --db FILE [--query N] [--form dates|interval|all] [--out DIR]
      [--check DIR] [--threads N] [--memory-limit SIZE] [--runs N]
      [--attach HOOK=POLICY|HOOK=FILE.o|defaults]... [--hook-engine E]
      [--no-programs]
                     run the 22 queries (or query N) --runs times each and
                     print the best and median time per query. --form
                     interval runs the specification's DATE + INTERVAL
                     texts of Q1, 4, 5, 6, 10, 12, 14, 15 and 20. --out
                     writes each answer to DIR/qNN.csv, the hooks after
                     the run (bpfdb_hooks()) to DIR/hooks.csv and each
                     query's hook invocations per run to
                     DIR/hook_calls.csv; --check compares each answer
                     with DIR/qNN.csv (as ../shared/tpch/answers holds
                     them) and exits 1 on a difference. --attach attaches
                     a program for the run only (defaults: every hook's
                     stock default policy).
`

func tpchCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		w := stderr
		if len(args) > 0 {
			w = stdout
		}
		fmt.Fprint(w, tpchUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "gen":
	case "load":
		return tpchLoad(args[1:], stdout, stderr)
	case "run":
		return tpchRun(args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "bpfdb tpch: unknown command %q: want gen, load or run (bpfdb tpch help)\n", args[0])
		return 2
	}
	fset := flag.NewFlagSet("bpfdb tpch gen", flag.ContinueOnError)
	fset.SetOutput(stderr)
	sf := fset.Float64("sf", 0, "scale factor (0.01, 0.1, 1, ...)")
	dir := fset.String("dir", "", "directory to write the .tbl files into (created if needed)")
	format := fset.String("format", "duckdb", "line format: duckdb or dbgen")
	threads := fset.Int("threads", runtime.NumCPU(), "goroutines generating rows")
	quiet := fset.Bool("quiet", false, "no progress bar")
	if err := fset.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fset.NArg() != 0 || *sf <= 0 || *dir == "" || *threads < 1 {
		fmt.Fprintln(stderr, "usage: bpfdb tpch gen --sf X --dir D [--format duckdb|dbgen] [--threads N] [--quiet]")
		return 2
	}
	f, err := dbgen.ParseFormat(*format)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch gen: --format: %v\n", err)
		return 2
	}
	g, err := dbgen.New(*sf, f)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch gen: %v\n", err)
		return 2
	}
	var progress dbgen.Progress
	if !*quiet {
		bar := &progressBar{w: stderr, start: time.Now()}
		progress = bar.update
		defer bar.finish()
	}
	if err := g.WriteDir(*dir, *threads, progress); err != nil {
		fmt.Fprintf(stderr, "bpfdb tpch gen: %v\n", err)
		return 1
	}
	return 0
}

// progressBar draws one line per table on w, redrawn in place with a
// carriage return, at most every 100 ms.
type progressBar struct {
	w     io.Writer
	start time.Time
	table dbgen.Table
	drawn time.Time
	open  bool
}

func (b *progressBar) update(t dbgen.Table, done, total int64) {
	if b.open && t != b.table {
		fmt.Fprintln(b.w)
		b.open = false
	}
	now := time.Now()
	if b.open && done < total && now.Sub(b.drawn) < 100*time.Millisecond {
		return
	}
	b.table, b.drawn, b.open = t, now, true
	const width = 30
	filled := 0
	if total > 0 {
		filled = int(done * width / total)
	}
	fmt.Fprintf(b.w, "\r%-9s [%s%s] %3d%%  %.1fs", t, strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		percent(done, total), time.Since(b.start).Seconds())
}

func (b *progressBar) finish() {
	if b.open {
		fmt.Fprintln(b.w)
	}
}

func percent(done, total int64) int64 {
	if total == 0 {
		return 100
	}
	return done * 100 / total
}
