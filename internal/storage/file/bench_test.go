package file

import (
	"path/filepath"
	"testing"
)

// BenchmarkReopen1GB opens (read-only) and closes a database file of 4096
// blocks of 256 KiB (1 GiB) whose last checkpoint has 64 KiB of metadata.
// Open reads the headers and the checkpoint chain only, so the data blocks
// are left as holes: the setup marks them written without writing them,
// which makes the file sparse and the setup quick.
func BenchmarkReopen1GB(b *testing.B) {
	path := filepath.Join(b.TempDir(), "db")
	f, err := Create(path, CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for range 4096 {
		id, err := f.AllocateBlock()
		if err != nil {
			b.Fatal(err)
		}
		f.mu.Lock()
		f.state[id] = stWritten // a hole: never read by Open
		f.mu.Unlock()
	}
	if err := f.Checkpoint(make([]byte, 64<<10)); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		f, err := Open(path, Options{ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		if f.Info().Blocks != 4097 {
			b.Fatalf("reopened with %d blocks", f.Info().Blocks)
		}
		f.Close()
	}
}
