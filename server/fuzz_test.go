package server

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb"
	"github.com/jackc/pgx/v5/pgproto3"
)

var (
	fuzzOnce   sync.Once
	fuzzServer *Server
)

// fuzzTarget is a server of an in-memory database with a small table,
// shared by the fuzz inputs.
func fuzzTarget(f *testing.F) *Server {
	fuzzOnce.Do(func() {
		db, err := bpfdb.Open("", bpfdb.Options{Threads: 1, MemoryLimit: 64 << 20, Logf: func(string, ...any) {}})
		if err != nil {
			f.Fatal(err)
		}
		if err := db.Exec(context.Background(), "CREATE TABLE t (a INTEGER, b VARCHAR); INSERT INTO t VALUES (1, 'x'), (2, NULL)"); err != nil {
			f.Fatal(err)
		}
		fuzzServer = New(db, Options{MaxMessage: 1 << 16, StartupTimeout: time.Second, Logf: func(string, ...any) {}})
		if err := fuzzServer.Bootstrap(adminUser, adminPassword); err != nil {
			f.Fatal(err)
		}
	})
	return fuzzServer
}

// encode concatenates protocol messages.
func encode(f *testing.F, msgs ...interface{ Encode([]byte) ([]byte, error) }) []byte {
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = m.Encode(b); err != nil {
			f.Fatal(err)
		}
	}
	return b
}

// FuzzSession feeds a connection arbitrary bytes: from the startup packet
// on (startup true) or as the messages of a logged-in session that is not
// a superuser's. Whatever arrives, the connection's goroutine must end
// without a panic once the client is gone.
func FuzzSession(f *testing.F) {
	s := fuzzTarget(f)
	startup := encode(f, &pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": adminUser}})
	f.Add(startup, true)
	f.Add(append(encode(f, &pgproto3.SSLRequest{}), startup...), true)
	f.Add(append(startup, encode(f, &pgproto3.SASLInitialResponse{AuthMechanism: scramMechanism, Data: []byte("n,,n=,r=abc")})...), true)
	f.Add(encode(f, &pgproto3.CancelRequest{ProcessID: 1001, SecretKey: []byte{1, 2, 3, 4}}), true)
	f.Add(encode(f, &pgproto3.Query{String: "SELECT a, b FROM t; SELECT 1/0"}, &pgproto3.Terminate{}), false)
	f.Add(encode(f,
		&pgproto3.Parse{Name: "s", Query: "SELECT b FROM t WHERE a = $1", ParameterOIDs: []uint32{oidInt4}},
		&pgproto3.Describe{ObjectType: 'S', Name: "s"},
		&pgproto3.Bind{PreparedStatement: "s", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 1}}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{MaxRows: 1},
		&pgproto3.Execute{},
		&pgproto3.Close{ObjectType: 'S', Name: "s"},
		&pgproto3.Sync{}), false)
	f.Add(encode(f, &pgproto3.Parse{Query: "SELECT $2::INTEGER"}, &pgproto3.Bind{Parameters: [][]byte{nil}}, &pgproto3.Sync{}), false)
	long := make([]byte, 5)
	long[0] = 'Q'
	binary.BigEndian.PutUint32(long[1:], 1<<20)
	f.Add(long, false)
	f.Fuzz(func(t *testing.T, data []byte, startup bool) {
		srv, cli := net.Pipe()
		c := newConn(s, srv)
		done := make(chan struct{})
		go func() {
			defer close(done)
			if startup {
				c.serve()
				return
			}
			defer srv.Close()
			c.session = bpfdb.Session{User: "fuzz"}
			c.loop()
		}()
		go io.Copy(io.Discard, cli)
		go func() {
			cli.Write(data)
			time.Sleep(time.Millisecond)
			cli.Close()
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the connection did not end")
		}
		cli.Close()
	})
}
