package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/internal/sql/parser"
)

const shellUsage = `usage: bpfdb shell [--format table|csv|json] [--threads N] [FILE]

Opens the database FILE (created if absent; without FILE, or with
":memory:", an in-memory database; options may follow as in
FILE?threads=2&memory_limit=1GB) and reads SQL statements, each ending at a
';' outside quotes and comments, and dot commands (.help lists them).

On a terminal the shell edits lines (arrows, Ctrl-A/E/K/U/W), keeps a
history in $HOME/.bpfdb_history, and Ctrl-C cancels the running statement
(or the statement being typed) without leaving; Ctrl-D leaves. Otherwise it
runs the statements it reads as a script: a statement that fails prints its
error to stderr and the script goes on; the exit status is 1 if any failed.
Ctrl-C cancels the running statement and stops the script.
`

const shellHelp = `.help               this text
.quit, .exit        leave the shell
.mode table|csv|json
                    how results print (table: aligned, with a row count)
.timer on|off       print each statement's run time after its result
.tables             list the tables and views
.schema [NAME]      print the CREATE statements of every table and view,
                    or of NAME
.read FILE          run the statements and dot commands of FILE
SQL statements end at ';'; a statement that is not ended by the end of the
input runs then.
`

// shellCommand runs bpfdb shell [flags] [FILE].
func shellCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bpfdb shell", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, shellUsage) }
	f := dbFlags{log: stderr}
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 1, fs.NArg() == 1 && f.db != "":
		fmt.Fprint(stderr, shellUsage)
		return 2
	case fs.NArg() == 1:
		f.db = fs.Arg(0)
	}
	format, err := parseFormat(f.format)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb shell: %v\n", err)
		return 2
	}
	return runShell(f, format, stdin, stdout, stderr)
}

// runShell opens the database and runs the shell on a terminal or on a
// script, as stdin is.
func runShell(f dbFlags, format outputFormat, stdin io.Reader, stdout, stderr io.Writer) int {
	db, err := f.open()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb shell: %v\n", err)
		return 1
	}
	defer db.Close()
	s := &shell{db: db, out: stdout, errw: stderr, print: printer{w: stdout, format: format}, now: clock}
	if in, out, ok := terminals(stdin, stdout); ok {
		return s.interactive(in, out)
	}
	return s.script(stdin)
}

// terminals returns stdin and stdout as files when both are terminals.
func terminals(stdin io.Reader, stdout io.Writer) (in, out *os.File, ok bool) {
	in, ok1 := stdin.(*os.File)
	out, ok2 := stdout.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, nil, false
	}
	return in, out, true
}

// shell reads statements and dot commands line by line and runs them.
type shell struct {
	db    *bpfdb.DB
	out   io.Writer // results
	errw  io.Writer // errors
	print printer
	timer bool
	now   func() time.Time // the clock .timer reads

	pending   strings.Builder // an unfinished statement's text, empty between statements
	pendingAt origin          // where pending starts in the input
	input     struct {        // what lines reads: stdin or a .read file
		name string
		line int // of the line being handled
	}
	failed   bool // a statement or command failed
	reads    int  // .read files being read, one inside the other
	terminal bool // reading from a terminal: Ctrl-C does not stop the shell

	mu          sync.Mutex
	cancel      context.CancelFunc // cancels the running statement; nil between statements
	interrupted bool               // a SIGINT came (a script stops reading)
}

// clock is the clock .timer reads; tests replace it with one that ticks
// a millisecond a reading.
var clock = time.Now

// maxReadDepth bounds .read inside .read (a file that reads itself).
const maxReadDepth = 16

// line handles one line of input: a dot command when no statement is
// pending, otherwise SQL text, of which the complete statements run. It
// reports whether the shell should end (.quit).
func (s *shell) line(l string) (quit bool) {
	if s.pending.Len() == 0 && strings.HasPrefix(strings.TrimSpace(l), ".") {
		return s.dot(strings.TrimSpace(l))
	}
	continued := s.pending.Len() > 0
	if !continued {
		s.pendingAt = origin{name: s.input.name, line: s.input.line, col: 1}
	}
	s.pending.WriteString(l)
	s.pending.WriteByte('\n')
	if continued && !strings.Contains(l, ";") {
		// Split cuts only at ';': no statement ends on this line. Not
		// splitting again keeps a statement of many lines (a long
		// INSERT) linear to read.
		return false
	}
	text := s.pending.String()
	stmts, rest := parser.Split(text)
	s.pending.Reset()
	// A stuck rest runs now, to report its error, not after the next ';'.
	runRest := stuck(rest)
	s.runSplit(text, stmts, rest, runRest)
	if !runRest && rest != "" {
		s.pendingAt = s.origin(text, len(text)-len(rest)) // rest may start inside a line
		s.pending.WriteString(rest)
	}
	return false
}

// runSplit runs the statements Split cut from text, the pending text,
// each with where it starts in the input, and then rest if runRest.
func (s *shell) runSplit(text string, stmts []string, rest string, runRest bool) {
	from := 0
	for _, st := range stmts {
		i := statementOffset(text, st, from)
		s.run(st, s.origin(text, i))
		from = i + len(st)
	}
	if runRest && rest != "" {
		s.run(rest, s.origin(text, len(text)-len(rest))) // rest is text's tail
	}
}

// statementOffset returns where st, a statement Split cut from text,
// starts: the first place at or after from that holds st and then the ';'
// that ended it.
func statementOffset(text, st string, from int) int {
	for i := from; i <= len(text)-len(st); {
		j := strings.Index(text[i:], st)
		if j < 0 {
			break
		}
		k := i + j
		if k+len(st) < len(text) && text[k+len(st)] == ';' {
			return k
		}
		i = k + 1
	}
	panic(fmt.Sprintf("BUG: statement %q is not in the text %q it was split from", st, text))
}

// origin is where a statement's text starts in a script: its line and
// column (from 1) in the input called name.
type origin struct {
	name      string
	line, col int
}

// origin returns where offset off of the pending text lies in the input.
// Columns count characters, as the parser's do.
func (s *shell) origin(text string, off int) origin {
	nl := strings.LastIndexByte(text[:off], '\n')
	if nl < 0 { // on the pending text's first line
		return origin{name: s.pendingAt.name, line: s.pendingAt.line, col: s.pendingAt.col + utf8.RuneCountInString(text[:off])}
	}
	return origin{
		name: s.pendingAt.name,
		line: s.pendingAt.line + strings.Count(text[:off], "\n"),
		col:  utf8.RuneCountInString(text[nl+1:off]) + 1,
	}
}

// stuck reports whether text, which Split left unfinished, holds a
// lexical error that more input cannot mend (an unknown character, a
// malformed number), unlike an unterminated string or comment, which the
// next lines may close: such an error ends before the end of the text.
func stuck(text string) bool {
	if text == "" {
		return false
	}
	toks := parser.Lex(text)
	last := toks[len(toks)-1]
	return last.Kind == parser.Invalid && last.Pos.Offset+len(last.Text) < len(text)
}

// finish runs the statement that the end of the input left unfinished.
func (s *shell) finish() {
	if s.pending.Len() == 0 {
		return
	}
	// Split drops a rest of only space and comments, which the lines
	// appended without splitting may have left.
	text := s.pending.String()
	stmts, rest := parser.Split(text)
	s.pending.Reset()
	s.runSplit(text, stmts, rest, true)
}

// run runs one statement and prints its result (or its error; in a
// script, with the error's place in the input).
func (s *shell) run(sql string, at origin) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	if s.interrupted && !s.terminal {
		cancel() // a script interrupted between two lines runs nothing more
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
	}()
	start := s.now()
	res, err := s.db.Query(ctx, sql)
	elapsed := s.now().Sub(start)
	if err != nil {
		s.failed = true
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(s.errw, "error: interrupted")
			return
		}
		if at.name == "" { // typed on the terminal
			fmt.Fprint(s.errw, errorText(err, sql))
		} else { // from stdin or a .read file
			fmt.Fprint(s.errw, scriptErrorText(err, sql, at))
		}
		return
	}
	if err := s.print.print(res); err != nil {
		s.failed = true
		fmt.Fprintf(s.errw, "error: print the result: %v\n", err)
		return
	}
	if s.timer {
		fmt.Fprintf(s.out, "Run Time: %.3fs\n", elapsed.Seconds())
	}
}

// stopped reports whether a script should stop reading: a SIGINT came
// while it ran. On a terminal Ctrl-C only cancels, and the shell goes on.
func (s *shell) stopped() bool {
	if s.terminal {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interrupted
}

// interrupt cancels the running statement, if any (Ctrl-C), and notes
// that it came.
func (s *shell) interrupt() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.interrupted = true
	if s.cancel != nil {
		s.cancel()
	}
}

// catchInterrupts makes SIGINT call interrupt instead of ending the
// process, until the function it returns is called.
func (s *shell) catchInterrupts() (stop func()) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-sigs:
				s.interrupt()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}

// dot runs a dot command.
func (s *shell) dot(cmd string) (quit bool) {
	fields := strings.Fields(cmd)
	fail := func(format string, args ...any) bool {
		s.failed = true
		fmt.Fprintf(s.errw, "error: "+format+"\n", args...)
		return false
	}
	arg := func() (string, bool) {
		if len(fields) != 2 {
			return "", false
		}
		return fields[1], true
	}
	switch fields[0] {
	case ".quit", ".exit":
		return true
	case ".help":
		fmt.Fprint(s.out, shellHelp)
	case ".timer":
		switch v, _ := arg(); v {
		case "on":
			s.timer = true
		case "off":
			s.timer = false
		default:
			return fail("usage: .timer on|off")
		}
	case ".mode":
		v, ok := arg()
		f, err := parseFormat(v)
		if !ok || err != nil {
			return fail("usage: .mode table|csv|json")
		}
		s.print.format = f
	case ".tables":
		if len(fields) != 1 {
			return fail("usage: .tables")
		}
		objs, err := s.db.Objects()
		if err != nil {
			return fail("%v", err)
		}
		for _, o := range objs {
			fmt.Fprintln(s.out, o.Name)
		}
	case ".schema":
		// The name is the rest of the line, in double quotes if it
		// has spaces; it matches without regard to case.
		name := strings.TrimSpace(strings.TrimPrefix(cmd, ".schema"))
		if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
			name = name[1 : len(name)-1]
		}
		objs, err := s.db.Objects()
		if err != nil {
			return fail("%v", err)
		}
		found := false
		for _, o := range objs {
			if name == "" || strings.EqualFold(o.Name, name) {
				fmt.Fprintln(s.out, o.SQL)
				found = true
			}
		}
		if name != "" && !found {
			return fail(".schema: no table or view %q", name)
		}
	case ".read":
		file, ok := arg()
		if !ok {
			return fail("usage: .read FILE")
		}
		return s.read(file)
	default:
		return fail("unknown command %s (.help lists the commands)", fields[0])
	}
	return false
}

// read runs the lines of a file as if they were typed; a statement the
// file leaves unfinished runs at its end.
func (s *shell) read(file string) (quit bool) {
	if s.reads >= maxReadDepth {
		s.failed = true
		fmt.Fprintf(s.errw, "error: .read %s: more than %d files read one inside the other\n", file, maxReadDepth)
		return false
	}
	f, err := os.Open(file)
	if err != nil {
		s.failed = true
		fmt.Fprintf(s.errw, "error: .read: %v\n", err)
		return false
	}
	defer f.Close()
	s.reads++
	defer func() { s.reads-- }()
	quit, err = s.lines(f, file)
	if err != nil {
		s.failed = true
		fmt.Fprintf(s.errw, "error: .read %s: %v\n", file, err)
	}
	return quit
}

// lines feeds every line of r, the input called name, to the shell, then
// runs what is left unfinished.
func (s *shell) lines(r io.Reader, name string) (quit bool, err error) {
	outer := s.input
	defer func() { s.input = outer }()
	s.input.name, s.input.line = name, 0
	br := bufio.NewReader(r)
	for {
		if s.stopped() {
			s.pending.Reset()
			return true, nil
		}
		l, err := br.ReadString('\n')
		if l != "" || err == nil {
			s.input.line++
			l = strings.TrimSuffix(strings.TrimSuffix(l, "\n"), "\r")
			if s.line(l) {
				s.pending.Reset()
				return true, nil
			}
		}
		if err == io.EOF {
			s.finish()
			return false, nil
		}
		if err != nil {
			s.pending.Reset()
			return false, err
		}
	}
}

// script runs the statements read from a stream that is not a terminal.
// The exit status is 1 if any statement or command failed. Ctrl-C
// cancels the running statement and stops the script, so that the
// database closes cleanly.
func (s *shell) script(r io.Reader) int {
	defer s.catchInterrupts()()
	if _, err := s.lines(r, "stdin"); err != nil {
		fmt.Fprintf(s.errw, "bpfdb shell: read input: %v\n", err)
		return 1
	}
	if s.stopped() {
		fmt.Fprintln(s.errw, "bpfdb shell: interrupted: the rest of the input was not run")
		return 1
	}
	if s.failed {
		return 1
	}
	return 0
}

const (
	prompt         = "bpfdb> "
	continuePrompt = "  ...> "
)

// interactive runs the shell on a terminal with line editing and history.
// The terminal is in raw mode only while a line is read; a statement runs
// with the terminal as it was, so Ctrl-C is a SIGINT then, which cancels
// the statement's context.
func (s *shell) interactive(in, out *os.File) int {
	s.terminal = true
	fd := int(in.Fd())
	keys := &interruptReader{r: in}
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{keys, out}, prompt)
	hist := openHistory(s.errw, &keys.hit)
	defer hist.close()
	t.History = hist

	defer s.catchInterrupts()()

	fmt.Fprintln(out, "bpfdb shell: statements end with ';'. .help lists the commands; Ctrl-D leaves.")
	for {
		if s.pending.Len() == 0 {
			t.SetPrompt(prompt)
		} else {
			t.SetPrompt(continuePrompt)
		}
		if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 { // a pty may have no size
			_ = t.SetSize(w, h)
		}
		old, err := term.MakeRaw(fd)
		if err != nil {
			fmt.Fprintf(s.errw, "bpfdb shell: terminal: %v\n", err)
			return 1
		}
		keys.hit = false
		l, err := t.ReadLine()
		if rerr := term.Restore(fd, old); rerr != nil {
			fmt.Fprintf(s.errw, "bpfdb shell: terminal: %v\n", rerr)
			return 1
		}
		if keys.hit {
			s.pending.Reset() // Ctrl-C drops what was typed
			continue
		}
		if err != nil && !errors.Is(err, term.ErrPasteIndicator) {
			if err != io.EOF {
				fmt.Fprintf(s.errw, "bpfdb shell: read input: %v\n", err)
				return 1
			}
			return 0
		}
		if s.line(l) {
			return 0
		}
	}
}

// interruptReader passes terminal input through, turning Ctrl-C into
// Enter and noting it: x/term's ReadLine answers Ctrl-C with io.EOF, as
// Ctrl-D, and keeps the half-typed line, where a shell should drop the
// line and go on.
type interruptReader struct {
	r   io.Reader
	hit bool // a Ctrl-C was read since the flag was last cleared
}

func (ir *interruptReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	for i, c := range p[:n] {
		if c == 3 { // Ctrl-C
			p[i] = '\r'
			ir.hit = true
		}
	}
	return n, err
}

// historyFile is where the shell keeps its history, in $HOME.
const historyFile = ".bpfdb_history"

// maxHistory is the number of lines the history keeps.
const maxHistory = 1000

// history is the terminal's line history, kept in $HOME/.bpfdb_history:
// loaded when the shell starts, and each new line appended.
type history struct {
	lines   []string // oldest first
	f       *os.File // appended to; nil when the history is not saved
	skip    *bool    // when true, the line being added was cancelled
	errw    io.Writer
	warned  bool
	errPath string
}

// openHistory loads the history file; when it cannot be read or written
// the shell warns once and keeps the history in memory.
func openHistory(errw io.Writer, skip *bool) *history {
	h := &history{skip: skip, errw: errw}
	home, err := os.UserHomeDir()
	if err != nil {
		return h
	}
	path := filepath.Join(home, historyFile)
	h.errPath = path
	if data, err := os.ReadFile(path); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" {
				h.lines = append(h.lines, l)
			}
		}
		if len(h.lines) > maxHistory {
			h.lines = h.lines[len(h.lines)-maxHistory:]
			// Rewrite the file so it does not grow without bound.
			if err := os.WriteFile(path, []byte(strings.Join(h.lines, "\n")+"\n"), 0o600); err != nil {
				h.warn(err)
			}
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		h.warn(err)
		return h
	}
	h.f = f
	return h
}

func (h *history) warn(err error) {
	if !h.warned {
		h.warned = true
		fmt.Fprintf(h.errw, "bpfdb shell: history %s: %v (the history is not saved)\r\n", h.errPath, err)
	}
}

// Add records a line read: not a blank one, a repeat of the last, or one
// cut off by Ctrl-C.
func (h *history) Add(line string) {
	if strings.TrimSpace(line) == "" || *h.skip || len(h.lines) > 0 && h.lines[len(h.lines)-1] == line {
		return
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > maxHistory {
		h.lines = h.lines[1:]
	}
	if h.f != nil {
		if _, err := h.f.WriteString(line + "\n"); err != nil {
			h.warn(err)
			h.f.Close()
			h.f = nil
		}
	}
}

// Len returns the number of lines kept.
func (h *history) Len() int { return len(h.lines) }

// At returns a line: 0 is the newest.
func (h *history) At(i int) string { return h.lines[len(h.lines)-1-i] }

func (h *history) close() {
	if h.f != nil {
		h.f.Close()
	}
}
