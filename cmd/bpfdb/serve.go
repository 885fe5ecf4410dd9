package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bpfdb/bpfdb/server"
)

const serveUsage = `usage: bpfdb serve --db FILE [--listen ADDR] [--metrics ADDR] [--user NAME] [flags]

Serve a database to PostgreSQL clients (psql, pgx, JDBC, psycopg) over the
PostgreSQL wire protocol, until SIGINT or SIGTERM: then it stops accepting
connections, lets running statements finish (up to --shutdown-timeout,
then cancels them) and closes the database.

Clients log in with SCRAM-SHA-256 as a user of the database (CREATE USER
name PASSWORD '...' [SUPERUSER]). A database without users gets a
superuser at the first start: --user and the password in the environment
variable BPFDB_PASSWORD (or BPFDB_USER and BPFDB_PASSWORD). Only a
superuser may attach or detach programs, manage users, SET the
database's settings, read hook maps or COPY from the server's files.
With --tls-cert and --tls-key, clients that ask for encryption
(sslmode=require) get TLS; without, connections are not encrypted.

  psql -h 127.0.0.1 -p 5433 -U admin -c 'SELECT * FROM bpfdb_hooks()'

With --metrics, Prometheus scrapes http://ADDR/metrics: statements by
outcome, errors by SQLSTATE and durations, connections by state, failed
logins and cancel requests; the buffer pool's memory (limit, used, by
tag), pin hits and misses, loads, evictions and spills; per hook whether
a program is attached and its calls, errors, violations and time; and the
Go runtime's and the process's figures. The address has no
authentication: keep it on a trusted network (the default is off).

  curl -s http://127.0.0.1:9187/metrics | grep bpfdb_buffer_hits

Flags:
  --db FILE                the database (required; :memory: for one that
                           ends with the server), with options as
                           FILE?threads=2&memory_limit=1GB
  --listen ADDR            the TCP address to listen on (127.0.0.1:5433)
  --metrics ADDR           serve Prometheus metrics at http://ADDR/metrics
                           (e.g. 127.0.0.1:9187; default off)
  --user NAME              the bootstrap superuser (default $BPFDB_USER)
  --shutdown-timeout D     how long running statements may finish (30s)
  --tls-cert FILE, --tls-key FILE
                           a PEM certificate (chain) and its key for TLS
  --threads N, --no-programs, --hook-engine auto|jit|interpreter
                           as for bpfdb -c
`

// serveCommand runs bpfdb serve until a signal asks it to stop.
func serveCommand(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// serve runs the server until ctx ends, then shuts it down.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bpfdb serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, serveUsage) }
	f := dbFlags{log: stderr}
	f.register(fs)
	listen := fs.String("listen", "127.0.0.1:5433", "the TCP address to listen on")
	metricsAddr := fs.String("metrics", "", "the TCP address to serve Prometheus metrics on (empty: none)")
	user := fs.String("user", os.Getenv("BPFDB_USER"), "the bootstrap superuser of a database without users")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "how long running statements may finish at shutdown")
	certFile := fs.String("tls-cert", "", "a PEM certificate (chain) for TLS")
	keyFile := fs.String("tls-key", "", "the PEM key of --tls-cert")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bpfdb serve: unexpected argument %q\n%s", fs.Arg(0), serveUsage)
		return 2
	}
	if (*certFile == "") != (*keyFile == "") {
		fmt.Fprint(stderr, "bpfdb serve: --tls-cert and --tls-key go together\n")
		return 2
	}
	var tlsConfig *tls.Config
	if *certFile != "" {
		cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
		if err != nil {
			fmt.Fprintf(stderr, "bpfdb serve: TLS: %v\n", err)
			return 1
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if f.db == "" {
		fmt.Fprint(stderr, "bpfdb serve: --db FILE is required (:memory: for an in-memory database)\n")
		return 2
	}
	db, err := f.open()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb serve: %v\n", err)
		return 1
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "bpfdb: "+format+"\n", args...) }
	srv := server.New(db, server.Options{Logf: logf, TLS: tlsConfig})
	if err := srv.Bootstrap(*user, os.Getenv("BPFDB_PASSWORD")); err != nil {
		db.Close()
		fmt.Fprintf(stderr, "bpfdb serve: %v (--user NAME and BPFDB_PASSWORD)\n", err)
		return 1
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		db.Close()
		fmt.Fprintf(stderr, "bpfdb serve: %v\n", err)
		return 1
	}
	var ml net.Listener
	if *metricsAddr != "" {
		if ml, err = net.Listen("tcp", *metricsAddr); err != nil {
			l.Close()
			db.Close()
			fmt.Fprintf(stderr, "bpfdb serve: --metrics: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "bpfdb: serving %s on %s\n", f.db, l.Addr())
	// Serve and ServeMetrics each send their result; both end at Shutdown.
	errc := make(chan error, 2)
	running := 1
	go func() { errc <- srv.Serve(l) }()
	if ml != nil {
		fmt.Fprintf(stdout, "bpfdb: metrics on http://%s/metrics\n", ml.Addr())
		running++
		go func() { errc <- srv.ServeMetrics(ml) }()
	}
	code := 0
	select {
	case <-ctx.Done():
		logf("shutting down: waiting up to %s for running statements", *grace)
	case err := <-errc:
		running--
		logf("%v", err)
		code = 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logf("shutdown: %v", err)
		if !errors.Is(err, context.DeadlineExceeded) {
			code = 1
		}
	}
	for range running {
		<-errc
	}
	fmt.Fprintln(stdout, "bpfdb: stopped")
	return code
}
