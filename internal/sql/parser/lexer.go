package parser

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// Kind is the kind of a token.
type Kind uint8

// The token kinds.
const (
	EOF         Kind = iota // end of input
	Ident                   // unquoted identifier or keyword, lower-cased in Value
	QuotedIdent             // "identifier", quotes removed and "" undoubled in Value
	String                  // 'string' or E'string', unescaped in Value
	Number                  // 42, 0.05, 1e6
	Param                   // $1; Value is the digits
	Op                      // operator or punctuation: + - * / % || :: < > <= >= = <> != ( ) , . ; ?
	Invalid                 // a lexical error; Value is the message
)

var kindNames = [...]string{
	EOF: "EOF", Ident: "Ident", QuotedIdent: "QuotedIdent", String: "String",
	Number: "Number", Param: "Param", Op: "Op", Invalid: "Invalid",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Token is one lexical token.
type Token struct {
	Kind Kind
	Pos  ast.Pos
	// Text is the token exactly as written in the source.
	Text string
	// Value is the token's meaning: the lower-cased name of an Ident, the
	// unquoted name of a QuotedIdent, the unescaped text of a String, the
	// operator of an Op, the message of an Invalid token.
	Value string
}

// String renders the token for listings: kind, position and text.
func (t Token) String() string {
	s := fmt.Sprintf("%s %s %q", t.Pos, t.Kind, t.Text)
	if t.Value != t.Text {
		s += fmt.Sprintf(" value=%q", t.Value)
	}
	return s
}

// Lex splits src into tokens. The last token is EOF, or Invalid when the
// text has a lexical error there (an unterminated string, an unknown
// character); lexing stops at the first error.
func Lex(src string) []Token {
	l := lexer{src: src, line: 1, col: 1}
	toks := make([]Token, 0, len(src)/5+4) // SQL averages more than 5 bytes a token
	for {
		t := l.next()
		toks = append(toks, t)
		if t.Kind == EOF || t.Kind == Invalid {
			return toks
		}
	}
}

type lexer struct {
	src       string
	off       int // current byte offset
	line      int // current line, from 1
	lineStart int // byte offset where the current line starts
	// colOff and col cache the column of a byte offset on the current
	// line, so that columns cost time linear in the line, not quadratic.
	colOff, col int
}

// pos returns the position of byte offset off, which must be on the
// current line at or after the previous position asked for.
func (l *lexer) pos(off int) ast.Pos {
	if l.colOff < l.lineStart || l.colOff > off {
		l.colOff, l.col = l.lineStart, 1
	}
	l.col += utf8.RuneCountInString(l.src[l.colOff:off])
	l.colOff = off
	return ast.Pos{Offset: off, Line: l.line, Col: l.col}
}

// advance moves the offset to end, keeping track of lines.
func (l *lexer) advance(end int) {
	for i := l.off; i < end; i++ {
		if l.src[i] == '\n' {
			l.line++
			l.lineStart = i + 1
		}
	}
	l.off = end
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// skipSpace skips white space and comments. It returns an Invalid token for
// an unterminated block comment.
func (l *lexer) skipSpace() (Token, bool) {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.off++
		case c == '\n':
			l.off++
			l.line++
			l.lineStart = l.off
		case c == '-' && strings.HasPrefix(l.src[l.off:], "--"):
			end := strings.IndexByte(l.src[l.off:], '\n')
			if end < 0 {
				l.advance(len(l.src))
			} else {
				l.advance(l.off + end)
			}
		case c == '/' && strings.HasPrefix(l.src[l.off:], "/*"):
			// Block comments nest, as in PostgreSQL.
			start := l.pos(l.off)
			depth, i := 0, l.off
			for {
				if i >= len(l.src) {
					l.advance(len(l.src))
					return Token{Kind: Invalid, Pos: start, Text: l.src[start.Offset:], Value: "unterminated /* comment"}, false
				}
				if strings.HasPrefix(l.src[i:], "/*") {
					depth++
					i += 2
				} else if strings.HasPrefix(l.src[i:], "*/") {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
			l.advance(i)
		default:
			return Token{}, true
		}
	}
	return Token{}, true
}

func (l *lexer) next() Token {
	if bad, ok := l.skipSpace(); !ok {
		return bad
	}
	start := l.off
	pos := l.pos(start)
	if start == len(l.src) {
		return Token{Kind: EOF, Pos: pos}
	}
	tok := func(k Kind, end int, value string) Token {
		text := l.src[start:end]
		l.advance(end)
		return Token{Kind: k, Pos: pos, Text: text, Value: value}
	}
	bad := func(end int, format string, args ...any) Token {
		return tok(Invalid, end, fmt.Sprintf(format, args...))
	}
	c := l.src[start]
	switch {
	case (c == 'e' || c == 'E') && start+1 < len(l.src) && l.src[start+1] == '\'':
		v, end, err := scanString(l.src, start+1, true)
		if err != "" {
			return bad(end, "%s", err)
		}
		return tok(String, end, v)
	case isIdentStart(c):
		end := start + 1
		for end < len(l.src) && isIdentChar(l.src[end]) {
			end++
		}
		return tok(Ident, end, lowerASCII(l.src[start:end]))
	case isDigit(c) || c == '.' && start+1 < len(l.src) && isDigit(l.src[start+1]):
		return l.number(start, tok, bad)
	case c == '\'':
		v, end, err := scanString(l.src, start, false)
		if err != "" {
			return bad(end, "%s", err)
		}
		return tok(String, end, v)
	case c == '"':
		var b strings.Builder
		i := start + 1
		for {
			j := strings.IndexByte(l.src[i:], '"')
			if j < 0 {
				return bad(len(l.src), "unterminated quoted identifier")
			}
			b.WriteString(l.src[i : i+j])
			i += j + 1
			if i < len(l.src) && l.src[i] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			break
		}
		if b.Len() == 0 {
			return bad(i, "zero-length quoted identifier")
		}
		return tok(QuotedIdent, i, b.String())
	case c == '$':
		end := start + 1
		for end < len(l.src) && isDigit(l.src[end]) {
			end++
		}
		if end == start+1 {
			return bad(end, "expected parameter number after $")
		}
		if n, err := strconv.Atoi(l.src[start+1 : end]); err != nil || n < 1 || n > 65535 {
			return bad(end, "parameter number %s out of range 1 to 65535", l.src[start+1:end])
		}
		return tok(Param, end, l.src[start+1:end])
	}
	if n := opLen(l.src[start:]); n > 0 {
		return tok(Op, start+n, l.src[start:start+n])
	}
	r, size := utf8.DecodeRuneInString(l.src[start:])
	return bad(start+size, "unexpected character %q", r)
}

// opLen returns the length of the operator or punctuation token at the
// start of s (the longest match: "<=" rather than "<"), or 0 if there is
// none: || :: <= >= <> != + - * / % < > = ( ) , . ; ?
func opLen(s string) int {
	two := func(next ...byte) int {
		if len(s) > 1 {
			for _, c := range next {
				if s[1] == c {
					return 2
				}
			}
		}
		return 0
	}
	switch s[0] {
	case '|':
		return two('|')
	case ':':
		return two(':')
	case '!':
		return two('=')
	case '<':
		return max(1, two('=', '>'))
	case '>':
		return max(1, two('='))
	case '/':
		return max(1, two('/'))
	case '+', '-', '*', '%', '=', '(', ')', ',', '.', ';', '?':
		return 1
	}
	return 0
}

// number scans a numeric literal: digits, an optional fraction and an
// optional exponent, not followed directly by a letter.
func (l *lexer) number(start int, tok func(Kind, int, string) Token, bad func(int, string, ...any) Token) Token {
	s := l.src
	i := start
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j >= len(s) || !isDigit(s[j]) {
			return bad(j, "malformed exponent in number %q", s[start:j])
		}
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		i = j
	}
	if i < len(s) && (isIdentChar(s[i]) || s[i] == '.') {
		end := i + 1
		for end < len(s) && isIdentChar(s[end]) {
			end++
		}
		return bad(end, "trailing junk after number %q", s[start:i])
	}
	return tok(Number, i, s[start:i])
}

// scanString scans a string literal whose opening quote is at src[q]. In an
// escape string (E'...') backslash escapes are decoded: \n \t \r \b \f,
// \\ and \', \xHH; any other escaped character stands for itself. It
// returns the value, the offset after the closing quote, and an error
// message ("" on success).
func scanString(src string, q int, escapes bool) (string, int, string) {
	var b strings.Builder
	i := q + 1
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\'':
			if i+1 < len(src) && src[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			return b.String(), i + 1, ""
		case c == '\\' && escapes:
			if i+1 >= len(src) {
				i++
				continue
			}
			e := src[i+1]
			i += 2
			switch e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'x':
				j := i
				for j < len(src) && j < i+2 && isHex(src[j]) {
					j++
				}
				if j == i {
					return "", j, `invalid escape \x: expected hexadecimal digits`
				}
				v, _ := strconv.ParseUint(src[i:j], 16, 8)
				b.WriteByte(byte(v))
				i = j
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", len(src), "unterminated string literal"
}

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// interned holds the lower-case spellings of the words that are most
// often written in upper case (keywords), so that folding them does not
// allocate.
var interned = map[string]string{}

func init() {
	for w := range strings.FieldsSeq(`
		abort all analyze and as asc attach begin between by case cast commit copy
		create cross date day delimiter desc detach distinct drop else end escape except
		exists explain extract false first for format from full group having header
		hook if ilike in inner insert intersect interval into is join key last left like
		limit month not null nulls offset on or order outer primary program right
		rollback select set show substring table then to true union using values view
		when where with year`) {
		interned[w] = w
	}
}

// lowerASCII lower-cases ASCII letters only, as PostgreSQL folds unquoted
// identifiers.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			if len(s) <= 16 {
				var buf [16]byte
				n := copy(buf[:], s)
				for j := i; j < n; j++ {
					if buf[j] >= 'A' && buf[j] <= 'Z' {
						buf[j] += 'a' - 'A'
					}
				}
				if w, ok := interned[string(buf[:n])]; ok {
					return w
				}
			}
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
