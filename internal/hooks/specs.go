package hooks

import (
	"bytes"
	"crypto/sha256"
	"sync"

	"github.com/bpfdb/bpfdb/ebpf"
)

// specCache keeps the parsed ELF objects of recent attaches, by the
// objects' SHA-256, so that attaching an object again (swapping a policy
// in and out, a replace that goes back) does not parse it again: parsing
// (sections, relocations, BTF) was a fifth of attaching a stock policy.
// Specs are read, never changed, by the attaches that share them; the
// verifier and the compiler still run on every attach.
type specCache struct {
	mu    sync.Mutex
	specs map[[sha256.Size]byte]*ebpf.CollectionSpec
	order [][sha256.Size]byte // oldest first
}

// specCacheSize bounds the cache: a handful of policies per hook.
const specCacheSize = 32

// load returns the collection spec of obj, parsed now or before.
func (c *specCache) load(obj []byte) (*ebpf.CollectionSpec, error) {
	sum := sha256.Sum256(obj)
	c.mu.Lock()
	cs := c.specs[sum]
	c.mu.Unlock()
	if cs != nil {
		return cs, nil
	}
	cs, err := ebpf.LoadCollectionSpec(bytes.NewReader(obj))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.specs == nil {
		c.specs = map[[sha256.Size]byte]*ebpf.CollectionSpec{}
	}
	if _, ok := c.specs[sum]; !ok {
		if len(c.order) == specCacheSize {
			delete(c.specs, c.order[0])
			c.order = c.order[1:]
		}
		c.specs[sum] = cs
		c.order = append(c.order, sum)
	}
	return cs, nil
}
