package tpch

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, text string) *Answer {
	t.Helper()
	a, err := ParseCSV("test", []byte(text))
	if err != nil {
		t.Fatalf("ParseCSV(%q): %v", text, err)
	}
	return a
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name    string
		want    string
		got     string
		kinds   []Kind // of got; nil leaves Unknown
		orderBy []string
		limit   int
		err     string // "" when equal; else a substring of the error
	}{
		{name: "identical", want: "a,b\nx,1\n", got: "a,b\nx,1\n"},
		{name: "decimal scale does not matter", want: "v\n12.5\n", got: "v\n12.50\n", kinds: []Kind{Exact}},
		{name: "decimal exact", want: "v\n12.50\n", got: "v\n12.51\n", kinds: []Kind{Exact}, err: "row 1, column v: got 12.51, want 12.50"},
		{name: "decimal not within float tolerance", want: "v\n1000000000.0001\n", got: "v\n1000000000.0002\n", kinds: []Kind{Exact}, err: "column v"},
		{name: "double within 1e-9", want: "v\n25.575154611454693\n", got: "v\n25.5751546114547\n", kinds: []Kind{Float}},
		{name: "double beyond 1e-9", want: "v\n1.0\n", got: "v\n1.00001\n", kinds: []Kind{Float}, err: "got 1.00001, want 1.0"},
		{name: "double zero", want: "v\n0.0\n", got: "v\n0\n", kinds: []Kind{Float}},
		{name: "double NaN", want: "v\nNaN\n", got: "v\nnan\n", kinds: []Kind{Float}},
		{name: "unknown kinds use the float tolerance", want: "v\n1.0\n", got: "v\n1.0000000000001\n"},
		{name: "text is byte for byte", want: "v\nabc\n", got: "v\nabc \n", kinds: []Kind{Text}, err: "column v"},
		{name: "text that looks numeric", want: "v\n1.0\n", got: "v\n1\n", kinds: []Kind{Text}, err: "column v"},
		{name: "NULL is not the empty string", want: "v\n\n", got: "v\n\"\"\n", kinds: []Kind{Text}, err: "got , want NULL"},
		{name: "NULL equals NULL", want: "v\n\n", got: "v\n\n", kinds: []Kind{Float}},
		{name: "column names", want: "a,b\n1,2\n", got: "a,c\n1,2\n", err: `column 2 is named "c", want "b"`},
		{name: "column count", want: "a,b\n1,2\n", got: "a\n1\n", err: "1 columns [a], want 2 [a b]"},
		{name: "row count", want: "k\n1\n2\n", got: "k\n1\n", orderBy: []string{"k"}, err: "1 rows, want 2"},
		{name: "order matters", want: "k,v\n1,a\n2,b\n", got: "k,v\n2,b\n1,a\n", orderBy: []string{"k"}, err: "row 1, column k: got 2, want 1"},
		{name: "ties in any order", want: "k,v\n1,a\n1,b\n2,c\n", got: "k,v\n1,b\n1,a\n2,c\n", orderBy: []string{"k"}},
		{name: "a tie is not a license to differ", want: "k,v\n1,a\n1,b\n", got: "k,v\n1,a\n1,a\n", orderBy: []string{"k"}, err: "none of the result's matches expected row 2: 1 | b"},
		{name: "ties do not cross groups", want: "k,v\n1,a\n2,b\n2,c\n", got: "k,v\n2,b\n1,a\n2,c\n", orderBy: []string{"k"}, err: "row 1, column k"},
		{name: "ties on two keys", want: "k,j,v\n1,x,a\n1,x,b\n1,y,c\n", got: "k,j,v\n1,x,b\n1,x,a\n1,y,c\n", orderBy: []string{"k", "j"}},
		{name: "no ORDER BY, any order", want: "v\n1\n2\n3\n", got: "v\n3\n1\n2\n"},
		{name: "no ORDER BY, same multiset", want: "v\n1\n2\n2\n", got: "v\n2\n1\n1\n", err: "may come in any order"},
		{name: "ties with doubles", want: "k,v\n1,0.1\n1,0.2\n", got: "k,v\n1,0.2000000000000001\n1,0.1\n", kinds: []Kind{Exact, Float}, orderBy: []string{"k"}},
		{name: "LIMIT cut a tie", want: "k,v\n1,a\n2,b\n2,c\n", got: "k,v\n1,a\n2,d\n2,b\n", orderBy: []string{"k"}, limit: 3},
		{name: "LIMIT cut a tie, keys still checked", want: "k,v\n1,a\n2,b\n2,c\n", got: "k,v\n1,a\n2,d\n3,b\n", orderBy: []string{"k"}, limit: 3, err: "rows 2-3 tie"},
		{name: "LIMIT not reached, tie checked in full", want: "k,v\n1,a\n2,b\n2,c\n", got: "k,v\n1,a\n2,d\n2,b\n", orderBy: []string{"k"}, limit: 4, err: "expected row 3: 2 | c"},
		{name: "order key missing", want: "k\n1\n", got: "k\n1\n", orderBy: []string{"x"}, err: `ORDER BY column "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := mustParse(t, tt.want)
			got := mustParse(t, tt.got)
			if tt.kinds != nil {
				got.Kinds = tt.kinds
			}
			err := Compare(want, got, tt.orderBy, tt.limit)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("Compare: %v", err)
			case tt.err != "" && err == nil:
				t.Fatalf("Compare found no difference, want one with %q", tt.err)
			case tt.err != "" && !strings.Contains(err.Error(), tt.err):
				t.Fatalf("Compare: %v\nwant it to contain %q", err, tt.err)
			case err != nil && !errors.Is(err, ErrMismatch):
				t.Fatalf("Compare: %v does not wrap ErrMismatch", err)
			}
		})
	}
}

func TestCompareListsAtMostTenProblems(t *testing.T) {
	var want, got strings.Builder
	want.WriteString("k\n")
	got.WriteString("k\n")
	for i := range 15 {
		want.WriteString(strings.Repeat("a", i+1) + "\n")
		got.WriteString(strings.Repeat("b", i+1) + "\n")
	}
	err := Compare(mustParse(t, want.String()), mustParse(t, got.String()), []string{"k"}, 0)
	if err == nil || !strings.Contains(err.Error(), "and 5 more") || strings.Count(err.Error(), "\n") != 11 {
		t.Fatalf("Compare: %v\nwant ten problems and \"and 5 more\"", err)
	}
}

func TestParseCSV(t *testing.T) {
	a := mustParse(t, "a,b,c\r\n\"x, y\",,\"\"\n\"say \"\"hi\"\"\",1,\"two\nlines\"\n3,4,5")
	want := &Answer{
		Columns: []string{"a", "b", "c"},
		Kinds:   []Kind{Unknown, Unknown, Unknown},
		Rows: [][]Cell{
			{{Text: "x, y"}, {Null: true}, {Text: ""}},
			{{Text: `say "hi"`}, {Text: "1"}, {Text: "two\nlines"}},
			{{Text: "3"}, {Text: "4"}, {Text: "5"}},
		},
	}
	if !reflect.DeepEqual(a, want) {
		t.Fatalf("got %+v\nwant %+v", a, want)
	}
}

func TestParseCSVErrors(t *testing.T) {
	tests := []struct{ text, err string }{
		{"", "no header row"},
		{"a,b\n1\n", "line 2: 1 fields, the header has 2"},
		{"a\n\"x\ny\"\n1,2\n", "line 4: 2 fields"},
		{"a\n\"open\n", "line 2: quoted field never ends"},
		{"a\n\"x\"y\n", "line 2: field 1: text after the closing quote"},
		{"a\nx\"y\n", "line 2: field 1: quote inside an unquoted field"},
		{"a\nx\ry\n", "line 2: field 1: carriage return without line feed"},
	}
	for _, tt := range tests {
		_, err := ParseCSV("f.csv", []byte(tt.text))
		if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "f.csv") {
			t.Errorf("ParseCSV(%q) = %v, want an error naming f.csv with %q", tt.text, err, tt.err)
		}
		if err != nil && !errors.Is(err, ErrCSV) {
			t.Errorf("ParseCSV(%q) = %v, does not wrap ErrCSV", tt.text, err)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	a := &Answer{
		Columns: []string{"name", "sum(x)"},
		Rows: [][]Cell{
			{{Text: "plain"}, {Text: "1.50"}},
			{{Text: "a,b"}, {Null: true}},
			{{Text: ""}, {Text: ` lead`}},
			{{Text: `q"uote`}, {Text: "x\ny"}},
		},
	}
	var b bytes.Buffer
	if err := a.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	const want = "name,sum(x)\nplain,1.50\n\"a,b\",\n\"\",\" lead\"\n\"q\"\"uote\",\"x\ny\"\n"
	if b.String() != want {
		t.Fatalf("WriteCSV:\n%s\nwant:\n%s", b.String(), want)
	}
	back := mustParse(t, b.String())
	if !reflect.DeepEqual(back.Rows, a.Rows) || !reflect.DeepEqual(back.Columns, a.Columns) {
		t.Fatalf("read back %+v, want %+v", back, a)
	}
}

func TestFormatDouble(t *testing.T) {
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{2, "2.0"},
		{-1.5, "-1.5"},
		{0.05008133906964238, "0.05008133906964238"},
		{35785.70930693735, "35785.70930693735"},
		{15.48654581228407, "15.48654581228407"},
		{123456789012345, "123456789012345.0"},
		{1e15, "1e+15"},
		{1e-5, "0.00001"},
		{1.5e-7, "1.5e-07"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	}
	for _, tt := range tests {
		if got := FormatDouble(tt.f); got != tt.want {
			t.Errorf("FormatDouble(%v) = %q, want %q", tt.f, got, tt.want)
		}
	}
}

// FuzzParseCSV checks that any text either fails to parse with ErrCSV or
// parses to an answer that WriteCSV writes back to the same answer.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\n\"x, \"\"y\"\"\"\n\n", "a,b\r\n,\"\"\r\n", "q\n\"l1\nl2\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := ParseCSV("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrCSV) {
				t.Fatalf("error %v does not wrap ErrCSV", err)
			}
			return
		}
		var b bytes.Buffer
		if err := a.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		back, err := ParseCSV("rewritten", b.Bytes())
		if err != nil {
			t.Fatalf("rewritten %q does not parse: %v", b.String(), err)
		}
		if !reflect.DeepEqual(back.Rows, a.Rows) || !reflect.DeepEqual(back.Columns, a.Columns) {
			t.Fatalf("%q → %q reads back as %+v, want %+v", data, b.String(), back, a)
		}
	})
}
