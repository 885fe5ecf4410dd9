package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// copyFixture copies testdata/name's files into a new temporary
// directory, where drawDir writes its charts.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join("testdata", name, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("fixture %s: %v, %d files", name, err, len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDrawDir draws every chart from small fixtures: the current forms of
// the four inputs, and results.json in the form of the committed SF 1 run
// (a bare list of queries). Each chart must exist as a PNG and an SVG.
func TestDrawDir(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		drew    []string
		charts  []string
	}{
		{"all", []string{"results.json", "reconfig.json", "footprint.json", "duckdb.json"},
			[]string{"overhead", "invocations", "reconfig", "footprint", "duckdb"}},
		{"old", []string{"results.json"}, []string{"overhead", "invocations"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			dir := copyFixture(t, tc.fixture)
			drew, err := drawDir(dir)
			if err != nil || !slices.Equal(drew, tc.drew) {
				t.Fatalf("drew %q, %v; want %q", drew, err, tc.drew)
			}
			for _, c := range tc.charts {
				png, err := os.ReadFile(filepath.Join(dir, c+".png"))
				if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 1000 {
					t.Errorf("%s.png: %d bytes, %v; want a PNG image", c, len(png), err)
				}
				svg, err := os.ReadFile(filepath.Join(dir, c+".svg"))
				if err != nil || !bytes.Contains(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("</svg>")) {
					t.Errorf("%s.svg: %d bytes, %v; want an SVG document", c, len(svg), err)
				}
			}
		})
	}
}

// TestDrawDirErrors checks that bad input is an error naming the file and
// the problem, and that nothing to draw is one too.
func TestDrawDirErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := drawDir(dir); err == nil || !strings.Contains(err.Error(), "holds none of results.json (bpfdb bench tpch --out)") {
		t.Errorf("empty directory: %v", err)
	}
	if _, err := drawDir(copyFixture(t, "bpfdb-only")); err == nil || !strings.Contains(err.Error(), "duckdb.json: q01 has no ratio: both systems must have run (not --only)") {
		t.Errorf("duckdb.json of one system: %v", err)
	}
	for _, tc := range []struct{ file, content, want string }{
		{"results.json", `{"configs": ["jit"], "queries": [{"query": "q01"}]}`, `results.json: configs ["jit"]: want the nohooks baseline first`},
		{"results.json", `[{"query": 1}]`, "results.json: json: cannot unmarshal number"},
		{"footprint.json", `{"measurements": [{"name": "rss_idle", "value": 1, "unit": "kB"}]}`, `footprint.json: measurement rss_idle: unit "kB", want bytes`},
		{"footprint.json", `{"measurements": []}`, "footprint.json: no measurement to draw"},
		{"reconfig.json", `{"policies": []}`, "reconfig.json: no restart time or no policies"},
		{"duckdb.json", `{"queries": [`, "duckdb.json: unexpected end of JSON input"},
	} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := drawDir(dir); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want an error with %q", tc.file, tc.content, err, tc.want)
		}
	}
}
