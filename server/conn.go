package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/jackc/pgx/v5/pgproto3"
)

// conn is one client connection: its protocol state and its session.
// Only its own goroutine reads and writes the connection while it runs;
// Shutdown and cancel requests reach it through mu.
type conn struct {
	srv     *Server
	nc      net.Conn   // the client's TCP connection; closing it ends the session
	wire    net.Conn   // what the protocol goes over: nc, or TLS over it (guarded by mu)
	watch   *watchConn // wire as the protocol reads it
	be      *pgproto3.Backend
	pid     uint32 // process id of BackendKeyData; 0 before authentication
	secret  []byte // secret key of BackendKeyData
	session bpfdb.Session

	mu      sync.Mutex
	busy    bool               // handling a message, not waiting for one
	closing bool               // Shutdown: end the connection when idle
	cancel  context.CancelFunc // the running statement's, nil when none

	settings map[string]string     // the session's own settings (settings.go), by lower-case name
	stmts    map[string]*statement // prepared statements; "" is the unnamed one
	portals  map[string]*portal
	skip     bool      // an extended-protocol message failed: ignore messages until Sync
	txn      txnState  // the transaction block (txn.go)
	began    time.Time // when the statement being served began, for its duration (queryDone)
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, stmts: map[string]*statement{}, portals: map[string]*portal{}}
	c.speak(nc)
	return c
}

// speak makes wire the connection the protocol goes over.
func (c *conn) speak(wire net.Conn) {
	c.mu.Lock()
	c.wire = wire
	c.mu.Unlock()
	c.watch = &watchConn{Conn: wire, limit: 1 << 20}
	c.be = pgproto3.NewBackend(c.watch, wire)
	c.be.SetMaxBodyLen(c.srv.opts.MaxMessage)
}

// refuse sends msg and closes the connection, before any startup.
func (c *conn) refuse(msg *pgproto3.ErrorResponse) {
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.be.ReceiveStartupMessage(); err != nil {
		return
	}
	c.be.Send(msg)
	c.be.Flush()
}

// serve runs the connection until the client leaves, a protocol error,
// or Shutdown.
func (c *conn) serve() {
	defer c.nc.Close()
	c.nc.SetDeadline(time.Now().Add(c.srv.opts.StartupTimeout))
	if !c.startup() {
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.loop()
}

// loop serves messages after the startup until the connection ends.
func (c *conn) loop() {
	for {
		if !c.idle() {
			c.be.Send(fatal(codeAdminShutdown, "terminating connection due to administrator command"))
			c.be.Flush()
			return
		}
		msg, err := c.be.Receive()
		if !c.working() {
			return // Shutdown closed the connection while it waited
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		c.began = time.Now()
		if !c.handle(msg) {
			return
		}
	}
}

// idle marks the connection as waiting for a message; false if it must
// end instead.
func (c *conn) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = false
	return !c.closing
}

// working marks the connection as handling a message; false if Shutdown
// closed it meanwhile.
func (c *conn) working() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = true
	return !c.closing
}

// closeIfIdle is Shutdown's: the connection ends now if it waits for a
// message, else after the message it handles.
func (c *conn) closeIfIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if !c.busy {
		// The connection's goroutine writes nothing while idle.
		if b, err := fatal(codeAdminShutdown, "terminating connection due to administrator command").Encode(nil); err == nil {
			c.wire.SetWriteDeadline(time.Now().Add(time.Second))
			c.wire.Write(b)
		}
		c.nc.Close()
	}
}

// kill cancels the running statement and closes the connection.
func (c *conn) kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	if c.cancel != nil {
		c.cancel()
	}
	c.nc.Close()
}

// cancelStatement cancels the running statement, if any.
func (c *conn) cancelStatement() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
}

// statementContext returns the context a statement runs in (the session,
// cancelled by a cancel request, at the statement_timeout or when the
// client disconnects) and the function that ends it.
func (c *conn) statementContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(bpfdb.WithSession(context.Background(), c.session))
	if d := c.timeout(); d > 0 {
		ctx, cancel = context.WithTimeout(bpfdb.WithSession(context.Background(), c.session), d)
	}
	c.mu.Lock()
	c.cancel = cancel
	c.mu.Unlock()
	stop := c.watch.watch(cancel)
	return ctx, func() {
		stop()
		c.mu.Lock()
		c.cancel = nil
		c.mu.Unlock()
		cancel()
	}
}

// statementError says why a statement that failed in ctx was cancelled
// when its statement_timeout ended it.
func statementError(ctx context.Context, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && SQLState(err) == codeQueryCanceled {
		return fmt.Errorf("canceling statement due to statement timeout: %w", context.DeadlineExceeded)
	}
	return err
}

// readFailed answers a message that could not be read: a client that left
// gets nothing, a message too long or malformed a FATAL protocol error.
func (c *conn) readFailed(err error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return
	}
	var tooLong *pgproto3.ExceededMaxBodyLenErr
	msg := "invalid message: " + err.Error()
	if errors.As(err, &tooLong) {
		msg = fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", tooLong.ActualBodyLen, tooLong.MaxExpectedBodyLen)
	}
	c.srv.opts.Logf("server: connection from %s: %s", c.nc.RemoteAddr(), msg)
	c.be.Send(fatal(codeProtocolViolation, msg))
	c.be.Flush()
}

// startup reads the startup message, answering SSL and GSS encryption
// requests with 'N' (not offered) and serving a cancel request, and
// authenticates the user. It reports whether the session is ready.
func (c *conn) startup() bool {
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				c.be.Send(fatal(codeProtocolViolation, "invalid startup packet: "+err.Error()))
				c.be.Flush()
			}
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.opts.TLS == nil {
				if _, err := c.nc.Write([]byte{'N'}); err != nil {
					return false
				}
				continue
			}
			if _, err := c.nc.Write([]byte{'S'}); err != nil {
				return false
			}
			// What the client sent before the handshake stays in the old
			// reader and is dropped: only what comes over TLS is read.
			t := tls.Server(c.nc, c.srv.opts.TLS)
			if err := t.Handshake(); err != nil {
				c.srv.opts.Logf("server: connection from %s: TLS handshake: %v", c.nc.RemoteAddr(), err)
				return false
			}
			c.speak(t)
		case *pgproto3.GSSEncRequest:
			if _, err := c.wire.Write([]byte{'N'}); err != nil {
				return false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancel(m.ProcessID, m.SecretKey)
			return false
		case *pgproto3.StartupMessage:
			return c.authenticate(m)
		default:
			return false
		}
	}
}

// authenticate runs SCRAM-SHA-256 for the startup message's user and
// sends what a ready session gets: parameters, the cancel key,
// ReadyForQuery.
func (c *conn) authenticate(m *pgproto3.StartupMessage) bool {
	var unknown []string
	for k := range m.Parameters {
		if strings.HasPrefix(k, "_pq_.") {
			unknown = append(unknown, k)
		}
	}
	if m.ProtocolVersion != pgproto3.ProtocolVersion30 || len(unknown) > 0 {
		c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 0, UnrecognizedOptions: unknown})
	}
	name := m.Parameters["user"]
	if name == "" {
		c.be.Send(fatal("28000", "no user name specified in the startup packet"))
		c.be.Flush()
		return false
	}
	failed := func() bool {
		c.srv.metrics.authFailures.Inc()
		c.be.Send(fatal(codeInvalidPassword, fmt.Sprintf("password authentication failed for user %q", name)))
		c.be.Flush()
		return false
	}
	protocol := func(format string, args ...any) bool {
		c.be.Send(fatal(codeProtocolViolation, fmt.Sprintf(format, args...)))
		c.be.Flush()
		return false
	}
	u, known := c.srv.db.LookupUser(name)
	v := mockVerifier(c.srv.secret, name)
	if known {
		v = verifier{salt: u.Salt, iterations: u.Iterations, storedKey: u.StoredKey, serverKey: u.ServerKey}
	}
	scram := &scramServer{v: v}
	c.be.Send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}})
	if c.be.Flush() != nil || c.be.SetAuthType(pgproto3.AuthTypeSASL) != nil {
		return false
	}
	msg, err := c.be.Receive()
	if err != nil {
		return false
	}
	init, ok := msg.(*pgproto3.SASLInitialResponse)
	if !ok {
		return protocol("expected a SASL initial response, got %T", msg)
	}
	if init.AuthMechanism != scramMechanism {
		return protocol("SASL mechanism %q is not offered (%s is)", init.AuthMechanism, scramMechanism)
	}
	first, err := scram.first(init.Data)
	if err != nil {
		return protocol("%v", err)
	}
	c.be.Send(&pgproto3.AuthenticationSASLContinue{Data: first})
	if c.be.Flush() != nil || c.be.SetAuthType(pgproto3.AuthTypeSASLContinue) != nil {
		return false
	}
	if msg, err = c.be.Receive(); err != nil {
		return false
	}
	resp, ok := msg.(*pgproto3.SASLResponse)
	if !ok {
		return protocol("expected a SASL response, got %T", msg)
	}
	final, err := scram.final(resp.Data)
	switch {
	case errors.Is(err, errAuth) || err == nil && !known:
		return failed()
	case err != nil:
		return protocol("%v", err)
	}
	c.be.SetAuthType(pgproto3.AuthTypeOk)
	c.session = bpfdb.Session{User: u.Name, Superuser: u.Superuser}
	c.srv.register(c)
	c.be.Send(&pgproto3.AuthenticationSASLFinal{Data: final})
	c.be.Send(&pgproto3.AuthenticationOk{})
	super := "off"
	if u.Superuser {
		super = "on"
	}
	for _, p := range [][2]string{
		{"server_version", "16.0"}, {"server_encoding", "UTF8"}, {"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"}, {"IntervalStyle", "postgres"}, {"TimeZone", "UTC"},
		{"integer_datetimes", "on"}, {"standard_conforming_strings", "on"},
		{"is_superuser", super}, {"session_authorization", u.Name}, {"application_name", m.Parameters["application_name"]},
	} {
		c.be.Send(&pgproto3.ParameterStatus{Name: p[0], Value: p[1]})
	}
	c.be.Send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
	return c.be.Flush() == nil
}

// handle serves one message; false ends the connection.
func (c *conn) handle(msg pgproto3.FrontendMessage) bool {
	if c.skip {
		switch msg.(type) {
		case *pgproto3.Sync:
			c.skip = false
		case *pgproto3.Terminate:
			return false
		default:
			return true
		}
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(m.String)
	case *pgproto3.Parse:
		c.parse(m)
	case *pgproto3.Bind:
		c.bind(m)
	case *pgproto3.Describe:
		c.describe(m)
	case *pgproto3.Execute:
		c.execute(m)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(c.stmts, m.Name)
		} else {
			delete(c.portals, m.Name)
		}
		c.be.Send(&pgproto3.CloseComplete{})
	case *pgproto3.Sync:
		// Every statement commits by itself: a Sync ends the implicit
		// transaction, and with it the portals.
		clear(c.portals)
		c.ready()
		return c.be.Flush() == nil
	case *pgproto3.Flush:
		return c.be.Flush() == nil
	case *pgproto3.Terminate:
		return false
	case *pgproto3.FunctionCall:
		c.sendError(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: codeFeatureNotSupported, Message: "the function call protocol is not supported"})
		c.ready()
		return c.be.Flush() == nil
	case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
		// Outside COPY FROM STDIN these are ignored, as PostgreSQL does.
	default:
		c.be.Send(fatal(codeProtocolViolation, fmt.Sprintf("unexpected message %T", msg)))
		c.be.Flush()
		return false
	}
	return true
}
