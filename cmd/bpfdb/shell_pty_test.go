//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ptyShell is a shell running interactively on a pseudo-terminal.
type ptyShell struct {
	t      *testing.T
	master *os.File
	scr    *screen
	errs   *syncBuffer
	done   chan int
}

// startPTYShell starts the interactive shell on db on a new
// pseudo-terminal, with HOME in a temporary directory holding history (if
// not "") as its history file.
func startPTYShell(t *testing.T, db *bpfdb.DB, history string) *ptyShell {
	master, tty := openPTY(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	if history != "" {
		if err := os.WriteFile(filepath.Join(home, historyFile), []byte(history), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &ptyShell{t: t, master: master, scr: &screen{new: make(chan struct{}, 1)}, errs: &syncBuffer{}, done: make(chan int, 1)}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b)
			p.scr.mu.Lock()
			p.scr.buf.Write(b[:n])
			p.scr.mu.Unlock()
			select {
			case p.scr.new <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	s := &shell{db: db, out: tty, errw: p.errs, print: printer{w: tty}, now: time.Now}
	go func() { p.done <- s.interactive(tty, tty) }()
	return p
}

func (p *ptyShell) typeIn(s string) {
	if _, err := p.master.WriteString(s); err != nil {
		p.t.Fatal(err)
	}
}

// quit types .quit and waits for the shell to leave with status 0.
func (p *ptyShell) quit() {
	p.typeIn(".quit\r")
	select {
	case code := <-p.done:
		if code != 0 {
			p.t.Errorf("the shell exited %d", code)
		}
	case <-time.After(20 * time.Second):
		p.t.Fatal("the shell did not leave at .quit")
	}
}

func openDB(t *testing.T) *bpfdb.DB {
	db, err := bpfdb.Open("", bpfdb.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestShellTerminal runs the shell on a pseudo-terminal: raw-mode line
// editing, a statement over two lines with the continuation prompt,
// Ctrl-C dropping a half-typed statement without leaving, the history
// file, and .quit.
func TestShellTerminal(t *testing.T) {
	// An old history entry, recalled with the up arrow below.
	p := startPTYShell(t, openDB(t), "SELECT 'from history';\n")
	scr, typeIn := p.scr, p.typeIn

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
	scr.waitFor(t, at, prompt)
	p.quit()
	if e := p.errs.String(); e != "" {
		t.Errorf("errors: %s", e)
	}
	hist, err := os.ReadFile(filepath.Join(os.Getenv("HOME"), historyFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT 'from history';\nSELECT\n42 AS answer;\nSELECT\nSELECT 7 AS seven;\nSELECT 'from history';\n.quit\n"
	if string(hist) != want {
		t.Errorf("history file:\n%s\nwant:\n%s", hist, want)
	}
}

// TestShellInterrupt: a SIGINT while a statement runs (what Ctrl-C sends
// when the terminal is not in raw mode) cancels the statement, and the
// shell goes on. The statement is a three-way cross join of 1024 rows, a
// billion rows to count: minutes of work, so only the cancellation ends
// it.
func TestShellInterrupt(t *testing.T) {
	db := openDB(t)
	setup := "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3), (4), (5), (6), (7), (8)"
	for range 7 {
		setup += "; INSERT INTO t SELECT a FROM t"
	}
	if err := db.Exec(context.Background(), setup); err != nil {
		t.Fatal(err)
	}
	p := startPTYShell(t, db, "")
	at := p.scr.waitFor(t, 0, prompt) // the shell handles SIGINT from here on
	p.typeIn("SELECT count(*) FROM t x, t y, t z;\r")
	at = p.scr.waitFor(t, at, "\n") // the line was read: the statement runs
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.errs.String(), "interrupted") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGINTs did not cancel the statement; errors: %q", p.errs.String())
		}
		// A SIGINT between statements is ignored, so sending until the
		// statement reports it cannot cut a later one short.
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	at = p.scr.waitFor(t, at, prompt)
	p.typeIn("SELECT 1 AS after;\r")
	at = p.scr.waitFor(t, at, "after")
	p.scr.waitFor(t, at, prompt)
	p.quit()
	if e := p.errs.String(); e != "error: interrupted\n" {
		t.Errorf("errors: %q, want one interrupted statement", e)
	}
}

// TestScriptInterrupt: a SIGINT while a script's statement runs cancels it
// and stops the script (exit 1); the statements after it do not run.
func TestScriptInterrupt(t *testing.T) {
	db := openDB(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	var out bytes.Buffer
	errs := &syncBuffer{}
	s := &shell{db: db, out: &out, errw: errs, print: printer{w: &out}, now: time.Now}
	done := make(chan int, 1)
	go func() { done <- s.script(pr) }()

	setup := "CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3), (4), (5), (6), (7), (8);"
	for range 7 {
		setup += " INSERT INTO t SELECT a FROM t;"
	}
	// A Write returns once the shell has read the line, so the shell
	// catches SIGINT before the signal is sent: one signal, no race with
	// the end of the script (after which a SIGINT would end the test).
	for _, l := range []string{setup + "\n", "SELECT count(*) FROM t x, t y, t z;\n"} {
		if _, err := io.WriteString(pw, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go io.WriteString(pw, "SELECT 'not run' AS s;\n") // the script may never read it
	select {
	case code := <-done:
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the SIGINT did not stop the script")
	}
	want := "error: interrupted\nbpfdb shell: interrupted: the rest of the input was not run\n"
	if errs.String() != want {
		t.Errorf("errors:\n%s\nwant:\n%s", errs.String(), want)
	}
	if strings.Contains(out.String(), "not run") {
		t.Errorf("a statement after the interrupt ran:\n%s", out.String())
	}
}

// TestShellTerminalRead: an error in a file .read on the terminal names
// the file, line and column, as in a script; a statement typed on the
// terminal keeps the position the engine reports.
func TestShellTerminalRead(t *testing.T) {
	p := startPTYShell(t, openDB(t), "")
	at := p.scr.waitFor(t, 0, prompt)
	p.typeIn(".read testdata/sql/read-error.sql\r")
	at = p.scr.waitFor(t, at, "one")
	at = p.scr.waitFor(t, at, prompt)
	p.typeIn("SELECT\rnope;\r")
	p.scr.waitFor(t, at, prompt)
	p.quit()
	want := "error: testdata/sql/read-error.sql:4:8: column \"nope\" does not exist\nSELECT nope\n       ^\n" +
		"error: at 2:1: column \"nope\" does not exist\nnope\n^\n"
	if got := p.errs.String(); got != want {
		t.Errorf("errors:\n%s\nwant:\n%s", got, want)
	}
}
