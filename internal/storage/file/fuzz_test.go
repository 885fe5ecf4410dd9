package file

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens arbitrary bytes as a database file: Open and Check never
// panic, every failure wraps one of the package's sentinels, and the file
// is never modified. When the input's first byte is odd, the rest gets its
// header and block checksums recomputed before it is opened, so that the
// fuzzer gets past the checksums to the field checks behind them.
//
// The seeds are small databases (4 KiB blocks), but minimizing a new input
// still takes many runs: fuzz with a bounded minimization, e.g.
//
//	go test -fuzz FuzzOpen -fuzzminimizetime 200x ./internal/storage/file
func FuzzOpen(f *testing.F) {
	dir := f.TempDir()
	empty := filepath.Join(dir, "empty")
	db := mustCreate(f, empty)
	db.Close()
	small := filepath.Join(dir, "small")
	db = mustCreate(f, small)
	writeNew(f, db, 1)
	if err := db.Checkpoint([]byte("meta")); err != nil {
		f.Fatal(err)
	}
	db.Close()
	for _, p := range []string{empty, small} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{0}, b...))
		f.Add(append([]byte{1}, b...))
	}
	f.Add([]byte{0})
	f.Add(append([]byte{1}, Magic[:]...))
	path := filepath.Join(f.TempDir(), "db") // one file per fuzzing process
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if data[0]&1 != 0 {
			data = fixChecksums(data[1:])
		} else {
			data = data[1:]
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		db, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			if !errors.Is(err, ErrNotDatabase) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error wraps none of the sentinels: %v", err)
			}
		} else {
			_ = db.Metadata()
			if _, err := db.Check(); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Check error is not ErrCorrupt: %v", err)
			}
			db.Close()
		}
		after, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(after, data) {
			t.Fatal("Open modified the file")
		}
	})
}

// fixChecksums returns a copy of data with the checksums of both header
// slots and of every whole block recomputed (blocks of the size slot 0
// names, if it names a valid one, else MinBlockSize).
func fixChecksums(data []byte) []byte {
	data = bytes.Clone(data)
	for s := 0; (s+1)*HeaderSlotSize <= len(data); s++ {
		slot := data[s*HeaderSlotSize : (s+1)*HeaderSlotSize]
		binary.LittleEndian.PutUint32(slot[hChecksum:], slotChecksum(slot))
	}
	bs := MinBlockSize
	if len(data) >= HeaderSlotSize {
		if n := int(binary.LittleEndian.Uint32(data[hBlockSize:])); checkBlockSize(n) == nil {
			bs = n
		}
	}
	for id := BlockID(0); DataOffset+int(id+1)*bs <= len(data); id++ {
		block := data[DataOffset+int(id)*bs : DataOffset+int(id+1)*bs]
		binary.LittleEndian.PutUint32(block[bChecksum:], blockChecksum(id, block))
	}
	return data
}
