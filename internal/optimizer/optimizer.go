package optimizer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/internal/planner"
)

// A Pass is one named rewrite of a plan. Run rewrites the plan in place
// (replacing Root and nodes as it likes) and must leave it valid
// (Validate); it fails only for plans it cannot handle, never for a
// query's data.
type Pass struct {
	Name string
	Run  func(*planner.Plan) error
	// run is Run that also counts the pass's changes (Passes says what it
	// counts).
	run func(*planner.Plan, *int) error
}

// pass makes a Pass of a counting rewrite.
func pass(name string, run func(*planner.Plan, *int) error) Pass {
	return Pass{Name: name, run: run, Run: func(p *planner.Plan) error {
		var n int
		return run(p, &n)
	}}
}

// Passes returns the optimizer's passes in the order Optimize runs them.
// Pushdown runs before join ordering (so that comma joins have become
// inner joins with conditions), and column pruning after both (so that the
// columns join conditions and filters read are known). What each counts
// as its changes (PassTiming.Changes):
//
//	constant_folding     expressions changed, conjuncts and nodes dropped
//	                     or emptied
//	filter_pushdown      predicates moved into scans, joins whose kind
//	                     changed (cross or left to inner, mark to semi)
//	join_order           trees of joins whose order or sides changed
//	semijoin_reduction   aggregates whose input a semi join now filters
//	projection_pushdown  columns and aggregates dropped, projections removed
//	top_n                TopNs made
func Passes() []Pass {
	return []Pass{
		pass("constant_folding", foldConstants),
		pass("filter_pushdown", pushFilters),
		pass("join_order", orderJoins),
		pass("semijoin_reduction", reduceJoins),
		pass("projection_pushdown", pruneColumns),
		pass("top_n", fuseTopN),
	}
}

// passNames returns the names of Passes, in order.
func passNames() []string {
	var names []string
	for _, p := range Passes() {
		names = append(names, p.Name)
	}
	return names
}

// Options configure Optimize.
type Options struct {
	// Disabled names the passes not to run (SET disabled_optimizers).
	Disabled map[string]bool
	// Validate checks the plan (Validate) before the first pass and after
	// every pass, and fails naming the pass that broke it: for tests and
	// for debugging the optimizer at run time. Builds with -tags
	// invariants always validate.
	Validate bool
}

// ErrUnknownPass is wrapped by ParseDisabled's error for a name that is
// not a pass.
var ErrUnknownPass = errors.New("unknown optimizer pass")

// ParseDisabled parses the value of SET disabled_optimizers: pass names
// separated by commas, case-insensitive, spaces around names ignored; the
// empty string disables nothing. An unknown name fails with an error that
// wraps ErrUnknownPass and lists the valid names.
func ParseDisabled(s string) (map[string]bool, error) {
	out := map[string]bool{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	valid := passNames()
	for _, f := range strings.Split(s, ",") {
		name := strings.ToLower(strings.TrimSpace(f))
		if !slices.Contains(valid, name) {
			return nil, fmt.Errorf("disabled_optimizers %q: %w %q (valid: %s)", s, ErrUnknownPass, name, strings.Join(valid, ", "))
		}
		out[name] = true
	}
	return out, nil
}

// PassTiming is what one pass did in one Optimize call.
type PassTiming struct {
	Name     string
	Disabled bool          // skipped because Options.Disabled named it
	Duration time.Duration // time spent in the pass (0 if disabled)
	Changes  int           // what the pass changed, in the unit Passes lists
}

// Timings lists the passes of one Optimize call in the order they ran.
type Timings []PassTiming

// String prints one line per pass, "name: 12.3µs, 4 changes" or "name:
// disabled", for EXPLAIN ANALYZE.
func (ts Timings) String() string {
	var b strings.Builder
	for _, t := range ts {
		if t.Disabled {
			fmt.Fprintf(&b, "%s: disabled\n", t.Name)
		} else {
			fmt.Fprintf(&b, "%s: %v, %d changes\n", t.Name, t.Duration, t.Changes)
		}
	}
	return b.String()
}

// Total returns the time spent in all passes.
func (ts Timings) Total() time.Duration {
	var d time.Duration
	for _, t := range ts {
		d += t.Duration
	}
	return d
}

// Optimize runs the passes that opts does not disable over p, in the order
// of Passes, and returns how long each took.
func Optimize(p *planner.Plan, opts Options) (Timings, error) {
	for name := range opts.Disabled {
		if !slices.Contains(passNames(), name) {
			return nil, fmt.Errorf("optimize: disabled pass: %w %q", ErrUnknownPass, name)
		}
	}
	validate := opts.Validate || invariants
	if validate {
		if err := Validate(p); err != nil {
			return nil, fmt.Errorf("optimize: input plan: %w", err)
		}
	}
	var ts Timings
	for _, pass := range Passes() {
		if opts.Disabled[pass.Name] {
			ts = append(ts, PassTiming{Name: pass.Name, Disabled: true})
			continue
		}
		start := time.Now()
		var changes int
		err := pass.run(p, &changes)
		ts = append(ts, PassTiming{Name: pass.Name, Duration: time.Since(start), Changes: changes})
		if err != nil {
			return ts, fmt.Errorf("optimize: %s: %w", pass.Name, err)
		}
		if validate {
			if err := Validate(p); err != nil {
				return ts, fmt.Errorf("optimize: after %s: %w", pass.Name, err)
			}
		}
	}
	return ts, nil
}
