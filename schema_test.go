package bpfdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestObjects lists tables and views together, by name without regard to
// case, each with the statement that declares it.
func TestObjects(t *testing.T) {
	db, err := Open("", Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Exec(context.Background(), `CREATE TABLE zeta (a INTEGER PRIMARY KEY, b VARCHAR NOT NULL, c DECIMAL(12,2));
		CREATE TABLE "Alpha" (d DATE);
		CREATE VIEW mid (x) AS SELECT a FROM zeta WHERE a > 1`)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := db.Objects()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, fmt.Sprintf("%s view=%v %s", o.Name, o.View, o.SQL))
	}
	want := []string{
		`Alpha view=false CREATE TABLE "Alpha"(d DATE);`,
		`mid view=true CREATE VIEW mid (x) AS SELECT a FROM zeta WHERE a > 1;`,
		`zeta view=false CREATE TABLE zeta(a INTEGER, b VARCHAR NOT NULL, c DECIMAL(12,2), PRIMARY KEY (a));`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Objects(); !errors.Is(err, ErrClosed) {
		t.Errorf("Objects of a closed database: %v", err)
	}
}
