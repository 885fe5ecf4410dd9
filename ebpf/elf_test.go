package ebpf_test

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

func loadTestObject(t testing.TB, name string) *ebpf.CollectionSpec {
	t.Helper()
	spec, err := ebpf.LoadCollectionSpecFromFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// objdumpFunc is one function of an object as llvm-objdump -d -r shows it
// (testdata/*.objdump, written by testdata/build.sh).
type objdumpFunc struct {
	name, section string
	start         int // slot of the first instruction in the section
	insns         []objdumpInsn
}

type objdumpInsn struct {
	slot  int    // slot in the section
	raw   []byte // 8 or 16 bytes
	text  string // llvm's assembly
	reloc string // symbol of the relocation at this instruction, if any
}

var (
	objdumpSection = regexp.MustCompile(`^Disassembly of section (.+):$`)
	objdumpLabel   = regexp.MustCompile(`^[0-9a-f]{16} <(.+)>:$`)
	objdumpInsnRe  = regexp.MustCompile(`^\s*(\d+):\t([0-9a-f]{2}(?: [0-9a-f]{2})*)\s*\t(.*)$`)
	objdumpReloc   = regexp.MustCompile(`^\s+([0-9a-f]+):\s+(R_BPF_\S+)\s+(\S+)$`)
)

// parseObjdump reads testdata/<obj>.objdump. Labels that are not function
// symbols of the object (LBB0_2 and the like) continue the current function.
func parseObjdump(t *testing.T, obj string, funcSyms map[string]bool) map[string]*objdumpFunc {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", strings.TrimSuffix(obj, ".o")+".objdump"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	funcs := make(map[string]*objdumpFunc)
	var section string
	var cur *objdumpFunc
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := objdumpSection.FindStringSubmatch(line); m != nil {
			section, cur = m[1], nil
			continue
		}
		if m := objdumpLabel.FindStringSubmatch(line); m != nil {
			if funcSyms[m[1]] {
				cur = &objdumpFunc{name: m[1], section: section, start: -1}
				funcs[m[1]] = cur
			}
			continue
		}
		if m := objdumpInsnRe.FindStringSubmatch(line); m != nil {
			if cur == nil {
				t.Fatalf("%s: instruction outside a function: %q", obj, line)
			}
			slot, _ := strconv.Atoi(m[1])
			raw, err := hex.DecodeString(strings.ReplaceAll(m[2], " ", ""))
			if err != nil {
				t.Fatal(err)
			}
			if cur.start < 0 {
				cur.start = slot
			}
			cur.insns = append(cur.insns, objdumpInsn{slot: slot, raw: raw, text: m[3]})
			continue
		}
		if m := objdumpReloc.FindStringSubmatch(line); m != nil {
			off, _ := strconv.ParseUint(m[1], 16, 64)
			last := &cur.insns[len(cur.insns)-1]
			if uint64(last.slot*8) != off {
				t.Fatalf("%s: relocation at byte %#x does not belong to slot %d", obj, off, last.slot)
			}
			last.reloc = m[3]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return funcs
}

// elfSymbol is what the tests need of a symbol, read with debug/elf
// independently of the loader.
type elfSymbol struct {
	section string
	value   uint64
	isFunc  bool
}

func readSymbols(t *testing.T, obj string) map[string]elfSymbol {
	t.Helper()
	f, err := elf.Open(filepath.Join("testdata", obj))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]elfSymbol)
	for _, s := range syms {
		if s.Section == elf.SHN_UNDEF || int(s.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.Section].Name
		name := s.Name
		if elf.ST_TYPE(s.Info) == elf.STT_SECTION {
			name = sec // llvm-objdump names section symbols after the section
		}
		out[name] = elfSymbol{section: sec, value: s.Value, isFunc: elf.ST_TYPE(s.Info) == elf.STT_FUNC}
	}
	return out
}

// functionAt returns the function of section whose first slot is slot.
func functionAt(funcs map[string]*objdumpFunc, section string, slot int) *objdumpFunc {
	for _, f := range funcs {
		if f.section == section && f.start == slot {
			return f
		}
	}
	return nil
}

// matches reports whether the translated instructions at the start of got
// are fn's instructions: same count, and byte for byte the same encoding
// except for what relocations and bpf-to-bpf calls change (the immediate,
// and the pseudo source of a map load).
func matches(got asm.Instructions, fn *objdumpFunc) bool {
	if len(got) < len(fn.insns) {
		return false
	}
	for i, want := range fn.insns {
		enc := got[i].Encode(nil)
		if len(enc) != len(want.raw) {
			return false
		}
		masked := slices.Clone(want.raw)
		local := want.raw[0] == byte(asm.OpCall) && want.raw[1]>>4 == byte(asm.PseudoCallLocal)
		if want.reloc != "" || local {
			// Keep opcode, dst and offset; the immediates are checked by
			// the callers against the expected targets.
			clear(masked[4:8])
			clear(enc[4:8])
			if len(enc) == 16 {
				clear(masked[12:16])
				clear(enc[12:16])
			}
			if want.raw[0] == byte(asm.OpLdImm64) {
				masked[1] &= 0x0f
				enc[1] &= 0x0f
			}
		}
		if !bytes.Equal(enc, masked) {
			return false
		}
	}
	return true
}

// checkAgainstObjdump verifies every program of spec against llvm-objdump's
// view of the object:
//   - the program is its entry function followed by callees, each matching
//     objdump instruction for instruction (count and encoding);
//   - each bpf-to-bpf call lands on the first instruction of the function
//     that clang's relocation (or relative call) names;
//   - each lddw with a relocation refers, through MapNames, to the map or
//     data section and offset of the relocated symbol.
//
// It returns, per program, the functions in layout order with their first
// slot, for the callers' hand-written expectations.
func checkAgainstObjdump(t *testing.T, obj string, spec *ebpf.CollectionSpec) map[string][]placedFunc {
	t.Helper()
	syms := readSymbols(t, obj)
	funcSyms := make(map[string]bool)
	for name, s := range syms {
		if s.isFunc {
			funcSyms[name] = true
		}
	}
	funcs := parseObjdump(t, obj, funcSyms)
	layouts := make(map[string][]placedFunc)
	for name, prog := range spec.Programs {
		entry := funcs[name]
		if entry == nil {
			t.Fatalf("%s: program %q is not a function in the objdump", obj, name)
		}
		if prog.Section != entry.section {
			t.Errorf("%s: program %q: Section = %q, want %q", obj, name, prog.Section, entry.section)
		}
		insns := prog.Instructions
		slots := insns.SlotIndex()
		slotOf := func(i int) int {
			if i == len(insns) {
				return insns.Slots()
			}
			return slots[i]
		}

		// Lay out the program: entry first, then whichever function of
		// the object matches at each following position.
		var layout []placedFunc
		for i := 0; i < len(insns); {
			var fn *objdumpFunc
			if i == 0 {
				if !matches(insns, entry) {
					t.Fatalf("%s: program %q does not start with the instructions of function %q:\n%v", obj, name, name, insns)
				}
				fn = entry
			} else {
				for _, cand := range funcs {
					if cand != entry && matches(insns[i:], cand) {
						if fn != nil {
							t.Fatalf("%s: program %q: functions %q and %q both match at instruction %d", obj, name, fn.name, cand.name, i)
						}
						fn = cand
					}
				}
				if fn == nil {
					t.Fatalf("%s: program %q: no function of the object matches at instruction %d:\n%v", obj, name, i, insns[i:])
				}
			}
			layout = append(layout, placedFunc{fn: fn, index: i, slot: slotOf(i)})
			i += len(fn.insns)
		}
		layouts[name] = layout
		startSlot := make(map[string]int)
		for _, p := range layout {
			startSlot[p.fn.name] = p.slot
		}

		for _, p := range layout {
			for k, want := range p.fn.insns {
				i := p.index + k
				ins := insns[i]
				pc := slots[i]
				origImm := int64(int32(binary.LittleEndian.Uint32(want.raw[4:8])))
				switch {
				case ins.IsLocalCall():
					var callee *objdumpFunc
					switch s, ok := syms[want.reloc]; {
					case want.reloc == "":
						// A relative call inside the section.
						callee = functionAt(funcs, p.fn.section, want.slot+1+int(origImm))
					case ok && s.isFunc:
						callee = funcs[want.reloc]
					case ok:
						// Section-relative: imm+1 is the callee's slot.
						callee = functionAt(funcs, s.section, int(s.value/8)+int(origImm)+1)
					}
					if callee == nil {
						t.Fatalf("%s: %q: call at slot %d (%s): cannot tell the callee from objdump", obj, name, pc, want.text)
					}
					target, ok := startSlot[callee.name]
					if !ok {
						t.Errorf("%s: %q: callee %q of the call at slot %d is not in the program", obj, name, callee.name, pc)
						continue
					}
					if got := pc + 1 + int(ins.JumpOffset()); got != target {
						t.Errorf("%s: %q: call at slot %d lands on slot %d, want %d (first instruction of %q)", obj, name, pc, got, target, callee.name)
					}
				case want.reloc != "" && ins.IsWide():
					s, ok := syms[want.reloc]
					if !ok {
						t.Fatalf("%s: relocation symbol %q not in the symbol table", obj, want.reloc)
					}
					idx := int(uint32(ins.Constant))
					if idx >= len(prog.MapNames) {
						t.Errorf("%s: %q: slot %d: map index %d outside MapNames %v", obj, name, pc, idx, prog.MapNames)
						continue
					}
					got := prog.MapNames[idx]
					switch s.section {
					case ".maps", "maps":
						if ins.Src != asm.PseudoMapFD || ins.Constant>>32 != 0 || got != want.reloc {
							t.Errorf("%s: %q: slot %d (%s): src %d map %q constant %#x, want map load of %q", obj, name, pc, want.text, ins.Src, got, ins.Constant, want.reloc)
						}
					default:
						off := s.value + uint64(origImm)
						if ins.Src != asm.PseudoMapValue || got != s.section || uint64(ins.Constant)>>32 != off {
							t.Errorf("%s: %q: slot %d (%s): src %d map %q offset %d, want value load of %s+%d", obj, name, pc, want.text, ins.Src, got, uint64(ins.Constant)>>32, s.section, off)
						}
					}
					if _, ok := spec.Maps[got]; !ok {
						t.Errorf("%s: %q: MapNames[%d] = %q is not a map of the collection", obj, name, idx, got)
					}
				case want.reloc != "":
					t.Errorf("%s: %q: slot %d (%s): unexpected relocation to %q", obj, name, pc, want.text, want.reloc)
				}
			}
		}
	}
	return layouts
}

type placedFunc struct {
	fn    *objdumpFunc
	index int // instruction index in the program
	slot  int // slot in the program
}

func layoutString(l []placedFunc) string {
	var parts []string
	for _, p := range l {
		parts = append(parts, fmt.Sprintf("%s@%d(%d insns)", p.fn.name, p.slot, len(p.fn.insns)))
	}
	return strings.Join(parts, " ")
}

func TestLoadCalls(t *testing.T) {
	spec := loadTestObject(t, "calls.o")
	if got := elfSortedNames(spec.Programs); !slices.Equal(got, []string{"prog_chain", "prog_leaf", "prog_mixed"}) {
		t.Fatalf("programs = %v", got)
	}
	if len(spec.Maps) != 0 {
		t.Errorf("maps = %v, want none", elfSortedNames(spec.Maps))
	}
	layouts := checkAgainstObjdump(t, "calls.o", spec)
	// Instruction counts of each function as llvm-objdump -d shows them
	// (testdata/calls.objdump), and where cilium's linker puts callees.
	want := map[string]string{
		"prog_chain": "prog_chain@0(4 insns) add_twice@4(5 insns) add_one@9(3 insns)",
		"prog_mixed": "prog_mixed@0(7 insns) add_one@7(3 insns) mul_add@10(4 insns)",
		"prog_leaf":  "prog_leaf@0(4 insns)",
	}
	for name, w := range want {
		if got := layoutString(layouts[name]); got != w {
			t.Errorf("%s layout:\n got %s\nwant %s", name, got, w)
		}
	}
	// Spelled out for prog_chain: its call at slot 1 enters add_twice at
	// slot 4, whose two calls (slots 4 and 7) enter add_one at slot 9.
	chain := spec.Programs["prog_chain"].Instructions
	for _, c := range []struct{ idx, imm int }{{1, 2}, {4, 4}, {7, 1}} {
		ins := chain[c.idx]
		if !ins.IsLocalCall() || ins.Imm() != int32(c.imm) {
			t.Errorf("prog_chain instruction %d = %+v, want a local call with imm %d", c.idx, ins, c.imm)
		}
	}
	if n := len(spec.Programs["prog_leaf"].Instructions); n != 4 {
		t.Errorf("prog_leaf has %d instructions, want 4", n)
	}
}

func TestLoadMaps(t *testing.T) {
	spec := loadTestObject(t, "maps.o")
	want := map[string]maps.Spec{
		"by_id":   {Name: "by_id", Type: maps.Hash, KeySize: 4, ValueSize: 16, MaxEntries: 128},
		"slots":   {Name: "slots", Type: maps.Array, KeySize: 4, ValueSize: 8, MaxEntries: 16},
		"recent":  {Name: "recent", Type: maps.LRUHash, KeySize: 8, ValueSize: 4, MaxEntries: 1000},
		"scratch": {Name: "scratch", Type: maps.PerCPUArray, KeySize: 4, ValueSize: 24, MaxEntries: 4},
		"legacy":  {Name: "legacy", Type: maps.Hash, KeySize: 4, ValueSize: 8, MaxEntries: 64},
	}
	if got := elfSortedNames(spec.Maps); !slices.Equal(got, elfSortedNames(want)) {
		t.Fatalf("maps = %v, want %v", got, elfSortedNames(want))
	}
	for name, w := range want {
		got := spec.Maps[name]
		if got.Name != w.Name || got.Type != w.Type || got.KeySize != w.KeySize || got.ValueSize != w.ValueSize ||
			got.MaxEntries != w.MaxEntries || got.ReadOnlyProg || len(got.Contents) != 0 {
			t.Errorf("map %s = %+v, want %+v", name, *got, w)
		}
	}
	checkAgainstObjdump(t, "maps.o", spec)
	for prog, names := range map[string][]string{
		"count":      {"by_id", "slots", "recent"},
		"use_legacy": {"legacy", "scratch"},
	} {
		if got := spec.Programs[prog].MapNames; !slices.Equal(got, names) {
			t.Errorf("%s MapNames = %v, want %v (order of first use)", prog, got, names)
		}
	}
	// The first instruction that loads a map in count (objdump slot 4)
	// loads by_id, the map at index 0.
	ins := spec.Programs["count"].Instructions[4]
	if ins.OpCode != asm.OpLdImm64 || ins.Src != asm.PseudoMapFD || ins.Dst != asm.R1 || ins.Constant != 0 {
		t.Errorf("count instruction 4 = %+v, want lddw r1, map 0 (by_id)", ins)
	}
}

func TestLoadGlobals(t *testing.T) {
	spec := loadTestObject(t, "globals.o")
	le64 := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	want := map[string]struct {
		readOnly bool
		value    []byte
	}{
		// hits, pad_bss[3]
		".bss": {false, make([]byte, 32)},
		// seed, limits[4], private_total
		".data": {false, cat(le64(0x1122334455667788), le32(10), le32(20), le32(30), le32(40), le64(42))},
		// scale (padded), table[3]
		".rodata": {true, cat(le32(3), le32(0), le64(5), le64(6), le64(7))},
	}
	if got := elfSortedNames(spec.Maps); !slices.Equal(got, elfSortedNames(want)) {
		t.Fatalf("maps = %v, want %v", got, elfSortedNames(want))
	}
	for name, w := range want {
		m := spec.Maps[name]
		if m.Type != maps.Array || m.KeySize != 4 || m.ValueSize != uint32(len(w.value)) || m.MaxEntries != 1 || m.ReadOnlyProg != w.readOnly {
			t.Errorf("map %s = %s key %d value %d entries %d read-only %v, want array 4/%d/1 read-only %v",
				name, m.Type, m.KeySize, m.ValueSize, m.MaxEntries, m.ReadOnlyProg, len(w.value), w.readOnly)
		}
		if len(m.Contents) != 1 || !bytes.Equal(m.Contents[0].Key, []byte{0, 0, 0, 0}) || !bytes.Equal(m.Contents[0].Value, w.value) {
			t.Errorf("map %s contents = %v, want key 0 → % x", name, m.Contents, w.value)
		}
	}
	checkAgainstObjdump(t, "globals.o", spec)

	// Spelled out: each direct load, by instruction index, and the
	// section and offset it must address.
	prog := spec.Programs["globals"]
	for _, c := range []struct {
		idx     int
		section string
		offset  uint32
		what    string
	}{
		{1, ".bss", 0, "hits"},
		{4, ".bss", 8, "pad_bss"},
		{9, ".data", 8, "limits"},
		{13, ".data", 24, "private_total (static: section-relative)"},
		{17, ".rodata", 0, "scale"},
		{19, ".rodata", 8, "table"},
		{22, ".data", 0, "seed"},
	} {
		ins := prog.Instructions[c.idx]
		name := "?"
		if i := int(uint32(ins.Constant)); i < len(prog.MapNames) {
			name = prog.MapNames[i]
		}
		if ins.OpCode != asm.OpLdImm64 || ins.Src != asm.PseudoMapValue || name != c.section || uint32(uint64(ins.Constant)>>32) != c.offset {
			t.Errorf("instruction %d (%s) = %+v (map %q), want value load of %s+%d", c.idx, c.what, ins, name, c.section, c.offset)
		}
	}
}

func TestLoadRefused(t *testing.T) {
	for _, c := range []struct {
		obj  string
		want []string
	}{
		{"kfunc.o", []string{`program "uses_kfunc"`, `kernel function "bpf_rcu_read_lock" (kfunc)`}},
		{"core.o", []string{`program "uses_core"`, "CO-RE relocation", "needs kernel BTF"}},
		{"callback.o", []string{`program "uses_callback"`, `address of function "step" (callback)`}},
		{"kconfig.o", []string{`program "uses_kconfig"`, "__kconfig"}},
		{"ringbuf.o", []string{`map "events"`, "map type RingBuf (27)"}},
		{"progarray.o", []string{`map "jumps"`, "map type ProgramArray (3)"}},
		{"mapinmap.o", []string{`map "outer"`, "map of maps"}},
		{"pinned.o", []string{`map "shared"`, "pinning (PinByName)"}},
		{"mapflags.o", []string{`map "sink"`, "map flags 0x100"}},
		{"bigendian.o", []string{"big-endian object"}},
	} {
		t.Run(c.obj, func(t *testing.T) {
			path := filepath.Join("testdata", c.obj)
			_, err := ebpf.LoadCollectionSpecFromFile(path)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			if !errors.Is(err, ebpf.ErrUnsupportedELF) || !errors.Is(err, ebpf.ErrUnsupported) {
				t.Errorf("error %q does not wrap ErrUnsupportedELF and ErrUnsupported", err)
			}
			for _, w := range append([]string{"load ELF " + path + ": "}, c.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadBroken(t *testing.T) {
	for _, c := range []struct {
		file, want string
	}{
		{"broken-empty.o", "parse ELF: truncated or corrupt object: EOF"},
		{"broken-truncated.o", "parse ELF: truncated or corrupt object"},
		{"broken-garbage.o", "parse ELF: bad magic number"},
		{"broken-shoff.o", "parse ELF: truncated or corrupt object"},
		{"broken-shstrndx.o", "parse ELF: invalid ELF shstrndx"},
		{"broken-section-offset.o", "parse ELF: load programs: section bpfdb/chain: no instructions found for symbol prog_chain"},
		{"broken-x86.o", "parse ELF: unexpected machine type for BPF ELF: EM_X86_64"},
	} {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", c.file)
			_, err := ebpf.LoadCollectionSpecFromFile(path)
			if err == nil {
				t.Fatal("loaded, want an error")
			}
			if want := "load ELF " + path + ": " + c.want; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			// The same through the io.ReaderAt entry point, unnamed.
			b, rerr := os.ReadFile(path)
			if rerr != nil {
				t.Fatal(rerr)
			}
			_, err = ebpf.LoadCollectionSpec(bytes.NewReader(b))
			if err == nil || !strings.HasPrefix(err.Error(), "load ELF: "+strings.SplitN(c.want, ":", 2)[0]) {
				t.Errorf("LoadCollectionSpec error = %v, want prefix %q", err, "load ELF: parse ELF")
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := ebpf.LoadCollectionSpecFromFile(filepath.Join("testdata", "no-such.o"))
	if !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "load ELF testdata/no-such.o: ") {
		t.Errorf("error = %v, want a wrapped not-exist error naming the path", err)
	}
}

func TestLoadNamesOpenFile(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "ringbuf.o"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = ebpf.LoadCollectionSpec(f)
	if want := `load ELF testdata/ringbuf.o: map "events": `; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want prefix %q (the file's name)", err, want)
	}
}

// nthReadPanics serves an object but panics on its nth ReadAt, standing in
// for a parser that panics part way through.
type nthReadPanics struct {
	r        *bytes.Reader
	n, reads int
}

func (p *nthReadPanics) ReadAt(b []byte, off int64) (int, error) {
	p.reads++
	if p.reads == p.n {
		panic("boom")
	}
	return p.r.ReadAt(b, off)
}

// TestLoadRecoversPanic makes every read of calls.o in turn panic. cilium
// recovers some of these itself (in debug/elf calls); the rest must be
// recovered at the loader's boundary and become "parse ELF: panic" errors.
func TestLoadRecoversPanic(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "calls.o"))
	if err != nil {
		t.Fatal(err)
	}
	ours := 0
	for n := 1; ; n++ {
		p := &nthReadPanics{r: bytes.NewReader(b), n: n}
		spec, err := ebpf.LoadCollectionSpec(p)
		if p.reads < n {
			// The loader needed fewer than n reads: it succeeded.
			if err != nil {
				t.Fatalf("no read panicked, but: %v", err)
			}
			break
		}
		if spec != nil || err == nil {
			t.Fatalf("read %d panicked, yet LoadCollectionSpec = %v, %v", n, spec, err)
		}
		if !strings.HasPrefix(err.Error(), "load ELF: parse ELF: ") || !strings.Contains(err.Error(), "panic") {
			t.Errorf("read %d panicked: error %q, want a parse ELF error that names the panic", n, err)
		}
		if err.Error() == "load ELF: parse ELF: panic: boom" {
			ours++
		}
	}
	if ours == 0 {
		t.Error("no panic reached the loader's own recovery; the test no longer tests it")
	}
}

// FuzzLoadCollectionSpec feeds arbitrary bytes to the loader, seeded with
// every object in testdata/. It must never panic; a panic the loader
// recovered from in its own translation (a "BUG:" error) fails too, and so
// does a spec that breaks the documented invariants.
func FuzzLoadCollectionSpec(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.o"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		spec, err := ebpf.LoadCollectionSpec(bytes.NewReader(b))
		if err != nil {
			if strings.Contains(err.Error(), "BUG:") {
				t.Fatal(err)
			}
			return
		}
		checkSpecInvariants(t, spec)
	})
}

// checkSpecInvariants checks what every loaded spec promises: programs
// re-encode to bytecode that decodes strictly, map loads index MapNames,
// every name in MapNames is a map, and local calls land inside the program.
func checkSpecInvariants(t *testing.T, spec *ebpf.CollectionSpec) {
	t.Helper()
	for name, m := range spec.Maps {
		if m.Name != name {
			t.Errorf("map %q has Name %q", name, m.Name)
		}
		for i, e := range m.Contents {
			if len(e.Key) != int(m.KeySize) || len(e.Value) != int(m.ValueSize) {
				t.Errorf("map %q entry %d: %d/%d bytes, want %d/%d", name, i, len(e.Key), len(e.Value), m.KeySize, m.ValueSize)
			}
		}
	}
	for name, p := range spec.Programs {
		if _, err := asm.Decode(p.Instructions.Encode()); err != nil {
			t.Errorf("program %q does not decode: %v", name, err)
		}
		for _, mn := range p.MapNames {
			if _, ok := spec.Maps[mn]; !ok {
				t.Errorf("program %q: MapNames has %q, not a map", name, mn)
			}
		}
		n := p.Instructions.Slots()
		for i, pc := range p.Instructions.SlotIndex() {
			ins := p.Instructions[i]
			if ins.IsWide() && ins.Src != asm.PseudoNone && int(uint32(ins.Constant)) >= len(p.MapNames) {
				t.Errorf("program %q slot %d: map index %d outside MapNames", name, pc, uint32(ins.Constant))
			}
			if ins.IsLocalCall() {
				if tgt := pc + 1 + int(ins.JumpOffset()); tgt < 0 || tgt >= n {
					t.Errorf("program %q slot %d: call target %d outside the program", name, pc, tgt)
				}
			}
		}
	}
}

func TestLoadedSpecInvariants(t *testing.T) {
	for _, obj := range []string{"calls.o", "maps.o", "globals.o"} {
		checkSpecInvariants(t, loadTestObject(t, obj))
	}
}

func elfSortedNames[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
