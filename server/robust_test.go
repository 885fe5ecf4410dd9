package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// bigTables creates k(x) of n rows 0..n-1: SELECT count(*) FROM k a, k b
// WHERE a.x + b.x < 0 is a nested loop over n² pairs that finds nothing.
func bigTables(t *testing.T, c *pgx.Conn, n int) {
	t.Helper()
	ctx := context.Background()
	digits := int(len(strconv.Itoa(n - 1)))
	var cols, from []string
	for i := range digits {
		cols = append(cols, fmt.Sprintf("d%d.x * %d", i, pow10(i)))
		from = append(from, fmt.Sprintf("d d%d", i))
	}
	for _, sql := range []string{
		"CREATE TABLE d AS SELECT * FROM (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9)) v(x)",
		fmt.Sprintf("CREATE TABLE k AS SELECT * FROM (SELECT %s AS x FROM %s) s WHERE x < %d", strings.Join(cols, " + "), strings.Join(from, ", "), n),
	} {
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
}

func pow10(i int) int {
	p := 1
	for range i {
		p *= 10
	}
	return p
}

const crossJoin = "SELECT count(*) FROM k a, k b WHERE a.x + b.x < 0"

// waitRunning waits until a session of the server runs a statement.
func waitRunning(t *testing.T, ts *testServer) {
	t.Helper()
	for range 2000 {
		ts.mu.Lock()
		running := false
		for c := range ts.conns {
			c.mu.Lock()
			running = running || c.cancel != nil
			c.mu.Unlock()
		}
		ts.mu.Unlock()
		if running {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("no statement started")
}

// TestAuthorization: a user who is not a superuser cannot attach a
// program (42501) and nothing changes; the superuser creates and drops
// users over the wire and they log in.
func TestAuthorization(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	admin := ts.connect(t, adminUser, adminPassword)
	if tag, err := admin.Exec(ctx, "CREATE USER bob PASSWORD 'b0b'"); err != nil || tag.String() != "CREATE ROLE" {
		t.Fatalf("create user: %q %v", tag, err)
	}
	bob := ts.connect(t, "bob", "b0b")
	policy := "../extensions/unpin/scan_resistant.o"
	for _, sql := range []string{
		"ATTACH PROGRAM '" + policy + "' TO HOOK unpin",
		"DETACH PROGRAM FROM HOOK unpin",
		"CREATE USER eve PASSWORD 'e'",
		"DROP USER admin",
		"SET threads = 1",
		"SELECT * FROM bpfdb_map('unpin', 'config')",
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			_, err := bob.Exec(ctx, sql, mode)
			if code := pgCode(err); code != "42501" {
				t.Errorf("bob, %v: %s: %v (code %q), want 42501", mode, sql, err, code)
			}
		}
	}
	var programs int
	if err := admin.QueryRow(ctx, "SELECT count(*) FROM bpfdb_programs()").Scan(&programs); err != nil || programs != 0 {
		t.Fatalf("after bob: %d programs attached (%v)", programs, err)
	}
	if _, err := admin.Exec(ctx, "ATTACH PROGRAM '"+policy+"' TO HOOK unpin"); err != nil {
		t.Fatalf("admin's attach: %v", err)
	}
	var program string
	if err := bob.QueryRow(ctx, "SELECT program FROM bpfdb_hooks() WHERE hook = 'unpin'").Scan(&program); err != nil || program == "built-in" {
		t.Fatalf("bob sees %q attached (%v)", program, err)
	}
	if tag, err := bob.Exec(ctx, "ALTER USER bob PASSWORD 'n3w'"); err != nil || tag.String() != "ALTER ROLE" {
		t.Fatalf("bob's new password: %q %v", tag, err)
	}
	ts.connect(t, "bob", "n3w")
	if _, err := admin.Exec(ctx, "DROP USER bob"); err != nil {
		t.Fatal(err)
	}
	if c, err := pgx.Connect(ctx, ts.url("bob", "n3w")); err == nil || pgCode(err) != "28P01" {
		if c != nil {
			c.Close(ctx)
		}
		t.Fatalf("a dropped user logs in: %v", err)
	}
}

// rawSession logs in with pgx and hands over the connection, for tests
// that write raw protocol bytes.
func rawSession(t *testing.T, ts *testServer) (net.Conn, *pgconn.HijackedConn) {
	t.Helper()
	pc, err := pgconn.Connect(context.Background(), ts.url(adminUser, adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	h, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Conn.Close() })
	return h.Conn, h
}

// readUntilClosed reads what the server sends until it closes the
// connection and returns the FATAL or ERROR codes it saw.
func readUntilClosed(t *testing.T, nc net.Conn) []string {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	fe := pgproto3.NewFrontend(nc, io.Discard)
	var codes []string
	for {
		msg, err := fe.Receive()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server did not close the connection")
			}
			return codes
		}
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			codes = append(codes, e.Severity+" "+e.Code)
		}
	}
}

// TestBadClients: malformed messages, oversized messages, garbage instead
// of a startup packet and clients that vanish mid-query get an error or
// their connection closed, and the server keeps serving everyone else.
func TestBadClients(t *testing.T) {
	ts := startServer(t, nil, Options{MaxMessage: 1 << 20})
	ctx := context.Background()
	good := ts.connect(t, adminUser, adminPassword)
	bigTables(t, good, 2000)
	check := func(when string) {
		t.Helper()
		var n int64
		if err := good.QueryRow(ctx, "SELECT count(*) FROM k").Scan(&n); err != nil || n != 2000 {
			t.Fatalf("%s: the good client got %d, %v", when, n, err)
		}
	}
	msg := func(typ byte, body string) []byte {
		b := []byte{typ, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)))
		return append(b, body...)
	}
	for _, tc := range []struct {
		name string
		send []byte
		want string // the error the server answers with ("" when it only closes)
	}{
		{"oversized", []byte{'Q', 0x40, 0, 0, 0}, "FATAL 08P01"},
		{"short length", []byte{'Q', 0, 0, 0, 2}, "FATAL 08P01"},
		{"unknown type", msg('z', "x"), "FATAL 08P01"},
		{"truncated bind", msg('B', "\x00st\x00\x00\x05"), "FATAL 08P01"},
		{"query without terminator", msg('Q', "SELECT 1"), "FATAL 08P01"},
		{"execute unknown portal", append(msg('E', "nope\x00\x00\x00\x00\x00"), msg('S', "")...), "ERROR 34000"},
		{"bind unknown statement", append(msg('B', "\x00nope\x00\x00\x00\x00\x00\x00\x00"), msg('S', "")...), "ERROR 26000"},
		{"half a message", []byte{'Q', 0, 0, 1}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nc, _ := rawSession(t, ts)
			nc.Write(tc.send)
			if tc.want == "" || strings.HasPrefix(tc.want, "ERROR") {
				// The server waits for the rest, or answers and waits:
				// close our side.
				time.AfterFunc(200*time.Millisecond, func() { nc.(*net.TCPConn).CloseWrite() })
			}
			codes := readUntilClosed(t, nc)
			if tc.want != "" && (len(codes) == 0 || codes[0] != tc.want) {
				t.Errorf("got %v, want %s", codes, tc.want)
			}
			check(tc.name)
		})
	}
	t.Run("garbage startup", func(t *testing.T) {
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte{0, 0, 0, 8, 1, 2, 3, 4})
		if codes := readUntilClosed(t, nc); len(codes) != 1 || codes[0] != "FATAL 08P01" {
			t.Errorf("got %v", codes)
		}
		check("garbage startup")
	})
	t.Run("vanish mid-query", func(t *testing.T) {
		for range 2 {
			nc, h := rawSession(t, ts)
			h.Frontend.Send(&pgproto3.Query{String: crossJoin})
			h.Frontend.Flush()
			time.Sleep(50 * time.Millisecond)
			nc.Close()
		}
		check("clients vanished")
	})
}

// TestCancel: a cancel request stops a long query with 57014 and the
// session goes on; a cancel request with the wrong key does nothing. The
// metrics show the session active while its query runs, every cancel
// request and the cancelled statements' errors.
func TestCancel(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	c := ts.connect(t, adminUser, adminPassword)
	bigTables(t, c, 6000) // 3.6e7 pairs: seconds
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		errc := make(chan error, 1)
		go func() {
			var n int64
			errc <- c.QueryRow(ctx, crossJoin, mode).Scan(&n)
		}()
		waitRunning(t, ts)
		if m := gather(t, ts); m[`bpfdb_server_connections{state="active"}`] != 1 {
			t.Errorf("%v: %g active connections while the query runs, want 1", mode, m[`bpfdb_server_connections{state="active"}`])
		}
		// A forged key first: nothing happens.
		forged, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		fe := pgproto3.NewFrontend(forged, forged)
		fe.Send(&pgproto3.CancelRequest{ProcessID: c.PgConn().PID(), SecretKey: []byte{0, 0, 0, 0}})
		fe.Flush()
		forged.Close()
		select {
		case err := <-errc:
			t.Fatalf("%v: a forged cancel request ended the query: %v", mode, err)
		case <-time.After(200 * time.Millisecond):
		}
		start := time.Now()
		if err := c.PgConn().CancelRequest(ctx); err != nil {
			t.Fatal(err)
		}
		err = <-errc
		t.Logf("%v: the query ended %v after the cancel request", mode, time.Since(start))
		if pgCode(err) != "57014" {
			t.Fatalf("%v: cancelled query: %v, want 57014", mode, err)
		}
		var one int
		if err := c.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("%v: after the cancel: %v", mode, err)
		}
	}
	// A forged request's connection may still be served: wait for it.
	for i := 0; ; i++ {
		m := gather(t, ts)
		if m["bpfdb_server_cancel_requests_total"] == 4 && m[`bpfdb_server_query_errors_total{sqlstate="57014"}`] == 2 {
			break
		}
		if i == 500 {
			t.Fatalf("%g cancel requests and %g statements cancelled, want 4 and 2", m["bpfdb_server_cancel_requests_total"], m[`bpfdb_server_query_errors_total{sqlstate="57014"}`])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestConcurrentClients runs clients at once, each a mix of queries in
// both protocols, for a while (two rounds of new connections): no errors,
// no goroutines left behind when they disconnect, and no growth of the Go
// heap from one round to the next. Meanwhile the metrics are gathered again and
// again, and in the end the statements counted ok are the queries the
// clients ran. BPFDB_CLIENTS and BPFDB_SECONDS change the load
// (default 32 clients for 2 seconds); the seed is logged and read back
// from BPFDB_SEED.
func TestConcurrentClients(t *testing.T) {
	clients, seconds := envInt("BPFDB_CLIENTS", 32), envInt("BPFDB_SECONDS", 2)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BPFDB_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("%d clients for %d s, seed %d (BPFDB_SEED)", clients, seconds, seed)
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	setup := ts.connect(t, adminUser, adminPassword)
	bigTables(t, setup, 1000)
	setup.Close(ctx)
	before := runtime.NumGoroutine()
	heap := func() uint64 {
		runtime.GC()
		runtime.GC() // and what sync.Pools kept over the first
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	heapBefore := heap()
	m0 := gather(t, ts)
	stopScrapes := make(chan struct{})
	scrapes := make(chan int)
	go func() {
		n := 0
		defer func() { scrapes <- n }()
		for {
			select {
			case <-stopScrapes:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := ts.metrics.reg.Gather(); err != nil {
				t.Errorf("gather the metrics under load: %v", err)
				return
			}
			n++
		}
	}()

	queries := []struct {
		sql  string
		want int64
	}{
		{"SELECT count(*) FROM k WHERE x < $1", 500},
		{"SELECT count(*) FROM (SELECT x % 7 AS g, sum(x) FROM k GROUP BY g) s WHERE g < $1", 7},
		{"SELECT count(*) FROM k a JOIN k b ON a.x = b.x WHERE a.x < $1", 500},
		{"SELECT max(x) FROM (SELECT x FROM k ORDER BY x DESC LIMIT 10) s WHERE x > $1", 999},
	}
	args := []int64{500, 100, 500, 0}
	errs := make(chan error, 2*clients)
	var total sync.Map
	// round runs the clients for d, each on a connection of its own.
	round := func(r int, d time.Duration) {
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		for w := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(r*clients+w)))
				c, err := pgx.Connect(ctx, ts.url(adminUser, adminPassword))
				if err != nil {
					errs <- err
					return
				}
				defer c.Close(ctx)
				n := 0
				for time.Now().Before(deadline) {
					k := rng.IntN(len(queries))
					mode := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec}[rng.IntN(3)]
					var got int64
					if err := c.QueryRow(ctx, queries[k].sql, mode, args[k]).Scan(&got); err != nil {
						errs <- fmt.Errorf("client %d, %s (%v): %w", w, queries[k].sql, mode, err)
						return
					}
					if got != queries[k].want {
						errs <- fmt.Errorf("client %d, %s (%v): %d, want %d", w, queries[k].sql, mode, got, queries[k].want)
						return
					}
					n++
				}
				total.Store(r*clients+w, n)
			}()
		}
		wg.Wait()
	}
	// Two rounds of half the time each: what the first leaves on the
	// heap (caches filled, statistics kept) the second may not add to
	// again; a leak per query or per connection would grow it as much.
	half := time.Duration(seconds) * time.Second / 2
	round(0, half)
	heapFirst := heap()
	round(1, half)
	heapSecond := heap()
	t.Logf("Go heap %d KiB before the clients, %d KiB after the first round, %d KiB after the second", heapBefore>>10, heapFirst>>10, heapSecond>>10)
	if grew, first := int64(heapSecond)-int64(heapFirst), int64(heapFirst)-int64(heapBefore); grew > max(1<<20, first/2) {
		t.Errorf("the Go heap grew by %d KiB in the second round, after %d KiB in the first: memory grows with the load", grew>>10, first>>10)
	}
	close(stopScrapes)
	t.Logf("%d scrapes meanwhile", <-scrapes)
	close(errs)
	failed := false
	for err := range errs {
		t.Error(err)
		failed = true
	}
	n := 0
	total.Range(func(_, v any) bool { n += v.(int); return true })
	t.Logf("%d queries", n)
	m1 := gather(t, ts)
	ok, bad := `bpfdb_server_queries_total{outcome="ok"}`, `bpfdb_server_queries_total{outcome="error"}`
	if !failed && (m1[ok]-m0[ok] != float64(n) || m1[bad] != m0[bad]) {
		t.Errorf("metrics: %g statements ok and %g failed, want the clients' %d queries and none", m1[ok]-m0[ok], m1[bad]-m0[bad], n)
	}
	// The connections' goroutines end once the clients left.
	for i := 0; ; i++ {
		if g := runtime.NumGoroutine(); g <= before {
			break
		} else if i == 100 {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before the clients:\n%s", g, before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestShutdown: Shutdown lets a running query finish and answer, ends idle
// sessions with 57P01, refuses new connections; with a deadline shorter
// than a query it cancels it. (A session between the messages of an
// extended-protocol exchange is idle: it ends too.)
func TestShutdown(t *testing.T) {
	ts := startServer(t, nil, Options{})
	ctx := context.Background()
	busy := ts.connect(t, adminUser, adminPassword)
	idle := ts.connect(t, adminUser, adminPassword)
	bigTables(t, busy, 2000)
	errc := make(chan error, 1)
	go func() {
		var n int64
		errc <- busy.QueryRow(ctx, crossJoin, pgx.QueryExecModeSimpleProtocol).Scan(&n)
	}()
	waitRunning(t, ts)
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("the running query: %v", err)
	}
	if err := idle.Ping(ctx); err == nil {
		t.Fatal("the idle session survived the shutdown")
	}
	if c, err := pgx.Connect(ctx, ts.url(adminUser, adminPassword)); err == nil {
		c.Close(ctx)
		t.Fatal("connected after the shutdown")
	}

	// A deadline: the running query is cancelled.
	ts = startServer(t, nil, Options{})
	busy = ts.connect(t, adminUser, adminPassword)
	bigTables(t, busy, 6000)
	go func() {
		var n int64
		errc <- busy.QueryRow(ctx, crossJoin, pgx.QueryExecModeSimpleProtocol).Scan(&n)
	}()
	waitRunning(t, ts)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown with a deadline: %v", err)
	}
	if err := <-errc; err == nil {
		t.Fatal("the long query finished")
	}
}

// TestVanishCancels: a client that disconnects while its statement runs
// cancels the statement (the server reads ahead while it runs), so the
// server does not compute a result nobody will read.
func TestVanishCancels(t *testing.T) {
	ts := startServer(t, nil, Options{})
	c := ts.connect(t, adminUser, adminPassword)
	bigTables(t, c, 12000) // 1.4e8 pairs: seconds
	nc, h := rawSession(t, ts)
	h.Frontend.Send(&pgproto3.Query{String: crossJoin})
	h.Frontend.Flush()
	waitRunning(t, ts)
	start := time.Now()
	nc.Close()
	for {
		ts.mu.Lock()
		n := len(ts.conns)
		ts.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatal("the statement of the vanished client still runs after a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the vanished client's connection ended %v after it closed", time.Since(start))
}

// TestTooManyConnections: beyond Options.MaxConnections a client is
// refused with 53300 (and counted); when one leaves, the next gets in.
func TestTooManyConnections(t *testing.T) {
	ts := startServer(t, nil, Options{MaxConnections: 2})
	ctx := context.Background()
	// sslmode=prefer would try a second TCP connection after the 'N'.
	url := strings.Replace(ts.url(adminUser, adminPassword), "sslmode=prefer", "sslmode=disable", 1)
	a, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	b, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	if c, err := pgx.Connect(ctx, url); err == nil || pgCode(err) != "53300" {
		if c != nil {
			c.Close(ctx)
		}
		t.Fatalf("a third connection: %v, want 53300", err)
	}
	if m := gather(t, ts); m["bpfdb_server_connections_refused_total"] != 1 || m[`bpfdb_server_connections{state="idle"}`] != 2 {
		t.Errorf("metrics: %g connections refused, %g idle; want 1 and 2", m["bpfdb_server_connections_refused_total"], m[`bpfdb_server_connections{state="idle"}`])
	}
	a.Close(ctx)
	for i := 0; ; i++ {
		c, err := pgx.Connect(ctx, url)
		if err == nil {
			c.Close(ctx)
			break
		}
		if i == 200 {
			t.Fatalf("no connection after one left: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server notices the close
	}
}
