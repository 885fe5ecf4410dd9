package planner

import (
	"sort"
	"strings"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// relation is one FROM item as names see it: a table, view, CTE or
// derived table under its alias, with its columns.
type relation struct {
	name string
	cols []scopeCol
}

// scopeCol is a column a name can refer to.
type scopeCol struct {
	name string
	col  Column
	// hidden columns are the right-hand copies of USING columns: only a
	// qualified name finds them, and * skips them.
	hidden bool
}

// scope is what names resolve against while one SELECT block is bound: the
// FROM items, then the enclosing queries' scopes (outer), for correlated
// subqueries.
type scope struct {
	rels  []*relation
	outer *scope
	// corr collects the outer columns that the innermost enclosing
	// subquery expression reads; nil outside subquery expressions. A
	// derived table shares its parent's corr: it is part of the same
	// subquery's plan.
	corr *corrSet
	// agg is set while the block's post-aggregation expressions (SELECT,
	// HAVING, ORDER BY) are bound: a subquery there sees the grouped
	// values of this block, not its raw columns.
	agg *aggState
}

// corrSet is the set of outer columns a subquery reads.
type corrSet struct {
	ids map[ColumnID]bool
}

func newCorrSet() *corrSet { return &corrSet{ids: map[ColumnID]bool{}} }

// resolved is a column reference found in a scope.
type resolved struct {
	col   Column
	local bool // found in the scope itself, not an enclosing one
}

// lookup resolves a column reference: [col], [table, col] or
// [schema, table, col].
func (s *scope) lookup(ref *ast.ColumnRef) (resolved, error) {
	parts := ref.Parts
	if len(parts) == 3 {
		if parts[0] != "main" {
			return resolved{}, errorf(ref.At, ErrNotFound, "schema %q does not exist", parts[0])
		}
		parts = parts[1:]
	}
	crossed := 0
	for sc := s; sc != nil; sc = sc.outer {
		c, found, err := sc.find(ref, parts)
		if err != nil {
			return resolved{}, err
		}
		if found {
			if sc == s {
				return resolved{col: c, local: true}, nil
			}
			if crossed > 1 {
				return resolved{}, errorf(ref.At, ErrNotSupported, "column %q is read by a subquery nested more than one level inside its query; only subqueries correlated with the query directly around them are supported", strings.Join(ref.Parts, "."))
			}
			if sc.agg != nil && sc.agg.active {
				g, ok := sc.agg.groupOf(c.ID)
				if !ok {
					return resolved{}, errorf(ref.At, ErrGrouping, "column %q must appear in the GROUP BY clause or be used in an aggregate function", strings.Join(ref.Parts, "."))
				}
				c = g
			}
			if s.corr != nil {
				s.corr.ids[c.ID] = true
			}
			return resolved{col: c}, nil
		}
		if sc.outer != nil && sc.corr != sc.outer.corr {
			crossed++
		}
	}
	if len(parts) == 2 && !s.hasTable(parts[0]) {
		return resolved{}, errorf(ref.At, ErrNotFound, "missing FROM-clause entry for table %q", parts[0])
	}
	return resolved{}, errorf(ref.At, ErrNotFound, "column %q does not exist", strings.Join(ref.Parts, "."))
}

// hasTable reports whether s or an enclosing scope has a FROM item called
// name.
func (s *scope) hasTable(name string) bool {
	for sc := s; sc != nil; sc = sc.outer {
		for _, r := range sc.rels {
			if r.name == name {
				return true
			}
		}
	}
	return false
}

// find looks a reference up in this scope only.
func (s *scope) find(ref *ast.ColumnRef, parts []string) (Column, bool, error) {
	if len(parts) == 2 {
		for _, r := range s.rels {
			if r.name != parts[0] {
				continue
			}
			for _, c := range r.cols {
				if c.name == parts[1] {
					return c.col, true, nil
				}
			}
			// The FROM item hides any outer one of the same name.
			return Column{}, false, errorf(ref.At, ErrNotFound, "column %q does not exist", strings.Join(ref.Parts, "."))
		}
		return Column{}, false, nil
	}
	var hits []string
	var found Column
	for _, r := range s.rels {
		for _, c := range r.cols {
			if c.name == parts[0] && !c.hidden {
				if len(hits) == 0 {
					found = c.col
				}
				name := c.name
				if r.name != "" {
					name = r.name + "." + c.name
				}
				hits = append(hits, name)
			}
		}
	}
	switch len(hits) {
	case 0:
		return Column{}, false, nil
	case 1:
		return found, true, nil
	}
	sort.Strings(hits)
	return Column{}, false, errorf(ref.At, ErrAmbiguous, "column reference %q is ambiguous (could be %s)", parts[0], strings.Join(hits, " or "))
}

// star expands * (table "") or table.* into the visible columns, named as
// the FROM items name them.
func (s *scope) star(st *ast.Star) ([]scopeCol, error) {
	var out []scopeCol
	for _, r := range s.rels {
		if st.Table != "" && r.name != st.Table {
			continue
		}
		for _, c := range r.cols {
			if !c.hidden {
				out = append(out, c)
			}
		}
		if st.Table != "" {
			return out, nil
		}
	}
	if st.Table != "" {
		return nil, errorf(st.At, ErrNotFound, "missing FROM-clause entry for table %q", st.Table)
	}
	if len(out) == 0 {
		return nil, errorf(st.At, ErrInvalid, "SELECT * with no tables specified")
	}
	return out, nil
}
