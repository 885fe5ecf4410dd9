package core

import (
	"fmt"
	"math"
)

// ProgramType declares what a program attached to one hook may do: the
// layout of its context, the registers it starts with, the helpers it may
// call and the values it may return. The verifier checks a program against
// its type; the engine's hooks declare their types with this API.
//
// A type is plain data, built once (usually as a package-level variable) and
// never modified afterwards; the verifier only reads it.
//
// Example: a hook whose context is
//
//	 0               8              16       20       24
//	+---------------+---------------+--------+--------+
//	|  keys (ptr)   |  hashes (ptr) |  count |  flags |
//	+---------------+---------------+--------+--------+
//	  -> "keys"       -> "hashes"     ro u32   rw u32
//
// is declared as
//
//	&ProgramType{
//		Name: "hash",
//		Regions: []RegionSpec{
//			{Name: "keys", Size: 2048 * 8},
//			{Name: "hashes", Size: 2048 * 8, Writable: true},
//		},
//		Context: Context{Size: 24, Fields: []Field{
//			{Name: "keys", Offset: 0, Size: 8, Kind: FieldPointer, Region: "keys"},
//			{Name: "hashes", Offset: 8, Size: 8, Kind: FieldPointer, Region: "hashes"},
//			{Name: "count", Offset: 16, Size: 4},
//			{Name: "flags", Offset: 20, Size: 4, Writable: true},
//		}},
//		Return: Return{Min: -4095, Max: 1},
//	}
//
// The host must lay out the memory it passes as the type says: the context
// and every region start on an 8-byte boundary (the verifier proves atomic
// accesses aligned relative to that start), a pointer field holds the
// address of its region, and each region is made addressable to the run
// with at least Size bytes (the ebpf package checks the pointer fields
// against the memory of each run, and refuses a run whose memory does not
// match, because it runs proven region accesses unchecked).
type ProgramType struct {
	// Name identifies the type in messages ("hash", "unpin", "test").
	Name string
	// Context is the memory r1 points to at entry, unless Registers says
	// otherwise.
	Context Context
	// Regions are the fixed-capacity memory areas a program reaches
	// through pointer fields of the context (or through an initial
	// register): the hook's input and output vectors.
	Regions []RegionSpec
	// Registers declares r1..r5 at entry. Registers it does not mention are
	// uninitialized, except r1, which is the context pointer unless
	// declared here.
	Registers []RegisterSpec
	// AllowedHelpers are the helper ids programs of this type may call;
	// nil allows every helper the verifier is given.
	AllowedHelpers []int32
	// Return is the range r0 must be in when the program exits.
	Return Return
}

// Context is the layout of a program type's context structure. Bytes not
// covered by a field cannot be accessed.
type Context struct {
	// Size is the context's length in bytes.
	Size int
	// Fields are the accessible fields; they must not overlap.
	Fields []Field
}

// FieldKind says what a context field holds.
type FieldKind uint8

// Field kinds.
const (
	// FieldScalar is an integer. Loads of exactly the field's offset and
	// size give an unknown scalar; stores are allowed if the field is
	// writable.
	FieldScalar FieldKind = iota
	// FieldPointer is the 8-byte address of a region; a load gives a
	// pointer to the start of the region named by Field.Region. Programs
	// can never store into a pointer field.
	FieldPointer
)

func (k FieldKind) String() string {
	if k == FieldPointer {
		return "pointer"
	}
	return "scalar"
}

// Field is one accessible field of a context. A program may load it only
// with its exact offset and size (a sign-extending load is allowed for a
// scalar field), and store into it only if it is a writable scalar.
type Field struct {
	Name     string
	Offset   int
	Size     int // 1, 2, 4 or 8
	Writable bool
	Kind     FieldKind
	// Region names the region a pointer field points to.
	Region string
	// Min and Max bound the value of a scalar field when Max > Min; by
	// default (both zero) the value is any integer of Size bytes.
	Min, Max int64
}

// RegionSpec is a fixed-capacity memory area reachable from a program.
// Programs may read any byte inside it with any width, and write it if it
// is writable.
type RegionSpec struct {
	Name     string
	Size     int
	Writable bool
}

// RegisterKind says what an entry register holds.
type RegisterKind uint8

// Register kinds.
const (
	RegisterScalar  RegisterKind = iota // an integer in [Min, Max]
	RegisterContext                     // a pointer to the context
	RegisterRegion                      // a pointer to the start of Region
)

func (k RegisterKind) String() string {
	switch k {
	case RegisterContext:
		return "context"
	case RegisterRegion:
		return "region"
	}
	return "scalar"
}

// RegisterSpec declares the value of an argument register (r1..r5) at
// entry.
type RegisterSpec struct {
	Reg  uint8 // 1 to 5
	Kind RegisterKind
	// Min and Max bound a scalar register (inclusive, signed).
	Min, Max int64
	// Region names the region a RegisterRegion register points to.
	Region string
}

// Return is the allowed range of r0 at exit. Any accepts every scalar.
// With Int32, the range applies to r0's low 32 bits read as a signed
// int32, which is what a C program declared `int prog(ctx)` returns (its
// `return -12` sets only the low half); the host then reads the result as
// int32(r0).
type Return struct {
	Any      bool
	Int32    bool
	Min, Max int64
}

// Region returns the index of the region with the given name, or -1.
func (t *ProgramType) Region(name string) int {
	for i := range t.Regions {
		if t.Regions[i].Name == name {
			return i
		}
	}
	return -1
}

// Validate checks that the type is consistent: fields inside the context,
// not overlapping, with valid sizes; pointer fields and region registers
// naming declared regions; registers r1..r5 at most once each.
func (t *ProgramType) Validate() error {
	if t.Context.Size < 0 {
		return fmt.Errorf("program type %q: negative context size", t.Name)
	}
	for i, f := range t.Context.Fields {
		switch f.Size {
		case 1, 2, 4, 8:
		default:
			return fmt.Errorf("program type %q: field %q: size %d is not 1, 2, 4 or 8", t.Name, f.Name, f.Size)
		}
		if f.Offset < 0 || f.Offset+f.Size > t.Context.Size {
			return fmt.Errorf("program type %q: field %q: bytes %d..%d are outside the %d-byte context", t.Name, f.Name, f.Offset, f.Offset+f.Size, t.Context.Size)
		}
		if f.Kind == FieldPointer {
			if f.Size != 8 || f.Writable {
				return fmt.Errorf("program type %q: pointer field %q must be 8 bytes and read-only", t.Name, f.Name)
			}
			if t.Region(f.Region) < 0 {
				return fmt.Errorf("program type %q: field %q points to undeclared region %q", t.Name, f.Name, f.Region)
			}
		}
		for _, g := range t.Context.Fields[:i] {
			if f.Offset < g.Offset+g.Size && g.Offset < f.Offset+f.Size {
				return fmt.Errorf("program type %q: fields %q and %q overlap", t.Name, g.Name, f.Name)
			}
		}
	}
	for _, r := range t.Regions {
		if r.Size < 0 || r.Size > math.MaxInt32 {
			return fmt.Errorf("program type %q: region %q: size %d out of range", t.Name, r.Name, r.Size)
		}
	}
	var seen [6]bool
	for _, r := range t.Registers {
		if r.Reg < 1 || r.Reg > 5 {
			return fmt.Errorf("program type %q: register r%d is not an argument register (r1..r5)", t.Name, r.Reg)
		}
		if seen[r.Reg] {
			return fmt.Errorf("program type %q: register r%d declared twice", t.Name, r.Reg)
		}
		seen[r.Reg] = true
		if r.Kind == RegisterRegion && t.Region(r.Region) < 0 {
			return fmt.Errorf("program type %q: register r%d points to undeclared region %q", t.Name, r.Reg, r.Region)
		}
		if r.Kind == RegisterScalar && r.Min > r.Max {
			return fmt.Errorf("program type %q: register r%d: empty range [%d, %d]", t.Name, r.Reg, r.Min, r.Max)
		}
	}
	if !t.Return.Any && t.Return.Min > t.Return.Max {
		return fmt.Errorf("program type %q: empty return range [%d, %d]", t.Name, t.Return.Min, t.Return.Max)
	}
	return nil
}

// TestProgramType is the permissive type of the bpf_conformance `.data`
// files, matching how the conformance package runs them: r1 points to a
// writable region "mem" of memLen bytes and r2 holds memLen. With no
// memory (memLen == 0) r1 is the scalar 0, as the runtime passes it. Every
// helper is allowed and any return value is accepted.
func TestProgramType(memLen int) *ProgramType {
	t := &ProgramType{Name: "test", Return: Return{Any: true}}
	n := int64(memLen)
	if memLen > 0 {
		t.Regions = []RegionSpec{{Name: "mem", Size: memLen, Writable: true}}
		t.Registers = []RegisterSpec{
			{Reg: 1, Kind: RegisterRegion, Region: "mem"},
			{Reg: 2, Kind: RegisterScalar, Min: n, Max: n},
		}
	} else {
		t.Registers = []RegisterSpec{
			{Reg: 1, Kind: RegisterScalar},
			{Reg: 2, Kind: RegisterScalar},
		}
	}
	return t
}
