package catalog

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector/vectortest"
)

// model is what the catalog should hold: tables (by folded name) with their
// committed rows' sum and count, and views.
type model struct {
	tables map[string]modelTable
	views  map[string]string // folded name → query
}

type modelTable struct {
	name       string
	rows, sum  int64
	notNullCol bool
}

func (m model) clone() model {
	return model{tables: maps.Clone(m.tables), views: maps.Clone(m.views)}
}

// TestRandomStatements runs random statements, each of several random steps
// (create or drop a table or view, insert rows), of which some fail or roll
// back part way, against a model of the catalog; every few statements the
// database is closed and reopened. After each statement the catalog must
// equal the model. The seed is logged (replay with the environment variable
// vectortest.Seed reads).
func TestRandomStatements(t *testing.T) {
	r := vectortest.Rand(t)
	path := filepath.Join(t.TempDir(), "db")
	c := mustOpen(t, path, Options{MemoryLimit: 32 << 20})
	var tx *Tx
	defer func() {
		if tx != nil {
			tx.Rollback() // a failed check leaves the writer lock to Close otherwise
		}
		c.Close()
	}()
	m := model{tables: map[string]modelTable{}, views: map[string]string{}}
	names := []string{"a", "B", "c", "D"}
	for stmt := range 300 {
		tx = c.Begin()
		next := m.clone()
		inserting := map[string]bool{} // tables with an open Inserter: a Load fails with table.ErrBusy
		var failed error
		for range 1 + r.IntN(3) {
			name := names[r.IntN(len(names))]
			if r.IntN(2) == 0 {
				name = strings.ToUpper(name)
			}
			k := fold(name)
			switch op := r.IntN(6); op {
			case 0:
				nn := r.IntN(2) == 0
				err := tx.CreateTable(name, []ColumnDef{{Name: "v", Type: types.BigIntType, NotNull: nn}}, false)
				if _, isT := next.tables[k]; isT || next.views[k] != "" {
					if !errors.Is(err, ErrExists) {
						t.Fatalf("statement %d: create table %s over an existing name: %v", stmt, name, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("statement %d: create table %s: %v", stmt, name, err)
				}
				next.tables[k] = modelTable{name: name, notNullCol: nn}
			case 1:
				q := fmt.Sprintf("SELECT %d", stmt)
				err := tx.CreateView(name, q, nil, true)
				if _, isT := next.tables[k]; isT {
					if !errors.Is(err, ErrExists) {
						t.Fatalf("statement %d: create view %s over a table: %v", stmt, name, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("statement %d: create view %s: %v", stmt, name, err)
				}
				next.views[k] = q
			case 2, 3:
				kind := KindTable
				if op == 3 {
					kind = KindView
				}
				err := tx.Drop(kind, name, true)
				_, isT := next.tables[k]
				isV := next.views[k] != ""
				switch {
				case kind == KindTable && isV, kind == KindView && isT:
					if !errors.Is(err, ErrWrongKind) {
						t.Fatalf("statement %d: drop %v %s of the other kind: %v", stmt, kind, name, err)
					}
				case err != nil:
					t.Fatalf("statement %d: drop %v %s: %v", stmt, kind, name, err)
				case kind == KindTable:
					delete(next.tables, k)
					delete(inserting, k)
				default:
					delete(next.views, k)
				}
			default:
				mt, isT := next.tables[k]
				n := 1 + r.IntN(50)
				vals := make([]int64, n)
				for i := range vals {
					vals[i] = r.Int64N(1000)
				}
				ch := bigints(vals...)
				withNull := r.IntN(8) == 0
				if withNull {
					ch.Col(0).Validity().SetNull(r.IntN(n))
				}
				var err error
				viaLoad := r.IntN(3) == 0 // COPY: the loader publishes, then may fail
				loadFails := viaLoad && r.IntN(3) == 0
				if viaLoad {
					_, err = tx.Load(name, func(tbl *table.Table, notNull []bool) (int64, error) {
						a, err := tbl.NewStagedAppender()
						if err != nil {
							return 0, err
						}
						defer a.Close()
						if notNull[0] && withNull {
							return 0, fmt.Errorf("load: %w", ErrNotNull) // as exec/load checks it
						}
						if err := a.Append(ch); err != nil {
							return 0, err
						}
						if err := a.Commit(); err != nil {
							return 0, err
						}
						if loadFails {
							return 0, errors.New("the load fails after publishing")
						}
						return int64(n), nil
					})
				} else {
					err = insert(tx, name, ch)
				}
				if !viaLoad && err == nil {
					inserting[k] = true
				}
				switch {
				case viaLoad && inserting[k]:
					if !errors.Is(err, table.ErrBusy) {
						t.Fatalf("statement %d: load into %s after an insert: %v, want table.ErrBusy", stmt, name, err)
					}
					failed = err
				case !isT:
					if err == nil {
						t.Fatalf("statement %d: insert into %s, which is no table, succeeded", stmt, name)
					}
				case withNull && mt.notNullCol:
					if !errors.Is(err, ErrNotNull) {
						t.Fatalf("statement %d: NULL into NOT NULL %s: %v", stmt, name, err)
					}
					failed = err
				case loadFails:
					if err == nil {
						t.Fatalf("statement %d: a failing load into %s succeeded", stmt, name)
					}
					failed = err
				case err != nil:
					t.Fatalf("statement %d: insert into %s: %v", stmt, name, err)
				default:
					mt.rows += int64(n)
					for i, v := range vals {
						if !withNull || !ch.Col(0).Validity().IsNull(i) {
							mt.sum += v
						}
					}
					next.tables[k] = mt
				}
			}
			if failed != nil {
				break
			}
		}
		if failed == nil && r.IntN(6) == 0 {
			failed = errors.New("the statement fails")
		}
		if failed != nil {
			tx.Rollback()
		} else {
			if err := tx.Commit(); err != nil {
				t.Fatalf("statement %d: commit: %v", stmt, err)
			}
			m = next
		}
		if r.IntN(25) == 0 {
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			c = mustOpen(t, path, Options{MemoryLimit: 32 << 20})
		}
		if err := compareModel(c, m); err != nil {
			t.Fatalf("after statement %d: %v", stmt, err)
		}
	}
}

func compareModel(c *Catalog, m model) error {
	var got, want []string
	tx := c.Begin()
	defer tx.Rollback()
	for _, ti := range c.Tables() {
		n, sum := countSum(tx.Table(ti.Name))
		got = append(got, fmt.Sprintf("table %s rows=%d/%d sum=%d notnull=%v", ti.Name, ti.Rows, n, sum, ti.Columns[0].NotNull))
	}
	for _, k := range slices.Sorted(maps.Keys(m.tables)) {
		mt := m.tables[k]
		want = append(want, fmt.Sprintf("table %s rows=%d/%d sum=%d notnull=%v", mt.name, mt.rows, mt.rows, mt.sum, mt.notNullCol))
	}
	for _, vi := range c.Views() {
		got = append(got, fmt.Sprintf("view %s %s", fold(vi.Name), vi.Query))
	}
	for _, k := range slices.Sorted(maps.Keys(m.views)) {
		want = append(want, fmt.Sprintf("view %s %s", k, m.views[k]))
	}
	if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
		return fmt.Errorf("catalog:\n%s\nwant:\n%s", g, w)
	}
	return nil
}
