package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

const extUsage = `usage: bpfdb ext <command> --db FILE [flags] [arguments]

Manage the eBPF policy programs attached to a database's hooks (the same as
the SQL statements ATTACH PROGRAM, DETACH PROGRAM and SELECT * FROM
bpfdb_hooks()). Attachments are recorded in the database file and come
back when it opens.

  ls                          the seven hooks, what is attached, counters
  attach [--section S] HOOK OBJECT
                              verify OBJECT (an ELF file from clang -target
                              bpf, or the name of a stock policy) against
                              HOOK's program type and attach it; a rejected
                              program prints the verifier's log
  detach HOOK                 go back to HOOK's built-in behaviour

Hooks: hash, execute_forever, schedule_task, load, update_used_memory,
allocate_new_block, unpin.

Flags (all commands): --db FILE (required), --format table|csv|json,
--hook-engine auto|jit|interpreter.
`

// extCommand runs bpfdb ext ls|attach|detach.
func extCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, extUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	fs := flag.NewFlagSet("bpfdb ext "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, extUsage) }
	f := dbFlags{log: stderr}
	f.register(fs)
	section := fs.String("section", "", "the program to attach when the object holds several (its name or section)")
	// Flags may follow the arguments: bpfdb ext attach unpin p.o --db x.db.
	var pos []string
	for rest := args[1:]; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos, rest = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	var sql string
	switch want := map[string]int{"ls": 0, "attach": 2, "detach": 1}; {
	case want[cmd] == 0 && cmd != "ls":
		fmt.Fprintf(stderr, "bpfdb ext: unknown command %q\n%s", cmd, extUsage)
		return 2
	case len(pos) != want[cmd]:
		fmt.Fprintf(stderr, "bpfdb ext %s: want %d arguments, have %d\n%s", cmd, want[cmd], len(pos), extUsage)
		return 2
	case f.db == "":
		fmt.Fprintf(stderr, "bpfdb ext %s: --db FILE is required (an in-memory database forgets at exit)\n", cmd)
		return 2
	case cmd == "ls":
		sql = "SELECT * FROM bpfdb_hooks()"
	case cmd == "attach":
		sql = "ATTACH PROGRAM " + ast.QuoteString(pos[1])
		if *section != "" {
			sql += " SECTION " + ast.QuoteString(*section)
		}
		sql += " TO HOOK " + ast.QuoteIdent(pos[0])
	case cmd == "detach":
		sql = "DETACH PROGRAM FROM HOOK " + ast.QuoteIdent(pos[0])
	}
	format, err := parseFormat(f.format)
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb ext: %v\n", err)
		return 2
	}
	db, err := f.open()
	if err != nil {
		fmt.Fprintf(stderr, "bpfdb ext: %v\n", err)
		return 1
	}
	defer db.Close()
	p := &printer{w: stdout, format: format}
	if err := db.QueryEach(context.Background(), sql, p.print); err != nil {
		fmt.Fprintf(stderr, "bpfdb ext %s: %v\n", cmd, err)
		return 1
	}
	if err := db.Close(); err != nil {
		fmt.Fprintf(stderr, "bpfdb ext %s: %v\n", cmd, err)
		return 1
	}
	return 0
}
