package catalog

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/storage/file"
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// metaFixture is an in-memory catalog with two tables (t: 3 columns, key
// on a, b NOT NULL; Up: 1 column) and two views, and its encoded metadata.
func metaFixture(t testing.TB) (*Catalog, []byte) {
	c := mustOpen(t, ":memory:", Options{MemoryLimit: 16 << 20})
	exec(t, c, func(tx *Tx) error {
		cols := []ColumnDef{
			{Name: "a", Type: types.BigIntType, PrimaryKey: true},
			{Name: "b", Type: types.VarcharType, NotNull: true},
			{Name: "c", Type: types.DateType},
		}
		if err := tx.CreateTable("t", cols, false); err != nil {
			return err
		}
		if err := tx.CreateTable("Up", []ColumnDef{{Name: "x", Type: types.DoubleType}}, false); err != nil {
			return err
		}
		if err := tx.CreateView("v", "SELECT a, b FROM t", []string{"k", "name"}, false); err != nil {
			return err
		}
		if err := tx.CreateView("w", "SELECT 1", nil, false); err != nil {
			return err
		}
		if err := tx.CreateUser(User{Name: "Ann", Superuser: true, Salt: []byte("salt"), Iterations: 4096,
			StoredKey: bytes.Repeat([]byte{1}, 32), ServerKey: bytes.Repeat([]byte{2}, 32)}); err != nil {
			return err
		}
		return tx.SetProgram(Program{Hook: "unpin", Name: "p.o", Section: "s", Object: []byte("ELF"), Since: time.Unix(1000, 0)})
	})
	return c, encodeMeta(c.cur.Load())
}

// metaUser encodes a valid user record called name.
func metaUser(name string) string {
	return string(rune(len(name))) + name + "\x00\x01\x01s\x20" + strings.Repeat("k", 32) + "\x20" + strings.Repeat("k", 32)
}

func TestMetaRoundTrip(t *testing.T) {
	c, meta := metaFixture(t)
	defer c.Close()
	v, err := decodeVersion(c.db.Tables(), meta)
	if err != nil {
		t.Fatal(err)
	}
	if again := encodeMeta(v); !bytes.Equal(again, meta) {
		t.Fatalf("decoded and encoded again:\n%q\nwant\n%q", again, meta)
	}
	want := "BCAT\x03\x02\x01t\x03\x01\x01\x00\x01\x00\x02Up\x01\x00\x00" +
		"\x02\x01v\x12SELECT a, b FROM t\x02\x01k\x04name\x01w\x08SELECT 1\x00" +
		"\x01\x05unpin\x03p.o\x01s\xd0\x0f\x03ELF" +
		"\x01\x03Ann\x01\x80\x20\x04salt\x20" + strings.Repeat("\x01", 32) + "\x20" + strings.Repeat("\x02", 32)
	if string(meta) != want {
		t.Fatalf("encoding:\n%q\nwant\n%q", meta, want)
	}
	ps := programsOf(v)
	if len(ps) != 1 || ps[0].Hook != "unpin" || ps[0].Name != "p.o" || ps[0].Section != "s" || string(ps[0].Object) != "ELF" || ps[0].Since.Unix() != 1000 {
		t.Fatalf("programs decoded as %+v", ps)
	}

	us := usersOf(v)
	if len(us) != 1 || us[0].Name != "Ann" || !us[0].Superuser || us[0].Iterations != 4096 || string(us[0].Salt) != "salt" {
		t.Fatalf("users decoded as %+v", us)
	}
	if u, ok := c.User("ANN"); !ok || u.Name != "Ann" {
		t.Fatalf("User(ANN) = %+v, %v", u, ok)
	}

	// Version 2 (before users) is read: no users.
	v2 := "BCAT\x02\x02\x01t\x03\x01\x01\x00\x01\x00\x02Up\x01\x00\x00" +
		"\x02\x01v\x12SELECT a, b FROM t\x02\x01k\x04name\x01w\x08SELECT 1\x00" +
		"\x01\x05unpin\x03p.o\x01s\xd0\x0f\x03ELF"
	old2, err := decodeVersion(c.db.Tables(), []byte(v2))
	if err != nil {
		t.Fatalf("version 2: %v", err)
	}
	if len(old2.programs) != 1 || len(old2.users) != 0 {
		t.Fatalf("version 2 decoded as %d programs, %d users", len(old2.programs), len(old2.users))
	}

	// Version 1 (before programs) is read: no programs.
	v1 := "BCAT\x01\x02\x01t\x03\x01\x01\x00\x01\x00\x02Up\x01\x00\x00" +
		"\x02\x01v\x12SELECT a, b FROM t\x02\x01k\x04name\x01w\x08SELECT 1\x00"
	old, err := decodeVersion(c.db.Tables(), []byte(v1))
	if err != nil {
		t.Fatalf("version 1: %v", err)
	}
	if len(old.views) != 2 || len(old.programs) != 0 {
		t.Fatalf("version 1 decoded as %d views, %d programs", len(old.views), len(old.programs))
	}
}

// TestCorruptMeta: damaged metadata, and metadata that disagrees with the
// stored tables, give errors wrapping ErrCorrupt that say what is wrong.
func TestCorruptMeta(t *testing.T) {
	c, meta := metaFixture(t)
	defer c.Close()
	tables := c.db.Tables()
	for _, tc := range []struct {
		name string
		meta string
		want string
	}{
		{"empty", "", "magic"},
		{"magic", "BCAX\x01\x00\x00", `magic "BCAX"`},
		{"version", "BCAT\x04\x00\x00", "version 4"},
		{"user flags", "BCAT\x03\x00\x00\x00\x01\x01u\x02", `user "u" has flags 0x2`},
		{"user without keys", "BCAT\x03\x00\x00\x00\x01\x01u\x00\x01\x01s\x00\x00", `user "u": a verifier needs a salt and keys of 32 bytes`},
		{"user iterations", "BCAT\x03\x00\x00\x00\x01\x01u\x00\x80\x80\x80\x10", "user iterations 33554432 exceeds 16777216"},
		{"users by case", "BCAT\x03\x00\x00\x00\x02" + metaUser("u") + metaUser("U"), `users "u" and "U" differ only in case`},
		{"version 0", "BCAT\x00\x00\x00", "version 0"},
		{"trailing", "BCAT\x01\x00\x00\x00", "1 bytes after the last entry"},
		{"trailing v2", "BCAT\x02\x00\x00\x00\x00", "1 bytes after the last entry"},
		{"program without hook", "BCAT\x02\x00\x00\x01\x00\x01p\x00\x00\x01E", `program "p" has no hook`},
		{"program without object", "BCAT\x02\x00\x00\x01\x01h\x01p\x00\x00\x00", `program "p" of hook h has no object`},
		{"two programs", "BCAT\x02\x00\x00\x02\x01h\x01p\x00\x00\x01E\x01h\x01q\x00\x00\x01E", "two programs attached to hook h"},
		{"bad varint", "BCAT\x02\x00\x00\x01\x01h\x01p\x00\xff", "program attach time: bad varint"},
		{"unknown table", "BCAT\x01\x01\x01z\x01\x00\x00\x00", `table "z" is not stored`},
		{"table by case", "BCAT\x01\x01\x01T\x03\x01\x01\x00\x00\x00", `table "T" is not stored`},
		{"table twice", "BCAT\x01\x02\x01t\x03\x00\x00\x00\x00\x01t\x03\x00\x00\x00\x00\x00", `table "t" appears twice`},
		{"column count", "BCAT\x01\x01\x01t\x02\x00\x00\x00\x00", `table "t": 2 column flags for 3 columns`},
		{"flags", "BCAT\x01\x01\x01t\x03\x00\x04\x00\x00\x00", `table "t": column 1 has flags 0x4`},
		{"key out of range", "BCAT\x01\x01\x01t\x03\x01\x01\x00\x01\x03\x00", "key column 3 exceeds 2"},
		{"nullable key", "BCAT\x01\x01\x01t\x03\x00\x01\x00\x01\x00\x00", `table "t": key column 0 is nullable or repeated`},
		{"repeated key", "BCAT\x01\x01\x01t\x03\x01\x01\x00\x02\x00\x00\x00", `table "t": key column 0 is nullable or repeated`},
		{"view of a table's name", "BCAT\x01\x00\x01\x02uP\x08SELECT 1\x00", `view "uP" has the name of a table`},
		{"views by case", "BCAT\x01\x00\x02\x01v\x01x\x00\x01V\x01y\x00", `views "v" and "V" differ only in case`},
		{"view without query", "BCAT\x01\x00\x01\x01v\x01 \x00", `view "v" has no name or no query`},
		{"view columns", "BCAT\x01\x00\x01\x01v\x01x\x02\x01a\x01A", `view "v": column "A" appears twice`},
		{"long string", "BCAT\x01\x00\x01\x01v\x7fx", "view query length 127 exceeds"},
		{"bad uvarint", "BCAT\x01\xff\xff", "bad table count"},
	} {
		_, err := decodeVersion(tables, []byte(tc.meta))
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrCorrupt saying %q", tc.name, err, tc.want)
		}
	}

	// Every truncation fails; flipped bytes fail with ErrCorrupt or decode.
	for n := range len(meta) {
		if _, err := decodeVersion(tables, meta[:n]); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("metadata cut to %d of %d bytes: %v, want ErrCorrupt", n, len(meta), err)
		}
	}
	b := bytes.Clone(meta)
	failed := 0
	for i := range b {
		for _, x := range []byte{0x01, 0x80, 0xff} {
			b[i] ^= x
			if _, err := decodeVersion(tables, b); err != nil {
				failed++
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("byte %d ^ %#x: %v does not wrap ErrCorrupt", i, x, err)
				}
			}
			b[i] ^= x
		}
	}
	t.Logf("%d of %d flips detected", failed, 3*len(b))
}

// TestOpenCorruptMeta: a file whose catalog metadata is damaged, or whose
// tables clash, does not open; the error names the file.
func TestOpenCorruptMeta(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tables []string
		extra  []byte
		want   string
	}{
		{"garbage", []string{"t"}, []byte("BCAT\x01\x09"), ": catalog metadata is corrupt: at byte 5: table count 9 exceeds 6"},
		{"case clash", []string{"t", "T"}, nil, `tables "t" and "T" differ only in case`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "db")
			f, err := file.Create(path, file.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			m, err := buffer.New(buffer.Options{File: f, Limit: 16 << 20})
			if err != nil {
				t.Fatal(err)
			}
			db, err := table.Open(f, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range tc.tables {
				if _, err := db.CreateTable(name, []table.Column{{Name: "v", Type: types.IntegerType}}); err != nil {
					t.Fatal(err)
				}
			}
			db.SetExtra(tc.extra)
			if err := db.Checkpoint(); err != nil {
				t.Fatal(err)
			}
			db.Close()
			m.Close()
			f.Close()
			_, err = Open(path, Options{})
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("%v, want ErrCorrupt naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

// FuzzMeta decodes arbitrary metadata against the fixture's tables: an
// error must wrap ErrCorrupt, a success must encode back to an equivalent
// catalog, and nothing may panic.
func FuzzMeta(f *testing.F) {
	c, meta := metaFixture(f)
	defer c.Close()
	tables := c.db.Tables()
	f.Add(meta)
	f.Add([]byte("BCAT\x01\x00\x00"))
	f.Add([]byte("BCAT\x01\x01\x01t\x03\x01\x01\x00\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := decodeVersion(tables, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := decodeVersion(tables, encodeMeta(v))
		if err != nil {
			t.Fatalf("re-encoded metadata does not decode: %v", err)
		}
		if !bytes.Equal(encodeMeta(again), encodeMeta(v)) {
			t.Fatal("re-encoding changed the catalog")
		}
	})
}
