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

	"github.com/bpfdb/bpfdb/ebpf/asm"
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
	mu     sync.RWMutex
	by     map[int32]Helper
	inline map[int32]asm.Instructions // see SetInline
	log    *LogRing
}

// NewHelpers returns an empty registry with its own log ring.
func NewHelpers() *Helpers {
	return &Helpers{by: map[int32]Helper{}, inline: map[int32]asm.Instructions{}, log: NewLogRing(DefaultLogLines)}
}

// SetInline gives the registered helper id a body of eBPF instructions that
// computes exactly what its function computes, for a helper that is a pure
// function of its arguments (no memory, no host state, no error): the JIT
// emits the body in place of the call, which otherwise costs a round trip
// from native code through Go. The interpreter keeps calling the function.
//
// The body reads r1-r5, leaves the result in r0 and may overwrite r1-r5
// (which a call clobbers anyway); it consists of ALU and ALU64
// instructions on r0-r5, loads of 64-bit constants, and conditional or
// unconditional jumps forward within the body (a jump to the end of the
// body ends it). Nothing else is allowed: no memory access, call, exit or
// backward jump, so the body runs in a bounded time without charging the
// budget, as the call it replaces. That the body and the function agree is
// the registrant's promise; the differential tests (interpreter against
// JIT) check it for the helpers they use.
func (h *Helpers) SetInline(id int32, body asm.Instructions) error {
	if err := checkInline(body); err != nil {
		return fmt.Errorf("inline body of helper %d: %w", id, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.by[id]; !ok {
		return fmt.Errorf("inline body of helper %d: no such helper", id)
	}
	h.inline[id] = body
	return nil
}

// checkInline checks an inline helper body against SetInline's rules.
func checkInline(body asm.Instructions) error {
	if len(body) == 0 {
		return errors.New("empty body")
	}
	slotOf := body.SlotIndex()
	n := body.Slots()
	start := make([]bool, n+1) // the slots an instruction starts at, and the end
	for i := range body {
		start[slotOf[i]] = true
	}
	start[n] = true
	for i, ins := range body {
		pc := slotOf[i]
		if err := ins.Validate(); err != nil {
			return fmt.Errorf("instruction %d (%v): %w", pc, ins, err)
		}
		for _, r := range []asm.Register{ins.Dst, ins.Src} {
			if r > asm.R5 {
				return fmt.Errorf("instruction %d (%v) uses %v: only r0-r5 may be used", pc, ins, r)
			}
		}
		switch class := ins.OpCode.Class(); class {
		case asm.ClassALU, asm.ClassALU64:
		case asm.ClassLD:
			if ins.OpCode.Mode() != asm.ModeIMM || ins.Src != 0 {
				return fmt.Errorf("instruction %d (%v): only 64-bit constant loads are allowed", pc, ins)
			}
		case asm.ClassJMP, asm.ClassJMP32:
			op := ins.OpCode.JumpOp()
			if op == asm.Exit || op == asm.Call {
				return fmt.Errorf("instruction %d (%v): no exit or call in a body", pc, ins)
			}
			if t := pc + 1 + int(ins.JumpOffset()); t <= pc || t > n || !start[t] {
				return fmt.Errorf("instruction %d (%v): jumps must go forward to an instruction of the body or its end", pc, ins)
			}
		default:
			return fmt.Errorf("instruction %d (%v): no memory access in a body", pc, ins)
		}
	}
	return nil
}

// inlines returns the inline bodies by helper id (see SetInline).
func (h *Helpers) inlines() map[int32]asm.Instructions {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if len(h.inline) == 0 {
		return nil
	}
	m := make(map[int32]asm.Instructions, len(h.inline))
	for id, b := range h.inline {
		m[id] = b
	}
	return m
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
