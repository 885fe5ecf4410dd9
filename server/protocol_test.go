package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/testutil/datadriven"
	"github.com/jackc/pgx/v5/pgproto3"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files of testdata/")

// frontendMessage decodes one message of a golden file: JSON with the
// message's Type and its fields, as pgproto3 marshals them.
func frontendMessage(line string) (pgproto3.FrontendMessage, error) {
	var head struct{ Type string }
	if err := json.Unmarshal([]byte(line), &head); err != nil {
		return nil, err
	}
	var m pgproto3.FrontendMessage
	switch head.Type {
	case "Query":
		m = &pgproto3.Query{}
	case "Parse":
		m = &pgproto3.Parse{}
	case "Bind":
		m = &pgproto3.Bind{}
	case "Describe":
		m = &pgproto3.Describe{}
	case "Execute":
		m = &pgproto3.Execute{}
	case "Close":
		m = &pgproto3.Close{}
	case "Sync":
		return &pgproto3.Sync{}, nil
	case "Flush":
		return &pgproto3.Flush{}, nil
	default:
		return nil, fmt.Errorf("unknown message type %q", head.Type)
	}
	return m, json.Unmarshal([]byte(line), m)
}

// formatBackend renders a server message on one line.
func formatBackend(m pgproto3.BackendMessage) string {
	switch m := m.(type) {
	case *pgproto3.ParameterDescription:
		return fmt.Sprint("ParameterDescription ", m.ParameterOIDs)
	case *pgproto3.RowDescription:
		var fs []string
		for _, f := range m.Fields {
			fs = append(fs, fmt.Sprintf("%s:%d:%d/%d", f.Name, f.DataTypeOID, f.TypeModifier, f.Format))
		}
		return "RowDescription " + strings.Join(fs, " ")
	case *pgproto3.DataRow:
		var vs []string
		for _, v := range m.Values {
			switch {
			case v == nil:
				vs = append(vs, "NULL")
			case isText(v):
				vs = append(vs, fmt.Sprintf("%q", v))
			default:
				vs = append(vs, "0x"+hex.EncodeToString(v))
			}
		}
		return "DataRow " + strings.Join(vs, " ")
	case *pgproto3.CommandComplete:
		return "CommandComplete " + string(m.CommandTag)
	case *pgproto3.ErrorResponse:
		return fmt.Sprintf("ErrorResponse %s %s %s", m.Severity, m.Code, m.Message)
	case *pgproto3.NoticeResponse:
		return fmt.Sprintf("NoticeResponse %s %s %s", m.Severity, m.Code, m.Message)
	case *pgproto3.ReadyForQuery:
		return "ReadyForQuery " + string(m.TxStatus)
	case *pgproto3.ParameterStatus:
		return "ParameterStatus " + m.Name + "=" + m.Value
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
}

// isText reports whether b is printable ASCII (a text-format value).
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// TestProtocol runs the message exchanges of testdata/protocol: each case
// sends its messages (JSON, one a line) in a new session of the user
// admin, then prints what the server answers up to the ReadyForQuery of
// each Sync and Query. The database holds k(x INTEGER, s VARCHAR, d
// DECIMAL(6,2)) with x from 0 to 9.
func TestProtocol(t *testing.T) {
	ts := startServer(t, nil, Options{})
	if err := ts.db.Exec(context.Background(), `CREATE TABLE k (x INTEGER, s VARCHAR, d DECIMAL(6,2));
		INSERT INTO k SELECT * FROM (VALUES (0, 'zero', 0.5), (1, 'one', -1.25), (2, 'two', NULL), (3, 'three', 3), (4, 'four', 4),
			(5, 'five', 5), (6, 'six', 6), (7, 'seven', 7), (8, 'eight', 8), (9, 'nine', 9)) v(x, s, d)`); err != nil {
		t.Fatal(err)
	}
	datadriven.Run(t, "testdata/protocol", *rewrite, func(t *testing.T, c *datadriven.Case) string {
		if c.Cmd != "send" {
			t.Fatalf("line %d: unknown command %q", c.Line, c.Cmd)
		}
		nc, h := rawSession(t, ts)
		waits := 0
		for _, line := range c.Input {
			m, err := frontendMessage(line)
			if err != nil {
				t.Fatalf("line %d: %s: %v", c.Line, line, err)
			}
			switch m.(type) {
			case *pgproto3.Sync, *pgproto3.Query:
				waits++
			}
			h.Frontend.Send(m)
		}
		if err := h.Frontend.Flush(); err != nil {
			t.Fatal(err)
		}
		nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		var out []string
		for waits > 0 {
			m, err := h.Frontend.Receive()
			if err != nil {
				out = append(out, "error: "+err.Error())
				break
			}
			out = append(out, formatBackend(m))
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				waits--
			}
		}
		return strings.Join(out, "\n")
	})
}
