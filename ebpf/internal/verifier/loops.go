package verifier

import (
	"slices"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// Loops are found on the control flow graph of each function, not from
// the layout: compilers rotate loops, so a loop's header (the instruction
// every path into the loop goes through) may be the target of a forward
// jump from its last block, and the targets of backward jumps may be mere
// join points inside the body. A natural loop is a header h with the
// instructions that reach an edge back to h (u -> h with h dominating u)
// without passing h. Loops with one header are merged; a loop inside
// another is nested in it.

// succs returns the slots control may go to after pc inside its function:
// a local call goes on after the call.
func (v *verifier) succs(pc int) []int {
	ins := v.ins(pc)
	next := pc + ins.Slots()
	switch {
	case ins.IsExit():
		return nil
	case ins.IsLocalCall():
		return []int{next}
	case ins.IsBranch():
		t := pc + 1 + int(ins.JumpOffset())
		if ins.OpCode.JumpOp() == asm.Ja {
			return []int{t}
		}
		if t == next {
			return []int{t}
		}
		return []int{t, next}
	}
	return []int{next}
}

// findLoops computes the loops of every function (entries are the
// functions' first slots), and sets head, loopOf, loopParent, loopBody and
// inLoop. Every cycle of the program passes a loop head: a depth-first
// search finds an edge back to a node on its stack in every cycle, which
// either closes a natural loop or, in an irreducible cycle (entered at
// more than one node), makes its target a head all the same.
func (v *verifier) findLoops(entries []int) {
	n := v.nslots
	v.loopOf = make([]int32, n)
	for i := range v.loopOf {
		v.loopOf[i] = -1
	}
	v.loopBody = map[int][]int{}
	v.loopParent = map[int]int{}
	preds := make([][]int, n)
	for pc := 0; pc < n; pc++ {
		if v.at[pc] >= 0 {
			for _, s := range v.succs(pc) {
				preds[s] = append(preds[s], pc)
			}
		}
	}
	for _, e := range entries {
		v.functionLoops(e, preds)
	}
	// Nesting: the innermost loop holding each slot is the one with the
	// smallest body; a loop's parent is the innermost other loop holding
	// its header.
	headers := make([]int, 0, len(v.loopBody))
	for h := range v.loopBody {
		headers = append(headers, h)
	}
	slices.SortFunc(headers, func(a, b int) int { return len(v.loopBody[b]) - len(v.loopBody[a]) })
	for _, h := range headers {
		if p := v.loopOf[h]; p >= 0 {
			v.loopParent[h] = int(p)
		} else {
			v.loopParent[h] = -1
		}
		for _, pc := range v.loopBody[h] {
			v.loopOf[pc] = int32(h)
			v.inLoop[pc] = true
		}
		v.head[h] = true
	}
}

// functionLoops finds the loops of the function entered at e.
func (v *verifier) functionLoops(e int, preds [][]int) {
	// The edges back to a slot on the stack of a depth-first search.
	var retreating [][2]int
	seen := map[int]bool{e: true}
	onStack := map[int]bool{e: true}
	type frame struct{ pc, i int }
	stack := []frame{{e, 0}}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		ss := v.succs(f.pc)
		if f.i < len(ss) {
			s := ss[f.i]
			f.i++
			switch {
			case onStack[s]:
				retreating = append(retreating, [2]int{f.pc, s})
			case !seen[s]:
				seen[s] = true
				onStack[s] = true
				stack = append(stack, frame{s, 0})
			}
			continue
		}
		delete(onStack, f.pc)
		stack = stack[:len(stack)-1]
	}
	// Each retreating edge u -> h closes a loop headed by h: a natural
	// loop if h dominates u, a cycle entered elsewhere too otherwise. Its
	// body is what reaches u without passing h.
	for _, r := range retreating {
		u, h := r[0], r[1]
		body := v.loopBody[h]
		in := make(map[int]bool, len(body))
		for _, x := range body {
			in[x] = true
		}
		if !in[h] {
			in[h] = true
			body = append(body, h)
		}
		work := []int{u}
		for len(work) > 0 {
			x := work[len(work)-1]
			work = work[:len(work)-1]
			if in[x] {
				continue
			}
			in[x] = true
			body = append(body, x)
			for _, p := range preds[x] {
				if seen[p] {
					work = append(work, p)
				}
			}
		}
		v.loopBody[h] = body
	}
}

// inLoopOf reports whether slot pc is in the body of the loop headed by h,
// or of a loop nested in it.
func (v *verifier) inLoopOf(h, pc int) bool {
	for l := int(v.loopOf[pc]); l >= 0; l = v.loopParent[l] {
		if l == h {
			return true
		}
	}
	return false
}

// backEdge reports whether going from pc to t goes back to the header of
// a loop holding pc.
func (v *verifier) backEdge(pc, t int) bool {
	return v.head[t] && v.inLoopOf(t, pc)
}
