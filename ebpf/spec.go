package ebpf

import (
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/maps"
)

// ProgramSpec is a program before it is loaded: its instructions and the
// names of the maps its map pseudo-loads refer to.
//
// A lddw with src PseudoMapFD or PseudoMapIdx loads map MapNames[imm]; one
// with src PseudoMapValue or PseudoMapIdxValue loads the address of byte
// imm>>32 of the (single) value of array map MapNames[uint32(imm)].
type ProgramSpec struct {
	// Name is the program's symbol name.
	Name string
	// Section is the ELF section it came from ("" for other sources).
	Section string
	// Instructions are the program, with every bpf-to-bpf callee appended
	// after the entry function.
	Instructions asm.Instructions
	// MapNames is the program's map table.
	MapNames []string
}

// CollectionSpec is the content of an ELF object: its maps and programs.
type CollectionSpec struct {
	Maps     map[string]*maps.Spec
	Programs map[string]*ProgramSpec
}
