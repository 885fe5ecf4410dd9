package hooks

import (
	"testing"
)

// TestSpecCache: an object attached again is not parsed again (the same
// spec comes back), a different one is, and the cache keeps at most
// specCacheSize objects, dropping the oldest.
func TestSpecCache(t *testing.T) {
	obj := object(t, "unpin.o")
	var c specCache
	a, err := c.load(obj)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.load(append([]byte(nil), obj...)); b != a {
		t.Fatal("the same bytes were parsed again")
	}
	// Trailing bytes change the hash, not what the ELF reader sees.
	for i := range specCacheSize {
		if _, err := c.load(append(append([]byte(nil), obj...), byte(i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.specs) != specCacheSize || len(c.order) != specCacheSize {
		t.Fatalf("%d specs, %d in order; want %d", len(c.specs), len(c.order), specCacheSize)
	}
	if b, _ := c.load(obj); b == a {
		t.Fatal("the oldest object was not dropped")
	}
	if _, err := c.load([]byte("not an ELF object")); err == nil {
		t.Fatal("garbage parsed")
	}
}
