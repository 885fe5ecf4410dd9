package server

import (
	"fmt"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/jackc/pgx/v5/pgproto3"
)

// bpfdb commits every statement when it ends (a statement that fails
// changes nothing). Many drivers open a transaction block before their
// first statement (psycopg2 unless autocommit, JDBC with autocommit off),
// so the server accepts blocks and keeps PostgreSQL's protocol around
// them, without pretending to group statements:
//
//	BEGIN        opens a block: ReadyForQuery says 'T'
//	statements   run and commit one by one, each on the latest data
//	an error     fails the block ('E'): statements are refused (25P02)
//	             until COMMIT or ROLLBACK ends it
//	COMMIT       ends the block (tag ROLLBACK if it had failed)
//	ROLLBACK     ends the block; if statements of the block changed data,
//	             they cannot be undone: ROLLBACK fails (0A000) and says so
//
// So a block of queries behaves as in PostgreSQL, except that its
// statements may see different snapshots; a block that writes and then
// rolls back is an error, never a silent commit.
type txnState struct {
	open   bool
	failed bool
	writes int // statements of the block that changed data
}

// txStatus is the transaction status of ReadyForQuery.
func (c *conn) txStatus() byte {
	switch {
	case !c.txn.open:
		return 'I'
	case c.txn.failed:
		return 'E'
	}
	return 'T'
}

// sendError sends r, an error response to a statement, and counts the
// statement as failed with r's SQLSTATE.
func (c *conn) sendError(r *pgproto3.ErrorResponse) {
	c.be.Send(r)
	c.queryDone(r.Code)
}

// ready sends ReadyForQuery with the session's transaction status.
func (c *conn) ready() {
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.txStatus()})
}

// errAborted is the error of statements in a failed block.
var errAborted = &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "25P02",
	Message: "current transaction is aborted, commands ignored until end of transaction block"}

// runTransaction runs BEGIN, COMMIT or ROLLBACK: it sends the tag, or the
// error response of a ROLLBACK that cannot undo writes (false).
func (c *conn) runTransaction(st *ast.TransactionStmt) bool {
	switch st.Kind {
	case ast.TxnBegin:
		if c.txn.open {
			c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "25001",
				Message: "there is already a transaction in progress"})
		}
		c.txn.open = true
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")})
	case ast.TxnCommit:
		tag := "COMMIT"
		if !c.txn.open {
			c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "25P01",
				Message: "there is no transaction in progress"})
		} else if c.txn.failed {
			tag = "ROLLBACK"
		}
		c.txn = txnState{}
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	case ast.TxnRollback:
		writes := c.txn.writes
		if !c.txn.open {
			c.be.Send(&pgproto3.NoticeResponse{Severity: "WARNING", SeverityUnlocalized: "WARNING", Code: "25P01",
				Message: "there is no transaction in progress"})
		}
		c.txn = txnState{}
		if writes > 0 {
			c.sendError(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: codeFeatureNotSupported,
				Message: fmt.Sprintf("cannot roll back: bpfdb commits every statement when it ends, and %d statements of this block changed data", writes),
				Hint:    "the block is over; its changes stay"})
			return false
		}
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("ROLLBACK")})
	}
	c.queryDone("")
	return true
}

// statementDone records in the block what a statement did: a failure
// fails the block, a change of data counts as a write.
func (c *conn) statementDone(tag string, err error) {
	if !c.txn.open {
		return
	}
	switch {
	case err != nil:
		c.txn.failed = true
	case tag != "SELECT" && tag != "SHOW" && tag != "":
		// SET counts: neither a database setting nor a session setting
		// goes back at ROLLBACK.
		c.txn.writes++
	}
}
