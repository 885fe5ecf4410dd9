package ebpf

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// HelperFunc implements a helper: it receives r1-r5 and returns r0. A
// non-nil error ends the run with a *RunError naming the call; conditions a
// program should handle are reported in r0 (negative errno) instead.
type HelperFunc = core.HelperFunc

// Env is the state of one run that a helper may use: Env.Mem translates a
// program address into bytes (bounds-checked), Env.Map a map handle into the
// map, Env.Worker is the per-worker slot and Env.Host the host's own state.
type Env = core.Env

// Helper is a helper function with its id, name and prototype.
type Helper = core.Helper

// Prototype is the typed signature of a helper, used by the verifier.
type Prototype = core.Prototype

// ArgKind is what a helper argument must be.
type ArgKind = core.ArgKind

// RetKind is what a helper returns.
type RetKind = core.RetKind

// Argument kinds; see the core package for their exact meaning.
const (
	ArgNone            = core.ArgNone
	ArgAnything        = core.ArgAnything
	ArgScalar          = core.ArgScalar
	ArgConstMap        = core.ArgConstMap
	ArgMapKey          = core.ArgMapKey
	ArgMapValue        = core.ArgMapValue
	ArgMem             = core.ArgMem
	ArgUninitMem       = core.ArgUninitMem
	ArgConstSize       = core.ArgConstSize
	ArgConstSizeOrZero = core.ArgConstSizeOrZero
	ArgContext         = core.ArgContext
)

// Return kinds.
const (
	RetScalar         = core.RetScalar
	RetVoid           = core.RetVoid
	RetMapValueOrNull = core.RetMapValueOrNull
)

// Ids of the generic helpers, numbered as Linux numbers them.
const (
	HelperMapLookup   int32 = 1 // void *map_lookup_elem(map, key)
	HelperMapUpdate   int32 = 2 // long map_update_elem(map, key, value, flags)
	HelperMapDelete   int32 = 3 // long map_delete_elem(map, key)
	HelperKtimeGetNs  int32 = 5 // u64 ktime_get_ns(void): monotonic nanoseconds
	HelperTracePrintk int32 = 6 // long trace_printk(fmt, fmt_size, a1, a2, a3)
	HelperGetPrandom  int32 = 7 // u32 get_prandom_u32(void)
)

// Helpers is a registry of helpers by numeric id. It is safe for concurrent
// use; programs capture the helpers they call when they are loaded, so later
// registrations affect only programs loaded afterwards.
type Helpers struct {
	mu  sync.RWMutex
	by  map[int32]Helper
	log *LogRing
}

// NewHelpers returns an empty registry with its own log ring.
func NewHelpers() *Helpers {
	return &Helpers{by: map[int32]Helper{}, log: NewLogRing(DefaultLogLines)}
}

// DefaultHelpers returns a registry holding the generic helpers: map
// lookup/update/delete (1, 2, 3), monotonic time (5), log (6) and random (7).
func DefaultHelpers() *Helpers {
	h := NewHelpers()
	for _, g := range h.generic() {
		if err := h.Register(g); err != nil {
			panic("BUG: registering generic helper: " + err.Error())
		}
	}
	return h
}

// Register adds a helper. Ids must be positive and unique; the prototype's
// arguments must be contiguous (no argument after an ArgNone).
func (h *Helpers) Register(hp Helper) error {
	if hp.ID <= 0 {
		return fmt.Errorf("register helper %q: id %d is not positive", hp.Name, hp.ID)
	}
	if hp.Fn == nil {
		return fmt.Errorf("register helper %q: no function", hp.Name)
	}
	for i := 1; i < len(hp.Proto.Args); i++ {
		if hp.Proto.Args[i-1] == ArgNone && hp.Proto.Args[i] != ArgNone {
			return fmt.Errorf("register helper %q: argument %d follows an unused argument", hp.Name, i+1)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if old, ok := h.by[hp.ID]; ok {
		return fmt.Errorf("register helper %q: id %d is already %q", hp.Name, hp.ID, old.Name)
	}
	h.by[hp.ID] = hp
	return nil
}

// Lookup returns the helper with the given id.
func (h *Helpers) Lookup(id int32) (Helper, bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	hp, ok := h.by[id]
	return hp, ok
}

// All returns the registered helpers ordered by id.
func (h *Helpers) All() []Helper {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]Helper, 0, len(h.by))
	for _, hp := range h.by {
		out = append(out, hp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Log returns the ring that the log helper (6) of this registry writes to.
func (h *Helpers) Log() *LogRing { return h.log }

func (h *Helpers) funcs() map[int32]core.HelperFunc {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m := make(map[int32]core.HelperFunc, len(h.by))
	for id, hp := range h.by {
		m[id] = hp.Fn
	}
	return m
}

var monoStart = time.Now()

func (h *Helpers) generic() []Helper {
	return []Helper{
		{ID: HelperMapLookup, Name: "map_lookup_elem", Fn: mapLookup,
			Proto: Prototype{Args: [5]ArgKind{ArgConstMap, ArgMapKey}, Ret: RetMapValueOrNull}},
		{ID: HelperMapUpdate, Name: "map_update_elem", Fn: mapUpdate,
			Proto: Prototype{Args: [5]ArgKind{ArgConstMap, ArgMapKey, ArgMapValue, ArgScalar}, Ret: RetScalar}},
		{ID: HelperMapDelete, Name: "map_delete_elem", Fn: mapDelete,
			Proto: Prototype{Args: [5]ArgKind{ArgConstMap, ArgMapKey}, Ret: RetScalar}},
		{ID: HelperKtimeGetNs, Name: "ktime_get_ns", Proto: Prototype{Ret: RetScalar},
			Fn: func(*Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
				return uint64(time.Since(monoStart).Nanoseconds()), nil
			}},
		{ID: HelperTracePrintk, Name: "trace_printk", Fn: h.log.printk,
			Proto: Prototype{Args: [5]ArgKind{ArgMem, ArgConstSize, ArgScalar, ArgScalar, ArgScalar}, Ret: RetScalar}},
		{ID: HelperGetPrandom, Name: "get_prandom_u32", Proto: Prototype{Ret: RetScalar},
			Fn: func(*Env, uint64, uint64, uint64, uint64, uint64) (uint64, error) {
				return uint64(rand.Uint32()), nil
			}},
	}
}

func mapArgs(env *Env, mh, key uint64) (maps.Map, []byte, error) {
	m, err := env.Map(mh)
	if err != nil {
		return nil, nil, err
	}
	k, err := env.Mem(key, uint64(m.Spec().KeySize), false)
	if err != nil {
		return nil, nil, fmt.Errorf("key of map %q: %w", m.Spec().Name, err)
	}
	return m, k, nil
}

func mapLookup(env *Env, mh, key, _, _, _ uint64) (uint64, error) {
	m, k, err := mapArgs(env, mh, key)
	if err != nil {
		return 0, err
	}
	v := m.LookupRef(env.Worker, k)
	if v == nil {
		return 0, nil
	}
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(v)))), nil
}

func mapUpdate(env *Env, mh, key, value, flags, _ uint64) (uint64, error) {
	m, k, err := mapArgs(env, mh, key)
	if err != nil {
		return 0, err
	}
	v, err := env.Mem(value, uint64(m.Spec().ValueSize), false)
	if err != nil {
		return 0, fmt.Errorf("value of map %q: %w", m.Spec().Name, err)
	}
	return uint64(maps.Errno(m.UpdateFrom(env.Worker, k, v, maps.UpdateFlags(flags)))), nil
}

func mapDelete(env *Env, mh, key, _, _, _ uint64) (uint64, error) {
	m, k, err := mapArgs(env, mh, key)
	if err != nil {
		return 0, err
	}
	return uint64(maps.Errno(m.Delete(k))), nil
}

// DefaultLogLines is the capacity of a registry's log ring.
const DefaultLogLines = 1024

// maxLogLine bounds one formatted log line.
const maxLogLine = 256

// LogRing keeps the last lines written by the log helper. It is safe for
// concurrent use and never grows beyond its capacity: older lines are
// dropped and counted.
type LogRing struct {
	mu      sync.Mutex
	lines   []string
	next    int
	full    bool
	dropped uint64
}

// NewLogRing returns a ring that keeps the last n lines (n >= 1).
func NewLogRing(n int) *LogRing {
	if n < 1 {
		n = 1
	}
	return &LogRing{lines: make([]string, n)}
}

// Write appends a line, dropping the oldest if the ring is full.
func (l *LogRing) Write(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		l.dropped++
	}
	l.lines[l.next] = line
	l.next++
	if l.next == len(l.lines) {
		l.next, l.full = 0, true
	}
}

// Lines returns the kept lines, oldest first, and how many older lines were
// dropped since the ring was created.
func (l *LogRing) Lines() (lines []string, dropped uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.full {
		lines = append(lines, l.lines[l.next:]...)
	}
	lines = append(lines, l.lines[:l.next]...)
	return lines, l.dropped
}

// printk formats like Linux's bpf_trace_printk: a format string of at most
// fmtSize bytes (up to its first NUL) with at most three conversions among
// %d %i %u %x %X %c %p and their l/ll forms, and %%. It returns the number of
// bytes written.
func (l *LogRing) printk(env *Env, fmtAddr, fmtSize, a1, a2, a3 uint64) (uint64, error) {
	if fmtSize == 0 || fmtSize > maxLogLine {
		return uint64(^uint64(21)), nil // -EINVAL
	}
	f, err := env.Mem(fmtAddr, fmtSize, false)
	if err != nil {
		return 0, fmt.Errorf("log format: %w", err)
	}
	line, err := formatPrintk(f, [3]uint64{a1, a2, a3})
	if err != nil {
		return uint64(^uint64(21)), nil // -EINVAL
	}
	l.Write(line)
	return uint64(len(line)), nil
}

var errBadFormat = errors.New("bad log format")

func formatPrintk(f []byte, args [3]uint64) (string, error) {
	if i := strings.IndexByte(string(f), 0); i >= 0 {
		f = f[:i]
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		long := 0
		for i < len(f) && f[i] == 'l' && long < 2 {
			long++
			i++
		}
		if i >= len(f) || n == len(args) {
			return "", errBadFormat
		}
		v := args[n]
		n++
		switch f[i] {
		case 'd', 'i':
			if long == 0 {
				b.WriteString(strconv.FormatInt(int64(int32(v)), 10))
			} else {
				b.WriteString(strconv.FormatInt(int64(v), 10))
			}
		case 'u':
			if long == 0 {
				v = uint64(uint32(v))
			}
			b.WriteString(strconv.FormatUint(v, 10))
		case 'x', 'X':
			if long == 0 {
				v = uint64(uint32(v))
			}
			s := strconv.FormatUint(v, 16)
			if f[i] == 'X' {
				s = strings.ToUpper(s)
			}
			b.WriteString(s)
		case 'c':
			b.WriteByte(byte(v))
		case 'p':
			b.WriteString("0x" + strconv.FormatUint(v, 16))
		default:
			return "", errBadFormat
		}
		if b.Len() > maxLogLine {
			return "", errBadFormat
		}
	}
	return b.String(), nil
}
