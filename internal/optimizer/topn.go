package optimizer

import "github.com/bpfdb/bpfdb/internal/planner"

// fuseTopN is the top_n pass: a Limit with a count over an Order, with
// only projections between them (which keep rows one for one), becomes a
// TopN under those projections.
//
// It counts the TopNs it made.
func fuseTopN(p *planner.Plan, changes *int) error {
	p.Root = topN(p.Root, changes)
	return nil
}

func topN(n planner.Node, changes *int) planner.Node {
	if ins := n.Inputs(); len(ins) > 0 {
		out := make([]planner.Node, len(ins))
		for i, in := range ins {
			out[i] = topN(in, changes)
		}
		setInputs(n, out)
	}
	l, ok := n.(*planner.Limit)
	if !ok || l.Count < 0 {
		return n
	}
	var projs []*planner.Project
	cur := l.Input
	for {
		pr, ok := cur.(*planner.Project)
		if !ok {
			break
		}
		projs = append(projs, pr)
		cur = pr.Input
	}
	o, ok := cur.(*planner.Order)
	if !ok {
		return n
	}
	t := &planner.TopN{Input: o.Input, Keys: o.Keys, Count: l.Count, Offset: l.Offset}
	*changes++
	if len(projs) == 0 {
		return t
	}
	projs[len(projs)-1].Input = t
	return projs[0]
}
