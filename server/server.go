package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/bpfdb/bpfdb"
)

// Options configure a Server.
type Options struct {
	// MaxMessage is the largest message body a client may send, in bytes;
	// 0 means 64 MiB. A longer message ends its connection with 08P01.
	MaxMessage int
	// MaxConnections bounds the open connections; 0 means 256. A
	// connection beyond it is refused with 53300.
	MaxConnections int
	// StartupTimeout bounds the time from accepting a connection to the
	// end of its authentication; 0 means one minute.
	StartupTimeout time.Duration
	// TLS, if set, is offered to clients that ask for encryption
	// (SSLRequest); without it they are told it is not available and go
	// on in the clear (or leave, as their sslmode says).
	TLS *tls.Config
	// Logf receives the server's events (a connection that failed, a
	// shutdown); nil means log.Printf.
	Logf func(format string, args ...any)
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server closed")

// Server serves one database to PostgreSQL clients. It owns the database:
// Shutdown closes it. Its methods are safe for concurrent use.
type Server struct {
	db     *bpfdb.DB
	opts   Options
	secret []byte // derives the salts of unknown users (mockVerifier)

	mu        sync.Mutex
	listeners map[net.Listener]bool
	conns     map[*conn]bool
	byPID     map[uint32]*conn // sessions by process id, for cancel requests
	nextPID   uint32
	shutdown  bool
	wg        sync.WaitGroup // the connections' goroutines

	metrics       *metrics
	metricServers map[*http.Server]bool // ServeMetrics' (guarded by mu)

	// dbMu is read-locked by a scrape that reads the database, and
	// write-locked by Shutdown to mark it closed (dbClosed) before closing
	// it.
	dbMu     sync.RWMutex
	dbClosed bool
}

// New returns a server of db.
func New(db *bpfdb.DB, opts Options) *Server {
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = 64 << 20
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = 256
	}
	if opts.StartupTimeout <= 0 {
		opts.StartupTimeout = time.Minute
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	s := &Server{db: db, opts: opts, secret: secret, listeners: map[net.Listener]bool{},
		conns: map[*conn]bool{}, byPID: map[uint32]*conn{}, nextPID: 1000, metricServers: map[*http.Server]bool{}}
	s.metrics = newMetrics(s)
	return s
}

// Bootstrap creates a superuser called user with password when the
// database has no users yet, so that the first login is possible; with
// users already recorded it does nothing.
func (s *Server) Bootstrap(user, password string) error {
	if len(s.db.Users()) > 0 {
		return nil
	}
	if user == "" || password == "" {
		return fmt.Errorf("bootstrap: the database has no users: give a superuser's name and password")
	}
	return s.db.CreateUser(user, password, true)
}

// Serve accepts connections on l and serves each on a goroutine of its
// own until Shutdown; it then returns ErrServerClosed. It closes l.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.closing() {
				return ErrServerClosed
			}
			if retryable(err) {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("serve %s: accept: %w", l.Addr(), err)
		}
		delay = 0
		s.metrics.accepted.Inc()
		c := s.track(nc)
		if c == nil {
			continue
		}
		go func() {
			defer s.untrack(c)
			c.serve()
		}()
	}
}

// retryable reports whether an Accept error may go away (a timeout, or
// too many open files): the server waits and accepts again.
func retryable(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	type temporary interface{ Temporary() bool }
	var t temporary
	return errors.As(err, &t) && t.Temporary()
}

func (s *Server) closing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// track registers a new connection, or refuses it (nil) when the server
// shuts down or has too many.
func (s *Server) track(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		nc.Close()
		return nil
	}
	c := newConn(s, nc)
	if len(s.conns) >= s.opts.MaxConnections {
		s.metrics.refused.Inc()
		go c.refuse(fatal(codeTooManyConnections, "sorry, too many clients already"))
		return nil
	}
	s.conns[c] = true
	s.wg.Add(1)
	return c
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	if c.pid != 0 {
		delete(s.byPID, c.pid)
	}
	s.mu.Unlock()
	s.wg.Done()
}

// register gives c a process id and secret key for cancel requests.
func (s *Server) register(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		s.nextPID++
		if s.nextPID == 0 {
			s.nextPID = 1
		}
		if s.byPID[s.nextPID] == nil {
			break
		}
	}
	c.pid = s.nextPID
	c.secret = make([]byte, 4)
	rand.Read(c.secret)
	s.byPID[c.pid] = c
}

// cancel cancels the statement the session of process pid runs, if the
// secret key is the session's. As in PostgreSQL, the requester learns
// nothing of whether it worked.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.metrics.cancels.Inc()
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret, secret) != 1 {
		return
	}
	c.cancelStatement()
}

// Shutdown stops the server: it stops accepting connections, closes the
// idle ones, lets running statements finish and then closes their
// connections; when ctx ends first it cancels the statements still
// running and closes every connection. It then stops serving metrics
// (ServeMetrics: letting scrapes in progress finish while ctx lasts),
// closes the database and returns ctx's error if the deadline cut
// statements short.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.shutdown = true
	for l := range s.listeners {
		l.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeIfIdle()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.mu.Lock()
		for c := range s.conns {
			c.kill()
		}
		s.mu.Unlock()
		<-done
	}
	s.mu.Lock()
	hss := make([]*http.Server, 0, len(s.metricServers))
	for hs := range s.metricServers {
		hss = append(hss, hs)
	}
	s.mu.Unlock()
	for _, hs := range hss {
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
	}
	s.dbMu.Lock()
	s.dbClosed = true
	s.dbMu.Unlock()
	if cerr := s.db.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("shutdown: close database: %w", cerr)
	}
	return err
}
