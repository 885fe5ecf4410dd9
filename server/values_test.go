package server

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/bpfdb/bpfdb/internal/types"
)

// TestNumeric: DECIMALs in NUMERIC's binary format, bytes pinned, and
// decoded back to their text.
func TestNumeric(t *testing.T) {
	for _, tc := range []struct {
		unscaled int64
		scale    int
		hex      string // ndigits weight sign dscale digits…
		text     string
	}{
		{0, 0, "0000000000000000", "0"},
		{0, 2, "0000000000000002", "0.00"},
		{1234, 2, "0002000000000002000c0d48", "12.34"},
		{-5, 2, "0001ffff4000000201f4", "-0.05"},
		{100000000, 0, "00010002000000000001", "100000000"},
		{123456789, 4, "0003000100000004000109291a85", "12345.6789"},
		{1, 9, "0001fffd0000000903e8", "0.000000001"},
		{math.MaxInt64, 0, "0005000400000000039a0d2c0170156516af", "9223372036854775807"},
		{math.MinInt64, 2, "0006000440000002000908b91c231ac61e4e0320", "-92233720368547758.08"},
	} {
		b := appendNumeric(nil, tc.unscaled, tc.scale)
		if got := hex.EncodeToString(b); got != tc.hex {
			t.Errorf("%d scale %d: %s, want %s", tc.unscaled, tc.scale, got, tc.hex)
		}
		if got := types.FormatDecimal(tc.unscaled, tc.scale); got != tc.text {
			t.Errorf("%d scale %d prints as %s, want %s", tc.unscaled, tc.scale, got, tc.text)
		}
		text, err := decodeNumeric(b)
		if err != nil || text != tc.text {
			t.Errorf("%s decodes to %q (%v), want %s", tc.hex, text, err, tc.text)
		}
	}
	for _, bad := range []string{"", "0001000000000000", "00010000c0000000", "000100000000000027ff"} {
		b, _ := hex.DecodeString(bad)
		if s, err := decodeNumeric(b); err == nil {
			t.Errorf("%s decoded as %s", bad, s)
		}
	}
}

// TestFloatText: float8 text as PostgreSQL prints it.
func TestFloatText(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1.5: "1.5", -0.25: "-0.25", 1234567: "1234567", 1e15: "1e+15", 123456789012345: "123456789012345",
		0.0001: "0.0001", 0.00001: "1e-05", math.Inf(1): "Infinity", math.Inf(-1): "-Infinity", math.NaN(): "NaN",
	} {
		if got := string(appendFloat(nil, f)); got != want {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
}

// TestLiterals: parameters become literals that keep the statement's
// syntax, typed by their declared types.
func TestLiterals(t *testing.T) {
	for _, tc := range []struct {
		oid  uint32
		text string
		null bool
		want string
	}{
		{oidUnknown, "it's", false, "'it''s'"},
		{oidUnknown, "", true, "NULL"},
		{oidInt8, "5", false, "CAST('5' AS BIGINT)"},
		{oidInt4, "", true, "CAST(NULL AS INTEGER)"},
		{oidDate, "1998-12-01", false, "CAST('1998-12-01' AS DATE)"},
		{oidNumeric, "-12.50", false, "(-12.50)"},
		{oidNumeric, "1e3", false, "1e3"},
	} {
		got, err := literal(tc.oid, tc.text, tc.null)
		if err != nil || got != tc.want {
			t.Errorf("%d %q: %s (%v), want %s", tc.oid, tc.text, got, err, tc.want)
		}
	}
	for _, bad := range []string{"1; DROP TABLE t", "", "--1", "1e", ".", "NaN"} {
		if got, err := literal(oidNumeric, bad, false); err == nil {
			t.Errorf("numeric %q bound as %s", bad, got)
		}
	}
	// e$1 is a name, '$1' a string, -- $3 a comment.
	toks, n, err := params("SELECT $2, e$1, '$1' FROM t WHERE a = $1 -- $3")
	if err != nil || n != 2 {
		t.Fatalf("params: %d %v", n, err)
	}
	if got := substitute("SELECT $2, e$1, '$1' FROM t WHERE a = $1 -- $3", toks, []string{"'x'", "(-1)"}); got != "SELECT  (-1) , e$1, '$1' FROM t WHERE a =  'x'  -- $3" {
		t.Errorf("substitute: %q", got)
	}
	if _, _, err := params("SELECT ?"); err == nil {
		t.Error("? is taken as a parameter")
	}
}
