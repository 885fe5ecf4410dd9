package verifier

import (
	"slices"

	"github.com/bpfdb/bpfdb/ebpf/asm"
)

// Loops are found on the control flow graph of each function, not from
// the layout: compilers rotate loops, so a loop's header (the instruction
// every path into the loop goes through) may be the target of a forward
// jump from its last block, and the targets of backward jumps may be mere
// join points inside the body. A depth-first search of a function finds
// an edge back to a slot on its stack in every cycle; its target is a
// loop header (of a natural loop when it dominates the edge's source, as
// in every reducible graph), and the loop's body is what reaches the
// edge's source without passing the header. Loops with one header are
// merged; a loop inside another is nested in it.

// succs returns the slots control may go to after pc inside its function
// (a local call goes on after the call): n of them, in s.
func (v *verifier) succs(pc int) (s [2]int, n int) {
	ins := v.ins(pc)
	next := pc + ins.Slots()
	switch {
	case ins.IsExit():
		return s, 0
	case ins.IsLocalCall():
		return [2]int{next}, 1
	case ins.IsBranch():
		t := pc + 1 + int(ins.JumpOffset())
		if ins.OpCode.JumpOp() == asm.Ja || t == next {
			return [2]int{t}, 1
		}
		return [2]int{t, next}, 2
	}
	return [2]int{next}, 1
}

// findLoops computes the loops of every function (entries are the
// functions' first slots), and sets head, loopOf, loopParent, loopBody and
// inLoop. Every cycle of the program passes a loop header.
func (v *verifier) findLoops(entries []int) {
	n := v.nslots
	v.loopOf = make([]int32, n)
	for i := range v.loopOf {
		v.loopOf[i] = -1
	}
	// The edges back to a slot on the stack of a depth-first search of
	// each function.
	var back [][2]int
	const (
		unseen = iota
		onStack
		done
	)
	mark := make([]uint8, n)
	// A frame of the search is a run of slots start..pc, each falling
	// through to the next, and i successors of pc searched.
	type frame struct{ start, pc, i int }
	var stack []frame
	for _, e := range entries {
		mark[e] = onStack
		stack = append(stack[:0], frame{e, e, 0})
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			ss, ns := v.succs(f.pc)
			if f.i == 0 && ns == 1 && !v.ins(f.pc).IsBranch() && mark[ss[0]] == unseen {
				mark[ss[0]] = onStack
				f.pc = ss[0]
				continue
			}
			if f.i < ns {
				s := ss[f.i]
				f.i++
				switch mark[s] {
				case onStack:
					back = append(back, [2]int{f.pc, s})
				case unseen:
					mark[s] = onStack
					stack = append(stack, frame{s, s, 0})
				}
				continue
			}
			for x := f.start; x <= f.pc; x++ {
				if mark[x] == onStack {
					mark[x] = done
				}
			}
			stack = stack[:len(stack)-1]
		}
	}
	if len(back) == 0 {
		return
	}
	v.narrowed = make([][]threshold, n)
	// The predecessors of slot x are edges[start[x]:start[x+1]].
	start := make([]int32, n+1)
	for pc := 0; pc < n; pc++ {
		if v.at[pc] >= 0 {
			ss, ns := v.succs(pc)
			for _, s := range ss[:ns] {
				start[s+1]++
			}
		}
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	edges := make([]int, start[n])
	fill := slices.Clone(start[:n])
	for pc := 0; pc < n; pc++ {
		if v.at[pc] >= 0 {
			ss, ns := v.succs(pc)
			for _, s := range ss[:ns] {
				edges[fill[s]] = pc
				fill[s]++
			}
		}
	}
	preds := func(x int) []int { return edges[start[x]:start[x+1]] }
	v.loopBody = map[int][]int{}
	v.loopParent = map[int]int{}
	// The body of a header is what reaches the sources of its back edges
	// without passing it; stamp marks the slots of the body being built.
	slices.SortFunc(back, func(a, b [2]int) int { return a[1] - b[1] })
	stamp := make([]int32, n)
	var work []int
	for i := 0; i < len(back); {
		h := back[i][1]
		gen := int32(i + 1)
		stamp[h] = gen
		body := []int{h}
		for ; i < len(back) && back[i][1] == h; i++ {
			work = append(work[:0], back[i][0])
			for len(work) > 0 {
				x := work[len(work)-1]
				work = work[:len(work)-1]
				if stamp[x] == gen {
					continue
				}
				stamp[x] = gen
				body = append(body, x)
				work = append(work, preds(x)...)
			}
		}
		v.loopBody[h] = body
	}
	// Nesting: the innermost loop holding each slot is the one with the
	// smallest body; a loop's parent is the innermost other loop holding
	// its header.
	headers := make([]int, 0, len(v.loopBody))
	for h := range v.loopBody {
		headers = append(headers, h)
	}
	slices.SortFunc(headers, func(a, b int) int {
		if d := len(v.loopBody[b]) - len(v.loopBody[a]); d != 0 {
			return d
		}
		return a - b
	})
	for _, h := range headers {
		v.loopParent[h] = int(v.loopOf[h])
		for _, pc := range v.loopBody[h] {
			v.loopOf[pc] = int32(h)
			v.inLoop[pc] = true
		}
		v.head[h] = true
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
