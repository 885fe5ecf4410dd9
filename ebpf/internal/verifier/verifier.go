package verifier

import (
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// Default limits.
const (
	DefaultMaxInstructions = 65536     // slots
	DefaultMaxSteps        = 1_000_000 // instructions processed
	DefaultMaxStates       = 65536     // states stored for pruning
)

// maxOffset bounds pointer offsets: arithmetic that could move a pointer
// further than this from its object is rejected, so offsets never wrap.
const maxOffset = 1 << 29

// Config is what a program is verified against.
type Config struct {
	// Type is the program type; nil means core.TestProgramType(0).
	Type *core.ProgramType
	// Maps is the program's map table: map pseudo-loads index it.
	Maps []*maps.Spec
	// Helpers are the prototypes of the helpers that exist, by id. The
	// type's AllowedHelpers narrows them.
	Helpers map[int32]core.Prototype
	// MaxInstructions bounds the program's length in slots; 0 means
	// DefaultMaxInstructions.
	MaxInstructions int
	// MaxSteps bounds the number of instructions the exploration may
	// process over all paths; 0 means DefaultMaxSteps.
	MaxSteps int
	// MaxStates bounds the number of states stored for pruning; 0 means
	// DefaultMaxStates.
	MaxStates int
	// UncheckedExits are slots of exit instructions of the entry function
	// that end a path without checking r0 (initialized, a scalar, inside
	// the return range). It exists for harnesses that run other
	// verifiers' test cases, whose code may simply end (PREVAIL's implicit
	// exit); programs that run never use it.
	UncheckedExits map[int]bool
	// Entry overrides the values of registers at entry, after the program
	// type's: for harnesses whose cases start from states no program type
	// declares (a number in r0, a stack pointer in r3, ...).
	Entry []EntryRegister
	// NoWiden explores loops iteration by iteration, as Linux does, with
	// no widening and no pruning against a state still being explored:
	// every accepted loop is then proven to end, at the cost of one
	// exploration per iteration. It is for programs run without an
	// instruction budget, the only bound on a widened loop.
	NoWiden bool
}

// EntryKind is what an EntryRegister holds.
type EntryKind uint8

// Entry register kinds.
const (
	EntryUninit    EntryKind = iota // not initialized
	EntryScalar                     // a number in [Min, Max]
	EntryContext                    // the context, at an offset in [Min, Max]
	EntryStack                      // the entry frame's r10 plus an offset in [Min, Max]
	EntryRegion                     // region Index of the type, at an offset in [Min, Max]
	EntryMapValue                   // a value of map Index, at an offset in [Min, Max]
	EntryMapHandle                  // map Index itself
)

// EntryRegister declares one register's value at entry. Offsets and
// scalars are signed ranges.
type EntryRegister struct {
	Reg      asm.Register // r0..r9
	Kind     EntryKind
	Min, Max int64
	Index    int // region or map index
}

// AccessKinds is a set of the kinds of memory one instruction was proven to
// access (bit 1<<core.RegionKind).
type AccessKinds uint8

// Has reports whether k is in the set.
func (a AccessKinds) Has(k core.RegionKind) bool { return a&(1<<k) != 0 }

// Access is what the verifier proved about one instruction's memory access.
type Access struct {
	// Proven is set on every load, store and atomic instruction of an
	// accepted program: on every path, the access was proven inside its
	// object, with the right width, permission and (for atomics) alignment;
	// an access on no feasible path (dead after branch refinement) never
	// runs. A backend may then skip its run-time check.
	Proven bool
	// Kinds are the kinds of memory the access touches over all paths.
	Kinds AccessKinds
}

// Result describes an accepted program and the work it took.
type Result struct {
	// Processed is the number of instructions processed over all paths.
	Processed int
	// States is the number of states stored for pruning.
	States int
	// PeakStates is the largest number of stored states kept at once
	// (older finished states are dropped at busy prune points).
	PeakStates int
	// PeakPending is the largest number of paths waiting to be explored.
	PeakPending int
	// Pruned is the number of paths cut short because a stored state
	// covered them.
	Pruned int
	// Widened is the number of times a state arriving at a loop header
	// was widened (see the package documentation).
	Widened int
	// Access is indexed by slot; entries of slots that do not access
	// memory are zero.
	Access []Access
	// CallMaps is indexed by slot: for a helper call taking a map whose
	// key argument is a stack pointer on every path, the index of that map
	// in the program's map table if it is the same map on every path;
	// -1 for every other slot. A backend may specialize such a call (the
	// JIT inlines array-map lookups).
	CallMaps []int32
}

// node is a stored state at a prune point. pending counts the paths still
// being explored below it; when it drops to zero the node is done and may
// prune later paths.
type node struct {
	st      *state
	pending int
	parent  *node
	pc      int
	hash    uint64
	// headUp is the nearest ancestor stored at a loop header; arrivals
	// counts the arrivals at this node's loop header, this one included,
	// since the path entered the loop.
	headUp   *node
	arrivals int
	widened  bool // this or an earlier arrival in the same entry was widened
	wide     bool // st is the result of widening
	// widenings counts the widened nodes on the path to this one, this
	// one included.
	widenings int
}

// maxDone bounds the done states kept per prune point; older ones are
// dropped (pruning is an optimization: dropping states costs time only).
const maxDone = 32

// minGap is the least number of instructions processed between two stored
// states of one path at fall-through prune points.
const minGap = 8

// points holds the stored states of one prune point: those whose
// exploration is complete, which may prune, and those still in progress by
// hash, which detect infinite loops.
type points struct {
	done    []*node
	pending map[uint64][]*node
}

// path is a state waiting to be explored from slot pc.
type path struct {
	st     *state
	pc     int
	from   int
	parent *node
}

type verifier struct {
	cfg        Config
	typ        *core.ProgramType
	insns      asm.Instructions
	at         []int32 // slot -> instruction index; -1 for the second slot of lddw
	nslots     int
	prune      []bool
	loop       []bool               // jump targets: always checkpointed
	head       []bool               // loop headers (findLoops)
	loopOf     []int32              // slot -> header of the innermost loop holding it, or -1
	loopParent map[int]int          // loop header -> header of the loop it is nested in, or -1
	loopBody   map[int][]int        // loop header -> the slots of its loop
	inLoop     []bool               // slots in the body of a loop
	narrowed   [][]threshold        // by slot: bounds a conditional jump put on linked values (noteBranch)
	objThr     map[[2]int32][]int64 // objectThresholds by pointer kind and object
	visited    []points
	work       []path
	res        *Result
	nextID     uint32
	log        logRing
	allowed    map[int32]bool
	live       []regSet // live registers by slot
	kept       int      // stored states currently kept
}

// Verify proves insns safe to run as a program of cfg.Type, or returns an
// *Error saying why it cannot. See the package documentation for what is
// checked.
func Verify(insns asm.Instructions, cfg Config) (*Result, error) {
	if cfg.Type == nil {
		cfg.Type = core.TestProgramType(0)
	}
	if cfg.MaxInstructions <= 0 {
		cfg.MaxInstructions = DefaultMaxInstructions
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.MaxStates <= 0 {
		cfg.MaxStates = DefaultMaxStates
	}
	if err := cfg.Type.Validate(); err != nil {
		return nil, &Error{PC: -1, Code: CodeConfig, Reason: err.Error()}
	}
	v := &verifier{cfg: cfg, typ: cfg.Type, insns: insns, res: &Result{}}
	if cfg.Type.AllowedHelpers != nil {
		v.allowed = map[int32]bool{}
		for _, id := range cfg.Type.AllowedHelpers {
			v.allowed[id] = true
		}
	}
	if err := v.checkEntry(); err != nil {
		return nil, err
	}
	if err := v.structure(); err != nil {
		return nil, err
	}
	v.res.Access = make([]Access, v.nslots)
	v.res.CallMaps = make([]int32, v.nslots)
	for i := range v.res.CallMaps {
		v.res.CallMaps[i] = callUnseen
	}
	v.visited = make([]points, v.nslots)
	v.live = v.liveness()
	if err := v.explore(); err != nil {
		return nil, err
	}
	for pc, i := range v.at {
		if i >= 0 && isMemAccess(insns[i]) {
			v.res.Access[pc].Proven = true
		}
	}
	for pc, m := range v.res.CallMaps {
		if m == callUnseen {
			v.res.CallMaps[pc] = -1
		}
	}
	return v.res, nil
}

func isMemAccess(ins asm.Instruction) bool {
	c := ins.OpCode.Class()
	return c == asm.ClassLDX || c == asm.ClassST || c == asm.ClassSTX
}

// ins returns the instruction at slot pc.
func (v *verifier) ins(pc int) asm.Instruction { return v.insns[v.at[pc]] }

// fail builds a rejection at slot pc in state st (nil: no state).
func (v *verifier) fail(pc int, st *state, code Code, format string, args ...any) *Error {
	e := &Error{PC: pc, Code: code, Reason: fmt.Sprintf(format, args...)}
	if pc >= 0 && pc < len(v.at) && v.at[pc] >= 0 {
		e.Insn = v.ins(pc).String()
	}
	if st != nil {
		e.State = st.String()
	}
	var log string
	if v.res != nil && v.log.n > 0 {
		log = v.log.lines(func(pc int) string { return v.ins(pc).String() })
	}
	if e.State != "" {
		log += e.State + "\n"
	}
	if pc >= 0 {
		log += fmt.Sprintf("%d: (%s) %s\n", pc, e.Insn, e.Reason)
	} else {
		log += e.Reason + "\n"
	}
	if v.res != nil && v.res.Processed > 0 {
		log += fmt.Sprintf("processed %d insns, stored %d states, peak %d pending\n", v.res.Processed, v.res.States, v.res.PeakPending)
	}
	e.Log = log
	return e
}

// structure checks what does not need abstract interpretation: valid and
// supported instructions, map references, jump and call targets, function
// boundaries, writes to r10, reachability and falling off the end.
func (v *verifier) structure() error {
	n := v.insns.Slots()
	v.nslots = n
	if n == 0 {
		return v.fail(-1, nil, CodeInvalid, "the program has no instructions")
	}
	if n > v.cfg.MaxInstructions {
		return v.fail(-1, nil, CodeTooLarge, "the program has %d instructions, more than the limit of %d", n, v.cfg.MaxInstructions)
	}
	v.at = make([]int32, n)
	pc := 0
	for i, ins := range v.insns {
		v.at[pc] = int32(i)
		if ins.IsWide() {
			v.at[pc+1] = -1
		}
		pc += ins.Slots()
	}
	v.prune = make([]bool, n)
	v.loop = make([]bool, n)
	v.head = make([]bool, n)
	v.inLoop = make([]bool, n)
	entries := []int{0}
	for pc := 0; pc < n; pc++ {
		if v.at[pc] < 0 {
			continue
		}
		ins := v.ins(pc)
		if err := ins.Validate(); err != nil {
			return v.fail(pc, nil, CodeInvalid, "%v", err)
		}
		if err := v.checkInsn(pc, ins); err != nil {
			return err
		}
		if ins.IsBranch() || ins.IsLocalCall() {
			t := pc + 1 + int(ins.JumpOffset())
			if t < 0 || t >= n || v.at[t] < 0 {
				return v.fail(pc, nil, CodeInvalid, "jump target %d is outside the program or inside a lddw", t)
			}
			if ins.IsLocalCall() {
				entries = append(entries, t)
				if pc+1 < n {
					v.prune[pc+1] = true
				}
			} else {
				v.prune[t] = true
				v.loop[t] = true
				if ins.OpCode.JumpOp() != asm.Ja && pc+1 < n {
					v.prune[pc+1] = true
				}
			}
		}
	}
	slices.Sort(entries)
	entries = slices.Compact(entries)
	// funcEnd[pc] is the end (exclusive) of the function holding pc.
	funcStart := make([]int, n)
	funcEnd := make([]int, n)
	for i, e := range entries {
		end := n
		if i+1 < len(entries) {
			end = entries[i+1]
		}
		for pc := e; pc < end; pc++ {
			funcStart[pc], funcEnd[pc] = e, end
		}
	}
	// Reachability, function by function from the entry.
	reached := make([]bool, n)
	stack := []int{0}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if reached[pc] {
			continue
		}
		reached[pc] = true
		ins := v.ins(pc)
		next := pc + ins.Slots()
		fall := true
		switch {
		case ins.IsExit():
			fall = false
		case ins.IsLocalCall():
			stack = append(stack, pc+1+int(ins.JumpOffset()))
		case ins.IsBranch():
			t := pc + 1 + int(ins.JumpOffset())
			if t < funcStart[pc] || t >= funcEnd[pc] {
				return v.fail(pc, nil, CodeInvalid, "jump target %d is outside the function (%d..%d)", t, funcStart[pc], funcEnd[pc]-1)
			}
			stack = append(stack, t)
			fall = ins.OpCode.JumpOp() != asm.Ja
		}
		if fall {
			if next >= funcEnd[pc] {
				return v.fail(pc, nil, CodeFallsOff, "execution falls off the end of the function after this instruction")
			}
			stack = append(stack, next)
		}
	}
	for pc := 0; pc < n; pc++ {
		if v.at[pc] >= 0 && !reached[pc] {
			return v.fail(pc, nil, CodeUnreachable, "unreachable instruction")
		}
	}
	for _, e := range entries {
		v.prune[e] = true
	}
	v.findLoops(entries)
	return nil
}

// checkInsn rejects unsupported instructions, bad map references and
// writes to r10.
func (v *verifier) checkInsn(pc int, ins asm.Instruction) error {
	op := ins.OpCode
	c := op.Class()
	switch {
	case c == asm.ClassLD && op.Mode() != asm.ModeIMM:
		return v.fail(pc, nil, CodeUnsupported, "legacy packet loads are not supported: no program type has a packet")
	case c == asm.ClassLD:
		switch ins.Src {
		case asm.PseudoNone:
		case asm.PseudoMapFD, asm.PseudoMapIdx:
			if uint64(ins.Constant) >= uint64(len(v.cfg.Maps)) {
				return v.fail(pc, nil, CodeInvalid, "map index %d is outside the program's map table (%d maps)", ins.Constant, len(v.cfg.Maps))
			}
		case asm.PseudoMapValue, asm.PseudoMapIdxValue:
			idx, off := uint64(uint32(ins.Constant)), uint64(ins.Constant)>>32
			if idx >= uint64(len(v.cfg.Maps)) {
				return v.fail(pc, nil, CodeInvalid, "map index %d is outside the program's map table (%d maps)", idx, len(v.cfg.Maps))
			}
			m := v.cfg.Maps[idx]
			if m.Type != maps.Array {
				return v.fail(pc, nil, CodeInvalid, "map value address of %s map %q: only array maps have directly addressable values", m.Type, m.Name)
			}
			if off >= uint64(m.ValueSize) {
				return v.fail(pc, nil, CodeOutOfBounds, "offset %d is outside the %d-byte value of map %q", off, m.ValueSize, m.Name)
			}
		default:
			return v.fail(pc, nil, CodeUnsupported, "lddw pseudo source %d (BTF ids, function addresses) is not supported", ins.Src)
		}
	case op == asm.OpCall && ins.Src == asm.PseudoKfuncCall:
		return v.fail(pc, nil, CodeUnsupported, "kernel function calls are not supported")
	case ins.IsHelperCall():
		// Checked here, not only on the paths that reach the call: the
		// loader resolves every call, reachable or not.
		if _, ok := v.cfg.Helpers[ins.Imm()]; !ok {
			return v.fail(pc, nil, CodeHelper, "unknown helper %d", ins.Imm())
		}
		if v.allowed != nil && !v.allowed[ins.Imm()] {
			return v.fail(pc, nil, CodeHelper, "helper %d is not allowed in programs of type %q", ins.Imm(), v.typ.Name)
		}
	}
	writesDst := c.IsALU() || c == asm.ClassLDX || c == asm.ClassLD
	if writesDst && ins.Dst == asm.R10 {
		return v.fail(pc, nil, CodeInvalid, "r10 is the read-only frame pointer")
	}
	if c == asm.ClassSTX && op.Mode() == asm.ModeATOMIC && asm.AtomicOp(ins.Constant)&asm.AtomicFetch != 0 && ins.Src == asm.R10 {
		return v.fail(pc, nil, CodeInvalid, "r10 is the read-only frame pointer")
	}
	return nil
}

// initial returns the entry state.
func (v *verifier) initial() *state {
	st := &state{frames: []*frame{{callsite: -1}}}
	st.regs[1] = pointer(kindCtx, 0)
	for _, r := range v.typ.Registers {
		switch r.Kind {
		case core.RegisterScalar:
			st.regs[r.Reg] = scalarValue(signedRange(r.Min, r.Max))
		case core.RegisterContext:
			st.regs[r.Reg] = pointer(kindCtx, 0)
		case core.RegisterRegion:
			st.regs[r.Reg] = pointer(kindRegion, int32(v.typ.Region(r.Region)))
		}
	}
	st.regs[10] = pointer(kindStack, 0)
	for _, e := range v.cfg.Entry {
		var val value
		switch e.Kind {
		case EntryScalar:
			val = scalarValue(signedRange(e.Min, e.Max))
		case EntryContext:
			val = pointer(kindCtx, 0)
		case EntryStack:
			val = pointer(kindStack, 0)
		case EntryRegion:
			val = pointer(kindRegion, int32(e.Index))
		case EntryMapValue:
			val = pointer(kindMapValue, int32(e.Index))
		case EntryMapHandle:
			val = pointer(kindMapHandle, int32(e.Index))
		}
		if val.kind.isPointer() && val.kind != kindMapHandle {
			val.off = signedRange(e.Min, e.Max)
		}
		st.regs[e.Reg] = val
	}
	return st
}

// checkEntry validates Config.Entry.
func (v *verifier) checkEntry() error {
	for _, e := range v.cfg.Entry {
		bad := ""
		switch {
		case e.Reg > asm.R9:
			bad = "is not r0..r9"
		case e.Kind > EntryMapHandle:
			bad = "has an unknown kind"
		case e.Min > e.Max && e.Kind != EntryUninit && e.Kind != EntryMapHandle:
			bad = "has an empty range"
		case e.Kind != EntryScalar && e.Kind != EntryUninit && e.Kind != EntryMapHandle && (e.Min < -maxOffset || e.Max > maxOffset):
			bad = "has an offset beyond the pointer limit"
		case e.Kind == EntryRegion && (e.Index < 0 || e.Index >= len(v.typ.Regions)):
			bad = "names no region of the type"
		case (e.Kind == EntryMapValue || e.Kind == EntryMapHandle) && (e.Index < 0 || e.Index >= len(v.cfg.Maps)):
			bad = "names no map of the map table"
		}
		if bad != "" {
			return v.fail(-1, nil, CodeConfig, "entry register r%d %s", e.Reg, bad)
		}
	}
	return nil
}

// explore runs the abstract interpretation over every path.
func (v *verifier) explore() error {
	v.work = append(v.work, path{st: v.initial(), pc: 0, from: -1})
	for len(v.work) > 0 {
		p := v.work[len(v.work)-1]
		v.work = v.work[:len(v.work)-1]
		if p.from >= 0 {
			v.log.add(p.pc, p.from)
		}
		if err := v.run(p); err != nil {
			return err
		}
	}
	return nil
}

// push queues the state st at slot pc as another path below parent.
func (v *verifier) push(st *state, pc, from int, parent *node) {
	v.work = append(v.work, path{st: st, pc: pc, from: from, parent: parent})
	if parent != nil {
		parent.pending++
	}
	v.res.PeakPending = max(v.res.PeakPending, len(v.work))
}

// finish records the end of a path below n: nodes without pending paths
// become done.
func (v *verifier) finish(n *node) {
	for ; n != nil; n = n.parent {
		n.pending--
		if n.pending > 0 {
			return
		}
		pt := &v.visited[n.pc]
		list := pt.pending[n.hash]
		for i, x := range list {
			if x == n {
				list[i] = list[len(list)-1]
				list = list[:len(list)-1]
				break
			}
		}
		if len(list) == 0 {
			delete(pt.pending, n.hash)
		} else {
			pt.pending[n.hash] = list
		}
		if len(pt.done) >= maxDone {
			v.kept--
			copy(pt.done, pt.done[1:])
			pt.done = pt.done[:len(pt.done)-1]
		}
		pt.done = append(pt.done, n)
	}
}

// checkpoint is called at prune points. It reports whether a stored state
// that is done covers st, so the path can stop; otherwise it stores st.
// store says whether st should be stored if it is not pruned: always at
// jump targets (loop headers among them, so that every iteration is checked
// for an infinite loop) and at a path's first prune point (so that paths
// queued at a branch meet each other's states); at the fall-through of a
// conditional jump only every minGap instructions, which keeps the number
// of stored states and copies down.
//
// At a loop header, from the widenDelay-th arrival of the path in the loop
// on, st is also compared with the state of the previous arrival, whose
// exploration is still in progress: if that covers st the path stops
// (the loop's states are closed under its body: an inductive invariant,
// whose exploration, once complete, proves every iteration safe);
// otherwise st is widened against it (widen) and explored from there.
// The arrival before that is widened already if a value steps by a
// constant (a counter: the loop cannot repeat a state).
func (v *verifier) checkpoint(st *state, pc int, parent **node, store bool) (bool, error) {
	pt := &v.visited[pc]
	live := v.live[pc]
	for i := len(pt.done) - 1; i >= 0; i-- {
		if st.coveredBy(pt.done[i].st, live, false) {
			v.res.Pruned++
			return true, nil
		}
	}
	h := st.hash(live)
	// A state that repeats a widened one, or an earlier state with a
	// widening in between, has reached a fixpoint of the widening, which
	// says nothing about the concrete states looping: the prune below
	// takes it.
	widenings := 0
	if *parent != nil {
		widenings = (*parent).widenings
	}
	for _, n := range pt.pending[h] {
		if !n.wide && n.widenings == widenings && st.coveredBy(n.st, live, true) && isAncestor(n, *parent) {
			return false, v.fail(pc, st, CodeInfiniteLoop, "infinite loop: this state repeats an earlier state at the same instruction on this path")
		}
	}
	if !store {
		return false, nil
	}
	arrivals, widened, wide := 0, false, false
	if v.head[pc] && !v.cfg.NoWiden {
		arrivals = 1
		if prev := v.lastArrival(*parent, pc, len(st.frames)); prev != nil {
			arrivals, widened = prev.arrivals+1, prev.widened
			var w *state
			switch {
			case arrivals >= widenDelay:
				if st.coveredBy(prev.st, live, false) {
					v.res.Pruned++
					return true, nil
				}
				w = v.widen(prev.st, st, pc, !widened, false)
			case arrivals == widenDelay-1:
				// A loop with a counter cannot repeat its state: widen
				// one arrival early if there is one.
				w = v.widen(prev.st, st, pc, true, true)
			}
			if w != nil {
				*st = *w
				h = st.hash(live)
				v.res.Widened++
				widened, wide = true, true
				widenings++
			}
		}
	}
	if v.res.States >= v.cfg.MaxStates {
		return false, v.fail(pc, st, CodeTooComplex, "the program is too complex: more than %d states stored", v.cfg.MaxStates)
	}
	n := &node{st: st.clone(), pending: 1, parent: *parent, pc: pc, hash: h, arrivals: arrivals, widened: widened, wide: wide, widenings: widenings}
	if p := *parent; p != nil {
		n.headUp = p.headUp
		if v.head[p.pc] {
			n.headUp = p
		}
	}
	if pt.pending == nil {
		pt.pending = map[uint64][]*node{}
	}
	pt.pending[h] = append(pt.pending[h], n)
	v.res.States++
	v.kept++
	v.res.PeakStates = max(v.res.PeakStates, v.kept)
	*parent = n
	return false, nil
}

func isAncestor(n, p *node) bool {
	for ; p != nil; p = p.parent {
		if p == n {
			return true
		}
	}
	return false
}

// run explores one path to its end.
func (v *verifier) run(p path) error {
	st, pc, parent := p.st, p.pc, p.parent
	// last is when this path last stored a state; fresh says it has not
	// stored one yet.
	last, fresh := v.res.Processed, true
	for {
		v.res.Processed++
		if v.res.Processed > v.cfg.MaxSteps {
			return v.fail(pc, st, CodeTooComplex, "the program is too complex: more than %d instructions processed (a loop may not be provably bounded)", v.cfg.MaxSteps)
		}
		if v.prune[pc] {
			before := parent
			pruned, err := v.checkpoint(st, pc, &parent, fresh || v.loop[pc] || v.res.Processed-last >= minGap)
			if parent != before {
				last, fresh = v.res.Processed, false
			}
			if err != nil {
				return err
			}
			if pruned {
				v.finish(parent)
				return nil
			}
		}
		v.log.add(pc, -1)
		ins := v.ins(pc)
		next, done, err := v.step(st, pc, ins, parent)
		if err != nil {
			return err
		}
		if done {
			v.finish(parent)
			return nil
		}
		pc = next
	}
}

// step executes one instruction on st. It returns the next slot, or done
// when the path ended (exit of the entry function, or no feasible
// successor).
func (v *verifier) step(st *state, pc int, ins asm.Instruction, parent *node) (next int, done bool, err error) {
	op := ins.OpCode
	next = pc + ins.Slots()
	switch c := op.Class(); c {
	case asm.ClassALU, asm.ClassALU64:
		return next, false, v.aluInsn(st, pc, ins)
	case asm.ClassLD:
		st.regs[ins.Dst] = v.lddw(ins)
		return next, false, nil
	case asm.ClassLDX:
		return next, false, v.load(st, pc, ins)
	case asm.ClassST, asm.ClassSTX:
		if op.Mode() == asm.ModeATOMIC {
			return next, false, v.atomic(st, pc, ins)
		}
		return next, false, v.store(st, pc, ins)
	}
	// Jumps.
	switch j := op.JumpOp(); {
	case j == asm.Exit:
		return v.exit(st, pc)
	case j == asm.Call && ins.IsLocalCall():
		return v.callLocal(st, pc, ins)
	case j == asm.Call:
		return next, false, v.callHelper(st, pc, ins)
	case j == asm.Ja:
		return pc + 1 + int(ins.JumpOffset()), false, nil
	default:
		target := pc + 1 + int(ins.JumpOffset())
		taken, fall, err := v.branch(st, pc, ins)
		if err != nil {
			return 0, false, err
		}
		switch {
		case taken != nil && fall != nil:
			// One side is st itself: queue the other.
			if taken == st {
				v.push(fall, next, pc, parent)
				return target, false, nil
			}
			v.push(taken, target, pc, parent)
			*st = *fall
			return next, false, nil
		case taken != nil:
			*st = *taken
			return target, false, nil
		case fall != nil:
			*st = *fall
			return next, false, nil
		}
		return 0, true, nil
	}
}

// reg returns register r, which must be initialized.
func (v *verifier) reg(st *state, pc int, r asm.Register) (*value, error) {
	if st.regs[r].kind == kindUninit {
		return nil, v.fail(pc, st, CodeUninitRegister, "R%d is read before it is written (uninitialized register)", r)
	}
	return &st.regs[r], nil
}

func (v *verifier) lddw(ins asm.Instruction) value {
	switch ins.Src {
	case asm.PseudoMapFD, asm.PseudoMapIdx:
		return pointer(kindMapHandle, int32(ins.Constant))
	case asm.PseudoMapValue, asm.PseudoMapIdxValue:
		p := pointer(kindMapValue, int32(uint32(ins.Constant)))
		p.off = constScalar(uint64(ins.Constant) >> 32)
		return p
	}
	return scalarValue(constScalar(uint64(ins.Constant)))
}

// aluInsn executes an arithmetic instruction.
func (v *verifier) aluInsn(st *state, pc int, ins asm.Instruction) error {
	op := ins.OpCode
	is64 := op.Class() == asm.ClassALU64
	a := op.ALUOp()
	dst := &st.regs[ins.Dst]
	if a == asm.End || a == asm.Neg {
		d, err := v.reg(st, pc, ins.Dst)
		if err != nil {
			return err
		}
		if d.kind != kindScalar {
			return v.fail(pc, st, CodePointerArithmetic, "%s on a pointer (R%d is %s) is not allowed", a, ins.Dst, d.kind)
		}
		if a == asm.End {
			*dst = scalarValue(endian(op, ins.Constant, d.off))
			return nil
		}
		dv := *d
		*dst = scalarValue(alu(a, is64, 0, d.off, d.off))
		if dv.iv != 0 && is64 {
			st.relink(dst, a, is64, 0, &dv, nil)
		}
		return nil
	}
	var src value
	if op.Source() == asm.SourceReg {
		s, err := v.reg(st, pc, ins.Src)
		if err != nil {
			return err
		}
		src = *s
	} else {
		src = scalarValue(constScalar(uint64(ins.Constant)))
	}
	if a == asm.Mov {
		if src.kind != kindScalar {
			if !is64 || ins.Offset != 0 {
				return v.fail(pc, st, CodePointerLeak, "a partial copy of a pointer (R%d is %s) would leak it", ins.Src, src.kind)
			}
			*dst = src
			return nil
		}
		*dst = scalarValue(alu(a, is64, ins.Offset, scalar{}, src.off))
		if src.iv != 0 {
			st.relink(dst, a, is64, ins.Offset, nil, &src)
		}
		return nil
	}
	d, err := v.reg(st, pc, ins.Dst)
	if err != nil {
		return err
	}
	if d.kind == kindScalar && src.kind == kindScalar {
		dv := *d
		*dst = scalarValue(alu(a, is64, ins.Offset, d.off, src.off))
		if dv.iv != 0 || src.iv != 0 {
			st.relink(dst, a, is64, ins.Offset, &dv, &src)
		}
		return nil
	}
	// Pointer arithmetic: 64-bit add or subtract of a bounded scalar, or
	// the distance between two pointers into the same object.
	if !is64 || (a != asm.Add && a != asm.Sub) {
		return v.fail(pc, st, CodePointerArithmetic, "%s%s on a pointer is not allowed (only 64-bit add and sub)", a, map[bool]string{true: "", false: "32"}[is64])
	}
	if d.kind.isPointer() && src.kind.isPointer() {
		if a != asm.Sub || !d.sameObject(&src) {
			return v.fail(pc, st, CodePointerArithmetic, "arithmetic between two pointers is allowed only as the difference of pointers into the same object (R%d is %s, R%d is %s)", ins.Dst, d.String(), ins.Src, src.String())
		}
		dv := *d
		*dst = scalarValue(alu64(asm.Sub, 0, d.off, src.off, 64))
		if dv.iv != 0 || src.iv != 0 {
			st.relink(dst, asm.Sub, true, 0, &dv, &src)
		}
		return nil
	}
	ptr, sv, preg := *d, src, ins.Dst
	if src.kind.isPointer() {
		if a == asm.Sub {
			return v.fail(pc, st, CodePointerArithmetic, "subtracting a pointer from a scalar is not allowed")
		}
		ptr, sv, preg = src, *d, ins.Src
	}
	off := sv.off
	switch ptr.kind {
	case kindMapValueOrNull:
		return v.fail(pc, st, CodeNullPointer, "arithmetic on R%d, which may be null: check it against 0 first", preg)
	case kindMapHandle:
		return v.fail(pc, st, CodePointerArithmetic, "arithmetic on a map handle (R%d) is not allowed", preg)
	}
	r := alu64(a, 0, ptr.off, off, 64)
	if r.smin < -maxOffset || r.smax > maxOffset {
		return v.fail(pc, st, CodePointerArithmetic, "the offset of R%d would become unbounded (%s): bound the scalar first", preg, r.String())
	}
	pv := ptr
	ptr.off = r
	ptr.iv, ptr.stride, ptr.base = 0, 0, 0
	if pv.iv != 0 || sv.iv != 0 {
		st.relink(&ptr, a, true, 0, &pv, &sv)
	}
	*dst = ptr
	return nil
}
