package order_test

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/exec/order"
	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// TestGolden runs testdata/order.txt: each case sorts a table (vector's
// text form) and shows the sort's EXPLAIN text and the rows, which must be
// the same at 1 and 2 threads and with chunks of 1 row.
//
//	sort <key>... [limit=N] [offset=N]      key: column[:desc][:nullsfirst]
//	<table>
//	----
//	<explain text>
//	<rows>
func TestGolden(t *testing.T) {
	datadriven.Run(t, "testdata/order.txt", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		if c.Cmd != "sort" {
			t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
		}
		in, err := vector.ParseTable(strings.Join(c.Input, "\n"))
		if err != nil {
			t.Fatalf("line %d: %v", c.Line, err)
		}
		opts := order.Options{Limit: -1}
		var keys []order.Key
		for _, a := range c.Args {
			if v, ok := strings.CutPrefix(a, "limit="); ok {
				opts.Limit, _ = strconv.ParseInt(v, 10, 64)
				continue
			}
			if v, ok := strings.CutPrefix(a, "offset="); ok {
				opts.Offset, _ = strconv.ParseInt(v, 10, 64)
				continue
			}
			parts := strings.Split(a, ":")
			col, err := strconv.Atoi(parts[0])
			if err != nil {
				t.Fatalf("line %d: key %q", c.Line, a)
			}
			k := order.Key{Column: col}
			for _, p := range parts[1:] {
				k.Desc = k.Desc || p == "desc"
				k.NullsFirst = k.NullsFirst || p == "nullsfirst"
			}
			keys = append(keys, k)
		}
		s, err := order.New(in.Types(), keys, opts)
		if err != nil {
			return "error: " + err.Error()
		}
		rows := vectortest.Collect(in)
		var first string
		for i, cfg := range []struct {
			threads int
			batch   vectortest.Config
		}{{1, vectortest.Config{BatchSize: vector.Size}}, {2, vectortest.Config{BatchSize: 1}}, {2, vectortest.Config{BatchSize: 2, Selection: true}}} {
			src := newChunkSource(vectortest.Rand(t), in.Types(), rows, cfg.batch)
			got := vectortest.Format(sortRows(t, cfg.threads, src, s))
			if i == 0 {
				first = got
			} else if got != first {
				t.Fatalf("line %d: %d threads, %v: got\n%s\nwant\n%s", c.Line, cfg.threads, cfg.batch, got, first)
			}
		}
		return fmt.Sprintf("%s\n%s", s, first)
	})
}
