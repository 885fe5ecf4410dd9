package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jackc/pgx/v5"
)

// BenchmarkRoundTrip: one SELECT 1 per iteration through pgx, in the
// simple protocol and in the extended one with a cached statement.
func BenchmarkRoundTrip(b *testing.B) {
	ts := startServer(b, nil, Options{})
	c := ts.connect(b, adminUser, adminPassword)
	ctx := context.Background()
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		b.Run(mode.String(), func(b *testing.B) {
			var one int32
			for b.Loop() {
				if err := c.QueryRow(ctx, "SELECT 1", mode).Scan(&one); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRows: 100,000 rows of seven columns (INTEGER, BIGINT, DOUBLE,
// DECIMAL, VARCHAR, DATE, BOOLEAN) read through pgx, text format (simple
// protocol) and binary (extended); reports rows per second.
func BenchmarkRows(b *testing.B) {
	ts := startServer(b, nil, Options{})
	c := ts.connect(b, adminUser, adminPassword)
	ctx := context.Background()
	for _, sql := range []string{
		"CREATE TABLE d AS SELECT * FROM (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)) v(x)",
		`CREATE TABLE r AS SELECT CAST(x AS INTEGER) AS i, CAST(x AS BIGINT) * 1000003 AS l, x * 1.5e0 AS f,
			CAST(x AS DECIMAL(12,2)) / 7 AS n, 'name#' || CAST(x AS VARCHAR) AS s, DATE '1990-01-01' + x % 3000 AS day, x % 2 = 0 AS b
		FROM (SELECT a.x * 10000 + b.x * 1000 + c.x * 100 + e.x * 10 + g.x AS x FROM d a, d b, d c, d e, d g) s`,
	} {
		if _, err := c.Exec(ctx, sql); err != nil {
			b.Fatal(err)
		}
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		b.Run(mode.String(), func(b *testing.B) {
			rows := 0
			for b.Loop() {
				rs, err := c.Query(ctx, "SELECT * FROM r", mode)
				if err != nil {
					b.Fatal(err)
				}
				for rs.Next() {
					rows++
				}
				if err := rs.Err(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkConnect: a connection with SCRAM-SHA-256 authentication
// (4096 PBKDF2 iterations on each side) and its close.
func BenchmarkConnect(b *testing.B) {
	ts := startServer(b, nil, Options{})
	ctx := context.Background()
	for b.Loop() {
		c, err := pgx.Connect(ctx, ts.url(adminUser, adminPassword))
		if err != nil {
			b.Fatal(err)
		}
		c.Close(ctx)
	}
}

// BenchmarkEmbedded: SELECT 1 through the embedded API in the same
// process, the baseline of BenchmarkRoundTrip.
func BenchmarkEmbedded(b *testing.B) {
	ts := startServer(b, nil, Options{})
	ctx := context.Background()
	b.Run("select1", func(b *testing.B) {
		for b.Loop() {
			if _, err := ts.db.Query(ctx, "SELECT 1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkScrape: one scrape of /metrics through MetricsHandler (text
// format) of a server with a program attached and 8 idle sessions: what a
// Prometheus scrape costs the server.
func BenchmarkScrape(b *testing.B) {
	ts := startServer(b, nil, Options{})
	ctx := context.Background()
	for i := range 8 {
		c := ts.connect(b, adminUser, adminPassword)
		if i == 0 {
			if _, err := c.Exec(ctx, "ATTACH PROGRAM 'default' TO HOOK unpin"); err != nil {
				b.Fatal(err)
			}
		}
	}
	h := ts.MetricsHandler()
	req := httptest.NewRequest("GET", metricsPath, nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("scrape: %d %s", rec.Code, rec.Body)
		}
	}
}
