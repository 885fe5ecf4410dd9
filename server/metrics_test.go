package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// serveMetrics serves ts's metrics on 127.0.0.1, port chosen by the
// system, and returns the URL of /metrics. At cleanup it shuts ts down
// and checks that ServeMetrics returned ErrServerClosed.
func (ts *testServer) serveMetrics(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- ts.ServeMetrics(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ts.Shutdown(ctx); err != nil && !errors.Is(err, ErrServerClosed) {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("serve metrics: %v", err)
		}
	})
	return "http://" + l.Addr().String() + metricsPath
}

// scrape gets url and parses the text format.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("GET %s: content type %q, want the text format", url, ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape of %s: %v", url, err)
	}
	return fams
}

// gather gathers ts's metrics, as series returns them.
func gather(t *testing.T, ts *testServer) map[string]float64 {
	t.Helper()
	fams, err := ts.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		byName[f.GetName()] = f
	}
	return series(byName)
}

// series flattens families into one value per series, keyed
// name{label="value",...}: a counter's or gauge's value, a histogram's
// count (as name_count).
func series(fams map[string]*dto.MetricFamily) map[string]float64 {
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			key := name
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				out[strings.Replace(key, name, name+"_count", 1)] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

// goldenSeries are the series whose changes the golden file shows: the
// ones a statement or a login moves by a known amount.
func goldenSeries(key string) bool {
	for _, p := range []string{"bpfdb_server_queries_total", "bpfdb_server_query_errors_total", "bpfdb_server_query_duration_seconds_count",
		"bpfdb_server_authentication_failures_total", "bpfdb_server_cancel_requests_total", "bpfdb_server_rows_sent_total", "bpfdb_hook_attached"} {
		if key == p || strings.HasPrefix(key, p+"{") {
			return true
		}
	}
	return false
}

// changes lists the golden series that differ between two scrapes: a
// counter as +delta, a gauge as its new value and the old one.
func changes(before, after map[string]*dto.MetricFamily) string {
	b, a := series(before), series(after)
	var lines []string
	for _, key := range slices.Sorted(maps.Keys(a)) {
		if !goldenSeries(key) || a[key] == b[key] {
			continue
		}
		name, _, _ := strings.Cut(key, "{")
		if f := after[strings.TrimSuffix(name, "_count")]; f != nil && f.GetType() == dto.MetricType_GAUGE {
			lines = append(lines, fmt.Sprintf("%s %g (was %g)", key, a[key], b[key]))
		} else {
			lines = append(lines, fmt.Sprintf("%s +%g", key, a[key]-b[key]))
		}
	}
	if len(lines) == 0 {
		return "nothing moved"
	}
	return strings.Join(lines, "\n")
}

// outcome is what a client saw: ok, or error and the SQLSTATE.
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	if code := pgCode(err); code != "" {
		return "error " + code
	}
	return "error: " + err.Error()
}

// TestMetricsGolden runs testdata/metrics: statements in both protocols,
// logins and cancel requests, each case with what the client saw and how
// the server's counters moved; and the list of metric families.
func TestMetricsGolden(t *testing.T) {
	ts := startServer(t, nil, Options{})
	url := ts.serveMetrics(t)
	ctx := context.Background()
	noTLS := func(user, password string) string {
		return strings.Replace(ts.url(user, password), "sslmode=prefer", "sslmode=disable", 1)
	}
	c, err := pgx.Connect(ctx, noTLS(adminUser, adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	last := scrape(t, url)
	datadriven.Run(t, "testdata/metrics", *rewrite, func(t *testing.T, tc *datadriven.Case) string {
		var out string
		switch tc.Cmd {
		case "simple": // the input as one Query message
			_, err := c.PgConn().Exec(ctx, strings.Join(tc.Input, "\n")).ReadAll()
			out = outcome(err)
		case "extended": // each input line prepared and executed (pgx's statement cache)
			var outs []string
			for _, sql := range tc.Input {
				rows, err := c.Query(ctx, sql, pgx.QueryExecModeCacheStatement)
				if err == nil {
					rows.Close()
					err = rows.Err()
				}
				outs = append(outs, outcome(err))
			}
			out = strings.Join(outs, "\n")
		case "login":
			lc, err := pgx.Connect(ctx, noTLS(tc.Arg(t, "user"), tc.Arg(t, "password")))
			if err == nil {
				lc.Close(ctx)
			}
			out = outcome(err)
		case "cancel": // a cancel request with a key no session has
			nc, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			fe := pgproto3.NewFrontend(nc, nc)
			fe.Send(&pgproto3.CancelRequest{ProcessID: c.PgConn().PID(), SecretKey: []byte{0, 0, 0, 0}})
			if err := fe.Flush(); err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, nc) // the server closes the connection once it has served the request
			nc.Close()
			out = "sent"
		case "families": // the bpfdb_ metric families, their types and labels
			var lines []string
			fams := scrape(t, url)
			for _, name := range slices.Sorted(maps.Keys(fams)) {
				f := fams[name]
				if !strings.HasPrefix(name, "bpfdb_") {
					continue
				}
				labels := map[string]bool{}
				for _, m := range f.Metric {
					for _, l := range m.Label {
						labels[l.GetName()] = true
					}
				}
				line := name + " " + strings.ToLower(f.GetType().String())
				if len(labels) > 0 {
					line += " {" + strings.Join(slices.Sorted(maps.Keys(labels)), ",") + "}"
				}
				lines = append(lines, line)
			}
			return strings.Join(lines, "\n")
		default:
			t.Fatalf("line %d: unknown command %q", tc.Line, tc.Cmd)
		}
		now := scrape(t, url)
		moved := changes(last, now)
		last = now
		return out + "\n" + moved
	})
}

// TestMetrics: a scrape has the database's figures (memory by tag, pin
// hits that agree with bpfdb_memory(), the calls of an attached program)
// and the connections by state; only /metrics answers; after Shutdown the
// listener is gone and the handler answers without the database.
func TestMetrics(t *testing.T) {
	ts := startServer(t, nil, Options{})
	url := ts.serveMetrics(t)
	ctx := context.Background()
	c := ts.connect(t, adminUser, adminPassword)
	for _, sql := range []string{
		"ATTACH PROGRAM 'default' TO HOOK unpin",
		"CREATE TABLE t AS SELECT * FROM (VALUES (1), (2), (3)) v(x)",
		"SELECT sum(x) FROM t",
		"SELECT count(*) FROM t a, t b",
	} {
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var hits, misses int64
	if err := c.QueryRow(ctx, "SELECT (SELECT value FROM bpfdb_memory() WHERE name = 'hits'), (SELECT value FROM bpfdb_memory() WHERE name = 'misses')").Scan(&hits, &misses); err != nil {
		t.Fatal(err)
	}
	s := series(scrape(t, url))
	must := func(key string) float64 {
		t.Helper()
		v, ok := s[key]
		if !ok {
			t.Fatalf("no series %s in the scrape", key)
		}
		return v
	}
	// Counters only grow: the scrape comes after the SELECT.
	if got := must("bpfdb_buffer_hits_total"); got < float64(hits) || hits == 0 {
		t.Errorf("bpfdb_buffer_hits_total %g, bpfdb_memory() said %d before: want more, and some", got, hits)
	}
	if got := must("bpfdb_buffer_misses_total"); got < float64(misses) {
		t.Errorf("bpfdb_buffer_misses_total %g, bpfdb_memory() said %d before", got, misses)
	}
	var tagged float64
	for _, tag := range []string{"base_table", "hash_table", "sort", "column_data", "metadata", "other"} {
		tagged += must(`bpfdb_memory_tag_bytes{tag="` + tag + `"}`)
	}
	if limit := must("bpfdb_memory_limit_bytes"); limit <= 0 || tagged > limit {
		t.Errorf("memory limit %g, %g bytes tagged", limit, tagged)
	}
	must("bpfdb_buffer_evictions_total")
	if must(`bpfdb_hook_attached{hook="unpin"}`) != 1 || must(`bpfdb_hook_attached{hook="hash"}`) != 0 {
		t.Errorf("hooks attached: unpin %g, hash %g; want 1 and 0", s[`bpfdb_hook_attached{hook="unpin"}`], s[`bpfdb_hook_attached{hook="hash"}`])
	}
	if n := must(`bpfdb_hook_calls_total{hook="unpin"}`); n <= 0 {
		t.Errorf("the unpin program ran %g times, want some", n)
	}
	if n := must(`bpfdb_hook_errors_total{hook="unpin"}`); n != 0 {
		t.Errorf("the unpin program failed %g times", n)
	}
	if since := must(`bpfdb_hook_attach_time_seconds{hook="unpin"}`); time.Since(time.Unix(int64(since), 0)) > time.Hour {
		t.Errorf("attached at %g, not just now", since)
	}
	var info []string
	for key := range s {
		if strings.HasPrefix(key, "bpfdb_hook_program_info{") {
			info = append(info, key)
		}
	}
	if len(info) != 1 || !strings.Contains(info[0], `hook="unpin"`) || !strings.Contains(info[0], `source="stock:unpin/default"`) {
		t.Errorf("program info %q, want one for unpin from stock:unpin/default", info)
	}
	if _, ok := s[`bpfdb_hook_calls_total{hook="hash"}`]; ok {
		t.Error("calls of the hash hook, which has no program")
	}
	// The scrape's own connection is not a session; c is idle once its
	// goroutine is back waiting for a message, just after the answer.
	for i := 0; ; i++ {
		got := [3]float64{must(`bpfdb_server_connections{state="startup"}`), must(`bpfdb_server_connections{state="idle"}`),
			must(`bpfdb_server_connections{state="active"}`)}
		if got == [3]float64{0, 1, 0} {
			break
		}
		if i == 100 {
			t.Fatalf("connections startup, idle, active: %v, want 0 1 0", got)
		}
		time.Sleep(10 * time.Millisecond)
		s = series(scrape(t, url))
	}
	if must("bpfdb_server_max_connections") != 256 {
		t.Errorf("max connections %g, want the default 256", s["bpfdb_server_max_connections"])
	}
	must("go_goroutines")
	if !slices.ContainsFunc(slices.Collect(maps.Keys(s)), func(k string) bool {
		return strings.HasPrefix(k, "go_build_info{") && strings.Contains(k, `path="github.com/bpfdb/bpfdb"`)
	}) {
		t.Error("no go_build_info of github.com/bpfdb/bpfdb")
	}
	must("process_open_fds")

	resp, err := http.Get(strings.TrimSuffix(url, metricsPath) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /: %s, want 404", resp.Status)
	}

	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("the metrics listener answers after Shutdown: %s", resp.Status)
	}
	rec := httptest.NewRecorder()
	ts.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", metricsPath, nil))
	body := rec.Body.String()
	if !strings.Contains(body, "bpfdb_server_queries_total") || strings.Contains(body, "bpfdb_memory_used_bytes") {
		t.Errorf("after Shutdown the handler answered:\n%s", body)
	}
}
