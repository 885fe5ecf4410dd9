package platform

import (
	"errors"
	"runtime"
	"testing"
	"unsafe"
)

// TestSupported pins the capability report to the build: the platforms with
// a trampoline and an mmap implementation, and nothing else.
func TestSupported(t *testing.T) {
	want := runtime.GOARCH == "amd64" &&
		(runtime.GOOS == "linux" || runtime.GOOS == "darwin" || runtime.GOOS == "freebsd")
	if Supported() != want {
		t.Fatalf("Supported() = %v on %s/%s, want %v", Supported(), runtime.GOOS, runtime.GOARCH, want)
	}
	seg, err := NewCodeSegment([]byte{0xc3}) // ret
	if !want {
		if !errors.Is(err, ErrUnsupported) {
			t.Fatalf("NewCodeSegment = %v, %v; want ErrUnsupported", seg, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	var state uint64
	Call(seg.Entry(), unsafe.Pointer(&state))
}

func TestNoCode(t *testing.T) {
	_, err := NewCodeSegment(nil)
	if err == nil {
		t.Fatal("NewCodeSegment(nil) succeeded")
	}
	want := "create code segment: no code"
	if !Supported() {
		want = "create code segment: " + ErrUnsupported.Error()
	}
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestRoundToPages(t *testing.T) {
	p := uintptr(pageSize)
	for _, c := range []struct{ n, want uintptr }{
		{1, p}, {p - 1, p}, {p, p}, {p + 1, 2 * p}, {3 * p, 3 * p},
	} {
		if got := roundToPages(c.n); got != c.want {
			t.Errorf("roundToPages(%d) = %d, want %d (page %d)", c.n, got, c.want, p)
		}
	}
}
