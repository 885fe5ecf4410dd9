package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
	"github.com/jackc/pgx/v5/pgproto3"
)

// errStop ends a walk over a result's chunks early.
var errStop = errors.New("stop")

// flushRows is how many data rows are buffered before they are written.
const flushRows = 512

// simpleQuery serves a Query message: every statement of sql in order,
// each with its rows and command tag, stopping at the first error; then
// ReadyForQuery. The whole text is parsed first: a syntax error anywhere
// runs nothing.
func (c *conn) simpleQuery(sql string) {
	delete(c.stmts, "")
	clear(c.portals)
	defer func() {
		c.ready()
		c.be.Flush()
	}()
	if !c.txn.failed && strings.Contains(sql, "pg_catalog.") {
		ctx, done := c.statementContext()
		a, ok, err := c.psqlCatalog(ctx, sql)
		done()
		if ok {
			if err != nil {
				c.sendError(errorResponse(err, sql))
			} else {
				c.sendCatalog(a)
				c.queryDone("")
			}
			return
		}
	}
	if st := resetStatement(sql); st != nil {
		c.runStatement(sql) // the parser does not know SET name TO DEFAULT
		return
	}
	stmts, err := parser.Parse(sql)
	if err != nil {
		c.sendError(errorResponse(err, sql))
		c.statementDone("", err)
		return
	}
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	pieces, rest := parser.Split(sql)
	if rest != "" {
		pieces = append(pieces, rest)
	}
	from := 0
	for _, piece := range pieces {
		off := strings.Index(sql[from:], piece) + from
		from = off + len(piece)
		// Blanks in place of the statements before keep positions
		// (line, column, offset) those of the client's text.
		if !c.runStatement(blank(sql[:off]) + piece) {
			return
		}
	}
}

// blank returns s with every character but line breaks replaced by a
// space: as many characters, so that the positions clients see (counted
// in characters) stay those of the original text.
func blank(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == '\n' || r == '\r' {
			b.WriteRune(r)
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// runStatement runs the one statement of text and sends its result or
// its error (false).
func (c *conn) runStatement(text string) bool {
	fail := func(err error) bool {
		c.sendError(errorResponse(err, text))
		c.statementDone("", err)
		return false
	}
	st := sessionStatement(text)
	if tx, ok := st.(*ast.TransactionStmt); ok {
		return c.runTransaction(tx)
	}
	if c.txn.failed {
		c.sendError(errAborted)
		return false
	}
	if st != nil {
		if err := c.runSession(st, true); err != nil {
			return fail(err)
		}
		c.statementDone(sessionTag(st), nil)
		c.queryDone("")
		return true
	}
	ctx, done := c.statementContext()
	n := 0
	var sendErr error
	err := c.srv.db.QueryEach(ctx, text, func(r *bpfdb.Result) error {
		n++
		c.statementDone(r.Tag, nil)
		sendErr = c.sendResult(r, nil, true, 0, 0)
		return sendErr
	})
	err = statementError(ctx, err)
	done()
	if sendErr != nil {
		// The client went away while the result was sent: nobody reads
		// an error response.
		c.statementDone("", sendErr)
		c.queryDone(codeConnectionFailure)
		return false
	}
	if err != nil {
		return fail(err)
	}
	if n == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
	}
	c.queryDone("")
	return true
}

// rowDescription describes columns sent in formats (nil: all text).
func rowDescription(names []string, ts []types.Type, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{Fields: make([]pgproto3.FieldDescription, len(names))}
	for j, name := range names {
		pt := typeOf(ts[j])
		var f int16
		if formats != nil {
			f = formats[j]
		}
		rd.Fields[j] = pgproto3.FieldDescription{Name: []byte(name), DataTypeOID: pt.oid, DataTypeSize: pt.size,
			TypeModifier: typeModifier(ts[j]), Format: f}
	}
	return rd
}

// sendResult sends a statement's result: its row description (if
// describe and it has columns), rows from row first on, at most limit of
// them (0: all), in formats (nil: text), then its command tag, or
// PortalSuspended when rows remain. It returns the error of a write.
func (c *conn) sendResult(r *bpfdb.Result, formats []int16, describe bool, first, limit int) error {
	if len(r.Columns) > 0 {
		if describe {
			c.be.Send(rowDescription(r.Columns, r.Types, formats))
		}
		sent, err := c.sendRows(r, formats, first, limit)
		if err != nil {
			return err
		}
		if limit > 0 && first+sent < r.Rows() {
			c.be.Send(&pgproto3.PortalSuspended{})
			return nil
		}
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(commandTag(r))})
	return nil
}

// sendRows sends rows first.. of r (at most limit, 0: all) and returns how
// many it sent.
func (c *conn) sendRows(r *bpfdb.Result, formats []int16, first, limit int) (int, error) {
	// Not nil: a slice of it is an empty value, nil would be NULL.
	buf := make([]byte, 0, 256)
	values := make([][]byte, len(r.Columns))
	offs := make([]int, len(r.Columns)+1)
	sent, row0 := 0, 0
	err := r.Chunks(func(ch *vector.Chunk) error {
		n := ch.Len()
		if row0+n <= first {
			row0 += n
			return nil
		}
		for i := max(first-row0, 0); i < n; i++ {
			if limit > 0 && sent == limit {
				return errStop
			}
			buf = buf[:0]
			for j := range values {
				v := ch.Value(j, i)
				offs[j] = len(buf)
				if v.IsNull() {
					offs[j] = -1
					continue
				}
				if formats != nil && formats[j] == formatBinary {
					buf = appendBinary(buf, v)
				} else {
					buf = appendText(buf, v)
				}
			}
			end := len(buf)
			for j := len(values) - 1; j >= 0; j-- {
				if offs[j] < 0 {
					values[j] = nil
					continue
				}
				values[j] = buf[offs[j]:end]
				end = offs[j]
			}
			c.be.Send(&pgproto3.DataRow{Values: values})
			sent++
			if sent%flushRows == 0 {
				if err := c.be.Flush(); err != nil {
					return err
				}
			}
		}
		row0 += n
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	c.srv.metrics.rowsSent.Add(float64(sent))
	return sent, err
}

// commandTag is the CommandComplete tag of a result, as PostgreSQL
// writes them: SELECT n, INSERT 0 n, COPY n, CREATE TABLE, ...
func commandTag(r *bpfdb.Result) string {
	switch r.Tag {
	case "SELECT":
		return fmt.Sprintf("SELECT %d", r.RowsAffected)
	case "INSERT":
		return fmt.Sprintf("INSERT 0 %d", r.RowsAffected)
	case "COPY":
		return fmt.Sprintf("COPY %d", r.RowsAffected)
	}
	return r.Tag
}

// statement is a prepared statement of the extended protocol.
type statement struct {
	sql    string
	empty  bool           // no statement at all
	toks   []parser.Token // its parameter tokens
	params []uint32       // the parameters' types (oidUnknown when not given)
	// session is the statement if it is a SET or SHOW of a session
	// setting, which the server runs itself.
	session ast.Statement
	// described is set once Describe computed the result's columns.
	described bool
	names     []string
	types     []types.Type
}

// portal is a bound statement, ready to run.
type portal struct {
	stmt    *statement
	sql     string  // the statement with its parameters bound as literals
	formats []int16 // result formats as Bind gave them
	// want are the result's types as a Describe announced them; the rows
	// must have these types.
	want []types.Type
	res  *bpfdb.Result // after the first Execute
	row  int           // next row to send
}

// failExtended sends err and skips messages until Sync, as the extended
// protocol requires after an error; it fails a transaction block.
func (c *conn) failExtended(err error, sql string) {
	c.sendError(errorResponse(err, sql))
	c.skip = true
	c.statementDone("", err)
}

// failCode is failExtended for errors of the protocol layer.
func (c *conn) failCode(code, format string, args ...any) {
	c.sendError(&pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: code, Message: fmt.Sprintf(format, args...)})
	c.skip = true
	c.statementDone("", errors.New(code))
}

func (c *conn) parse(m *pgproto3.Parse) {
	if m.Name != "" && c.stmts[m.Name] != nil {
		c.failCode(codeDuplicatePrepared, "prepared statement %q already exists", m.Name)
		return
	}
	stmts, err := parser.Parse(m.Query)
	if err != nil {
		c.failExtended(err, m.Query)
		return
	}
	if len(stmts) > 1 {
		c.failCode(codeSyntaxError, "cannot insert multiple commands into a prepared statement")
		return
	}
	toks, n, err := params(m.Query)
	if err != nil {
		c.failExtended(err, m.Query)
		return
	}
	s := &statement{sql: m.Query, empty: len(stmts) == 0, toks: toks, params: make([]uint32, max(n, len(m.ParameterOIDs))), session: sessionStatement(m.Query)}
	for i, oid := range m.ParameterOIDs {
		if !knownParamType(oid) {
			c.failCode(codeFeatureNotSupported, "parameter $%d: type %d is not supported (bool, int2, int4, int8, float4, float8, numeric, text, varchar, date are)", i+1, oid)
			return
		}
		s.params[i] = oid
	}
	if len(s.params) > 0 && s.session == nil {
		ctx, done := c.statementContext()
		c.inferParams(ctx, s)
		done()
	}
	c.stmts[m.Name] = s
	c.be.Send(&pgproto3.ParseComplete{})
}

// formatCodes expands a message's format codes to n values: none means
// all text, one means all that one.
func formatCodes(codes []int16, n int) ([]int16, error) {
	for _, f := range codes {
		if f != formatText && f != formatBinary {
			return nil, fmt.Errorf("format code %d is not text (0) or binary (1)", f)
		}
	}
	switch len(codes) {
	case 0:
		return make([]int16, n), nil
	case 1:
		out := make([]int16, n)
		for i := range out {
			out[i] = codes[0]
		}
		return out, nil
	case n:
		return slices.Clone(codes), nil
	}
	return nil, fmt.Errorf("%d format codes for %d values", len(codes), n)
}

func (c *conn) bind(m *pgproto3.Bind) {
	s := c.stmts[m.PreparedStatement]
	if s == nil {
		c.failCode(codeInvalidStatementName, "prepared statement %q does not exist", m.PreparedStatement)
		return
	}
	if m.DestinationPortal != "" && c.portals[m.DestinationPortal] != nil {
		c.failCode(codeDuplicateCursor, "portal %q already exists", m.DestinationPortal)
		return
	}
	if len(m.Parameters) != len(s.params) {
		c.failCode(codeProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(s.params))
		return
	}
	pf, err := formatCodes(m.ParameterFormatCodes, len(m.Parameters))
	if err != nil {
		c.failCode(codeProtocolViolation, "bind: parameters: %v", err)
		return
	}
	lits := make([]string, len(m.Parameters))
	for i, b := range m.Parameters {
		var text string
		if b != nil {
			if text, err = paramText(s.params[i], pf[i], b); err != nil {
				c.failExtended(fmt.Errorf("parameter $%d: %w", i+1, err), s.sql)
				return
			}
		}
		if lits[i], err = literal(s.params[i], text, b == nil); err != nil {
			c.failExtended(fmt.Errorf("parameter $%d: %w", i+1, err), s.sql)
			return
		}
	}
	p := &portal{stmt: s, sql: substitute(s.sql, s.toks, lits), formats: slices.Clone(m.ResultFormatCodes)}
	if s.described {
		p.want = s.types
	}
	c.portals[m.DestinationPortal] = p
	c.be.Send(&pgproto3.BindComplete{})
}

// describeStatement computes a prepared statement's result columns: the
// statement is described with its parameters as NULLs of their types.
func (c *conn) describeStatement(s *statement) error {
	if s.described || s.empty {
		return nil
	}
	if show, ok := s.session.(*ast.ShowStmt); ok {
		s.described, s.names, s.types = true, []string{show.Name}, []types.Type{types.VarcharType}
		return nil
	}
	if s.session != nil {
		s.described = true
		return nil
	}
	lits := make([]string, len(s.params))
	for i, oid := range s.params {
		lits[i] = placeholder(oid)
	}
	ctx, done := c.statementContext()
	defer done()
	names, ts, err := c.srv.db.Describe(ctx, substitute(s.sql, s.toks, lits))
	if err != nil {
		return err
	}
	s.described, s.names, s.types = true, names, ts
	return nil
}

func (c *conn) describe(m *pgproto3.Describe) {
	switch m.ObjectType {
	case 'S':
		s := c.stmts[m.Name]
		if s == nil {
			c.failCode(codeInvalidStatementName, "prepared statement %q does not exist", m.Name)
			return
		}
		if err := c.describeStatement(s); err != nil {
			c.failExtended(err, s.sql)
			return
		}
		c.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: s.params})
		if len(s.names) == 0 {
			c.be.Send(&pgproto3.NoData{})
			return
		}
		c.be.Send(rowDescription(s.names, s.types, nil))
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			c.failCode(codeInvalidCursorName, "portal %q does not exist", m.Name)
			return
		}
		var names []string
		var ts []types.Type
		switch {
		case p.res != nil:
			names, ts = p.res.Columns, p.res.Types
		case p.stmt.session != nil:
			if err := c.describeStatement(p.stmt); err != nil {
				c.failExtended(err, p.sql)
				return
			}
			names, ts = p.stmt.names, p.stmt.types
		case p.stmt.empty:
		default:
			ctx, done := c.statementContext()
			var err error
			names, ts, err = c.srv.db.Describe(ctx, p.sql)
			done()
			if err != nil {
				c.failExtended(err, p.sql)
				return
			}
		}
		if len(names) == 0 {
			c.be.Send(&pgproto3.NoData{})
			return
		}
		formats, err := formatCodes(p.formats, len(names))
		if err != nil {
			c.failCode(codeProtocolViolation, "bind: results: %v", err)
			return
		}
		p.want = ts
		c.be.Send(rowDescription(names, ts, formats))
	default:
		c.failCode(codeProtocolViolation, "describe: object type %q is not S or P", m.ObjectType)
	}
}

func (c *conn) execute(m *pgproto3.Execute) {
	p := c.portals[m.Portal]
	if p == nil {
		c.failCode(codeInvalidCursorName, "portal %q does not exist", m.Portal)
		return
	}
	if p.stmt.empty {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	if tx, ok := p.stmt.session.(*ast.TransactionStmt); ok {
		if !c.runTransaction(tx) {
			c.skip = true
		}
		return
	}
	if c.txn.failed {
		c.sendError(errAborted)
		c.skip = true
		return
	}
	if p.stmt.session != nil {
		if err := c.runSession(p.stmt.session, false); err != nil {
			c.failExtended(err, p.sql)
			return
		}
		c.statementDone(sessionTag(p.stmt.session), nil)
		c.queryDone("")
		return
	}
	first := p.res == nil // this Execute runs the statement; later ones send more of its rows
	if first {
		ctx, done := c.statementContext()
		res, err := c.srv.db.Query(ctx, p.sql)
		err = statementError(ctx, err)
		done()
		if err != nil {
			c.failExtended(err, p.sql)
			return
		}
		c.statementDone(res.Tag, nil)
		if p.want != nil && !slices.Equal(p.want, res.Types) {
			c.failCode(codeInternalError, "the result's types %v differ from the described %v", res.Types, p.want)
			return
		}
		p.res = res
	}
	formats, err := formatCodes(p.formats, len(p.res.Columns))
	if err != nil {
		c.failCode(codeProtocolViolation, "bind: results: %v", err)
		return
	}
	if p.row > 0 && p.row >= p.res.Rows() {
		// Run to its end before: PostgreSQL answers with no rows.
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(strings.Fields(commandTag(p.res))[0] + " 0")})
		return
	}
	sent, err := c.sendRowsOrTag(p, formats, int(m.MaxRows))
	if err != nil {
		if first {
			c.queryDone(codeConnectionFailure)
		}
		return
	}
	if first {
		c.queryDone("")
	}
	p.row += sent
}

// sendRowsOrTag sends the portal's next rows and its tag or
// PortalSuspended, and returns the number of rows sent.
func (c *conn) sendRowsOrTag(p *portal, formats []int16, maxRows int) (int, error) {
	before := p.row
	if len(p.res.Columns) == 0 {
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(commandTag(p.res))})
		return 0, nil
	}
	sent, err := c.sendRows(p.res, formats, before, maxRows)
	if err != nil {
		return sent, err
	}
	switch {
	case maxRows > 0 && before+sent < p.res.Rows():
		c.be.Send(&pgproto3.PortalSuspended{})
	case p.res.Tag == "SELECT":
		// As PostgreSQL: the rows of this Execute, not of the portal.
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(fmt.Sprintf("SELECT %d", sent))})
	default:
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(commandTag(p.res))})
	}
	return sent, nil
}
