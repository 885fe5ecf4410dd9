package bpfdb

import (
	"slices"
	"strings"
)

// Object describes a table or a view of a database, for listings such as
// the shell's .tables and .schema.
type Object struct {
	// Name is the table's or view's name as it was declared.
	Name string
	// View tells a view from a table.
	View bool
	// SQL is the CREATE statement that declares it, ending in ';':
	// `CREATE TABLE t(a INTEGER NOT NULL, b VARCHAR);`.
	SQL string
}

// Objects returns the committed tables and views, together, sorted by
// name without regard to case.
func (db *DB) Objects() ([]Object, error) {
	db.mu.Lock()
	closed := db.closed
	db.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	var out []Object
	for _, t := range db.cat.Tables() {
		out = append(out, Object{Name: t.Name, SQL: t.SQL()})
	}
	for _, v := range db.cat.Views() {
		out = append(out, Object{Name: v.Name, View: true, SQL: v.SQL()})
	}
	slices.SortStableFunc(out, func(a, b Object) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	return out, nil
}
