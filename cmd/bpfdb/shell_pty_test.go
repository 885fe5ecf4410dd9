//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/bpfdb/bpfdb"
)

// openPTY opens a pseudo-terminal pair: the test types into master and
// reads what the shell writes there; the shell runs on the terminal end.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		m.Close()
		t.Skipf("unlock the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		m.Close()
		t.Skipf("number of the pseudo-terminal: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// screen collects what the shell writes to the terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
	new chan struct{} // signalled on every write
}

// waitFor waits until the screen shows want after position from, and
// returns the position after it. The deadline only guards against a hung
// shell; nothing is timed.
func (s *screen) waitFor(t *testing.T, from int, want string) int {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		i := strings.Index(s.buf.String()[from:], want)
		text := s.buf.String()
		s.mu.Unlock()
		if i >= 0 {
			return from + i + len(want)
		}
		select {
		case <-s.new:
		case <-deadline:
			t.Fatalf("the terminal never showed %q; it shows:\n%q", want, text[from:])
		}
	}
}

// TestShellTerminal runs the shell on a pseudo-terminal: raw-mode line
// editing, a statement over two lines with the continuation prompt,
// Ctrl-C dropping a half-typed statement without leaving, the history
// file, and .quit.
func TestShellTerminal(t *testing.T) {
	master, tty := openPTY(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	// An old history entry, recalled with the up arrow below.
	if err := os.WriteFile(filepath.Join(home, historyFile), []byte("SELECT 'from history';\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	db, err := bpfdb.Open("", bpfdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var errs bytes.Buffer
	s := &shell{db: db, out: tty, errw: &errs, print: printer{w: tty}, now: time.Now}

	scr := &screen{new: make(chan struct{}, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			scr.mu.Lock()
			scr.buf.Write(b[:n])
			scr.mu.Unlock()
			select {
			case scr.new <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	done := make(chan int)
	go func() { done <- s.interactive(tty, tty) }()
	typeIn := func(s string) {
		if _, err := master.WriteString(s); err != nil {
			t.Fatal(err)
		}
	}

	at := scr.waitFor(t, 0, prompt)
	typeIn("SELECT\r")
	at = scr.waitFor(t, at, continuePrompt)
	typeIn("42 AS answer;\r")
	at = scr.waitFor(t, at, "42")
	at = scr.waitFor(t, at, prompt)

	// Ctrl-C drops the statement being typed, over both of its lines.
	typeIn("SELECT\r")
	at = scr.waitFor(t, at, continuePrompt)
	typeIn("nonsense\x03")
	at = scr.waitFor(t, at, prompt)
	typeIn("SELECT 7 AS seven;\r")
	at = scr.waitFor(t, at, "seven")
	at = scr.waitFor(t, at, prompt)

	// The up arrow recalls lines: the newest first, then older ones back
	// to the history file's.
	typeIn("\x1b[A\x1b[A\x1b[A\x1b[A\x1b[A\r")
	at = scr.waitFor(t, at, "from history")
	at = scr.waitFor(t, at, prompt)

	typeIn(".quit\r")
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("the shell exited %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the shell did not leave at .quit")
	}
	_ = at
	if errs.Len() != 0 {
		t.Errorf("errors: %s", errs.String())
	}
	hist, err := os.ReadFile(filepath.Join(home, historyFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT 'from history';\nSELECT\n42 AS answer;\nSELECT\nSELECT 7 AS seven;\nSELECT 'from history';\n.quit\n"
	if string(hist) != want {
		t.Errorf("history file:\n%s\nwant:\n%s", hist, want)
	}
}
