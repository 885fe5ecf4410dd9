// Command bpfdb-charts draws the results of bpfdb bench tpch and bench
// reconfig (the results.json and reconfig.json their --out DIR holds) as
// charts in the same directory, PNG and SVG: the overhead of each
// configuration per query, the hook invocations per query on a log scale,
// and each policy's live attach against a restart. It is a command of its own so that
// the bpfdb binary does not carry a plotting library and its fonts.
//
//	go run ./cmd/bpfdb bench tpch --sf 1 --out results/
//	go run ./cmd/bpfdb-charts results/
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
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
	if longest(labels) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
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
		fmt.Fprintln(os.Stderr, "usage: bpfdb-charts DIR (the --out directory of bpfdb bench tpch or reconfig)")
		os.Exit(2)
	}
	dir := os.Args[1]
	drew := false
	var results []*benchResult
	if ok, err := readJSON(dir, "results.json", &results); err != nil {
		fail(err)
	} else if ok {
		if err := benchCharts(dir, results); err != nil {
			fail(err)
		}
		drew = true
	}
	var reconfig reconfigReport
	if ok, err := readJSON(dir, "reconfig.json", &reconfig); err != nil {
		fail(err)
	} else if ok {
		if err := reconfigChart(dir, reconfig); err != nil {
			fail(err)
		}
		drew = true
	}
	if !drew {
		fail(fmt.Errorf("%s holds neither results.json (bench tpch --out) nor reconfig.json (bench reconfig --out)", dir))
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "bpfdb-charts: %v\n", err)
	os.Exit(1)
}

// readJSON reads dir/name into v; it reports false if there is no such
// file.
func readJSON(dir, name string, v any) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	return true, nil
}

// reconfigReport is bench reconfig's reconfig.json.
type reconfigReport struct {
	Restart  time.Duration `json:"restart_ns"`
	Policies []struct {
		Policy string        `json:"policy"`
		Median time.Duration `json:"median_ns"`
	} `json:"policies"`
}

// reconfigChart draws each stock policy's median live attach against a
// restart to the warm state, in milliseconds on a log axis.
func reconfigChart(dir string, r reconfigReport) error {
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

// longest returns the length of the longest label.
func longest(labels []string) int {
	n := 0
	for _, l := range labels {
		n = max(n, len(l))
	}
	return n
}
