package server

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/catalog"
	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/jackc/pgx/v5/pgproto3"
)

// SQLSTATE codes the server sends (PostgreSQL's errcodes.txt).
const (
	codeFeatureNotSupported  = "0A000"
	codeInvalidParameter     = "22023"
	codeDivisionByZero       = "22012"
	codeNumericOutOfRange    = "22003"
	codeInvalidText          = "22P02"
	codeNotNullViolation     = "23502"
	codeReadOnlyTransaction  = "25006"
	codeInvalidPassword      = "28P01"
	codeSyntaxError          = "42601"
	codeInsufficientPrivs    = "42501"
	codeUndefinedTable       = "42P01"
	codeUndefinedColumn      = "42703"
	codeUndefinedFunction    = "42883"
	codeUndefinedObject      = "42704"
	codeAmbiguousColumn      = "42702"
	codeGroupingError        = "42803"
	codeDatatypeMismatch     = "42804"
	codeDuplicateTable       = "42P07"
	codeDuplicateObject      = "42710"
	codeDuplicatePrepared    = "42P05"
	codeDuplicateCursor      = "42P03"
	codeInvalidStatementName = "26000"
	codeInvalidCursorName    = "34000"
	codeProtocolViolation    = "08P01"
	codeConnectionFailure    = "08006"
	codeOutOfMemory          = "53200"
	codeQueryCanceled        = "57014"
	codeAdminShutdown        = "57P01"
	codeTooManyConnections   = "53300"
	codeInternalError        = "XX000"
)

// SQLState returns the SQLSTATE code a client sees for err, from the
// sentinel errors under it: syntax errors 42601, an unknown table 42P01,
// an unknown column 42703, a refused permission 42501, the memory limit
// 53200, a cancelled statement 57014, and XX000 for what has no better
// code.
func SQLState(err error) string {
	var pe *planner.Error
	switch {
	case errors.Is(err, parser.ErrSyntax):
		return codeSyntaxError
	case errors.Is(err, bpfdb.ErrPermission):
		return codeInsufficientPrivs
	case errors.Is(err, buffer.ErrOutOfMemory):
		return codeOutOfMemory
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, parallel.ErrCancelled):
		return codeQueryCanceled
	case errors.As(err, &pe) && errors.Is(err, planner.ErrNotFound):
		switch {
		case strings.HasPrefix(pe.Msg, "column"):
			return codeUndefinedColumn
		case strings.HasPrefix(pe.Msg, "function"):
			return codeUndefinedFunction
		case strings.HasPrefix(pe.Msg, "table"), strings.HasPrefix(pe.Msg, "schema"):
			return codeUndefinedTable
		}
		return codeUndefinedObject
	case errors.Is(err, catalog.ErrNotFound):
		if strings.Contains(err.Error(), "user ") {
			return codeUndefinedObject
		}
		return codeUndefinedTable
	case errors.Is(err, catalog.ErrExists):
		if strings.Contains(err.Error(), "user ") {
			return codeDuplicateObject
		}
		return codeDuplicateTable
	case errors.Is(err, planner.ErrAmbiguous):
		return codeAmbiguousColumn
	case errors.Is(err, planner.ErrGrouping):
		return codeGroupingError
	case errors.Is(err, expr.ErrType):
		return codeDatatypeMismatch
	case errors.Is(err, types.ErrDivisionByZero):
		return codeDivisionByZero
	case errors.Is(err, types.ErrOverflow):
		return codeNumericOutOfRange
	case errors.Is(err, types.ErrSyntax), errors.Is(err, types.ErrCast), errors.Is(err, errParam):
		return codeInvalidText
	case errors.Is(err, catalog.ErrNotNull):
		return codeNotNullViolation
	case errors.Is(err, catalog.ErrReadOnly):
		return codeReadOnlyTransaction
	case errors.Is(err, catalog.ErrUnknownSetting):
		return codeUndefinedObject
	case errors.Is(err, catalog.ErrInvalidSetting), errors.Is(err, errSetting):
		return codeInvalidParameter
	case errors.Is(err, bpfdb.ErrNotSupported), errors.Is(err, planner.ErrNotSupported):
		return codeFeatureNotSupported
	}
	return codeInternalError
}

// errorResponse builds the ErrorResponse for err, which a statement of
// text sql returned: its SQLSTATE, its message, and where the engine
// located the error the position in sql (1-based, in characters) that
// psql draws its caret under.
func errorResponse(err error, sql string) *pgproto3.ErrorResponse {
	r := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: SQLState(err), Message: err.Error()}
	var pos ast.Pos
	var se *parser.Error
	var be *planner.Error
	switch {
	case errors.As(err, &se):
		r.Message, pos = "syntax error: "+se.Msg, se.Pos
	case errors.As(err, &be):
		r.Message, pos = be.Msg, be.Pos
	}
	if pos.IsValid() && pos.Offset <= len(sql) {
		r.Position = int32(utf8.RuneCountInString(sql[:pos.Offset]) + 1)
	}
	if r.Code == codeQueryCanceled && errors.Is(err, context.Canceled) {
		r.Message = "canceling statement due to user request"
	}
	return r
}

// fatal builds a FATAL ErrorResponse: the server closes the connection
// after sending it.
func fatal(code, msg string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg}
}
