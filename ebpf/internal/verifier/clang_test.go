package verifier_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/asm"
	"github.com/bpfdb/bpfdb/ebpf/internal/verifier"
)

// clangWant is the verdict on each program of testdata/c/hook.o (compiled
// from hook.c with clang -O2 by testdata/c/build.sh): accepted, or the
// code of the rejection.
var clangWant = map[string]*verifier.Code{
	"ok_loop_over_region":        nil,
	"ok_masked_index":            nil,
	"ok_map_counter":             nil,
	"ok_ctx_write":               nil,
	"ok_printk":                  nil,
	"ok_bounded_unknown_loop":    nil,
	"ok_map_value_array":         nil,
	"ok_stack_array":             nil,
	"ok_subprogram":              nil,
	"ok_loop_to_unbounded_count": nil,
	"bad_out_of_bounds_index":    code(verifier.CodeOutOfBounds),
	"bad_null_pointer_no_check":  code(verifier.CodeNullPointer),
	"bad_read_only_ctx_write":    code(verifier.CodeReadOnly),
	"bad_uninit_stack_printk":    code(verifier.CodeUninitStack),
	"bad_pointer_leak_ctx":       code(verifier.CodePointerLeak),
	"bad_pointer_leak_map":       code(verifier.CodePointerLeak),
	"bad_return_out_of_range":    code(verifier.CodeReturn),
}

func code(c verifier.Code) *verifier.Code { return &c }

// TestClangPrograms verifies programs compiled from C against hookType.
func TestClangPrograms(t *testing.T) {
	cs, err := ebpf.LoadCollectionSpecFromFile("testdata/c/hook.o")
	if err != nil {
		t.Fatal(err)
	}
	names := slices.Sorted(maps.Keys(cs.Programs))
	if want := slices.Sorted(maps.Keys(clangWant)); !slices.Equal(names, want) {
		t.Fatalf("programs %v, want %v", names, want)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			spec := cs.Programs[name]
			_, err := ebpf.Verify(spec, &ebpf.VerifyOptions{Type: hookType, Maps: cs.Maps})
			want := clangWant[name]
			var ve *verifier.Error
			switch {
			case want == nil && err != nil:
				errors.As(err, &ve)
				t.Fatalf("rejected: %v\n%s\n%s", err, logOf(ve), asm.Disassemble(spec.Instructions))
			case want != nil && !errors.As(err, &ve):
				t.Fatalf("got %v, want a rejection (%s)\n%s", err, *want, asm.Disassemble(spec.Instructions))
			case want != nil && ve.Code != *want:
				t.Fatalf("got %s: %v, want %s\n%s", ve.Code, err, *want, ve.Log)
			}
		})
	}
}

func logOf(ve *verifier.Error) string {
	if ve == nil {
		return ""
	}
	return ve.Log
}
