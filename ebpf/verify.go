package ebpf

import (
	"fmt"

	"github.com/bpfdb/bpfdb/ebpf/internal/core"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// ProgramType declares what programs attached to one hook may do: context
// layout, entry registers, allowed helpers and return range. The engine's
// hooks declare their types with it; see the core package for an example.
type ProgramType = core.ProgramType

// The parts of a program type.
type (
	Context      = core.Context
	Field        = core.Field
	FieldKind    = core.FieldKind
	RegionSpec   = core.RegionSpec
	RegisterSpec = core.RegisterSpec
	RegisterKind = core.RegisterKind
	Return       = core.Return
)

// Field and register kinds.
const (
	FieldScalar     = core.FieldScalar
	FieldPointer    = core.FieldPointer
	RegisterScalar  = core.RegisterScalar
	RegisterContext = core.RegisterContext
	RegisterRegion  = core.RegisterRegion
)

// TestProgramType is the permissive type of bpf_conformance `.data` files:
// r1 points to memLen writable bytes (or is 0 without memory), r2 holds
// memLen, every helper is allowed, any return value is accepted.
func TestProgramType(memLen int) *ProgramType { return core.TestProgramType(memLen) }

// VerifierError is a rejection by the verifier: the failing instruction,
// its disassembly, the register and stack state on that path, the reason
// and the verifier's log. Match it with errors.As; every VerifierError
// also matches ErrVerifier with errors.Is.
type VerifierError = verifier.Error

// VerifierCode classifies a rejection.
type VerifierCode = verifier.Code

// ErrVerifier is wrapped by every rejection.
var ErrVerifier = verifier.ErrRejected

// VerifyResult describes an accepted program: exploration statistics and,
// per instruction slot, the memory accesses proven in bounds.
type VerifyResult = verifier.Result

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Type is the program type; nil means TestProgramType(0).
	Type *ProgramType
	// Helpers whose prototypes calls are checked against; nil means
	// DefaultHelpers().
	Helpers *Helpers
	// Maps are the specs of the maps the program's MapNames refer to.
	Maps map[string]*maps.Spec
	// Limits; zero means the verifier's defaults (65536 instructions,
	// 1,000,000 instructions processed, 65536 stored states).
	MaxInstructions, MaxSteps, MaxStates int
	// NoWiden walks loops iteration by iteration, which proves that they
	// end, instead of widening them, whose termination is left to the
	// run-time instruction budget. Programs run without a budget need it.
	NoWiden bool
}

// Verify proves the program safe to run as a program of opts.Type: every
// memory access in bounds, no uninitialized reads, no pointer leaks,
// helper calls matching their prototypes. Loops are widened, so their
// termination rests on the run-time instruction budget, unless
// opts.NoWiden, which walks them and so proves that they end (an exact
// repeat of a state is rejected either way). A rejection is a
// *VerifierError.
func Verify(spec *ProgramSpec, opts *VerifyOptions) (*VerifyResult, error) {
	if opts == nil {
		opts = &VerifyOptions{}
	}
	helpers := opts.Helpers
	if helpers == nil {
		helpers = DefaultHelpers()
	}
	cfg := verifier.Config{
		Type:            opts.Type,
		Helpers:         map[int32]core.Prototype{},
		MaxInstructions: opts.MaxInstructions,
		MaxSteps:        opts.MaxSteps,
		MaxStates:       opts.MaxStates,
		NoWiden:         opts.NoWiden,
	}
	for _, h := range helpers.All() {
		cfg.Helpers[h.ID] = h.Proto
	}
	for _, name := range spec.MapNames {
		m := opts.Maps[name]
		if m == nil {
			return nil, fmt.Errorf("verify program %q: map %q is not provided", spec.Name, name)
		}
		cfg.Maps = append(cfg.Maps, m)
	}
	res, err := verifier.Verify(spec.Instructions, cfg)
	if err != nil {
		return nil, fmt.Errorf("verify program %q: %w", spec.Name, err)
	}
	return res, nil
}
