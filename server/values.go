package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb/internal/sql/parser"
	"github.com/bpfdb/bpfdb/internal/types"
)

// PostgreSQL type OIDs (pg_type.oid) the server sends and accepts.
const (
	oidUnknown = 0 // a parameter whose type the client did not give
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidText    = 25
	oidFloat4  = 700
	oidFloat8  = 701
	oidBPChar  = 1042
	oidVarchar = 1043
	oidDate    = 1082
	oidNumeric = 1700
)

// Format codes of values on the wire.
const (
	formatText   = 0
	formatBinary = 1
)

// pgType is how a bpfdb type appears on the wire: its OID and size
// (pg_type.typlen, -1 for variable length).
type pgType struct {
	oid  uint32
	size int16
}

// typeOf maps a bpfdb type to its PostgreSQL type.
func typeOf(t types.Type) pgType {
	switch t.ID() {
	case types.Boolean:
		return pgType{oidBool, 1}
	case types.Integer:
		return pgType{oidInt4, 4}
	case types.BigInt:
		return pgType{oidInt8, 8}
	case types.Double:
		return pgType{oidFloat8, 8}
	case types.Decimal:
		return pgType{oidNumeric, -1}
	case types.Date:
		return pgType{oidDate, 4}
	}
	return pgType{oidVarchar, -1}
}

// typeModifier is pg_attribute.atttypmod of a column of type t: a
// NUMERIC's ((precision << 16) | scale) + 4, -1 for the others.
func typeModifier(t types.Type) int32 {
	if t.ID() == types.Decimal {
		return int32(t.Precision()<<16|t.Scale()) + 4
	}
	return -1
}

// pgEpoch is 2000-01-01, PostgreSQL's date zero, in days since 1970.
const pgEpoch = 10957

// appendText appends v's text form as PostgreSQL prints it.
func appendText(b []byte, v types.Value) []byte {
	switch v.Type().ID() {
	case types.Boolean:
		if v.Bool() {
			return append(b, 't')
		}
		return append(b, 'f')
	case types.Integer, types.BigInt:
		return strconv.AppendInt(b, v.Int64(), 10)
	case types.Double:
		return appendFloat(b, v.Float64())
	case types.Decimal:
		return append(b, types.FormatDecimal(v.Int64(), v.Type().Scale())...)
	case types.Date:
		return types.AppendDate(b, int32(v.Int64()))
	case types.Varchar:
		return append(b, v.Str()...)
	}
	return append(b, v.String()...)
}

// appendFloat prints a float8 as PostgreSQL 12 and later do: the shortest
// digits that read back as the same number, in exponent form below 1e-4
// and from 1e15 on, NaN, Infinity, -Infinity.
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e15) {
		return strconv.AppendFloat(b, f, 'e', -1, 64)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendBinary appends v in PostgreSQL's binary format for typeOf(v's
// type).
func appendBinary(b []byte, v types.Value) []byte {
	switch v.Type().ID() {
	case types.Boolean:
		if v.Bool() {
			return append(b, 1)
		}
		return append(b, 0)
	case types.Integer:
		return binary.BigEndian.AppendUint32(b, uint32(int32(v.Int64())))
	case types.BigInt:
		return binary.BigEndian.AppendUint64(b, uint64(v.Int64()))
	case types.Double:
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v.Float64()))
	case types.Decimal:
		return appendNumeric(b, v.Int64(), v.Type().Scale())
	case types.Date:
		return binary.BigEndian.AppendUint32(b, uint32(int32(v.Int64()-pgEpoch)))
	case types.Varchar:
		return append(b, v.Str()...)
	}
	return append(b, v.String()...)
}

// Signs of the binary NUMERIC format.
const (
	numericPos = 0x0000
	numericNeg = 0x4000
	numericNaN = 0xC000
)

// appendNumeric appends the decimal unscaled·10^-scale in NUMERIC's binary
// format:
//
//	+--------+--------+--------+--------+--------+-------+---
//	| ndigits| weight |  sign  | dscale | digit0 | digit1| …     each int16, big-endian
//	+--------+--------+--------+--------+--------+-------+---
//
// The digits are base 10000, most significant first; the first is worth
// 10000^weight. Leading and trailing zero digits are left out (zero has
// none); dscale is the number of decimals to print.
func appendNumeric(b []byte, unscaled int64, scale int) []byte {
	sign := uint16(numericPos)
	mag := uint64(unscaled)
	if unscaled < 0 {
		sign, mag = numericNeg, uint64(-unscaled) // -MinInt64 wraps to its magnitude as uint64
	}
	s := strconv.FormatUint(mag, 10)
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	ip, fp := s[:len(s)-scale], s[len(s)-scale:]
	if r := len(ip) % 4; r != 0 {
		ip = strings.Repeat("0", 4-r) + ip
	}
	if r := len(fp) % 4; r != 0 {
		fp += strings.Repeat("0", 4-r)
	}
	all := ip + fp
	digits := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		d, _ := strconv.Atoi(all[i : i+4])
		digits = append(digits, uint16(d))
	}
	weight := len(ip)/4 - 1
	for len(digits) > 0 && digits[0] == 0 {
		digits, weight = digits[1:], weight-1
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		weight = 0
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(digits)))
	b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
	b = binary.BigEndian.AppendUint16(b, sign)
	b = binary.BigEndian.AppendUint16(b, uint16(scale))
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b
}

// errParam is under the errors of parameter values that cannot be bound.
var errParam = errors.New("invalid parameter value")

// decodeNumeric reads NUMERIC's binary format as decimal text.
func decodeNumeric(b []byte) (string, error) {
	if len(b) < 8 {
		return "", fmt.Errorf("%w: numeric of %d bytes", errParam, len(b))
	}
	n := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*n {
		return "", fmt.Errorf("%w: numeric of %d digits in %d bytes", errParam, n, len(b))
	}
	if sign == numericNaN {
		return "", fmt.Errorf("%w: numeric NaN", errParam)
	}
	if sign != numericPos && sign != numericNeg || dscale > 1000 || weight > 1000 || weight < -1000 {
		return "", fmt.Errorf("%w: numeric header (sign %#x, weight %d, scale %d)", errParam, sign, weight, dscale)
	}
	// Digit i is worth 10000^(weight-i): the integer part is digits 0 to
	// weight, fraction group g (decimals 4g+1 to 4g+4) is digit weight+1+g;
	// digits outside 0..n-1 are zero.
	digit := func(i int) (int, error) {
		if i < 0 || i >= n {
			return 0, nil
		}
		d := int(binary.BigEndian.Uint16(b[8+2*i:]))
		if d > 9999 {
			return 0, fmt.Errorf("%w: numeric digit %d", errParam, d)
		}
		return d, nil
	}
	var ip, fp strings.Builder
	for i := 0; i <= weight; i++ {
		d, err := digit(i)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&ip, "%04d", d)
	}
	for g := 0; weight+1+g < n; g++ {
		d, err := digit(weight + 1 + g)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&fp, "%04d", d)
	}
	i := strings.TrimLeft(ip.String(), "0")
	if i == "" {
		i = "0"
	}
	f := fp.String()
	for len(f) < dscale {
		f += "0"
	}
	f = f[:min(len(f), max(dscale, len(strings.TrimRight(f, "0"))))]
	s := i
	if f != "" {
		s += "." + f
	}
	if sign == numericNeg {
		s = "-" + s
	}
	return s, nil
}

// paramText returns a parameter's value as text: text-format values as
// they are (valid UTF-8), binary ones decoded by their type.
func paramText(oid uint32, format int16, b []byte) (string, error) {
	if format == formatText || oid == oidUnknown || oid == oidText || oid == oidVarchar || oid == oidBPChar {
		if !utf8.Valid(b) {
			return "", fmt.Errorf("%w: not valid UTF-8", errParam)
		}
		return string(b), nil
	}
	if format != formatBinary {
		return "", fmt.Errorf("%w: format code %d", errParam, format)
	}
	size := map[uint32]int{oidBool: 1, oidInt2: 2, oidInt4: 4, oidInt8: 8, oidFloat4: 4, oidFloat8: 8, oidDate: 4}
	if n, ok := size[oid]; ok && len(b) != n {
		return "", fmt.Errorf("%w: %d bytes for type %d, want %d", errParam, len(b), oid, n)
	}
	switch oid {
	case oidBool:
		return strconv.FormatBool(b[0] != 0), nil
	case oidInt2:
		return strconv.Itoa(int(int16(binary.BigEndian.Uint16(b)))), nil
	case oidInt4:
		return strconv.Itoa(int(int32(binary.BigEndian.Uint32(b)))), nil
	case oidInt8:
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10), nil
	case oidFloat4:
		return strconv.FormatFloat(float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 'g', -1, 32), nil
	case oidFloat8:
		return strconv.FormatFloat(math.Float64frombits(binary.BigEndian.Uint64(b)), 'g', -1, 64), nil
	case oidDate:
		days := int64(int32(binary.BigEndian.Uint32(b))) + pgEpoch
		if days < math.MinInt32 || days > math.MaxInt32 {
			return "", fmt.Errorf("%w: date out of range", errParam)
		}
		return types.FormatDate(int32(days)), nil
	case oidNumeric:
		return decodeNumeric(b)
	}
	return "", fmt.Errorf("%w: binary format of type %d is not supported", errParam, oid)
}

// sqlTypes are the SQL types parameters of known OIDs are cast to.
var sqlTypes = map[uint32]string{
	oidBool: "BOOLEAN", oidInt2: "INTEGER", oidInt4: "INTEGER", oidInt8: "BIGINT",
	oidFloat4: "DOUBLE", oidFloat8: "DOUBLE", oidText: "VARCHAR", oidVarchar: "VARCHAR", oidBPChar: "VARCHAR",
	oidDate: "DATE",
}

// knownParamType reports whether the server binds parameters of type oid.
func knownParamType(oid uint32) bool {
	_, ok := sqlTypes[oid]
	return ok || oid == oidNumeric || oid == oidUnknown
}

// quote returns s as a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// placeholder returns what stands for a parameter of type oid when a
// statement is described before it has values: a NULL of the type, or 0
// for integers (a LIMIT must be a number).
func placeholder(oid uint32) string {
	switch oid {
	case oidInt2, oidInt4, oidInt8:
		return "CAST(0 AS " + sqlTypes[oid] + ")"
	}
	lit, _ := literal(oid, "", true)
	return lit
}

// literal returns a parameter value as a SQL literal of its type: NULL
// for null (typed when the type is known); a value of a known type as a
// cast of its text (CAST('5' AS BIGINT)), so that the statement's types do
// not depend on the value; a NUMERIC as a number literal (its scale as
// written); a value of unknown type as a string literal, which the
// statement's comparisons convert to the type they meet, as PostgreSQL's
// unknown-typed literals are.
func literal(oid uint32, text string, null bool) (string, error) {
	if oid == oidNumeric {
		if null {
			return "CAST(NULL AS DOUBLE)", nil
		}
		if !isNumber(text) {
			return "", fmt.Errorf("%w: %q is not a number", errParam, text)
		}
		if strings.HasPrefix(text, "-") {
			return "(" + text + ")", nil
		}
		return strings.TrimPrefix(text, "+"), nil
	}
	if oid == oidDate && !null {
		// PostgreSQL reads a timestamp as a date by dropping the time of
		// day; drivers send time values so (1998-12-01 00:00:00Z).
		if len(text) > 10 && (text[10] == ' ' || text[10] == 'T') {
			text = text[:10]
		}
	}
	t, ok := sqlTypes[oid]
	switch {
	case null && ok:
		return "CAST(NULL AS " + t + ")", nil
	case null:
		return "NULL", nil
	case ok:
		return "CAST(" + quote(text) + " AS " + t + ")", nil
	}
	return quote(text), nil
}

// isNumber reports whether s is a decimal number literal: an optional
// sign, digits with at most one point, and an optional exponent.
func isNumber(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	ip, fp, _ := strings.Cut(mant, ".")
	digits := func(x string) bool {
		for _, c := range x {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if ip+fp == "" || !digits(ip) || !digits(fp) {
		return false
	}
	if hasExp {
		exp = strings.TrimPrefix(strings.TrimPrefix(exp, "-"), "+")
		return exp != "" && digits(exp)
	}
	return true
}

// params returns the parameter tokens ($n) of sql and the number of
// parameters (the highest n).
func params(sql string) ([]parser.Token, int, error) {
	var toks []parser.Token
	n := 0
	for _, t := range parser.Lex(sql) {
		switch {
		case t.Kind == parser.Invalid:
			// The parser reports it with its position.
			_, err := parser.Parse(sql)
			return nil, 0, err
		case t.Kind == parser.Param:
			k, err := strconv.Atoi(t.Value)
			if err != nil || k < 1 || k > math.MaxUint16 {
				return nil, 0, fmt.Errorf("parameter $%s: %w: want $1 to $%d", t.Value, errParam, math.MaxUint16)
			}
			toks = append(toks, t)
			n = max(n, k)
		case t.Kind == parser.Op && t.Value == "?":
			return nil, 0, fmt.Errorf("at %v: parameter ?: %w: write $1, $2, …", t.Pos, errParam)
		}
	}
	return toks, n, nil
}

// substitute replaces each parameter token $k of sql by lits[k-1].
func substitute(sql string, toks []parser.Token, lits []string) string {
	var b strings.Builder
	last := 0
	for _, t := range toks {
		k, _ := strconv.Atoi(t.Value)
		b.WriteString(sql[last:t.Pos.Offset])
		// Spaces keep the literal a token of its own (after an
		// identifier e, a string would start an E'...' string).
		b.WriteString(" " + lits[k-1] + " ")
		last = t.Pos.Offset + len(t.Text)
	}
	b.WriteString(sql[last:])
	return b.String()
}
