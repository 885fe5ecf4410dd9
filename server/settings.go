package server

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/jackc/pgx/v5/pgproto3"
)

// A session's own settings, which the server keeps: SET and SHOW of these
// names change and read the session's value; the database's settings
// (threads, memory_limit, ...) are shared by every session and only a
// superuser may SET them (bpfdb.Session).
//
//	statement_timeout   a statement running longer is cancelled (57014);
//	                    milliseconds, or a number with a unit (ms, s, min, h);
//	                    0 (the default) means none
//	application_name    any text, reported back as ParameterStatus
//	extra_float_digits  -15 to 3, accepted for drivers that set it (JDBC):
//	                    float8 always prints its shortest exact digits,
//	                    which is what PostgreSQL prints when it is above 0
//	client_encoding     UTF8 only
//	DateStyle           ISO only (dates print as 1998-12-01)
//	TimeZone            UTC only (bpfdb has no time zones)
type sessionSetting struct {
	def    string
	report bool // sent as ParameterStatus when it changes
	// check validates a value and returns its canonical text.
	check func(v string) (string, error)
}

// errSetting is under the errors of invalid session settings (22023).
var errSetting = errors.New("invalid value for parameter")

var sessionSettings = map[string]sessionSetting{
	"statement_timeout": {def: "0", check: func(v string) (string, error) {
		d, err := parseTimeout(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(d.Milliseconds(), 10), nil
	}},
	"application_name": {def: "", report: true, check: func(v string) (string, error) { return v, nil }},
	"extra_float_digits": {def: "1", check: func(v string) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < -15 || n > 3 {
			return "", fmt.Errorf("%w \"extra_float_digits\": %q (an integer from -15 to 3)", errSetting, v)
		}
		return strconv.Itoa(n), nil
	}},
	"client_encoding": {def: "UTF8", report: true, check: only("client_encoding", "UTF8", "utf8", "unicode", "utf-8")},
	"datestyle":       {def: "ISO, MDY", report: true, check: only("DateStyle", "ISO, MDY", "iso", "iso, mdy", "iso,mdy")},
	"timezone":        {def: "UTC", report: true, check: only("TimeZone", "UTC", "utc", "etc/utc", "z", "gmt")},
}

// reportNames are the names of reported settings as clients spell them.
var reportNames = map[string]string{"datestyle": "DateStyle", "timezone": "TimeZone"}

// only accepts the values of accepted (without case) as the first one.
func only(name string, accepted ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		for _, a := range accepted {
			if strings.EqualFold(strings.TrimSpace(v), a) {
				return accepted[0], nil
			}
		}
		return "", fmt.Errorf("%w %q: %q (bpfdb supports only %s)", errSetting, name, v, accepted[0])
	}
}

// parseTimeout parses statement_timeout: milliseconds, or a number and a
// unit.
func parseTimeout(v string) (time.Duration, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	unit := map[string]time.Duration{"": time.Millisecond, "ms": time.Millisecond, "s": time.Second, "min": time.Minute, "h": time.Hour}[strings.TrimSpace(s[i:])]
	f, err := strconv.ParseFloat(s[:i], 64)
	if err != nil || unit == 0 || f < 0 || f*float64(unit) > float64(24*time.Hour*365) {
		return 0, fmt.Errorf("%w \"statement_timeout\": %q (milliseconds, or a number with ms, s, min or h)", errSetting, v)
	}
	return time.Duration(f * float64(unit)), nil
}

// settingValue is the text of a SET's value: a string's text, a number
// or name as written; DEFAULT means the default ("" and true).
func settingValue(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.StringLit:
		return e.Value, false
	case *ast.NumberLit:
		return e.Text, false
	case *ast.ColumnRef:
		if len(e.Parts) == 1 && e.Parts[0] == "default" {
			return "", true
		}
		return strings.Join(e.Parts, "."), false
	}
	return e.String(), false
}

// sessionStatement returns sql's one statement if the server runs it
// itself: a SET, RESET or SHOW of a session setting, or BEGIN, COMMIT or
// ROLLBACK (txn.go).
func sessionStatement(sql string) ast.Statement {
	if low := strings.ToLower(sql); !strings.Contains(low, "set") && !strings.Contains(low, "show") && !strings.Contains(low, "begin") &&
		!strings.Contains(low, "start") && !strings.Contains(low, "commit") && !strings.Contains(low, "end") &&
		!strings.Contains(low, "rollback") && !strings.Contains(low, "abort") {
		return nil
	}
	if st := resetStatement(sql); st != nil {
		return st
	}
	stmts, err := parser.Parse(sql)
	if err != nil || len(stmts) != 1 {
		return nil
	}
	switch st := stmts[0].(type) {
	case *ast.TransactionStmt:
		return st
	case *ast.SetStmt:
		if _, ok := sessionSettings[strings.ToLower(st.Name)]; ok {
			return st
		}
	case *ast.ShowStmt:
		if _, ok := sessionSettings[strings.ToLower(st.Name)]; ok {
			return st
		}
	}
	return nil
}

// resetStatement reads SET name TO DEFAULT, SET name = DEFAULT and RESET
// name (which bpfdb's parser does not know) of a session setting as a SET
// whose value is DEFAULT.
func resetStatement(sql string) *ast.SetStmt {
	var words []parser.Token
	for _, t := range parser.Lex(sql) {
		if t.Kind == parser.EOF || t.Kind == parser.Op && t.Value == ";" {
			break
		}
		words = append(words, t)
	}
	val := func(i int) string {
		if i < len(words) && (words[i].Kind == parser.Ident || words[i].Kind == parser.Op) {
			return words[i].Value
		}
		return ""
	}
	var name parser.Token
	switch {
	case len(words) == 2 && val(0) == "reset":
		name = words[1]
	case len(words) == 4 && val(0) == "set" && (val(2) == "to" || val(2) == "=") && val(3) == "default":
		name = words[1]
	default:
		return nil
	}
	if name.Kind != parser.Ident && name.Kind != parser.QuotedIdent {
		return nil
	}
	if _, ok := sessionSettings[strings.ToLower(name.Value)]; !ok {
		return nil
	}
	return &ast.SetStmt{At: words[0].Pos, Name: name.Value, Value: &ast.ColumnRef{At: words[len(words)-1].Pos, Parts: []string{"default"}}}
}

// setting returns the session's value of a session setting.
func (c *conn) setting(name string) string {
	name = strings.ToLower(name)
	if v, ok := c.settings[name]; ok {
		return v
	}
	return sessionSettings[name].def
}

// runSession runs a SET or SHOW of a session setting: it sends the row of
// a SHOW (its description too if describe) and the command tag, or
// returns the error of an invalid value.
func (c *conn) runSession(st ast.Statement, describe bool) error {
	switch st := st.(type) {
	case *ast.SetStmt:
		name := strings.ToLower(st.Name)
		s := sessionSettings[name]
		v, def := settingValue(st.Value)
		if def {
			v = s.def
		}
		v, err := s.check(v)
		if err != nil {
			return err
		}
		if c.settings == nil {
			c.settings = map[string]string{}
		}
		c.settings[name] = v
		if s.report {
			pname := name
			if n, ok := reportNames[name]; ok {
				pname = n
			}
			c.be.Send(&pgproto3.ParameterStatus{Name: pname, Value: v})
		}
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SET")})
	case *ast.ShowStmt:
		if describe {
			c.be.Send(&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte(st.Name), DataTypeOID: oidText, DataTypeSize: -1, TypeModifier: -1}}})
		}
		v := c.setting(st.Name)
		if strings.EqualFold(st.Name, "statement_timeout") && v != "0" {
			v += "ms"
		}
		c.be.Send(&pgproto3.DataRow{Values: [][]byte{[]byte(v)}})
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("SHOW")})
	}
	return nil
}

// sessionTag is the command tag of a session statement.
func sessionTag(st ast.Statement) string {
	if _, ok := st.(*ast.ShowStmt); ok {
		return "SHOW"
	}
	return "SET"
}

// timeout is the session's statement_timeout, 0 for none.
func (c *conn) timeout() time.Duration {
	d, _ := parseTimeout(c.setting("statement_timeout"))
	return d
}
