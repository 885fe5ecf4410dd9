package ebpf

import (
	"fmt"

	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// CollectionOptions configure NewCollection.
type CollectionOptions struct {
	// Helpers for every program; nil means DefaultHelpers().
	Helpers *Helpers
	// Maps replaces maps of the spec by existing maps of the same name, so
	// that state survives a reload. Their specs must be compatible.
	Maps map[string]maps.Map
	// Workers is the number of per-worker slots of per-worker maps.
	Workers int
	// Budget is the default instruction budget of the programs.
	Budget int64
	// Type is the program type every program is verified against; nil
	// means TestProgramType(0), as in ProgramOptions.
	Type *ProgramType
	// Types gives programs, by name, a type of their own instead of Type:
	// an object may hold programs for several hooks.
	Types map[string]*ProgramType
	// Unverified loads every program without verifying it; for tests of
	// the run-time checks only (see ProgramOptions.Unverified).
	Unverified bool
	// RuntimeChecks keeps every run-time memory check in every program
	// (see ProgramOptions.RuntimeChecks).
	RuntimeChecks bool
}

// Collection is the loaded content of a CollectionSpec.
type Collection struct {
	Maps     map[string]maps.Map
	Programs map[string]*Program
}

// NewCollection creates the spec's maps (or reuses those in opts.Maps) and
// loads its programs.
func NewCollection(spec *CollectionSpec, opts *CollectionOptions) (*Collection, error) {
	if opts == nil {
		opts = &CollectionOptions{}
	}
	helpers := opts.Helpers
	if helpers == nil {
		helpers = DefaultHelpers()
	}
	c := &Collection{Maps: map[string]maps.Map{}, Programs: map[string]*Program{}}
	for _, name := range sortedKeys(spec.Maps) {
		ms := spec.Maps[name]
		if m, ok := opts.Maps[name]; ok {
			if err := compatible(m.Spec(), ms); err != nil {
				return nil, fmt.Errorf("reuse map %q: %w", name, err)
			}
			c.Maps[name] = m
			continue
		}
		m, err := maps.New(ms, maps.Options{Workers: opts.Workers})
		if err != nil {
			return nil, err
		}
		c.Maps[name] = m
	}
	for _, name := range sortedKeys(spec.Programs) {
		typ := opts.Type
		if t, ok := opts.Types[name]; ok {
			typ = t
		}
		p, err := NewProgram(spec.Programs[name], &ProgramOptions{Helpers: helpers, Maps: c.Maps, Budget: opts.Budget, Type: typ, Unverified: opts.Unverified, RuntimeChecks: opts.RuntimeChecks})
		if err != nil {
			return nil, err
		}
		c.Programs[name] = p
	}
	return c, nil
}

func compatible(have, want *maps.Spec) error {
	if have.Type != want.Type || have.KeySize != want.KeySize || have.ValueSize != want.ValueSize || have.MaxEntries != want.MaxEntries {
		return fmt.Errorf("existing map is %s key %d value %d entries %d, spec wants %s key %d value %d entries %d",
			have.Type, have.KeySize, have.ValueSize, have.MaxEntries, want.Type, want.KeySize, want.ValueSize, want.MaxEntries)
	}
	return nil
}
