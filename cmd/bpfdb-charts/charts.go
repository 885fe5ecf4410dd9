// Command bpfdb-charts draws the results of bpfdb's benchmarks as charts,
// PNG and SVG, in the directory that holds them: from bench tpch's
// results.json, the overhead of each configuration per query and the hook
// invocations per query (log scale); from bench reconfig's reconfig.json,
// each policy's live attach against a restart; from bench footprint's
// footprint.json, the binary, the process's resident memory and the
// memory the extension runtime holds, against the bars; from
// bench/duckdb's duckdb.json, bpfdb's time over DuckDB's per query. It is
// a command of its own so that the bpfdb binary does not carry a plotting
// library and its fonts.
//
//	go run ./cmd/bpfdb bench tpch --sf 1 --out results/
//	go run ./cmd/bpfdb-charts results/
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
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
	name   string // in the legend; "" for none
	values []float64
	color  color.Color // nil: the series' place in chartColors
}

// groupedBars draws series side by side for each label and saves the
// chart as dir/name.png and dir/name.svg.
func groupedBars(dir, name, title, ylabel string, labels []string, series []barSeries, logY bool) error {
	p, err := barPlot(title, ylabel, labels, series, logY, 0)
	if err != nil {
		return fmt.Errorf("chart %s: %w", name, err)
	}
	width := vg.Length(math.Max(6, float64(len(labels))*0.45)) * vg.Inch
	return save(dir, name, width, 4*vg.Inch, p)
}

// barPlot returns the plot of groupedBars, its bars w wide (0: a width
// for a chart of 0.45 inches per label).
func barPlot(title, ylabel string, labels []string, series []barSeries, logY bool, w vg.Length) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	if w == 0 {
		w = vg.Points(math.Min(20, math.Max(2, 360/float64(len(series)*max(len(labels), 1)))))
	}
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
			return nil, err
		}
		bars.LineStyle.Width = 0
		bars.Color = s.color
		if bars.Color == nil {
			bars.Color = chartColors[i%len(chartColors)]
		}
		bars.Offset = vg.Length(float64(i)-float64(len(series)-1)/2) * w
		p.Add(bars)
		if s.name != "" {
			p.Legend.Add(s.name, bars)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.NominalX(labels...)
	if longest(labels) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	if len(series) > 1 || series[0].name != "" {
		p.Y.Max += 0.45 * (p.Y.Max - math.Min(p.Y.Min, 0)) // room for the legend above the bars
	}
	return p, nil
}

// save draws plots side by side, each in a tile of its own, and writes
// them as dir/name.png and dir/name.svg.
func save(dir, name string, width, height vg.Length, plots ...*plot.Plot) error {
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Points(12), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(4)}
	render := func(c vg.CanvasWriterTo, ext string) error {
		dc := draw.New(c)
		for i, tile := range plot.Align([][]*plot.Plot{plots}, tiles, dc)[0] {
			plots[i].Draw(tile)
		}
		f, err := os.Create(filepath.Join(dir, name+ext))
		if err != nil {
			return err
		}
		if _, err := c.WriteTo(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	if err := render(vgimg.PngCanvas{Canvas: vgimg.New(width, height)}, ".png"); err != nil {
		return fmt.Errorf("chart %s: %w", name, err)
	}
	if err := render(vgsvg.New(width, height), ".svg"); err != nil {
		return fmt.Errorf("chart %s: %w", name, err)
	}
	return nil
}

// benchReport is bench tpch's results.json: the configurations measured
// (nohooks first), the hooks with programs, and each query's times and
// invocations.
type benchReport struct {
	SF        float64        `json:"sf"`
	Configs   []string       `json:"configs"`
	Hooks     []string       `json:"hooks"`
	CallsFrom string         `json:"calls_from"`
	Queries   []*benchResult `json:"queries"`
}

// benchResult is one query of results.json (cmd/bpfdb's benchResult).
type benchResult struct {
	Query string                     `json:"query"`
	Times map[string][]time.Duration `json:"times_ns"`
	Calls map[string]uint64          `json:"hook_calls_per_run"`
}

// benchConfigs are bench tpch's configurations, the baseline first.
var benchConfigs = []string{"nohooks", "hooks", "interpreter", "jit"}

// allHooks are the seven hooks in order.
var allHooks = []string{"hash", "execute_forever", "schedule_task", "load", "update_used_memory", "allocate_new_block", "unpin"}

// readBenchReport decodes results.json. Before bench tpch had --configs
// and --hooks, the file was the list of queries alone, measured in all
// four configurations with all seven hooks' programs (the committed SF 1
// run has that form); both forms are read.
func readBenchReport(b []byte) (*benchReport, error) {
	var r benchReport
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		r.Configs, r.Hooks, r.CallsFrom = benchConfigs, allHooks, "jit"
		return &r, json.Unmarshal(b, &r.Queries)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	if len(r.Configs) == 0 || r.Configs[0] != "nohooks" {
		return nil, fmt.Errorf("configs %q: want the nohooks baseline first", r.Configs)
	}
	if len(r.Queries) == 0 {
		return nil, errors.New("no queries")
	}
	return &r, nil
}

func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// drawBench draws bench tpch's results: the overhead of each
// configuration per query, and the hook invocations per query (log
// scale) when a configuration attached programs.
func drawBench(dir string, data []byte) error {
	r, err := readBenchReport(data)
	if err != nil {
		return err
	}
	var labels []string
	for _, q := range r.Queries {
		labels = append(labels, q.Query)
	}
	var over []barSeries
	for _, c := range r.Configs[1:] {
		// The colour of the configuration's place among all three, the
		// same in every chart.
		s := barSeries{name: c, color: chartColors[max(slices.Index(benchConfigs[1:], c), 0)%len(chartColors)]}
		for _, q := range r.Queries {
			base := medianOf(q.Times["nohooks"]).Seconds()
			v := 0.0
			if base > 0 {
				v = 100 * (medianOf(q.Times[c]).Seconds() - base) / base
			}
			s.values = append(s.values, v)
		}
		over = append(over, s)
	}
	if len(over) == 0 {
		return errors.New("only the nohooks configuration: no overhead to draw")
	}
	title := "Overhead against the nohooks build (median per query)"
	if len(r.Hooks) != len(allHooks) {
		title += "; programs on " + strings.Join(r.Hooks, ", ")
	}
	if err := groupedBars(dir, "overhead", title, "%", labels, over, false); err != nil {
		return err
	}
	if r.CallsFrom == "" {
		return nil
	}
	var calls []barSeries
	for _, h := range r.Hooks {
		s := barSeries{name: h, color: chartColors[max(slices.Index(allHooks, h), 0)%len(chartColors)]}
		for _, q := range r.Queries {
			s.values = append(s.values, float64(q.Calls[h]))
		}
		calls = append(calls, s)
	}
	return groupedBars(dir, "invocations", "Hook invocations per query run (default programs)", "log10 invocations", labels, calls, true)
}

// reconfigReport is bench reconfig's reconfig.json.
type reconfigReport struct {
	Restart  time.Duration `json:"restart_ns"`
	Policies []struct {
		Policy string        `json:"policy"`
		Median time.Duration `json:"median_ns"`
	} `json:"policies"`
}

// drawReconfig draws each stock policy's median live attach against a
// restart to the warm state, in milliseconds on a log axis.
func drawReconfig(dir string, data []byte) error {
	var r reconfigReport
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	if r.Restart <= 0 || len(r.Policies) == 0 {
		return errors.New("no restart time or no policies")
	}
	labels := []string{"restart"}
	s := barSeries{name: "log10 ms", values: []float64{r.Restart.Seconds() * 1000}}
	for _, p := range r.Policies {
		labels = append(labels, p.Policy)
		s.values = append(s.values, p.Median.Seconds()*1000)
	}
	for i, v := range s.values {
		s.values[i] = math.Log10(v) // milliseconds: attaches are below 1 (negative), the restart above
	}
	return groupedBars(dir, "reconfig", "Live attach (median) vs restart to a warm state", "log10 milliseconds", labels, []barSeries{s}, false)
}

// footprintReport is bench footprint's footprint.json: named
// measurements with units.
type footprintReport struct {
	SF           float64 `json:"sf"`
	HookEngine   string  `json:"hook_engine"`
	Measurements []struct {
		Name  string `json:"name"`
		Value int64  `json:"value"`
		Unit  string `json:"unit"`
	} `json:"measurements"`
}

// The bars for the extension runtime: at most 2 MiB of binary and
// 1 MiB of resident memory.
const (
	binaryBarMiB   = 2
	residentBarMiB = 1
)

// mibBar is one bar of a footprint panel: a measurement's name in
// footprint.json and its label.
type mibBar struct{ name, label string }

// drawFootprint draws three panels, in MiB: the binary (with and without
// the hook sites, and the extension runtime's share, against the 2 MiB
// bar), the process's resident memory (idle, after the queries, with the
// programs attached), and the memory the attached programs hold (against
// the 1 MiB bar). A measurement the file lacks has no bar.
func drawFootprint(dir string, data []byte) error {
	var r footprintReport
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	mib := map[string]float64{}
	for _, m := range r.Measurements {
		if m.Unit != "bytes" {
			return fmt.Errorf("measurement %s: unit %q, want bytes", m.Name, m.Unit)
		}
		mib[m.Name] = float64(m.Value) / (1 << 20)
	}
	panels := []struct {
		title string
		bars  []mibBar
		bar   float64 // the bar, 0 for none
	}{
		{"Binary", []mibBar{{"binary", "this build"}, {"binary_nohooks", "-tags nohooks"}, {"runtime_binary", "extension runtime"}}, binaryBarMiB},
		{fmt.Sprintf("Resident memory (VmRSS), TPC-H SF %g", r.SF), []mibBar{{"rss_idle", "idle"}, {"rss_queries", "after 22 queries"}, {"rss_attached", "with programs"}}, 0},
		{fmt.Sprintf("Held by the 7 defaults (%s)", r.HookEngine), []mibBar{{"runtime_rss", "resident added"}, {"runtime_heap", "Go heap added"}, {"runtime_jit_code", "JIT code"}}, residentBarMiB},
	}
	var plots []*plot.Plot
	for i, pn := range panels {
		var labels []string
		var values []float64
		for _, b := range pn.bars {
			if v, ok := mib[b.name]; ok {
				labels, values = append(labels, b.label), append(values, v)
			}
		}
		if len(values) == 0 {
			continue
		}
		p, err := barPlot(pn.title, "MiB", labels, []barSeries{{values: values, color: chartColors[i]}}, false, vg.Points(36))
		if err != nil {
			return err
		}
		if err := valueLabels(p, values); err != nil {
			return err
		}
		if pn.bar > 0 {
			if err := refLine(p, pn.bar, len(values), fmt.Sprintf("issue's bar: runtime ≤ %g MiB", pn.bar)); err != nil {
				return err
			}
		}
		p.Y.Min = math.Min(p.Y.Min, 0)
		p.Y.Max *= 1.35 // room for the labels and the legend
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return errors.New("no measurement to draw")
	}
	return save(dir, "footprint", vg.Length(3.3*float64(len(plots)))*vg.Inch, 4*vg.Inch, plots...)
}

// valueLabels writes each bar's value above it.
func valueLabels(p *plot.Plot, values []float64) error {
	xys := make(plotter.XYs, len(values))
	texts := make([]string, len(values))
	for i, v := range values {
		xys[i] = plotter.XY{X: float64(i), Y: math.Max(v, 0)}
		texts[i] = fmt.Sprintf("%.2f", v)
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: texts})
	if err != nil {
		return err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
	}
	l.Offset = vg.Point{Y: vg.Points(3)}
	p.Add(l)
	return nil
}

// refLine draws a dashed horizontal line at y across n bars, in the
// legend as label.
func refLine(p *plot.Plot, y float64, n int, label string) error {
	l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: y}, {X: float64(n) - 0.5, Y: y}})
	if err != nil {
		return err
	}
	l.Color = color.RGBA{R: 0xc0, A: 0xff}
	l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	p.Add(l)
	p.Legend.Add(label, l)
	p.Legend.Top = true
	p.Legend.Left = false
	return nil
}

// duckReport is bench/duckdb's duckdb.json.
type duckReport struct {
	SF      float64 `json:"sf"`
	Threads int     `json:"threads"`
	Queries []struct {
		Query string  `json:"query"`
		Ratio float64 `json:"ratio"`
	} `json:"queries"`
	GeomeanRatio float64 `json:"geomean_ratio"`
}

// drawDuckDB draws bpfdb's median time over DuckDB's for each query, as
// bars up (bpfdb slower) or down (faster) from a ratio of 1 on a base-2
// log axis whose ticks read as ratios.
func drawDuckDB(dir string, data []byte) error {
	var r duckReport
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	var labels []string
	s := barSeries{}
	for _, q := range r.Queries {
		if q.Ratio <= 0 {
			return fmt.Errorf("%s has no ratio: both systems must have run (not --only)", q.Query)
		}
		labels = append(labels, q.Query)
		s.values = append(s.values, math.Log2(q.Ratio))
	}
	if len(labels) == 0 {
		return errors.New("no queries")
	}
	title := fmt.Sprintf("bpfdb / DuckDB, median per query (TPC-H SF %g, %d threads; geomean %.2f×)", r.SF, r.Threads, r.GeomeanRatio)
	p, err := barPlot(title, "bpfdb time / DuckDB time (log scale)", labels, []barSeries{s}, false, 0)
	if err != nil {
		return err
	}
	if err := refLine(p, 0, len(labels), "equal (1×)"); err != nil {
		return err
	}
	lo, hi := math.Floor(math.Min(p.Y.Min, 0)), math.Ceil(math.Max(p.Y.Max, 0))
	p.Y.Min, p.Y.Max = lo, hi+0.5 // room for the legend
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var ticks []plot.Tick
		for e := math.Ceil(min); e <= max; e++ {
			ticks = append(ticks, plot.Tick{Value: e, Label: ratioLabel(e)})
		}
		return ticks
	})
	width := vg.Length(math.Max(6, float64(len(labels))*0.45)) * vg.Inch
	return save(dir, "duckdb", width, 4*vg.Inch, p)
}

// ratioLabel is the tick label of 2^e: "4×", "1×", "1/4×".
func ratioLabel(e float64) string {
	if e >= 0 {
		return fmt.Sprintf("%g×", math.Exp2(e))
	}
	return fmt.Sprintf("1/%g×", math.Exp2(-e))
}

// inputs are the files bpfdb-charts draws, in order: each file, the
// command that writes it, and how to draw it.
var inputs = []struct {
	file, from string
	draw       func(dir string, data []byte) error
}{
	{"results.json", "bpfdb bench tpch --out", drawBench},
	{"reconfig.json", "bpfdb bench reconfig --out", drawReconfig},
	{"footprint.json", "bpfdb bench footprint --out", drawFootprint},
	{"duckdb.json", "bench/duckdb --out", drawDuckDB},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: bpfdb-charts DIR (the --out directory of bpfdb bench tpch, reconfig or footprint, or of bench/duckdb)")
		os.Exit(2)
	}
	drew, err := drawDir(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "bpfdb-charts: %v\n", err)
		os.Exit(1)
	}
	for _, f := range drew {
		fmt.Println("drew", f)
	}
}

// drawDir draws the charts of every input file dir holds and returns
// the inputs it drew. It is an error if dir holds none.
func drawDir(dir string) ([]string, error) {
	var drew, want []string
	for _, in := range inputs {
		want = append(want, in.file+" ("+in.from+")")
		path := filepath.Join(dir, in.file)
		b, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return drew, err
		}
		if err := in.draw(dir, b); err != nil {
			return drew, fmt.Errorf("%s: %w", path, err)
		}
		drew = append(drew, in.file)
	}
	if len(drew) == 0 {
		return nil, fmt.Errorf("%s holds none of %s", dir, strings.Join(want, ", "))
	}
	return drew, nil
}

// longest returns the length of the longest label.
func longest(labels []string) int {
	n := 0
	for _, l := range labels {
		n = max(n, len(l))
	}
	return n
}
