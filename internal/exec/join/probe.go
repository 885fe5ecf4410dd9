package join

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/bpfdb/bpfdb/internal/exec/expr"
	"github.com/bpfdb/bpfdb/internal/parallel"
	"github.com/bpfdb/bpfdb/internal/types"
	"github.com/bpfdb/bpfdb/internal/vector"
)

// probeOp is the operator of the probe pipeline.
type probeOp struct{ j *Join }

var _ parallel.Operator = probeOp{}

// Types returns the join's output types.
func (p probeOp) Types() []types.Type { return p.j.Types() }

// String describes the join as EXPLAIN prints it.
func (p probeOp) String() string { return p.j.String() }

// Init takes the table the build pipeline finalized.
func (p probeOp) Init(*parallel.Producer) (parallel.OperatorState, error) {
	j := p.j
	j.mu.Lock()
	t := j.cur
	j.mu.Unlock()
	if t == nil || !t.finalized {
		return nil, fmt.Errorf("%s join: probe before the build pipeline finalized (the probe pipeline must depend on it): %w", j.spec.Kind, ErrSpec)
	}
	if j.spec.Kind.right() {
		return nil, fmt.Errorf("%s join: probed by an operator, not by its ProbeSink: %w", j.spec.Kind, ErrSpec)
	}
	return &probeState{j: j, t: t}, nil
}

type probeState struct {
	j *Join
	t *table
}

// NewLocal helps insert the build rows into the buckets (if Finalize left
// that to the probe tasks) and returns a task's probe state.
func (s *probeState) NewLocal() (parallel.OperatorLocal, error) {
	if err := s.t.help(); err != nil {
		return nil, fmt.Errorf("%s join: %w", s.j.spec.Kind, err)
	}
	p, ok := s.j.probeLocals.Get().(*probeLocal)
	if !ok {
		var err error
		if p, err = newProbeLocal(s.j); err != nil {
			return nil, err
		}
	}
	p.t, p.busy = s.t, false
	return p, nil
}

// probeLocal is one task's probe state. A probe chunk is matched in
// rounds: each round compares every probe row that still has a candidate
// with that candidate (hash, then keys column by column, then the
// residual over the pairs left), then moves each row on to the next row
// of its chain. A round yields at most one match per probe row.
//
// Inner and Left joins first collect the matches of every round; if no
// probe row has two, the output references the probe columns under a
// selection and only the build columns are written. At a probe row's
// second match they switch to copying: pairs are appended to a dense
// output round by round, returning HaveMoreOutput whenever the output
// chunk is full, and (Left) the rows without a match follow.
type probeLocal struct {
	j    *Join
	t    *table
	kind Kind
	np   int // probe columns
	// fast is the physical type of the only key when it is an integer:
	// rounds compare it at once instead of the hash.
	fast types.Physical

	busy    bool // a probe chunk is in progress
	copying bool // Inner, Left: the chunk has a row with two matches
	n       int
	emit    int // Left: the next logical row to consider for the unmatched rows

	hashes [vector.Size]uint64
	slots  [vector.Size]uint16 // slot of logical row r
	nxt    [vector.Size]uint64 // next candidate of act[i], from the last round
	bucket [vector.Size]uint64 // the bucket of logical row r's current chain
	match  [vector.Size]uint64 // the (first) match of logical row r
	found  [vector.Size]bool
	keyNul [vector.Size]bool
	resNul [vector.Size]bool
	act    []uint16 // logical rows with a candidate, increasing…
	aref   []uint64 // …and their candidates
	cr     []uint16 // the round's candidate pairs: logical probe rows…
	cref   []uint64 // …and build rows; narrowed to the matches
	pend   []uint16 // Inner, Left: pairs found before copying began…
	pref   []uint64
	pendAt int // …and how many of them are emitted
	pos    [vector.Size]uint16

	ev     *expr.Evaluator // the residual, nil if none
	pair   *vector.Chunk   // the residual's input: probe ++ build columns
	resOut *vector.Vector  // Mark: the residual's value per pair

	probeRows, matches int64
}

func newProbeLocal(j *Join) (*probeLocal, error) {
	p := &probeLocal{
		j: j, kind: j.spec.Kind, np: len(j.spec.Probe),
		act: make([]uint16, vector.Size), aref: make([]uint64, vector.Size),
		cr: make([]uint16, vector.Size), cref: make([]uint64, vector.Size),
		pend: make([]uint16, 0, 2*vector.Size), pref: make([]uint64, 0, 2*vector.Size),
	}
	if keys := j.layout.keys; len(keys) == 1 {
		if ph := j.layout.fields[keys[0]].phys; ph == types.PhysInt64 || ph == types.PhysInt32 {
			p.fast = ph
		}
	}
	if j.spec.Residual != nil {
		ev, err := expr.Compile(j.spec.Residual)
		if err != nil {
			return nil, fmt.Errorf("%s join: residual %s: %w", j.spec.Kind, j.spec.Residual, err)
		}
		p.ev = ev
		p.pair = vector.NewChunk(slices.Concat(j.spec.Probe, j.spec.Build))
		p.resOut = vector.New(types.BooleanType)
	}
	return p, nil
}

// Close adds the task's counters to the join's and gives the state back
// for later tasks.
func (p *probeLocal) Close() error {
	p.j.probeRows.Add(p.probeRows)
	p.j.matches.Add(p.matches)
	p.probeRows, p.matches = 0, 0
	p.t, p.busy = nil, false
	p.j.probeLocals.Put(p)
	return nil
}

// Execute joins in with the table, writing the output to out.
func (p *probeLocal) Execute(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	if !p.busy {
		p.start(in)
	}
	var res parallel.OperatorResult
	var err error
	switch p.kind {
	case Inner, Left:
		res, err = p.pairs(in, out)
	default:
		if err = p.all(in); err == nil {
			p.emitRows(in, out)
		}
	}
	if res != parallel.HaveMoreOutput {
		p.busy = false
	}
	return res, err
}

// start sets up the rounds of a new probe chunk: hashes, and every row's
// first candidate (none if its key is NULL, its hash's filter bit is clear
// (RightSemi, RightAnti) or its hash has no bucket).
func (p *probeLocal) start(in *vector.Chunk) {
	t := p.t
	n := in.Len()
	p.busy, p.copying, p.n, p.emit = true, false, n, 0
	p.pend, p.pref, p.pendAt = p.pend[:0], p.pref[:0], 0
	p.probeRows += int64(n)
	sel := in.Sel()
	if sel == nil {
		copy(p.slots[:n], seqSlots)
	} else {
		copy(p.slots[:n], sel)
	}
	clear(p.found[:n])
	clear(p.keyNul[:n])
	clear(p.resNul[:n])
	p.act, p.aref = p.act[:0], p.aref[:0]
	if t.rows == 0 {
		p.keyNulls(in)
		return
	}
	act, aref := p.act[:n], p.aref[:n]
	if t.noKeys {
		clear(p.hashes[:n])
		head := t.heads[0] & refMask
		for r := range act {
			act[r], aref[r] = uint16(r), head
		}
		p.act, p.aref = act, aref
		return
	}
	t.hasher.Chunk(in, p.j.spec.ProbeKeys, p.hashes[:n])
	heads, mask := t.heads, t.mask
	// Array views indexed under sizeMask: no bounds checks in the loops.
	actA, arefA := (*[vector.Size]uint16)(p.act[:vector.Size]), (*[vector.Size]uint64)(p.aref[:vector.Size])
	nulls := p.keyNulls(in)
	filter, shift := t.filter, t.filterShift
	k := 0
	for r, h := range p.hashes[:n] {
		if nulls && p.keyNul[r] {
			continue
		}
		if filter != nil {
			if b := h >> shift; filter[b>>6]&(1<<(b&63)) == 0 {
				continue
			}
		}
		i, s := h&mask, salt(h)
		e := heads[i]
		for e != 0 && salt(e) != s {
			i = (i + 1) & mask
			e = heads[i]
		}
		actA[k&sizeMask], arefA[k&sizeMask] = uint16(r), e&refMask
		p.bucket[r&sizeMask] = i
		k += b2i(e != 0)
	}
	p.act, p.aref = act[:k], aref[:k]
}

// keyNulls marks the rows whose probe key has a NULL and reports whether
// there are any.
func (p *probeLocal) keyNulls(in *vector.Chunk) bool {
	any := false
	for _, c := range p.j.spec.ProbeKeys {
		v := in.Col(c)
		if v.Validity().Words() == nil {
			continue
		}
		for r := range p.n {
			if v.IsNull(int(p.slots[r])) {
				p.keyNul[r] = true
				any = true
			}
		}
	}
	return any
}

// round compares every active row with its candidate and leaves the
// matching pairs in cr[:k], cref[:k] (in increasing probe row order), and
// the candidates' successors in nxt. Call advance after using the matches.
func (p *probeLocal) round(in *vector.Chunk) (int, error) {
	t := p.t
	k := 0
	cr, cref := (*[vector.Size]uint16)(p.cr), (*[vector.Size]uint64)(p.cref)
	nxt, slots := &p.nxt, &p.slots
	aref := p.aref[:len(p.act)]
	switch p.fast {
	case types.PhysInt64:
		d := (*[vector.Size]int64)(in.Col(p.j.spec.ProbeKeys[0]).Int64s())
		off := t.l.fields[t.l.keys[0]].off
		for i, r := range p.act {
			ref := aref[i]
			nx := t.u64(ref, nextOff)
			eq := int64(t.u64(ref, off)) == d[slots[r&sizeMask]&sizeMask]
			if !eq && t.u64(ref, hashOff) != p.hashes[r&sizeMask] {
				nx = p.rescan(r)
			}
			nxt[i&sizeMask] = nx
			cr[k&sizeMask], cref[k&sizeMask] = r, ref
			k += b2i(eq)
		}
	case types.PhysInt32:
		d := (*[vector.Size]int32)(in.Col(p.j.spec.ProbeKeys[0]).Int32s())
		off := t.l.fields[t.l.keys[0]].off
		for i, r := range p.act {
			ref := aref[i]
			nx := t.u64(ref, nextOff)
			eq := int32(t.u32(ref, off)) == d[slots[r&sizeMask]&sizeMask]
			if !eq && t.u64(ref, hashOff) != p.hashes[r&sizeMask] {
				nx = p.rescan(r)
			}
			nxt[i&sizeMask] = nx
			cr[k&sizeMask], cref[k&sizeMask] = r, ref
			k += b2i(eq)
		}
	default:
		hashes := &p.hashes
		for i, r := range p.act {
			ref := aref[i]
			nx := t.u64(ref, nextOff)
			eq := t.u64(ref, hashOff) == hashes[r&sizeMask]
			if !eq {
				nx = p.rescan(r)
			}
			nxt[i&sizeMask] = nx
			cr[k&sizeMask], cref[k&sizeMask] = r, ref
			k += b2i(eq)
		}
		for i, fi := range t.l.keys {
			if k == 0 {
				break
			}
			k = p.keepEqual(k, t.l.fields[fi], in.Col(p.j.spec.ProbeKeys[i]))
		}
	}
	if p.kind.right() && p.ev != nil && k > 0 {
		k = p.dropMarked(k)
	}
	if p.ev != nil && k > 0 {
		var err error
		if k, err = p.residual(in, k); err != nil {
			return 0, err
		}
	}
	p.matches += int64(k)
	return k, nil
}

// rescan continues the bucket scan of probe row r after a salt collision
// (its candidate's chain holds another hash): it returns the first row of
// the next chain with r's salt, or 0.
func (p *probeLocal) rescan(r uint16) uint64 {
	t := p.t
	s := salt(p.hashes[r&sizeMask])
	i := p.bucket[r&sizeMask]
	for {
		i = (i + 1) & t.mask
		e := t.heads[i]
		if e == 0 {
			return 0
		}
		if salt(e) == s {
			p.bucket[r&sizeMask] = i
			return e & refMask
		}
	}
}

// keepEqual narrows the k candidate pairs to those whose key field f
// equals the probe key v.
func (p *probeLocal) keepEqual(k int, f field, v *vector.Vector) int {
	t, off, slots := p.t, f.off, &p.slots
	cr, cref := p.cr[:k], p.cref[:k]
	j := 0
	switch f.phys {
	case types.PhysInt64:
		d := v.Int64s()
		for i, r := range cr {
			ref := cref[i]
			eq := int64(t.u64(ref, off)) == d[slots[r]]
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysInt32:
		d := v.Int32s()
		for i, r := range cr {
			ref := cref[i]
			eq := int32(t.u32(ref, off)) == d[slots[r]]
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysFloat64:
		d := v.Float64s()
		for i, r := range cr {
			ref := cref[i]
			eq := floatEq(fromBits(t.u64(ref, off)), d[slots[r]])
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysBool:
		d := v.Bools()
		for i, r := range cr {
			ref := cref[i]
			eq := (t.u8(ref, off) != 0) == d[slots[r]]
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysString:
		for i, r := range cr {
			ref := cref[i]
			eq := bytes.Equal(t.str(ref, off), v.Bytes(int(slots[r])))
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	}
	return j
}

// residual narrows the k pairs with equal keys to those for which the
// residual is true; for Mark it records the probe rows whose residual was
// NULL.
func (p *probeLocal) residual(in *vector.Chunk, k int) (int, error) {
	pair := p.pair
	pair.Reset()
	for i, r := range p.cr[:k] {
		p.pos[i] = p.slots[r]
	}
	seq := seqSlots[:k]
	for _, c := range p.j.resCols {
		if c < p.np {
			vector.Copy(pair.Col(c), 0, in.Col(c), p.pos[:k], k)
			continue
		}
		fi := p.t.l.colOf[c-p.np]
		p.t.gather(fi, p.cref[:k], pair.Col(c), seq)
	}
	pair.SetLen(k)
	if p.kind == Mark {
		if err := p.ev.Eval(pair, p.resOut); err != nil {
			return 0, fmt.Errorf("%s join: %w", p.kind, err)
		}
		vals := p.resOut.Bools()
		j := 0
		for i, r := range p.cr[:k] {
			ok := !p.resOut.IsNull(i)
			if !ok {
				p.resNul[r] = true
			}
			p.cr[j], p.cref[j] = r, p.cref[i]
			j += b2i(ok && vals[i])
		}
		return j, nil
	}
	sel, err := p.ev.EvalFilter(pair)
	if err != nil {
		return 0, fmt.Errorf("%s join: %w", p.kind, err)
	}
	for j, i := range sel {
		p.cr[j], p.cref[j] = p.cr[i], p.cref[i]
	}
	return len(sel), nil
}

// sizeMask masks indexes into arrays of vector.Size entries, which lets
// the compiler drop their bounds checks (the indexes are below Size).
const sizeMask = vector.Size - 1

// seqSlots is 0, 1, 2, …: the positions of a dense chunk.
var seqSlots = func() []uint16 {
	s := make([]uint16, vector.Size)
	for i := range s {
		s[i] = uint16(i)
	}
	return s
}()

// advance moves every active row to its candidate's successor, dropping
// rows at the end of their chain and, if drop, rows already matched.
func (p *probeLocal) advance(drop bool) {
	j := 0
	act, aref := (*[vector.Size]uint16)(p.act[:vector.Size]), (*[vector.Size]uint64)(p.aref[:vector.Size])
	for i, r := range p.act {
		nx := p.nxt[i&sizeMask]
		if nx == 0 || drop && p.found[r&sizeMask] {
			continue
		}
		act[j&sizeMask], aref[j&sizeMask] = r, nx
		j++
	}
	p.act, p.aref = p.act[:j], p.aref[:j]
}

// pairs runs the rounds of an Inner or Left join. It collects the matches
// while no probe row has two, and emits them referencing the probe
// columns; from a second match on it copies pairs round by round, and
// then (Left) the probe rows without a match.
func (p *probeLocal) pairs(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	if !p.copying {
		for len(p.act) > 0 {
			k, err := p.round(in)
			if err != nil {
				return parallel.NeedMoreInput, err
			}
			second := false
			for _, r := range p.cr[:k] {
				second = second || p.found[r&sizeMask]
			}
			if second {
				p.startCopying(k)
				break
			}
			for i, r := range p.cr[:k] {
				p.found[r&sizeMask], p.match[r&sizeMask] = true, p.cref[i]
			}
			p.advance(false)
		}
		if !p.copying {
			p.emitMatched(in, out)
			return parallel.NeedMoreInput, nil
		}
	}
	if p.pendAt < len(p.pend) {
		m := min(len(p.pend)-p.pendAt, vector.Size-out.Len())
		p.emitPairs(in, out, p.pend[p.pendAt:p.pendAt+m], p.pref[p.pendAt:p.pendAt+m])
		if p.pendAt += m; p.pendAt < len(p.pend) {
			return parallel.HaveMoreOutput, nil
		}
	}
	for len(p.act) > 0 {
		if out.Len()+len(p.act) > vector.Size {
			return parallel.HaveMoreOutput, nil
		}
		k, err := p.round(in)
		if err != nil {
			return parallel.NeedMoreInput, err
		}
		for _, r := range p.cr[:k] {
			p.found[r] = true
		}
		p.advance(false)
		p.emitPairs(in, out, p.cr[:k], p.cref[:k])
	}
	if p.kind == Left {
		return p.emitUnmatched(in, out), nil
	}
	return parallel.NeedMoreInput, nil
}

// startCopying switches a chunk to copying when the round whose k matches
// are in cr and cref gave a probe row its second: the matches so far
// become pending pairs, emitted before the next rounds'.
func (p *probeLocal) startCopying(k int) {
	p.copying = true
	for r := range p.n {
		if p.found[r] {
			p.pend = append(p.pend, uint16(r))
			p.pref = append(p.pref, p.match[r])
		}
	}
	for i, r := range p.cr[:k] {
		p.pend = append(p.pend, r)
		p.pref = append(p.pref, p.cref[i])
		p.found[r] = true
	}
	p.advance(false)
}

// emitMatched writes the output of a probe chunk whose rows have at most
// one match each (in match, where found): the probe columns referenced,
// the build columns written at the probe rows' slots; the selection is
// the matched rows (Inner) or every row, with NULL build columns where
// there is no match (Left, Single).
func (p *probeLocal) emitMatched(in, out *vector.Chunk) {
	for c := range p.np {
		out.Reference(c, in.Col(c))
	}
	k := 0
	cref := (*[vector.Size]uint64)(p.cref)
	for r := range p.n {
		r &= sizeMask
		p.pos[k&sizeMask], cref[k&sizeMask] = p.slots[r], p.match[r]
		k += b2i(p.found[r])
	}
	p.gatherOutputs(out, p.cref[:k], p.pos[:k])
	if p.kind == Inner && k < p.n {
		sel := out.SelBuffer()
		copy(sel, p.pos[:k])
		out.SetSel(sel, k)
		return
	}
	if k < p.n {
		p.nullUnmatched(out)
	}
	out.SetSel(in.Sel(), p.n)
}

// nullUnmatched sets the build columns of out NULL at the slots of the
// probe rows without a match.
func (p *probeLocal) nullUnmatched(out *vector.Chunk) {
	for j := range p.j.layout.outs {
		v := out.Col(p.np + j)
		for r := range p.n {
			if !p.found[r] {
				v.SetNull(int(p.slots[r]))
			}
		}
	}
}

// emitPairs appends the pairs of probe rows rs and build rows refs to the
// dense out.
func (p *probeLocal) emitPairs(in, out *vector.Chunk, rs []uint16, refs []uint64) {
	k := len(rs)
	if k == 0 {
		return
	}
	base := out.Len()
	for i, r := range rs {
		p.pos[i] = p.slots[r]
	}
	for c := range p.np {
		vector.Copy(out.Col(c), base, in.Col(c), p.pos[:k], k)
	}
	p.gatherOutputs(out, refs, seqSlots[base:base+k])
	out.SetLen(base + k)
}

// emitUnmatched appends the probe rows without a match, with NULL build
// columns, as far as out has room.
func (p *probeLocal) emitUnmatched(in, out *vector.Chunk) parallel.OperatorResult {
	base := out.Len()
	m := 0
	for ; p.emit < p.n; p.emit++ {
		if p.found[p.emit] {
			continue
		}
		if base+m == vector.Size {
			break
		}
		p.pos[m] = p.slots[p.emit]
		m++
	}
	if m > 0 {
		for c := range p.np {
			vector.Copy(out.Col(c), base, in.Col(c), p.pos[:m], m)
		}
		for j := range p.j.layout.outs {
			v := out.Col(p.np + j)
			for i := range m {
				v.SetNull(base + i)
			}
		}
		out.SetLen(base + m)
	}
	if p.emit < p.n {
		return parallel.HaveMoreOutput
	}
	return parallel.NeedMoreInput
}

// gatherOutputs writes the BuildOutput columns of rows refs to out's build
// columns at slots at.
func (p *probeLocal) gatherOutputs(out *vector.Chunk, refs []uint64, at []uint16) {
	for j, fi := range p.j.layout.outs {
		p.t.gather(fi, refs, out.Col(p.np+j), at)
	}
}

// all runs every round of a Semi, Anti, Mark or Single join: each probe
// row ends up found or not (Single: with its match, or ErrSingle).
func (p *probeLocal) all(in *vector.Chunk) error {
	drop := p.kind != Single
	for len(p.act) > 0 {
		k, err := p.round(in)
		if err != nil {
			return err
		}
		for i, r := range p.cr[:k] {
			if p.kind == Single {
				if p.found[r] {
					return ErrSingle
				}
				p.match[r] = p.cref[i]
			}
			p.found[r] = true
		}
		p.advance(drop)
	}
	return nil
}

// emitRows writes the output of a Semi, Anti, Mark or Single join: the
// probe columns referenced, under a selection (Semi, Anti) or with the
// mark or the build columns written at the rows' slots.
func (p *probeLocal) emitRows(in, out *vector.Chunk) {
	switch p.kind {
	case Single:
		p.emitMatched(in, out)
		return
	case Semi, Anti:
		for c := range p.np {
			out.Reference(c, in.Col(c))
		}
		want := p.kind == Semi
		sel := out.SelBuffer()
		k := 0
		for r := range p.n {
			sel[k] = p.slots[r]
			k += b2i(p.found[r] == want)
		}
		if k == p.n {
			out.SetSel(in.Sel(), p.n)
		} else {
			out.SetSel(sel, k)
		}
	case Mark:
		for c := range p.np {
			out.Reference(c, in.Col(c))
		}
		v := out.Col(p.np)
		d := v.Bools()
		t := p.t
		empty := t.sunk == 0
		for r := range p.n {
			s := int(p.slots[r])
			d[s] = p.found[r]
			if !p.found[r] && !empty && (p.keyNul[r] || t.nullKeys || p.resNul[r]) {
				v.SetNull(s)
			}
		}
		out.SetSel(in.Sel(), p.n)
	}
}

// gather writes field fi of rows refs into dst at slots at.
func (t *table) gather(fi int, refs []uint64, dst *vector.Vector, at []uint16) {
	at = at[:len(refs)]
	off := t.l.fields[fi].off
	switch t.l.fields[fi].phys {
	case types.PhysInt64:
		d := (*[vector.Size]int64)(dst.Int64s())
		for i, ref := range refs {
			d[at[i]&sizeMask] = int64(t.u64(ref, off))
		}
	case types.PhysInt32:
		d := (*[vector.Size]int32)(dst.Int32s())
		for i, ref := range refs {
			d[at[i]&sizeMask] = int32(t.u32(ref, off))
		}
	case types.PhysFloat64:
		d := (*[vector.Size]float64)(dst.Float64s())
		for i, ref := range refs {
			d[at[i]&sizeMask] = fromBits(t.u64(ref, off))
		}
	case types.PhysBool:
		d := (*[vector.Size]bool)(dst.Bools())
		for i, ref := range refs {
			d[at[i]&sizeMask] = t.u8(ref, off) != 0
		}
	case types.PhysString:
		for i, ref := range refs {
			dst.SetBytes(int(at[i]), t.str(ref, off))
		}
	}
	if t.nullable[fi] {
		for i, ref := range refs {
			if t.isNull(ref, fi) {
				dst.SetNull(int(at[i]))
			}
		}
	}
}
