package ebpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	cebpf "github.com/cilium/ebpf"
	casm "github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// ErrUnsupportedELF is wrapped by every error that refuses an ELF object
// because it uses something bpfdb's runtime does not provide: kernel
// functions (kfuncs), CO-RE relocations, kernel symbols, callbacks, map
// types other than hash, array, LRU hash and per-CPU array, maps of maps,
// pinning, big-endian objects. It also matches ErrUnsupported, the
// runtime's one sentinel for what it deliberately does not implement.
var ErrUnsupportedELF error = unsupportedELF{}

type unsupportedELF struct{}

func (unsupportedELF) Error() string { return "not supported by bpfdb" }
func (unsupportedELF) Unwrap() error { return ErrUnsupported }

// Map flags, numbered as Linux numbers them.
const (
	mapFlagNoPrealloc  = 1 << 0  // BPF_F_NO_PREALLOC: allocation strategy only
	mapFlagNoCommonLRU = 1 << 1  // BPF_F_NO_COMMON_LRU: per-CPU LRU lists, an eviction detail
	mapFlagNUMANode    = 1 << 2  // BPF_F_NUMA_NODE: placement only
	mapFlagRdOnly      = 1 << 3  // BPF_F_RDONLY: read-only to user space
	mapFlagWrOnly      = 1 << 4  // BPF_F_WRONLY: write-only to user space
	mapFlagZeroSeed    = 1 << 6  // BPF_F_ZERO_SEED: hash seed, no visible effect
	mapFlagRdOnlyProg  = 1 << 7  // BPF_F_RDONLY_PROG: read-only to programs
	mapFlagWrOnlyProg  = 1 << 8  // BPF_F_WRONLY_PROG: write-only to programs
	mapFlagMmapable    = 1 << 10 // BPF_F_MMAPABLE: arrays are always addressable here

	// mapFlagsAccepted are the flags the loader accepts: those that do not
	// change what a program or Go code observes, and RDONLY_PROG, which
	// becomes maps.Spec.ReadOnlyProg.
	mapFlagsAccepted = mapFlagNoPrealloc | mapFlagNoCommonLRU | mapFlagNUMANode |
		mapFlagZeroSeed | mapFlagRdOnlyProg | mapFlagMmapable
)

// LoadCollectionSpecFromFile reads the ELF object at path. See
// LoadCollectionSpec.
func LoadCollectionSpecFromFile(path string) (*CollectionSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load ELF %s: %w", path, err)
	}
	defer f.Close()
	return loadELF(path, f)
}

// LoadCollectionSpec reads an ELF object produced by `clang -O2 -target bpf`
// (little-endian, with or without BTF) and returns its programs and maps.
//
// Parsing is done by github.com/cilium/ebpf's user-space ELF and BTF reader;
// nothing touches the kernel. The result is translated to bpfdb's own types:
//
//   - Every program found in a non-.text section becomes a ProgramSpec named
//     after its symbol. The bpf-to-bpf functions it calls, directly or not,
//     are appended after it, and each local call's immediate is the slot
//     offset of the callee's first instruction from the call's next slot.
//   - A lddw of a map becomes src PseudoMapFD with the map's index in the
//     program's MapNames; a lddw of a global in .data, .rodata or .bss
//     becomes src PseudoMapValue with constant index | offset<<32, where the
//     map is named after the section.
//   - BTF-defined (SEC(".maps")) and legacy (SEC("maps")) maps of type hash,
//     array, LRU hash and per-CPU array become maps.Spec values keyed by
//     their symbol name; each data section becomes a one-entry array keyed
//     by the section name whose single value (key 0, a little-endian u32)
//     holds the section's bytes, read-only to programs for .rodata.
//
// Objects that need the kernel or features the runtime lacks are refused
// with an error that wraps ErrUnsupportedELF and names the program or map.
// Malformed input gives an error, never a panic. The reader name (the path,
// or the Name of an *os.File) is the first element of every error.
func LoadCollectionSpec(r io.ReaderAt) (*CollectionSpec, error) {
	name := ""
	if n, ok := r.(interface{ Name() string }); ok {
		name = n.Name()
	}
	return loadELF(name, r)
}

// loadELF parses and translates one object. It is the API boundary: a panic
// inside the ELF parser (or a bug in the translation) becomes an error.
func loadELF(name string, r io.ReaderAt) (spec *CollectionSpec, err error) {
	prefix := "load ELF"
	if name != "" {
		prefix += " " + name
	}
	stage := "parse ELF"
	defer func() {
		if p := recover(); p != nil {
			spec, err = nil, fmt.Errorf("%s: %s: panic: %v", prefix, stage, p)
		}
	}()
	cs, err := cebpf.LoadCollectionSpecFromReader(r)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		// debug/elf reports a header or section that points past the end
		// of the input as a bare EOF.
		return nil, fmt.Errorf("%s: %s: truncated or corrupt object: %w", prefix, stage, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", prefix, stage, err)
	}
	stage = "BUG: translate"
	spec, err = translateCollection(cs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", prefix, err)
	}
	return spec, nil
}

// translateCollection converts cilium's collection spec. Maps and programs
// are visited in name order so that the first error is deterministic.
func translateCollection(cs *cebpf.CollectionSpec) (*CollectionSpec, error) {
	if cs.ByteOrder != nil && cs.ByteOrder != binary.LittleEndian {
		return nil, fmt.Errorf("big-endian object: %w", ErrUnsupportedELF)
	}
	out := &CollectionSpec{
		Maps:     make(map[string]*maps.Spec, len(cs.Maps)),
		Programs: make(map[string]*ProgramSpec, len(cs.Programs)),
	}
	for _, name := range sortedKeys(cs.Maps) {
		m, err := translateMap(name, cs.Maps[name])
		if err != nil {
			return nil, fmt.Errorf("map %q: %w", name, err)
		}
		out.Maps[name] = m
	}
	for _, name := range sortedKeys(cs.Programs) {
		p, err := translateProgram(cs.Programs[name], out.Maps)
		if err != nil {
			return nil, fmt.Errorf("program %q: %w", name, err)
		}
		out.Programs[name] = p
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// translateMap converts one map spec. name is the key under which cilium
// lists it (the symbol, or the section name of a data section), which is
// also the name programs refer to it by.
func translateMap(name string, ms *cebpf.MapSpec) (*maps.Spec, error) {
	var typ maps.Type
	switch ms.Type {
	case cebpf.Hash:
		typ = maps.Hash
	case cebpf.Array:
		typ = maps.Array
	case cebpf.LRUHash:
		typ = maps.LRUHash
	case cebpf.PerCPUArray:
		typ = maps.PerCPUArray
	case cebpf.ArrayOfMaps, cebpf.HashOfMaps:
		return nil, fmt.Errorf("map of maps (type %s): %w", ms.Type, ErrUnsupportedELF)
	default:
		return nil, fmt.Errorf("map type %s (%d): %w", ms.Type, uint32(ms.Type), ErrUnsupportedELF)
	}
	if ms.InnerMap != nil {
		return nil, fmt.Errorf("map of maps (inner map %q): %w", ms.InnerMap.Name, ErrUnsupportedELF)
	}
	if f := ms.Flags &^ mapFlagsAccepted; f != 0 {
		return nil, fmt.Errorf("map flags %#x: %w", f, ErrUnsupportedELF)
	}
	if ms.Pinning != cebpf.PinNone {
		return nil, fmt.Errorf("pinning (%s): %w", ms.Pinning, ErrUnsupportedELF)
	}
	if ms.MapExtra != 0 {
		return nil, fmt.Errorf("map_extra %#x: %w", ms.MapExtra, ErrUnsupportedELF)
	}
	if ms.Extra != nil {
		// The tail of a legacy definition beyond struct bpf_map_def
		// (iproute2's id, pinning and inner map fields): only zeros mean
		// nothing.
		extra := make([]byte, ms.Extra.Size())
		n, _ := ms.Extra.ReadAt(extra, 0)
		if slices.ContainsFunc(extra[:n], func(b byte) bool { return b != 0 }) {
			return nil, fmt.Errorf("legacy map definition has %d extra non-zero bytes: %w", n, ErrUnsupportedELF)
		}
	}
	spec := &maps.Spec{
		Name:         name,
		Type:         typ,
		KeySize:      ms.KeySize,
		ValueSize:    ms.ValueSize,
		MaxEntries:   ms.MaxEntries,
		ReadOnlyProg: ms.Flags&mapFlagRdOnlyProg != 0 || strings.HasPrefix(name, ".rodata"),
	}
	for i, kv := range ms.Contents {
		k, err := rawBytes(kv.Key, ms.KeySize)
		if err != nil {
			return nil, fmt.Errorf("contents entry %d: key: %w", i, err)
		}
		v, err := rawBytes(kv.Value, ms.ValueSize)
		if err != nil {
			return nil, fmt.Errorf("contents entry %d: value: %w", i, err)
		}
		spec.Contents = append(spec.Contents, maps.Entry{Key: k, Value: v})
	}
	return spec, nil
}

// rawBytes returns the little-endian bytes of a key or value of map
// contents, which must be size bytes long. cilium gives data section
// contents as uint32(0) → []byte; fixed-size integers and structs are
// encoded as they would be in memory. Strings (names of programs or maps
// that a program array or map of maps would hold) are refused.
func rawBytes(v any, size uint32) ([]byte, error) {
	var b []byte
	switch v := v.(type) {
	case []byte:
		b = bytes.Clone(v)
	case string:
		return nil, fmt.Errorf("reference to object %q: %w", v, ErrUnsupportedELF)
	default:
		var err error
		if b, err = binary.Append(nil, binary.LittleEndian, v); err != nil {
			return nil, fmt.Errorf("%T is not raw bytes: %w", v, err)
		}
	}
	if uint64(len(b)) != uint64(size) {
		return nil, fmt.Errorf("%d bytes, want %d", len(b), size)
	}
	return b, nil
}

// translateProgram converts one program: cilium has already appended every
// function it calls (first instruction tagged with the function's symbol)
// and marked calls and map loads with symbolic references. This resolves
// calls to slot offsets and map references to indexes into MapNames, then
// encodes cilium's instructions and decodes them strictly as ours.
func translateProgram(ps *cebpf.ProgramSpec, mapSpecs map[string]*maps.Spec) (*ProgramSpec, error) {
	insns := ps.Instructions
	if len(insns) == 0 {
		return nil, errors.New("no instructions")
	}

	// Slot of the first instruction of every function.
	funcSlots := make(map[string]int)
	slot := 0
	for i := range insns {
		if sym := insns[i].Symbol(); sym != "" {
			if _, dup := funcSlots[sym]; dup {
				return nil, fmt.Errorf("function %q appears twice", sym)
			}
			funcSlots[sym] = slot
		}
		slot += int(insns[i].Width())
	}

	out := &ProgramSpec{Name: ps.Name, Section: ps.SectionName}
	mapIndex := make(map[string]int)
	var buf bytes.Buffer
	buf.Grow(slot * asm.SlotSize)
	fn := ps.Name
	slot = 0
	for i := range insns {
		ins := insns[i] // a copy: cilium's spec stays untouched
		if sym := ins.Symbol(); sym != "" {
			fn = sym
		}
		if err := resolveReferences(&ins, slot, funcSlots, mapSpecs, mapIndex, out); err != nil {
			return nil, fmt.Errorf("%s: %w", where(ps.Name, fn, slot, insns[i]), err)
		}
		if _, err := ins.Marshal(&buf, binary.LittleEndian); err != nil {
			return nil, fmt.Errorf("%s: encode: %w", where(ps.Name, fn, slot, insns[i]), err)
		}
		slot += int(ins.Width())
	}

	decoded, err := asm.Decode(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if len(decoded) != len(insns) {
		return nil, fmt.Errorf("BUG: %d instructions decoded from %d", len(decoded), len(insns))
	}
	out.Instructions = decoded
	return out, nil
}

// where names an instruction for an error: its slot in the program, the
// function it belongs to if that is not the program's entry function, and
// cilium's rendering of it (which shows the symbol it refers to).
func where(prog, fn string, slot int, ins casm.Instruction) string {
	if fn != prog {
		return fmt.Sprintf("function %q: slot %d (%v)", fn, slot, ins)
	}
	return fmt.Sprintf("slot %d (%v)", slot, ins)
}

// resolveReferences rewrites one instruction of a program whose slot is
// slot: a bpf-to-bpf call gets its relative target, a map or data load its
// map index; anything that needs the kernel is refused.
func resolveReferences(ins *casm.Instruction, slot int, funcSlots map[string]int,
	mapSpecs map[string]*maps.Spec, mapIndex map[string]int, prog *ProgramSpec) error {
	if relo := btf.CORERelocationMetadata(ins); relo != nil {
		return fmt.Errorf("CO-RE relocation %v needs kernel BTF: %w", relo, ErrUnsupportedELF)
	}
	ref := ins.Reference()
	switch {
	case ins.IsKfuncCall():
		return fmt.Errorf("call to kernel function %q (kfunc): %w", ref, ErrUnsupportedELF)

	case ins.IsLoadOfFunctionPointer():
		return fmt.Errorf("load of the address of function %q (callback): %w", ref, ErrUnsupportedELF)

	case ins.IsFunctionCall():
		if ref == "" {
			return errors.New("bpf-to-bpf call has no relocation")
		}
		target, ok := funcSlots[ref]
		if !ok {
			return fmt.Errorf("call to function %q, which has no code in the object: %w", ref, ErrUnsupportedELF)
		}
		ins.Constant = int64(target - slot - 1)
		return nil

	case ins.OpCode.IsDWordLoad():
		switch ins.Src {
		case casm.PseudoMapFD, casm.PseudoMapValue:
		case casm.R0:
			if ref != "" {
				return fmt.Errorf("load of the address of kernel symbol %q (ksym): %w", ref, ErrUnsupportedELF)
			}
			return nil
		default:
			return fmt.Errorf("lddw with pseudo source %d: %w", ins.Src, ErrUnsupportedELF)
		}
		if ref == "" {
			// cilium leaves the reference empty on loads of extern
			// __kconfig variables, which live in a map it makes up.
			return fmt.Errorf("map load without a relocation to a map of the object (an extern __kconfig variable?): %w", ErrUnsupportedELF)
		}
		if _, ok := mapSpecs[ref]; !ok {
			return fmt.Errorf("map load of %q, which is not a map or data section of the object (a __kconfig extern?): %w", ref, ErrUnsupportedELF)
		}
		idx, ok := mapIndex[ref]
		if !ok {
			idx = len(prog.MapNames)
			mapIndex[ref] = idx
			prog.MapNames = append(prog.MapNames, ref)
		}
		if ins.Src == casm.PseudoMapFD {
			ins.Constant = int64(idx)
		} else {
			off := uint64(ins.Constant) >> 32
			ins.Constant = int64(off<<32 | uint64(idx))
		}
		return nil
	}
	if ref != "" {
		return fmt.Errorf("unexpected reference to %q: %w", ref, ErrUnsupportedELF)
	}
	return nil
}
