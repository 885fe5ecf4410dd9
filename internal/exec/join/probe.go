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
// of its chain. A round yields at most one match per probe row, so its
// output always fits a chunk; an Inner or Left join whose round would not
// fit the rest of the output chunk returns HaveMoreOutput and resumes
// there.
type probeLocal struct {
	j    *Join
	t    *table
	kind Kind
	np   int // probe columns

	busy   bool // a probe chunk is in progress
	n      int
	rounds int
	emit   int // Left: the next logical row to consider for the unmatched rows

	hashes [vector.Size]uint64
	slots  [vector.Size]uint16 // slot of logical row r
	ptr    [vector.Size]uint64 // current candidate of logical row r
	nxt    [vector.Size]uint64 // next candidate of act[i], from the last round
	match  [vector.Size]uint64 // Single: the matching row of logical row r
	found  [vector.Size]bool
	keyNul [vector.Size]bool
	resNul [vector.Size]bool
	act    []uint16 // logical rows with a candidate, increasing
	cr     []uint16 // the round's candidate pairs: logical probe rows…
	cref   []uint64 // …and build rows; narrowed to the matches
	pos    [vector.Size]uint16

	ev     *expr.Evaluator // the residual, nil if none
	pair   *vector.Chunk   // the residual's input: probe ++ build columns
	resOut *vector.Vector  // Mark: the residual's value per pair

	probeRows, matches int64
}

func newProbeLocal(j *Join) (*probeLocal, error) {
	p := &probeLocal{
		j: j, kind: j.spec.Kind, np: len(j.spec.Probe),
		act: make([]uint16, 0, vector.Size), cr: make([]uint16, vector.Size), cref: make([]uint64, vector.Size),
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
// first candidate (none if its key is NULL or its bucket's Bloom bit is
// clear).
func (p *probeLocal) start(in *vector.Chunk) {
	t := p.t
	n := in.Len()
	p.busy, p.n, p.rounds, p.emit = true, n, 0, 0
	p.probeRows += int64(n)
	sel := in.Sel()
	if sel == nil {
		for r := range n {
			p.slots[r] = uint16(r)
		}
	} else {
		copy(p.slots[:n], sel)
	}
	clear(p.found[:n])
	clear(p.keyNul[:n])
	clear(p.resNul[:n])
	p.act = p.act[:0]
	if t.rows == 0 {
		p.keyNulls(in)
		return
	}
	if t.noKeys {
		clear(p.hashes[:n])
		head := t.heads[0] & refMask
		for r := range n {
			p.ptr[r] = head
			p.act = append(p.act, uint16(r))
		}
		return
	}
	t.hasher.Chunk(in, p.j.spec.ProbeKeys, p.hashes[:n])
	heads, mask := t.heads, t.mask
	act := p.act[:n]
	k := 0
	if !p.keyNulls(in) {
		for r, h := range p.hashes[:n] {
			e := heads[h&mask]
			p.ptr[r] = e & refMask
			act[k] = uint16(r)
			k += b2i(e&tag(h) != 0)
		}
	} else {
		for r, h := range p.hashes[:n] {
			e := heads[h&mask]
			p.ptr[r] = e & refMask
			act[k] = uint16(r)
			k += b2i(e&tag(h) != 0 && !p.keyNul[r])
		}
	}
	p.act = act[:k]
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
	cr, cref := p.cr, p.cref
	for i, r := range p.act {
		ref := p.ptr[r]
		row := t.row(ref)
		p.nxt[i] = le.Uint64(row[nextOff:])
		cr[k], cref[k] = r, ref
		k += b2i(le.Uint64(row[hashOff:]) == p.hashes[r])
	}
	for i, fi := range t.l.keys {
		if k == 0 {
			break
		}
		k = p.keepEqual(k, t.l.fields[fi], in.Col(p.j.spec.ProbeKeys[i]))
	}
	if p.ev != nil && k > 0 {
		var err error
		if k, err = p.residual(in, k); err != nil {
			return 0, err
		}
	}
	p.rounds++
	p.matches += int64(k)
	return k, nil
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
			eq := int64(le.Uint64(t.row(ref)[off:])) == d[slots[r]]
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysInt32:
		d := v.Int32s()
		for i, r := range cr {
			ref := cref[i]
			eq := int32(le.Uint32(t.row(ref)[off:])) == d[slots[r]]
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysFloat64:
		d := v.Float64s()
		for i, r := range cr {
			ref := cref[i]
			eq := floatEq(fromBits(le.Uint64(t.row(ref)[off:])), d[slots[r]])
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysBool:
		d := v.Bools()
		for i, r := range cr {
			ref := cref[i]
			eq := (t.row(ref)[off] != 0) == d[slots[r]]
			cr[j], cref[j] = r, ref
			j += b2i(eq)
		}
	case types.PhysString:
		for i, r := range cr {
			ref := cref[i]
			eq := bytes.Equal(t.str(t.row(ref), off), v.Bytes(int(slots[r])))
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
	for i, r := range p.act {
		nx := p.nxt[i]
		if nx == 0 || drop && p.found[r] {
			continue
		}
		p.ptr[r] = nx
		p.act[j] = r
		j++
	}
	p.act = p.act[:j]
}

// pairs runs the rounds of an Inner or Left join, emitting each round's
// pairs, and then (Left) the probe rows without a match.
func (p *probeLocal) pairs(in, out *vector.Chunk) (parallel.OperatorResult, error) {
	for len(p.act) > 0 {
		if out.Len()+len(p.act) > vector.Size {
			return parallel.HaveMoreOutput, nil
		}
		first := p.rounds == 0
		k, err := p.round(in)
		if err != nil {
			return parallel.NeedMoreInput, err
		}
		for _, r := range p.cr[:k] {
			p.found[r] = true
		}
		p.advance(false)
		if first && len(p.act) == 0 {
			// One round found every match: no probe row has two, so the
			// output can reference the probe columns under a selection.
			p.emitReferenced(in, out, k)
			return parallel.NeedMoreInput, nil
		}
		p.emitPairs(in, out, k)
	}
	if p.kind == Left {
		return p.emitUnmatched(in, out), nil
	}
	return parallel.NeedMoreInput, nil
}

// emitReferenced writes the output of a probe chunk whose rows have at
// most one match each, the k pairs in cr and cref: the probe columns are
// referenced, the build columns written at the probe rows' slots; the
// selection is the matched rows (Inner) or every row (Left).
func (p *probeLocal) emitReferenced(in, out *vector.Chunk, k int) {
	for c := range p.np {
		out.Reference(c, in.Col(c))
	}
	at := p.pos[:k]
	for i, r := range p.cr[:k] {
		at[i] = p.slots[r]
	}
	p.gatherOutputs(out, p.cref[:k], at)
	if p.kind == Inner {
		sel := out.SelBuffer()
		copy(sel, at)
		out.SetSel(sel, k)
		return
	}
	p.nullUnmatched(out)
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

// emitPairs appends the k pairs in cr and cref to the dense out.
func (p *probeLocal) emitPairs(in, out *vector.Chunk, k int) {
	if k == 0 {
		return
	}
	base := out.Len()
	for i, r := range p.cr[:k] {
		p.pos[i] = p.slots[r]
	}
	for c := range p.np {
		vector.Copy(out.Col(c), base, in.Col(c), p.pos[:k], k)
	}
	p.gatherOutputs(out, p.cref[:k], seqSlots[base:base+k])
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
	for c := range p.np {
		out.Reference(c, in.Col(c))
	}
	switch p.kind {
	case Semi, Anti:
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
		return
	case Mark:
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
	case Single:
		k := 0
		for r := range p.n {
			if p.found[r] {
				p.cref[k] = p.match[r]
				p.pos[k] = p.slots[r]
				k++
			}
		}
		p.gatherOutputs(out, p.cref[:k], p.pos[:k])
		p.nullUnmatched(out)
	}
	out.SetSel(in.Sel(), p.n)
}

// gather writes field fi of rows refs into dst at slots at.
func (t *table) gather(fi int, refs []uint64, dst *vector.Vector, at []uint16) {
	f := t.l.fields[fi]
	off := f.off
	switch f.phys {
	case types.PhysInt64:
		d := dst.Int64s()
		for i, ref := range refs {
			d[at[i]] = int64(le.Uint64(t.row(ref)[off:]))
		}
	case types.PhysInt32:
		d := dst.Int32s()
		for i, ref := range refs {
			d[at[i]] = int32(le.Uint32(t.row(ref)[off:]))
		}
	case types.PhysFloat64:
		d := dst.Float64s()
		for i, ref := range refs {
			d[at[i]] = fromBits(le.Uint64(t.row(ref)[off:]))
		}
	case types.PhysBool:
		d := dst.Bools()
		for i, ref := range refs {
			d[at[i]] = t.row(ref)[off] != 0
		}
	case types.PhysString:
		for i, ref := range refs {
			dst.SetBytes(int(at[i]), t.str(t.row(ref), off))
		}
	}
	if t.nullable[fi] {
		for i, ref := range refs {
			if t.l.isNull(t.row(ref), fi) {
				dst.SetNull(int(at[i]))
			}
		}
	}
}
