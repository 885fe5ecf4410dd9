package ext

import (
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/ebpf"
)

// Hook is one of the seven hookpoints.
type Hook uint8

// The hooks, in the order of DESIGN.md §3.
const (
	Hash Hook = iota + 1
	ExecuteForever
	ScheduleTask
	Load
	UpdateUsedMemory
	AllocateNewBlock
	Unpin
)

var hookNames = [...]string{
	Hash: "hash", ExecuteForever: "execute_forever", ScheduleTask: "schedule_task", Load: "load",
	UpdateUsedMemory: "update_used_memory", AllocateNewBlock: "allocate_new_block", Unpin: "unpin",
}

// Hooks returns the seven hooks in order.
func Hooks() []Hook {
	return []Hook{Hash, ExecuteForever, ScheduleTask, Load, UpdateUsedMemory, AllocateNewBlock, Unpin}
}

// String returns the hook's SQL name ("unpin"), which also names its
// directory under extensions/.
func (h Hook) String() string {
	if h >= Hash && h <= Unpin {
		return hookNames[h]
	}
	return fmt.Sprintf("Hook(%d)", uint8(h))
}

// ParseHook returns the hook with SQL name s (case-insensitive; the
// research system's CamelCase names are accepted too).
func ParseHook(s string) (Hook, error) {
	norm := strings.ToLower(strings.ReplaceAll(s, "_", ""))
	for _, h := range Hooks() {
		if norm == strings.ReplaceAll(h.String(), "_", "") {
			return h, nil
		}
	}
	names := make([]string, 0, 7)
	for _, h := range Hooks() {
		names = append(names, h.String())
	}
	return 0, fmt.Errorf("unknown hook %q (hooks: %s)", s, strings.Join(names, ", "))
}

// Return codes of every hook program: 0 lets the built-in behaviour run,
// 1 says the program handled the call (its writable fields and helper
// effects count), a negative value is an error (counted; the built-in runs).
const (
	RetBuiltin = 0
	RetHandled = 1
	// RetMin is the most negative return accepted (-MAX_ERRNO, as Linux).
	RetMin = -4095
)

// CType is the C type of a context field or helper argument.
type CType string

// The C types the ABI uses.
const (
	U8   CType = "__u8"
	U16  CType = "__u16"
	U32  CType = "__u32"
	U64  CType = "__u64"
	S64  CType = "__s64"
	Ptr  CType = "void *"
	Ctx  CType = "ctx"  // a pointer to the hook's context struct
	Long CType = "long" // a helper's result
)

func (t CType) size() int {
	switch t {
	case U8:
		return 1
	case U16:
		return 2
	case U32:
		return 4
	}
	return 8
}

// Field is one field of a hook's context struct.
type Field struct {
	Name     string
	Type     CType
	Writable bool
	// Region names the region a pointer field (Type Ptr) points to.
	Region string
	// Min and Max bound a read-only scalar when Max > Min.
	Min, Max int64
	Doc      string
	offset   int
}

// Offset returns the field's byte offset in the context.
func (f Field) Offset() int { return f.offset }

// Region is a fixed-capacity memory area a context field points to.
type Region struct {
	Name     string
	Size     int
	Writable bool
	Doc      string
}

// Arg is one argument of a helper.
type Arg struct {
	Name string
	Type CType
	Kind ebpf.ArgKind
}

// Helper declares one helper function of a hook: its id, C name,
// arguments and result. The host implements it (internal/hooks).
type Helper struct {
	ID   int32
	Name string
	Args []Arg
	Ret  ebpf.RetKind
	Doc  string
}

// Proto returns the prototype the verifier checks calls against.
func (h Helper) Proto() ebpf.Prototype {
	var p ebpf.Prototype
	for i, a := range h.Args {
		p.Args[i] = a.Kind
	}
	p.Ret = h.Ret
	return p
}

// Spec is the ABI of one hook: the context struct, its regions, the hook's
// own helpers, and the program type derived from them.
type Spec struct {
	Hook    Hook
	Doc     string
	Fields  []Field
	Regions []Region
	Helpers []Helper
	// Consts are named values of the context's fields (flags, kinds),
	// written to the header as #defines.
	Consts []Const
	size   int
	typ    *ebpf.ProgramType
}

// Const is a named constant of the ABI.
type Const struct {
	Name  string
	Value int64
	Doc   string
}

// Struct returns the C name of the hook's context struct.
func (s *Spec) Struct() string { return "bpfdb_" + s.Hook.String() + "_ctx" }

// Size returns the context's size in bytes.
func (s *Spec) Size() int { return s.size }

// Field returns the field called name; it panics if there is none (a bug in
// the host that fills the context).
func (s *Spec) Field(name string) Field {
	for _, f := range s.Fields {
		if f.Name == name {
			return f
		}
	}
	panic(fmt.Sprintf("BUG: hook %s has no context field %q", s.Hook, name))
}

// Type returns the program type programs of this hook are verified
// against: the context layout, the regions, the hook's helpers plus the
// generic ones, and the return range RetMin..RetHandled.
func (s *Spec) Type() *ebpf.ProgramType { return s.typ }

// layout computes the field offsets (natural alignment, in order), the
// size (a multiple of 8) and the program type.
func (s *Spec) layout() {
	off := 0
	fields := make([]ebpf.Field, 0, len(s.Fields))
	for i := range s.Fields {
		f := &s.Fields[i]
		n := f.Type.size()
		off = (off + n - 1) &^ (n - 1)
		f.offset = off
		ef := ebpf.Field{Name: f.Name, Offset: off, Size: n, Writable: f.Writable, Min: f.Min, Max: f.Max}
		if f.Type == Ptr {
			ef.Kind, ef.Region = ebpf.FieldPointer, f.Region
		}
		fields = append(fields, ef)
		off += n
	}
	s.size = (off + 7) &^ 7
	t := &ebpf.ProgramType{
		Name:      s.Hook.String(),
		Context:   ebpf.Context{Size: s.size, Fields: fields},
		Registers: []ebpf.RegisterSpec{{Reg: 1, Kind: ebpf.RegisterContext}},
		Return:    ebpf.Return{Int32: true, Min: RetMin, Max: RetHandled},
	}
	for _, r := range s.Regions {
		t.Regions = append(t.Regions, ebpf.RegionSpec{Name: r.Name, Size: r.Size, Writable: r.Writable})
	}
	for _, h := range s.Helpers {
		t.AllowedHelpers = append(t.AllowedHelpers, h.ID)
	}
	for _, h := range Generic {
		t.AllowedHelpers = append(t.AllowedHelpers, h.ID)
	}
	if err := t.Validate(); err != nil {
		panic("BUG: ext: " + err.Error())
	}
	s.typ = t
}

// Generic are the helpers every hook may call: maps, time, randomness and
// the log, numbered as Linux numbers them (the ebpf package implements
// them).
var Generic = []Helper{
	{ID: ebpf.HelperMapLookup, Name: "bpf_map_lookup_elem", Ret: ebpf.RetMapValueOrNull,
		Args: []Arg{{"map", Ptr, ebpf.ArgConstMap}, {"key", Ptr, ebpf.ArgMapKey}},
		Doc:  "a pointer to the value stored under key, or NULL"},
	{ID: ebpf.HelperMapUpdate, Name: "bpf_map_update_elem", Ret: ebpf.RetScalar,
		Args: []Arg{{"map", Ptr, ebpf.ArgConstMap}, {"key", Ptr, ebpf.ArgMapKey}, {"value", Ptr, ebpf.ArgMapValue}, {"flags", U64, ebpf.ArgScalar}},
		Doc:  "store value under key (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST); 0 or a negative errno"},
	{ID: ebpf.HelperMapDelete, Name: "bpf_map_delete_elem", Ret: ebpf.RetScalar,
		Args: []Arg{{"map", Ptr, ebpf.ArgConstMap}, {"key", Ptr, ebpf.ArgMapKey}},
		Doc:  "delete key; 0 or a negative errno"},
	{ID: ebpf.HelperKtimeGetNs, Name: "bpf_ktime_get_ns", Ret: ebpf.RetScalar,
		Doc: "monotonic time in nanoseconds"},
	{ID: ebpf.HelperTracePrintk, Name: "bpf_trace_printk", Ret: ebpf.RetScalar,
		Args: []Arg{{"fmt", Ptr, ebpf.ArgMem}, {"fmt_size", U32, ebpf.ArgConstSize}, {"a1", U64, ebpf.ArgScalar}, {"a2", U64, ebpf.ArgScalar}, {"a3", U64, ebpf.ArgScalar}},
		Doc:  "write a formatted line to the database's extension log"},
	{ID: ebpf.HelperGetPrandom, Name: "bpf_get_prandom_u32", Ret: ebpf.RetScalar,
		Doc: "a pseudo-random 32-bit number"},
}

// Register adds the hook's own helpers to hs, with their prototypes and
// the implementations in fns (by helper id). Every helper of the hook must
// have an implementation.
func (s *Spec) Register(hs *ebpf.Helpers, fns map[int32]ebpf.HelperFunc) error {
	for _, h := range s.Helpers {
		fn := fns[h.ID]
		if fn == nil {
			return fmt.Errorf("hook %s: no implementation of helper %s (%#x)", s.Hook, h.Name, h.ID)
		}
		if err := hs.Register(ebpf.Helper{ID: h.ID, Name: h.Name, Proto: h.Proto(), Fn: fn}); err != nil {
			return fmt.Errorf("hook %s: %w", s.Hook, err)
		}
	}
	return nil
}
