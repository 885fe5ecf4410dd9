// Package interp is the runtime's interpreter. Compile turns validated
// instructions into a pre-decoded form (one dense operation code per slot,
// jump targets absolute, map references and helper ids resolved), and
// Program.Run executes it on a Machine, checking every load and store
// against the run's memory regions and charging the instruction budget at
// backward jumps and local calls. Program.Unchecked drops the region check
// of the accesses a verifier proved in bounds.
//
// It imports nothing from the engine.
package interp
