package bpfdb

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/catalog"
	"github.com/bpfdb/bpfdb/internal/hooks"
	"github.com/bpfdb/bpfdb/internal/planner"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
	"github.com/bpfdb/bpfdb/internal/types"
)

// attachProgram runs ATTACH PROGRAM 'file' [SECTION 'name'] TO HOOK h.
func (db *DB) attachProgram(st *ast.AttachProgramStmt) (*Result, error) {
	h, err := ext.ParseHook(st.Hook)
	if err != nil {
		return nil, err
	}
	obj, source, err := readProgram(h.String(), st.File)
	if err != nil {
		return nil, err
	}
	if err := db.AttachProgram(h.String(), source, obj, AttachOptions{Program: st.Section}); err != nil {
		return nil, err
	}
	return &Result{Tag: "ATTACH PROGRAM"}, nil
}

// detachProgram runs DETACH PROGRAM FROM HOOK h.
func (db *DB) detachProgram(st *ast.DetachProgramStmt) (*Result, error) {
	if err := db.DetachProgram(st.Hook); err != nil {
		return nil, err
	}
	return &Result{Tag: "DETACH PROGRAM"}, nil
}

// bindCatalog is what statements bind against: the transaction's tables
// and views, and the database's table functions.
type bindCatalog struct {
	*catalog.Tx
	db *DB
}

func (db *DB) binding(tx *catalog.Tx) bindCatalog { return bindCatalog{tx, db} }

// tableFunc is one table function: its columns and how it computes rows.
type tableFunc struct {
	args  []string // argument names, all VARCHAR
	names []string
	types []types.Type
	rows  func(db *DB, args []string) ([][]types.Value, error)
}

var (
	bigint  = types.BigIntType
	varchar = types.VarcharType
)

// tableFuncs are bpfdb's table functions: the hooks, the programs and
// their maps, and a map's entries.
var tableFuncs = map[string]*tableFunc{
	"bpfdb_hooks": {
		names: []string{"hook", "program", "source", "engine", "attached_since", "calls", "handled", "ns", "errors", "violations", "last_error"},
		types: []types.Type{varchar, varchar, varchar, varchar, varchar, bigint, bigint, bigint, bigint, bigint, varchar},
		rows:  hookRows,
	},
	"bpfdb_programs": {
		names: []string{"hook", "program", "source", "engine", "instructions", "object_bytes", "maps", "maps_kept"},
		types: []types.Type{varchar, varchar, varchar, varchar, bigint, bigint, varchar, varchar},
		rows:  programRows,
	},
	"bpfdb_maps": {
		names: []string{"hook", "program", "map", "type", "key_size", "value_size", "max_entries", "workers", "entries"},
		types: []types.Type{varchar, varchar, varchar, varchar, bigint, bigint, bigint, bigint, bigint},
		rows:  mapRows,
	},
	"bpfdb_memory": {
		names: []string{"name", "value"},
		types: []types.Type{varchar, bigint},
		rows:  memoryRows,
	},
	"bpfdb_map": {
		args:  []string{"hook", "map"},
		names: []string{"key", "value", "key_hex", "value_hex"},
		types: []types.Type{bigint, bigint, varchar, varchar},
		rows:  mapEntryRows,
	},
}

// TableFunction implements planner.TableFunctions.
func (c bindCatalog) TableFunction(name string, args []types.Value) (*planner.TableFuncResult, error) {
	f := tableFuncs[name]
	if f == nil {
		names := make([]string, 0, len(tableFuncs))
		for n := range tableFuncs {
			names = append(names, n+"()")
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w: table function %s does not exist (there are %s)", planner.ErrNotFound, name, strings.Join(names, ", "))
	}
	if len(args) != len(f.args) {
		return nil, fmt.Errorf("%s takes %d arguments (%s), not %d", name, len(f.args), strings.Join(f.args, ", "), len(args))
	}
	sargs := make([]string, len(args))
	for i, a := range args {
		if a.IsNull() || a.Type().ID() != types.Varchar {
			return nil, fmt.Errorf("%s: argument %s must be a string, not %s", name, f.args[i], a)
		}
		sargs[i] = a.Str()
	}
	rows, err := f.rows(c.db, sargs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &planner.TableFuncResult{Names: f.names, Types: f.types, Rows: rows}, nil
}

// orNull is s as a VARCHAR, NULL if empty.
func orNull(s string) types.Value {
	if s == "" {
		return types.Null(varchar)
	}
	return types.VarcharValue(s)
}

func hookRows(db *DB, _ []string) ([][]types.Value, error) {
	var rows [][]types.Value
	for _, h := range db.Hooks() {
		row := []types.Value{types.VarcharValue(h.Hook)}
		if h.Program == "" {
			row = append(row, types.VarcharValue("built-in"), types.Null(varchar), types.Null(varchar), types.Null(varchar),
				types.Null(bigint), types.Null(bigint), types.Null(bigint), types.Null(bigint), types.Null(bigint), types.Null(varchar))
		} else {
			row = append(row, types.VarcharValue(h.Program), orNull(h.Source), types.VarcharValue(h.Engine),
				types.VarcharValue(h.Since.UTC().Format(time.RFC3339)),
				types.BigIntValue(int64(h.Calls)), types.BigIntValue(int64(h.Handled)), types.BigIntValue(h.Time.Nanoseconds()),
				types.BigIntValue(int64(h.Errors)), types.BigIntValue(int64(h.Violations)), orNull(h.LastError))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// attached lists what is attached, in hook order.
func (db *DB) attached() []*hooks.Attachment {
	var out []*hooks.Attachment
	for _, hi := range db.hooks.List() {
		if hi.Attached != nil {
			out = append(out, hi.Attached)
		}
	}
	return out
}

func sortedMapNames(a *hooks.Attachment) []string {
	names := make([]string, 0, len(a.Maps()))
	for n := range a.Maps() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func programRows(db *DB, _ []string) ([][]types.Value, error) {
	var rows [][]types.Value
	for _, a := range db.attached() {
		db.progMu.Lock()
		src := db.sources[a.Hook()]
		db.progMu.Unlock()
		rows = append(rows, []types.Value{
			types.VarcharValue(a.Hook().String()), types.VarcharValue(a.Name()), orNull(src), types.VarcharValue(a.Engine().String()),
			types.BigIntValue(int64(a.Instructions())), types.BigIntValue(int64(len(a.Object()))),
			orNull(strings.Join(sortedMapNames(a), ", ")), orNull(strings.Join(a.Reused(), ", ")),
		})
	}
	return rows, nil
}

func mapRows(db *DB, _ []string) ([][]types.Value, error) {
	var rows [][]types.Value
	for _, a := range db.attached() {
		for _, name := range sortedMapNames(a) {
			m := a.Maps()[name]
			s := m.Spec()
			var n int64
			for range m.All() {
				n++
			}
			rows = append(rows, []types.Value{
				types.VarcharValue(a.Hook().String()), types.VarcharValue(a.Name()), types.VarcharValue(name), types.VarcharValue(s.Type.String()),
				types.BigIntValue(int64(s.KeySize)), types.BigIntValue(int64(s.ValueSize)), types.BigIntValue(int64(s.MaxEntries)),
				types.BigIntValue(int64(m.Workers())), types.BigIntValue(n),
			})
		}
	}
	return rows, nil
}

// mapEntryRows lists a map's entries: key and value as integers
// (little-endian, when at most 8 bytes; a per-worker value is the sum over
// the workers) and in hex.
func mapEntryRows(db *DB, args []string) ([][]types.Value, error) {
	m, err := db.HookMap(args[0], args[1])
	if err != nil {
		return nil, err
	}
	s := m.Spec()
	var rows [][]types.Value
	for k, v := range m.All() {
		rows = append(rows, []types.Value{
			leInt(k, 1), leInt(v, m.Workers()), types.VarcharValue(hex.EncodeToString(k)), types.VarcharValue(hex.EncodeToString(v)),
		})
		if len(rows) > 1<<20 {
			return nil, fmt.Errorf("map %s has more than %d entries", s.Name, 1<<20)
		}
	}
	return rows, nil
}

// leInt reads b as workers little-endian unsigned integers of equal size
// (at most 8 bytes each) and returns their sum as a BIGINT; NULL if they
// are wider.
func leInt(b []byte, workers int) types.Value {
	if workers < 1 || len(b)%workers != 0 || len(b)/workers > 8 || len(b) == 0 {
		return types.Null(bigint)
	}
	size := len(b) / workers
	var sum uint64
	for w := range workers {
		var buf [8]byte
		copy(buf[:], b[w*size:(w+1)*size])
		sum += binary.LittleEndian.Uint64(buf[:])
	}
	return types.BigIntValue(int64(sum))
}
