package server

import (
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metrics a scrape returns, besides the Go runtime's (go_*, and
// go_build_info: the module's version), the process's (process_*) and the
// metric handler's own (promhttp_*):
//
//	bpfdb_server_…    the server's counters, kept by the server:
//	                  connections by state, connections accepted and
//	                  refused, failed logins, cancel requests, statements
//	                  by outcome, errors by SQLSTATE, statement durations,
//	                  rows sent
//	bpfdb_memory_…    the buffer manager's memory (DB.Memory): limit, used,
//	bpfdb_buffer_…    used per tag; its counters: pin hits and misses,
//	                  loads, evictions, spills, ...
//	bpfdb_hook_…      per hook (DB.Hooks): whether a program is attached,
//	                  which, since when; its calls, handled calls, errors,
//	                  violations and time spent
//
// The database's figures are read from the database at each scrape
// (dbCollector), not counted twice. The hooks' counters run from their
// program's attachment, so attaching another program resets them, as a
// restart resets a process's counters: bpfdb_hook_attach_time_seconds
// says when, and so does the counters' created timestamp (in the
// protobuf format). The buffer manager's counters run from the
// database's opening.

// queryBuckets are the upper bounds of bpfdb_server_query_duration_seconds
// classic buckets, in seconds: from point lookups to long analytical
// queries. Scrapers that negotiate native histograms get exponential
// buckets instead (queryBucketFactor).
var queryBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// queryBucketFactor is the growth of the native histogram's buckets: about
// 10% resolution.
const queryBucketFactor = 1.1

// metrics are the server's own counters and the registry a scrape
// gathers from: them, the database's figures and the Go runtime's.
type metrics struct {
	reg *prometheus.Registry

	accepted     prometheus.Counter
	refused      prometheus.Counter
	authFailures prometheus.Counter
	cancels      prometheus.Counter
	queriesOK    prometheus.Counter
	queriesError prometheus.Counter
	errors       *prometheus.CounterVec // by SQLSTATE
	duration     prometheus.Histogram
	rowsSent     prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	queries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "bpfdb_server_queries_total",
		Help: "Statements the server ended, by outcome: ok (completed) or error (an error response; bpfdb_server_query_errors_total has its SQLSTATE). A statement is one of a simple Query's, or an extended-protocol Execute; a Parse, Bind or Describe that fails counts as an error too.",
	}, []string{"outcome"})
	m := &metrics{
		reg:          prometheus.NewRegistry(),
		accepted:     counter("bpfdb_server_connections_accepted_total", "TCP connections accepted, including refused ones and cancel requests."),
		refused:      counter("bpfdb_server_connections_refused_total", "Connections refused because the server had MaxConnections open (SQLSTATE 53300)."),
		authFailures: counter("bpfdb_server_authentication_failures_total", "Logins refused for a wrong password or an unknown user (SQLSTATE 28P01)."),
		cancels:      counter("bpfdb_server_cancel_requests_total", "Cancel requests received, whether or not their key matched a session."),
		rowsSent:     counter("bpfdb_server_rows_sent_total", "Result rows sent to clients (DataRow messages)."),
		queriesOK:    queries.WithLabelValues("ok"),
		queriesError: queries.WithLabelValues("error"),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bpfdb_server_query_errors_total",
			Help: "Error responses to statements, by SQLSTATE code (08006: the client went away while the result was sent).",
		}, []string{"sqlstate"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:                           "bpfdb_server_query_duration_seconds",
			Help:                           "Time from the start of a statement (its message's arrival, or the end of the statement before it in the same Query) to its command tag or error, results sent included.",
			Buckets:                        queryBuckets,
			NativeHistogramBucketFactor:    queryBucketFactor,
			NativeHistogramMaxBucketNumber: 160,
		}),
	}
	m.reg.MustRegister(m.accepted, m.refused, m.authFailures, m.cancels, queries, m.errors, m.duration, m.rowsSent,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "bpfdb_server_max_connections",
			Help: "The most connections the server keeps open (Options.MaxConnections).",
		}, func() float64 { return float64(s.opts.MaxConnections) }),
		dbCollector{s},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return m
}

// query counts a statement that ended after d: ok when code is "", else
// an error with that SQLSTATE.
func (m *metrics) query(d time.Duration, code string) {
	m.duration.Observe(d.Seconds())
	if code == "" {
		m.queriesOK.Inc()
		return
	}
	m.queriesError.Inc()
	m.errors.WithLabelValues(code).Inc()
}

// queryDone counts the statement that just ended, ok when code is "", and
// starts timing the next one.
func (c *conn) queryDone(code string) {
	now := time.Now()
	c.srv.metrics.query(now.Sub(c.began), code)
	c.began = now
}

// MetricsHandler returns an HTTP handler that answers every request with
// the server's and its database's metrics in Prometheus's text format (or
// OpenMetrics, or protobuf, as the scraper's Accept header asks).
// ServeMetrics serves it at /metrics; an application that has its own
// HTTP server may mount it instead. After Shutdown it answers with the
// server's metrics only.
func (s *Server) MetricsHandler() http.Handler {
	h := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog:            logAdapter(s.opts.Logf),
		Registry:            s.metrics.reg,
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: 4,
		Timeout:             30 * time.Second,
	})
	return promhttp.InstrumentMetricHandler(s.metrics.reg, h)
}

// metricsPath is where ServeMetrics answers.
const metricsPath = "/metrics"

// ServeMetrics serves the metrics over HTTP on l, at /metrics
// (MetricsHandler), until Shutdown; it then returns ErrServerClosed. It
// closes l. Shutdown stops it once the connections have ended, before it
// closes the database, so that the drain can be watched.
func (s *Server) ServeMetrics(l net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle(metricsPath, s.MetricsHandler())
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		ErrorLog: log.New(logWriter(s.opts.Logf), "server: metrics: ", 0)}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.metricServers[hs] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.metricServers, hs)
		s.mu.Unlock()
	}()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return ErrServerClosed
	}
	return fmt.Errorf("serve metrics on %s: %w", l.Addr(), err)
}

// logAdapter makes Logf the promhttp handler's error log.
type logAdapter func(format string, args ...any)

// Println logs a failed scrape.
func (f logAdapter) Println(v ...any) { f("server: metrics: %s", fmt.Sprint(v...)) }

// logWriter makes Logf the HTTP server's error log (a failed accept, a
// malformed request).
type logWriter func(format string, args ...any)

// Write logs p, one message, without its line break.
func (f logWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// dbCollector reads the database's memory and hooks and the connections'
// states at each scrape.
type dbCollector struct{ s *Server }

// A gauge or counter of the database, read from its MemoryStats.
type memoryMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*bpfdb.MemoryStats) int64
}

var memoryMetrics = []memoryMetric{
	memGauge("bpfdb_memory_limit_bytes", "The buffer manager's memory limit.", func(m *bpfdb.MemoryStats) int64 { return m.Limit }),
	memGauge("bpfdb_memory_used_bytes", "Memory accounted to resident blocks and buffers; the limit is enforced against it.", func(m *bpfdb.MemoryStats) int64 { return m.Used }),
	memGauge("bpfdb_buffer_resident_blocks", "Blocks and buffers in memory.", func(m *bpfdb.MemoryStats) int64 { return m.Resident }),
	memCounter("bpfdb_buffer_hits_total", "Pins that found their block in memory.", func(m *bpfdb.MemoryStats) int64 { return m.Hits }),
	memCounter("bpfdb_buffer_misses_total", "Pins that brought their block into memory: a load from the database file or a spilled buffer read back.", func(m *bpfdb.MemoryStats) int64 { return m.Misses }),
	memCounter("bpfdb_buffer_loads_total", "Blocks of the database file read by pins.", func(m *bpfdb.MemoryStats) int64 { return m.Loads }),
	memCounter("bpfdb_buffer_reloads_total", "Spilled temporary buffers read back by pins.", func(m *bpfdb.MemoryStats) int64 { return m.Reloads }),
	memCounter("bpfdb_buffer_evictions_total", "Blocks and buffers unloaded to make room.", func(m *bpfdb.MemoryStats) int64 { return m.Evictions }),
	memCounter("bpfdb_buffer_unloads_total", "Blocks unloaded at unpin by the unpin hook's decision.", func(m *bpfdb.MemoryStats) int64 { return m.Unloads }),
	memCounter("bpfdb_buffer_spills_total", "Temporary buffers written to the temporary file.", func(m *bpfdb.MemoryStats) int64 { return m.Spills }),
	memCounter("bpfdb_buffer_out_of_memory_total", "Reservations and allocations refused for lack of memory.", func(m *bpfdb.MemoryStats) int64 { return m.OutOfMemory }),
	memCounter("bpfdb_buffer_policy_repairs_total", "Hook decisions the buffer manager replaced with its built-in step.", func(m *bpfdb.MemoryStats) int64 { return m.Repairs }),
	memCounter("bpfdb_buffer_read_aheads_total", "Background reads started by the load hook.", func(m *bpfdb.MemoryStats) int64 { return m.ReadAheads }),
	memCounter("bpfdb_buffer_read_aheads_used_total", "Blocks read ahead that a pin then found in memory.", func(m *bpfdb.MemoryStats) int64 { return m.ReadAheadsUsed }),
	memCounter("bpfdb_buffer_read_aheads_wasted_total", "Blocks read ahead that were evicted or freed unused, or whose read failed.", func(m *bpfdb.MemoryStats) int64 { return m.ReadAheadsWasted }),
}

func memGauge(name, help string, value func(*bpfdb.MemoryStats) int64) memoryMetric {
	return memoryMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, value}
}

func memCounter(name, help string, value func(*bpfdb.MemoryStats) int64) memoryMetric {
	return memoryMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.CounterValue, value}
}

var (
	tagBytesDesc = prometheus.NewDesc("bpfdb_memory_tag_bytes",
		"Memory accounted per use (base_table, hash_table, sort, column_data, metadata, other), as the update_used_memory hook counted it; with the built-in policy the tags sum to bpfdb_memory_used_bytes.",
		[]string{"tag"}, nil)
	connectionsDesc = prometheus.NewDesc("bpfdb_server_connections",
		"Open connections by state: startup (not logged in yet), idle (waiting for a message), active (serving one).",
		[]string{"state"}, nil)

	hookAttachedDesc = prometheus.NewDesc("bpfdb_hook_attached",
		"1 if a program is attached to the hook, 0 if the built-in behaviour runs.", []string{"hook"}, nil)
	hookInfoDesc = prometheus.NewDesc("bpfdb_hook_program_info",
		"The program attached to the hook: its name (symbol), where it came from (a file or stock:hook/policy) and the engine that runs it.",
		[]string{"hook", "program", "source", "engine"}, nil)
	hookSinceDesc = prometheus.NewDesc("bpfdb_hook_attach_time_seconds",
		"When the hook's program was attached, in seconds since the Unix epoch; the bpfdb_hook_ counters start there.", []string{"hook"}, nil)
	hookCounters = []struct {
		desc  *prometheus.Desc
		value func(*bpfdb.HookStatus) float64
	}{
		{prometheus.NewDesc("bpfdb_hook_calls_total", "Runs of the hook's program since it was attached.", []string{"hook"}, nil),
			func(h *bpfdb.HookStatus) float64 { return float64(h.Calls) }},
		{prometheus.NewDesc("bpfdb_hook_handled_total", "Runs of the hook's program that returned BPFDB_HANDLED.", []string{"hook"}, nil),
			func(h *bpfdb.HookStatus) float64 { return float64(h.Handled) }},
		{prometheus.NewDesc("bpfdb_hook_errors_total", "Failed runs of the hook's program (the built-in ran instead).", []string{"hook"}, nil),
			func(h *bpfdb.HookStatus) float64 { return float64(h.Errors) }},
		{prometheus.NewDesc("bpfdb_hook_violations_total", "Decisions of the hook's program that the host repaired.", []string{"hook"}, nil),
			func(h *bpfdb.HookStatus) float64 { return float64(h.Violations) }},
		{prometheus.NewDesc("bpfdb_hook_run_seconds_total", "Time spent in runs of the hook's program, estimated from a sample of the runs.", []string{"hook"}, nil),
			func(h *bpfdb.HookStatus) float64 { return h.Time.Seconds() }},
	}
)

// Describe sends the descriptions of every metric Collect sends.
func (dc dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range memoryMetrics {
		ch <- m.desc
	}
	ch <- tagBytesDesc
	ch <- connectionsDesc
	ch <- hookAttachedDesc
	ch <- hookInfoDesc
	ch <- hookSinceDesc
	for _, hc := range hookCounters {
		ch <- hc.desc
	}
}

// Collect reads the connections' states and, unless Shutdown closed it,
// the database's memory and hooks.
func (dc dbCollector) Collect(ch chan<- prometheus.Metric) {
	for state, n := range dc.s.connectionStates() {
		ch <- prometheus.MustNewConstMetric(connectionsDesc, prometheus.GaugeValue, float64(n), connStateNames[state])
	}
	s := dc.s
	s.dbMu.RLock()
	defer s.dbMu.RUnlock()
	if s.dbClosed {
		return
	}
	mem := s.db.Memory()
	for _, m := range memoryMetrics {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, float64(m.value(&mem)))
	}
	for tag, n := range mem.Tags {
		ch <- prometheus.MustNewConstMetric(tagBytesDesc, prometheus.GaugeValue, float64(n), tag)
	}
	for _, h := range s.db.Hooks() {
		if h.Program == "" {
			ch <- prometheus.MustNewConstMetric(hookAttachedDesc, prometheus.GaugeValue, 0, h.Hook)
			continue
		}
		ch <- prometheus.MustNewConstMetric(hookAttachedDesc, prometheus.GaugeValue, 1, h.Hook)
		ch <- prometheus.MustNewConstMetric(hookInfoDesc, prometheus.GaugeValue, 1, h.Hook, h.Program, h.Source, h.Engine)
		ch <- prometheus.MustNewConstMetric(hookSinceDesc, prometheus.GaugeValue, float64(h.Since.UnixNano())/1e9, h.Hook)
		for _, hc := range hookCounters {
			ch <- prometheus.MustNewConstMetricWithCreatedTimestamp(hc.desc, prometheus.CounterValue, hc.value(&h), h.Since, h.Hook)
		}
	}
}

// Connection states, as bpfdb_server_connections labels them.
const (
	connStartup = iota
	connIdle
	connActive
	numConnStates
)

var connStateNames = [numConnStates]string{"startup", "idle", "active"}

// connectionStates counts the open connections by state.
func (s *Server) connectionStates() [numConnStates]int {
	var n [numConnStates]int
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.mu.Lock()
		busy := c.busy
		c.mu.Unlock()
		switch {
		case c.pid == 0: // register sets it under s.mu
			n[connStartup]++
		case busy:
			n[connActive]++
		default:
			n[connIdle]++
		}
	}
	return n
}
