// Command bpfdb-charts draws the results of bpfdb bench tpch (the
// results.json its --out DIR holds) as charts in the same directory, PNG
// and SVG: the overhead of each configuration per query, and the hook
// invocations per query on a log scale. It is a command of its own so that
// the bpfdb binary does not carry a plotting library and its fonts.
//
//	go run ./cmd/bpfdb bench tpch --sf 1 --out results/
//	go run ./cmd/bpfdb-charts results/
package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// The charts' colours, one per configuration or hook.
var chartColors = []color.Color{
	color.RGBA{R: 0x4c, G: 0x72, B: 0xb0, A: 0xff},
	color.RGBA{R: 0xdd, G: 0x84, B: 0x52, A: 0xff},
	color.RGBA{R: 0x55, G: 0xa8, B: 0x68, A: 0xff},
	color.RGBA{R: 0xc4, G: 0x4e, B: 0x52, A: 0xff},
	color.RGBA{R: 0x81, G: 0x72, B: 0xb3, A: 0xff},
	color.RGBA{R: 0x93, G: 0x78, B: 0x60, A: 0xff},
	color.RGBA{R: 0xda, G: 0x8b, B: 0xc3, A: 0xff},
}

// barSeries is one series of a grouped bar chart.
type barSeries struct {
	name   string
	values []float64
}

// groupedBars draws series side by side for each label and saves the
// chart as dir/name.png and dir/name.svg.
func groupedBars(dir, name, title, ylabel string, labels []string, series []barSeries, logY bool) error {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	w := vg.Points(math.Max(2, 60/float64(len(series)*max(len(labels), 1))*6))
	for i, s := range series {
		vs := make(plotter.Values, len(s.values))
		for j, v := range s.values {
			if logY {
				v = math.Log10(math.Max(v, 1)) // bars start at 0, which a log axis cannot show: plot the logarithm
			}
			vs[j] = v
		}
		bars, err := plotter.NewBarChart(vs, w)
		if err != nil {
			return fmt.Errorf("chart %s: %w", name, err)
		}
		bars.LineStyle.Width = 0
		bars.Color = chartColors[i%len(chartColors)]
		bars.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * w
		p.Add(bars)
		p.Legend.Add(s.name, bars)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.NominalX(labels...)
	p.Y.Max += 0.45 * (p.Y.Max - math.Min(p.Y.Min, 0)) // room for the legend above the bars
	width := vg.Length(math.Max(6, float64(len(labels))*0.45)) * vg.Inch
	for _, ext := range []string{".png", ".svg"} {
		if err := p.Save(width, 4*vg.Inch, filepath.Join(dir, name+ext)); err != nil {
			return fmt.Errorf("chart %s: %w", name, err)
		}
	}
	return nil
}

// benchResult is one query of results.json (cmd/bpfdb's benchResult).
type benchResult struct {
	Query string                     `json:"query"`
	Times map[string][]time.Duration `json:"times_ns"`
	Calls map[string]uint64          `json:"hook_calls_per_run"`
}

// benchConfigs are bench tpch's configurations, the baseline first.
var benchConfigs = []string{"nohooks", "hooks", "interpreter", "jit"}

func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bpfdb-charts DIR (the --out directory of bpfdb bench tpch)")
		os.Exit(2)
	}
	dir := os.Args[1]
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bpfdb-charts: %v\n", err)
		os.Exit(1)
	}
	var results []*benchResult
	if err := json.Unmarshal(b, &results); err != nil {
		fmt.Fprintf(os.Stderr, "bpfdb-charts: %s: %v\n", filepath.Join(dir, "results.json"), err)
		os.Exit(1)
	}
	if err := benchCharts(dir, results); err != nil {
		fmt.Fprintf(os.Stderr, "bpfdb-charts: %v\n", err)
		os.Exit(1)
	}
}

// benchCharts draws bench tpch's results: the overhead of each
// configuration per query, and the hook invocations per query (log scale).
func benchCharts(dir string, results []*benchResult) error {
	var labels []string
	for _, r := range results {
		labels = append(labels, r.Query)
	}
	var over []barSeries
	for _, c := range benchConfigs[1:] {
		s := barSeries{name: c}
		for _, r := range results {
			base := medianOf(r.Times["nohooks"]).Seconds()
			v := 0.0
			if base > 0 {
				v = 100 * (medianOf(r.Times[c]).Seconds() - base) / base
			}
			s.values = append(s.values, v)
		}
		over = append(over, s)
	}
	if err := groupedBars(dir, "overhead", "Overhead against the nohooks build (median per query)", "%", labels, over, false); err != nil {
		return err
	}
	var calls []barSeries
	for _, h := range []string{"hash", "execute_forever", "schedule_task", "load", "update_used_memory", "allocate_new_block", "unpin"} {
		s := barSeries{name: h}
		for _, r := range results {
			s.values = append(s.values, float64(r.Calls[h]))
		}
		calls = append(calls, s)
	}
	return groupedBars(dir, "invocations", "Hook invocations per query run (default programs)", "log10 invocations", labels, calls, true)
}
