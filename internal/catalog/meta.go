package catalog

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/internal/storage/table"
)

// metaMagic starts the catalog's metadata (layout in the package comment).
var metaMagic = [4]byte{'B', 'C', 'A', 'T'}

// metaVersion is the version of the metadata encoding: 2 added the
// attached programs, 3 the users; versions 1 (no programs) and 2 (no users)
// are still read.
const metaVersion = 3

// Column flags in the metadata.
const flagNotNull = 1 << 0

// User flags in the metadata.
const flagSuperuser = 1 << 0

// encodeMeta serializes what the table layer does not store: each table's
// NOT NULL flags and primary key, and the views. Tables and views are in
// name order, so equal catalogs encode to equal bytes.
func encodeMeta(v *version) []byte {
	b := append([]byte(nil), metaMagic[:]...)
	b = binary.AppendUvarint(b, metaVersion)
	keys := sortedKeys(v.tables)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		e := v.tables[k]
		b = appendString(b, e.name)
		b = binary.AppendUvarint(b, uint64(len(e.notNull)))
		for _, nn := range e.notNull {
			var f byte
			if nn {
				f |= flagNotNull
			}
			b = append(b, f)
		}
		b = binary.AppendUvarint(b, uint64(len(e.pk)))
		for _, j := range e.pk {
			b = binary.AppendUvarint(b, uint64(j))
		}
	}
	keys = sortedKeys(v.views)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		e := v.views[k]
		b = appendString(b, e.name)
		b = appendString(b, e.query)
		b = binary.AppendUvarint(b, uint64(len(e.columns)))
		for _, c := range e.columns {
			b = appendString(b, c)
		}
	}
	keys = sortedKeys(v.programs)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		p := v.programs[k]
		b = appendString(b, p.Hook)
		b = appendString(b, p.Name)
		b = appendString(b, p.Section)
		b = binary.AppendVarint(b, p.Since.Unix())
		b = appendString(b, string(p.Object))
	}
	keys = sortedKeys(v.users)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		u := v.users[k]
		b = appendString(b, u.Name)
		var f byte
		if u.Superuser {
			f |= flagSuperuser
		}
		b = append(b, f)
		b = binary.AppendUvarint(b, uint64(u.Iterations))
		b = appendString(b, string(u.Salt))
		b = appendString(b, string(u.StoredKey))
		b = appendString(b, string(u.ServerKey))
	}
	return b
}

func sortedKeys[E any](m map[string]E) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// metaTable and metaView are decoded metadata before they are checked
// against the stored tables.
type metaTable struct {
	name    string
	notNull []bool
	pk      []int
}

type metaView struct {
	name, query string
	columns     []string
}

// metaReader reads the metadata, keeping the first error.
type metaReader struct {
	b   []byte
	off int
	err error
}

func (r *metaReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrCorrupt, r.off, fmt.Sprintf(format, args...))
	}
}

// count reads a uvarint that must be at most max.
func (r *metaReader) count(what string, max uint64) int {
	if r.err != nil {
		return 0
	}
	x, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad %s", what)
		return 0
	}
	if x > max {
		r.fail("%s %d exceeds %d", what, x, max)
		return 0
	}
	r.off += n
	return int(x)
}

func (r *metaReader) bytes(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b)-r.off {
		r.fail("%s of %d bytes runs past the end", what, n)
		return nil
	}
	r.off += n
	return r.b[r.off-n : r.off]
}

func (r *metaReader) string(what string) string {
	n := r.count(what+" length", uint64(len(r.b)))
	return string(r.bytes(n, what))
}

// decodeMeta parses the metadata. Every count is bounded by the input's
// length, so damaged bytes cannot make it allocate much.
func decodeMeta(b []byte) ([]metaTable, []metaView, []Program, []User, error) {
	r := &metaReader{b: b}
	if m := r.bytes(len(metaMagic), "magic"); r.err == nil && string(m) != string(metaMagic[:]) {
		r.fail("magic %q, want %q", m, metaMagic[:])
	}
	version := r.count("version", 1<<32)
	if r.err == nil && (version < 1 || version > metaVersion) {
		r.fail("version %d, want 1 to %d", version, metaVersion)
	}
	var tables []metaTable
	n := r.count("table count", uint64(len(b)))
	for i := 0; i < n && r.err == nil; i++ {
		var t metaTable
		t.name = r.string("table name")
		ncols := r.count("column count", uint64(len(b)))
		for j, f := range r.bytes(ncols, "column flags") {
			if f&^flagNotNull != 0 {
				r.fail("table %q: column %d has flags %#x", t.name, j, f)
			}
			t.notNull = append(t.notNull, f&flagNotNull != 0)
		}
		nkey := r.count("key column count", uint64(ncols))
		for range nkey {
			t.pk = append(t.pk, r.count("key column", uint64(max(ncols-1, 0))))
		}
		tables = append(tables, t)
	}
	var views []metaView
	n = r.count("view count", uint64(len(b)))
	for i := 0; i < n && r.err == nil; i++ {
		var v metaView
		v.name = r.string("view name")
		v.query = r.string("view query")
		ncols := r.count("view column count", uint64(len(b)))
		for range ncols {
			v.columns = append(v.columns, r.string("view column"))
		}
		views = append(views, v)
	}
	var programs []Program
	if version >= 2 {
		n = r.count("program count", uint64(len(b)))
		for i := 0; i < n && r.err == nil; i++ {
			var p Program
			p.Hook = r.string("program hook")
			p.Name = r.string("program name")
			p.Section = r.string("program section")
			p.Since = time.Unix(r.varint("program attach time"), 0).UTC()
			p.Object = []byte(r.string("program object"))
			programs = append(programs, p)
		}
	}
	var users []User
	if version >= 3 {
		n = r.count("user count", uint64(len(b)))
		for i := 0; i < n && r.err == nil; i++ {
			var u User
			u.Name = r.string("user name")
			if f := r.bytes(1, "user flags"); r.err == nil {
				if f[0]&^flagSuperuser != 0 {
					r.fail("user %q has flags %#x", u.Name, f[0])
				}
				u.Superuser = f[0]&flagSuperuser != 0
			}
			u.Iterations = r.count("user iterations", maxIterations)
			u.Salt = []byte(r.string("user salt"))
			u.StoredKey = []byte(r.string("user stored key"))
			u.ServerKey = []byte(r.string("user server key"))
			users = append(users, u)
		}
	}
	if r.err == nil && r.off != len(b) {
		r.fail("%d bytes after the last entry", len(b)-r.off)
	}
	if r.err != nil {
		return nil, nil, nil, nil, r.err
	}
	return tables, views, programs, users, nil
}

// varint reads a signed varint.
func (r *metaReader) varint(what string) int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail("%s: bad varint", what)
		return 0
	}
	r.off += n
	return v
}

// decodeVersion builds the catalog from the stored tables and the catalog's
// metadata (extra: nil for a database whose tables were written without the
// catalog, whose tables then have no constraints), checking that they agree.
func decodeVersion(tables []*table.Table, extra []byte) (*version, error) {
	v := &version{tables: map[string]*tableEntry{}, views: map[string]*viewEntry{}, programs: map[string]*Program{}, users: map[string]*User{}}
	for _, t := range tables {
		k := fold(t.Name())
		if o := v.tables[k]; o != nil {
			return nil, fmt.Errorf("%w: tables %q and %q differ only in case", ErrCorrupt, o.name, t.Name())
		}
		v.tables[k] = &tableEntry{name: t.Name(), live: t, snap: t.Snapshot(), notNull: make([]bool, len(t.Columns()))}
	}
	if extra == nil {
		return v, nil
	}
	mtables, mviews, mprograms, musers, err := decodeMeta(extra)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, mt := range mtables {
		e := v.tables[fold(mt.name)]
		switch {
		case e == nil || e.name != mt.name:
			return nil, fmt.Errorf("%w: table %q is not stored", ErrCorrupt, mt.name)
		case seen[mt.name]:
			return nil, fmt.Errorf("%w: table %q appears twice", ErrCorrupt, mt.name)
		case len(mt.notNull) != len(e.notNull):
			return nil, fmt.Errorf("%w: table %q: %d column flags for %d columns", ErrCorrupt, mt.name, len(mt.notNull), len(e.notNull))
		}
		seen[mt.name] = true
		for i, j := range mt.pk {
			if !mt.notNull[j] || slices.Index(mt.pk, j) != i {
				return nil, fmt.Errorf("%w: table %q: key column %d is nullable or repeated", ErrCorrupt, mt.name, j)
			}
		}
		e.notNull, e.pk = mt.notNull, mt.pk
	}
	for _, mv := range mviews {
		k := fold(mv.name)
		switch {
		case mv.name == "" || strings.TrimSpace(mv.query) == "":
			return nil, fmt.Errorf("%w: view %q has no name or no query", ErrCorrupt, mv.name)
		case v.tables[k] != nil:
			return nil, fmt.Errorf("%w: view %q has the name of a table", ErrCorrupt, mv.name)
		case v.views[k] != nil:
			return nil, fmt.Errorf("%w: views %q and %q differ only in case", ErrCorrupt, v.views[k].name, mv.name)
		}
		if err := checkNames(mv.columns); err != nil {
			return nil, fmt.Errorf("%w: view %q: %v", ErrCorrupt, mv.name, err)
		}
		v.views[k] = &viewEntry{name: mv.name, query: mv.query, columns: mv.columns}
	}
	for i := range mprograms {
		p := &mprograms[i]
		if err := checkProgram(p); err != nil {
			return nil, err
		}
		if v.programs[p.Hook] != nil {
			return nil, fmt.Errorf("%w: two programs attached to hook %s", ErrCorrupt, p.Hook)
		}
		v.programs[p.Hook] = p
	}
	for i := range musers {
		u := &musers[i]
		if err := checkUser(u); err != nil {
			return nil, err
		}
		if v.users[fold(u.Name)] != nil {
			return nil, fmt.Errorf("%w: users %q and %q differ only in case", ErrCorrupt, v.users[fold(u.Name)].Name, u.Name)
		}
		v.users[fold(u.Name)] = u
	}
	return v, nil
}

// checkNames checks a list of column names: none empty, none repeated
// (without case).
func checkNames(names []string) error {
	seen := map[string]bool{}
	for i, n := range names {
		switch {
		case n == "":
			return fmt.Errorf("column %d has no name", i+1)
		case seen[fold(n)]:
			return fmt.Errorf("column %q appears twice", n)
		}
		seen[fold(n)] = true
	}
	return nil
}
