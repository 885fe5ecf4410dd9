package ast

import (
	"fmt"
	"reflect"
	"strings"
)

// Dump renders the structure of a tree, one field per line, indented by
// depth, without positions and without fields at their zero value. Two trees
// that differ only in positions dump to the same text, which is how tests
// compare them.
//
//	Select
//	  Columns:
//	    - SelectItem
//	        Expr: ColumnRef Parts=["a"]
func Dump(n Node) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(n), 0)
	return b.String()
}

var (
	posType      = reflect.TypeFor[Pos]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
)

func dumpValue(b *strings.Builder, v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		dumpValue(b, v.Elem(), depth)
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		dumpValue(b, v.Elem(), depth)
	case reflect.Struct:
		dumpStruct(b, v, depth)
	case reflect.Slice:
		if isScalarSlice(v) {
			b.WriteString(scalarList(v))
			return
		}
		for i := 0; i < v.Len(); i++ {
			b.WriteString("\n" + strings.Repeat("  ", depth+1) + "-")
			if v.Index(i).Kind() != reflect.Slice {
				b.WriteString(" ")
			}
			dumpValue(b, v.Index(i), depth+2)
		}
	default:
		b.WriteString(scalar(v))
	}
}

// dumpStruct prints the type name, scalar fields inline as Name=value, and
// node fields on lines of their own.
func dumpStruct(b *strings.Builder, v reflect.Value, depth int) {
	t := v.Type()
	b.WriteString(t.Name())
	var nested []int
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fv := v.Field(i)
		if f.Type == posType || fv.IsZero() {
			continue
		}
		switch {
		case fv.Kind() == reflect.Slice && isScalarSlice(fv):
			fmt.Fprintf(b, " %s=%s", f.Name, scalarList(fv))
		case isScalar(fv):
			fmt.Fprintf(b, " %s=%s", f.Name, scalar(fv))
		default:
			nested = append(nested, i)
		}
	}
	for _, i := range nested {
		b.WriteString("\n" + strings.Repeat("  ", depth+1) + t.Field(i).Name + ":")
		if v.Field(i).Kind() != reflect.Slice {
			b.WriteString(" ")
		}
		dumpValue(b, v.Field(i), depth+1)
	}
}

func isScalar(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Uint8:
		return true
	}
	return false
}

func isScalarSlice(v reflect.Value) bool {
	switch v.Type().Elem().Kind() {
	case reflect.String, reflect.Int:
		return true
	}
	return false
}

func scalar(v reflect.Value) string {
	if v.Type().Implements(stringerType) {
		return v.Interface().(fmt.Stringer).String()
	}
	if v.Kind() == reflect.String {
		return fmt.Sprintf("%q", v.String())
	}
	return fmt.Sprint(v.Interface())
}

func scalarList(v reflect.Value) string {
	parts := make([]string, v.Len())
	for i := range parts {
		parts[i] = scalar(v.Index(i))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
