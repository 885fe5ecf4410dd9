package server

import (
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// watchConn is a connection as the protocol reads it. While a statement
// runs nobody reads the connection, so a client that vanished would go
// unnoticed until the result is written; watch reads ahead meanwhile
// (keeping what it reads for the protocol, up to a limit) and reports a
// closed or broken connection, which cancels the statement.
type watchConn struct {
	net.Conn
	limit int // read ahead at most this many bytes

	mu  sync.Mutex
	buf []byte // read ahead, not yet consumed
	err error  // the read-ahead's error, returned once buf is consumed
}

// Read returns what was read ahead first, then reads the connection.
func (w *watchConn) Read(p []byte) (int, error) {
	w.mu.Lock()
	if len(w.buf) > 0 {
		n := copy(p, w.buf)
		w.buf = w.buf[n:]
		w.mu.Unlock()
		return n, nil
	}
	if err := w.err; err != nil {
		w.mu.Unlock()
		return 0, err
	}
	w.mu.Unlock()
	return w.Conn.Read(p)
}

// watch reads ahead on a goroutine until stop is called, and calls gone
// if the connection ends meanwhile. stop returns when the goroutine has
// ended.
func (w *watchConn) watch(gone func()) (stop func()) {
	var stopping sync.Mutex
	stopped := false
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 4096)
		for {
			w.mu.Lock()
			full := len(w.buf) >= w.limit || w.err != nil
			w.mu.Unlock()
			if full {
				return // the client is there, or already gone
			}
			n, err := w.Conn.Read(b)
			stopping.Lock()
			halt := stopped
			stopping.Unlock()
			w.mu.Lock()
			w.buf = append(w.buf, b[:n]...)
			if err != nil && !(halt && errors.Is(err, os.ErrDeadlineExceeded)) {
				w.err = err
			}
			w.mu.Unlock()
			if err != nil {
				if !halt {
					gone()
				}
				return
			}
		}
	}()
	return func() {
		stopping.Lock()
		stopped = true
		stopping.Unlock()
		w.Conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		w.Conn.SetReadDeadline(time.Time{})
	}
}
