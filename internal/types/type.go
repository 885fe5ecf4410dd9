package types

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ID names a logical type.
type ID uint8

// The logical types. Invalid is the zero value and never describes data.
const (
	Invalid ID = iota
	Boolean
	Integer
	BigInt
	Double
	Decimal
	Varchar
	Date
)

var idNames = [...]string{
	Invalid: "INVALID",
	Boolean: "BOOLEAN",
	Integer: "INTEGER",
	BigInt:  "BIGINT",
	Double:  "DOUBLE",
	Decimal: "DECIMAL",
	Varchar: "VARCHAR",
	Date:    "DATE",
}

// String returns the SQL name of the type without parameters ("DECIMAL").
func (id ID) String() string {
	if int(id) < len(idNames) {
		return idNames[id]
	}
	return fmt.Sprintf("ID(%d)", uint8(id))
}

// Physical names how a vector stores values of a logical type.
type Physical uint8

// The physical types.
const (
	PhysInvalid Physical = iota
	PhysBool             // bool, one byte per value
	PhysInt32            // int32
	PhysInt64            // int64
	PhysFloat64          // float64
	PhysString           // variable-length bytes
)

var physNames = [...]string{
	PhysInvalid: "invalid",
	PhysBool:    "bool",
	PhysInt32:   "int32",
	PhysInt64:   "int64",
	PhysFloat64: "float64",
	PhysString:  "string",
}

// String returns the Go-like name of the physical type ("int64").
func (p Physical) String() string {
	if int(p) < len(physNames) {
		return physNames[p]
	}
	return fmt.Sprintf("Physical(%d)", uint8(p))
}

// Width is the size in bytes of one value of a fixed-width physical type,
// and 0 for strings and invalid.
func (p Physical) Width() int {
	switch p {
	case PhysBool:
		return 1
	case PhysInt32:
		return 4
	case PhysInt64, PhysFloat64:
		return 8
	}
	return 0
}

// MaxDecimalPrecision is the most decimal digits a DECIMAL value holds:
// 18 digits always fit an int64 (10^18 − 1 < 2^63 − 1), the physical form
// of every DECIMAL. It is also the largest scale.
const MaxDecimalPrecision = 18

// MaxDecimalWidth is the largest precision a DECIMAL type may declare:
// 38, as in DuckDB and PostgreSQL's common use, so that schemas and result
// types (a sum of DECIMAL(15,2) is DECIMAL(38,2)) read as DuckDB's. A
// type wider than MaxDecimalPrecision still stores its values in an int64
// and holds at most MaxDecimalPrecision digits (DecimalBound): a value
// beyond that is an overflow error, never a wrong result.
const MaxDecimalWidth = 38

// ErrDecimalPrecision is returned for a DECIMAL type whose precision or
// scale bpfdb cannot store.
var ErrDecimalPrecision = errors.New("unsupported decimal precision")

// Type is a logical type with its parameters. It is a small comparable
// value: two Types are the same type exactly when they are ==.
type Type struct {
	id        ID
	precision uint8 // DECIMAL only
	scale     uint8 // DECIMAL only
}

// The parameterless types, ready to use.
var (
	BooleanType = Type{id: Boolean}
	IntegerType = Type{id: Integer}
	BigIntType  = Type{id: BigInt}
	DoubleType  = Type{id: Double}
	VarcharType = Type{id: Varchar}
	DateType    = Type{id: Date}
)

// New returns the type with the given id. It panics for Decimal, which
// needs a precision and scale (use [DecimalType]), and for Invalid: both
// are bugs in the caller.
func New(id ID) Type {
	if id == Decimal || id == Invalid || int(id) >= len(idNames) {
		panic(fmt.Sprintf("BUG: types.New(%v): use DecimalType for DECIMAL; Invalid is not a type", id))
	}
	return Type{id: id}
}

// DecimalType returns DECIMAL(precision, scale). It fails with
// ErrDecimalPrecision unless 1 ≤ precision ≤ 38 and 0 ≤ scale ≤
// min(precision, 18).
func DecimalType(precision, scale int) (Type, error) {
	if precision < 1 || precision > MaxDecimalWidth {
		return Type{}, fmt.Errorf("DECIMAL(%d,%d): precision must be between 1 and %d: %w", precision, scale, MaxDecimalWidth, ErrDecimalPrecision)
	}
	if scale < 0 || scale > precision {
		return Type{}, fmt.Errorf("DECIMAL(%d,%d): scale must be between 0 and the precision: %w", precision, scale, ErrDecimalPrecision)
	}
	if scale > MaxDecimalPrecision {
		return Type{}, fmt.Errorf("DECIMAL(%d,%d): scale must be at most %d: %w", precision, scale, MaxDecimalPrecision, ErrDecimalPrecision)
	}
	return Type{id: Decimal, precision: uint8(precision), scale: uint8(scale)}, nil
}

// MustDecimal is DecimalType for parameters known to be valid; it panics
// otherwise.
func MustDecimal(precision, scale int) Type {
	t, err := DecimalType(precision, scale)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	return t
}

// ID returns the logical type's id.
func (t Type) ID() ID { return t.id }

// Precision returns a DECIMAL's precision (total digits) and 0 otherwise.
func (t Type) Precision() int { return int(t.precision) }

// Scale returns a DECIMAL's scale (digits after the point) and 0 otherwise.
func (t Type) Scale() int { return int(t.scale) }

// IsValid reports whether t describes data (is not the zero Type).
func (t Type) IsValid() bool { return t.id != Invalid }

// Physical returns how vectors store values of t.
func (t Type) Physical() Physical {
	switch t.id {
	case Boolean:
		return PhysBool
	case Integer, Date:
		return PhysInt32
	case BigInt, Decimal:
		return PhysInt64
	case Double:
		return PhysFloat64
	case Varchar:
		return PhysString
	}
	return PhysInvalid
}

// IsNumeric reports whether t is INTEGER, BIGINT, DOUBLE or DECIMAL.
func (t Type) IsNumeric() bool {
	switch t.id {
	case Integer, BigInt, Double, Decimal:
		return true
	}
	return false
}

// String returns the SQL spelling: "BIGINT", "DECIMAL(15,2)".
func (t Type) String() string {
	if t.id == Decimal {
		return fmt.Sprintf("DECIMAL(%d,%d)", t.precision, t.scale)
	}
	return t.id.String()
}

// ParseType parses a type name as String prints it ("BIGINT",
// "DECIMAL(15,2)", case-insensitive; "INT" and "DECIMAL" alone as well:
// DECIMAL means DECIMAL(18,3) as in DuckDB). Errors wrap ErrSyntax or
// ErrDecimalPrecision.
func ParseType(s string) (Type, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	switch u {
	case "BOOLEAN", "BOOL":
		return BooleanType, nil
	case "INTEGER", "INT", "INT4":
		return IntegerType, nil
	case "BIGINT", "INT8":
		return BigIntType, nil
	case "DOUBLE", "FLOAT8":
		return DoubleType, nil
	case "VARCHAR", "TEXT", "STRING":
		return VarcharType, nil
	case "DATE":
		return DateType, nil
	case "DECIMAL", "NUMERIC":
		return DecimalType(18, 3)
	}
	for _, name := range []string{"DECIMAL(", "NUMERIC("} {
		if args, ok := strings.CutPrefix(u, name); ok {
			if args, ok = strings.CutSuffix(args, ")"); ok {
				ps, ss, _ := strings.Cut(args, ",")
				p, err1 := strconv.Atoi(strings.TrimSpace(ps))
				sc, err2 := 0, error(nil)
				if ss != "" {
					sc, err2 = strconv.Atoi(strings.TrimSpace(ss))
				}
				if err1 == nil && err2 == nil {
					return DecimalType(p, sc)
				}
			}
		}
	}
	return Type{}, fmt.Errorf("parse type %q: unknown type: %w", s, ErrSyntax)
}
