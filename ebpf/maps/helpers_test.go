package maps

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// mustNew creates a map or fails the test.
func mustNew(t testing.TB, s Spec, workers int) Map {
	t.Helper()
	m, err := New(&s, Options{Workers: workers})
	if err != nil {
		t.Fatalf("New(%+v): %v", s, err)
	}
	return m
}

// u32 encodes v as a little-endian u32.
func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// seed returns the seed of a randomized test: $BPFDB_SEED if set, else the
// clock. It logs it so that a failure can be replayed.
func seed(t testing.TB) uint64 {
	t.Helper()
	s := uint64(time.Now().UnixNano())
	if v := os.Getenv("BPFDB_SEED"); v != "" {
		p, err := strconv.ParseUint(v, 0, 64)
		if err != nil {
			t.Fatalf("BPFDB_SEED=%q: %v", v, err)
		}
		s = p
	}
	t.Logf("seed %d (replay with BPFDB_SEED=%d)", s, s)
	return s
}

// script runs a map operation script, one command a line, and returns one
// line of output per command. Keys are written as text: a decimal index for
// arrays, the key bytes themselves for hash maps (so KeySize must match).
// Values are decimal little-endian u32s (ValueSize 4); a per-worker value is
// a comma-separated list with one number per worker.
//
//	update KEY VALUE [any|noexist|exist]   -> ok or the error
//	from WORKER KEY VALUE [flags]          -> UpdateFrom
//	lookup KEY                             -> the value or the error
//	ref WORKER KEY                         -> LookupRef's value or nil
//	delete KEY                             -> ok or the error
//	keys                                   -> the NextKey iteration
//	all                                    -> All as KEY=VALUE pairs
//
// An empty result prints as "(none)".
func script(t *testing.T, m Map, cmds string) string {
	t.Helper()
	arr := m.Spec().Type.IsArray()
	key := func(s string) []byte {
		if !arr {
			return []byte(s)
		}
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			t.Fatalf("bad array key %q", s)
		}
		return u32(uint32(n))
	}
	keyText := func(k []byte) string {
		if arr {
			return strconv.Itoa(int(binary.LittleEndian.Uint32(k)))
		}
		return string(k)
	}
	value := func(s string) []byte {
		var b []byte
		for f := range strings.SplitSeq(s, ",") {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				t.Fatalf("bad value %q", s)
			}
			b = append(b, u32(uint32(n))...)
		}
		return b
	}
	valueText := func(b []byte) string {
		var f []string
		for ; len(b) >= 4; b = b[4:] {
			f = append(f, strconv.Itoa(int(binary.LittleEndian.Uint32(b))))
		}
		return strings.Join(f, ",")
	}
	flags := func(args []string) UpdateFlags {
		if len(args) == 0 {
			return UpdateAny
		}
		for _, f := range []UpdateFlags{UpdateAny, UpdateNoExist, UpdateExist} {
			if f.String() == args[0] {
				return f
			}
		}
		t.Fatalf("bad flags %q", args[0])
		return 0
	}
	result := func(err error) string {
		if err != nil {
			return err.Error()
		}
		return "ok"
	}
	var out []string
	for line := range strings.SplitSeq(strings.TrimSpace(cmds), "\n") {
		f := strings.Fields(line)
		var r string
		switch f[0] {
		case "update":
			r = result(m.Update(key(f[1]), value(f[2]), flags(f[3:])))
		case "from":
			w, _ := strconv.Atoi(f[1])
			r = result(m.UpdateFrom(w, key(f[2]), value(f[3]), flags(f[4:])))
		case "lookup":
			v, err := m.Lookup(key(f[1]))
			r = valueText(v)
			if err != nil {
				r = err.Error()
			}
		case "ref":
			w, _ := strconv.Atoi(f[1])
			v := m.LookupRef(w, key(f[2]))
			r = "nil"
			if v != nil {
				r = valueText(v)
			}
		case "delete":
			r = result(m.Delete(key(f[1])))
		case "keys":
			var ks []string
			var k []byte
			for {
				var err error
				k, err = m.NextKey(k)
				if errors.Is(err, ErrKeyNotExist) {
					break
				}
				if err != nil {
					t.Fatalf("NextKey: %v", err)
				}
				ks = append(ks, keyText(k))
			}
			r = strings.Join(ks, " ")
		case "all":
			var kv []string
			for k, v := range m.All() {
				kv = append(kv, keyText(k)+"="+valueText(v))
			}
			r = strings.Join(kv, " ")
		default:
			t.Fatalf("unknown command %q", line)
		}
		if r == "" {
			r = "(none)"
		}
		out = append(out, strings.TrimSpace(line)+" -> "+r)
		if h, ok := m.(*hashMap); ok {
			if err := h.check(); err != nil {
				t.Fatalf("after %q: %v", line, err)
			}
		}
	}
	return strings.Join(out, "\n")
}

// checkScript runs script and compares its output with want (the same
// commands, each followed by " -> result").
func checkScript(t *testing.T, m Map, want string) {
	t.Helper()
	var cmds []string
	var lines []string
	for l := range strings.SplitSeq(strings.TrimSpace(want), "\n") {
		l = strings.TrimSpace(l)
		c, _, _ := strings.Cut(l, " -> ")
		cmds = append(cmds, c)
		lines = append(lines, l)
	}
	got := script(t, m, strings.Join(cmds, "\n"))
	if w := strings.Join(lines, "\n"); got != w {
		t.Errorf("script mismatch\n--- got\n%s\n--- want\n%s", got, w)
	}
}

// check verifies the consistency of a hash map's bookkeeping: the index,
// the used bitmap, the free list, the key slab and the LRU heap agree.
func (h *hashMap) check() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	n := uint32(h.spec.MaxEntries)
	isUsed := func(i uint32) bool { return h.used[i/64]&(1<<(i%64)) != 0 }
	for k, i := range h.index {
		if i >= n {
			return fmt.Errorf("key %q: slot %d out of range", k, i)
		}
		if !isUsed(i) {
			return fmt.Errorf("key %q: slot %d not marked used", k, i)
		}
		if h.keyString(i) != k {
			return fmt.Errorf("key %q: slot %d holds key %q", k, i, h.keyString(i))
		}
	}
	used := 0
	for i := range n {
		if isUsed(i) {
			used++
		}
	}
	for i := n; i < uint32(len(h.used)*64); i++ {
		if isUsed(i) {
			return fmt.Errorf("bit %d beyond the slots is set", i)
		}
	}
	if used != len(h.index) {
		return fmt.Errorf("%d slots used, %d keys", used, len(h.index))
	}
	seen := map[uint32]bool{}
	for _, i := range h.free {
		if i >= n || isUsed(i) || seen[i] {
			return fmt.Errorf("free slot %d is out of range, used or listed twice", i)
		}
		seen[i] = true
	}
	if len(h.free)+used != int(n) {
		return fmt.Errorf("%d free + %d used != %d slots", len(h.free), used, n)
	}
	if !h.lru {
		return nil
	}
	q := &h.heap
	if len(q.items) != used {
		return fmt.Errorf("heap has %d items, map %d keys", len(q.items), used)
	}
	for j, it := range q.items {
		if !isUsed(it.slot) || q.pos[it.slot] != uint32(j) {
			return fmt.Errorf("heap item %d (slot %d): not used or pos %d", j, it.slot, q.pos[it.slot])
		}
		if it.stamp > h.stamps[it.slot].Load() {
			return fmt.Errorf("heap item %d (slot %d): stamp %d newer than the slot's %d", j, it.slot, it.stamp, h.stamps[it.slot].Load())
		}
		if j > 0 && q.less(j, (j-1)/2) {
			return fmt.Errorf("heap item %d is less than its parent", j)
		}
	}
	return nil
}

// keysOf returns all keys by NextKey iteration, failing on a repeat.
func keysOf(t testing.TB, m Map) [][]byte {
	t.Helper()
	var ks [][]byte
	var k []byte
	for {
		var err error
		k, err = m.NextKey(k)
		if errors.Is(err, ErrKeyNotExist) {
			return ks
		}
		if err != nil {
			t.Fatalf("NextKey: %v", err)
		}
		if slices.ContainsFunc(ks, func(x []byte) bool { return string(x) == string(k) }) {
			t.Fatalf("NextKey visited %x twice", k)
		}
		ks = append(ks, k)
	}
}
