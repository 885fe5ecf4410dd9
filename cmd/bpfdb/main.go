// Command bpfdb is the single bpfdb binary. It drives the eBPF runtime,
// generates and runs TPC-H, and runs SQL:
//
//	bpfdb demo [flags]                   TPC-H, then a policy attached live
//	bpfdb bpf run    [flags] FILE        run a program once, print r0
//	bpfdb bpf test   [flags] FILE...     run conformance .data files
//	bpfdb bpf bench  [flags] [FILE...]   median ns per run of each program
//	bpfdb bpf disasm [--prog NAME] FILE  print a program's instructions
//	bpfdb bpf verify [flags] FILE        run the static verifier
//	bpfdb tpch gen|load|run ...          generate, load and run TPC-H
//	bpfdb ext ls|attach|detach ...       eBPF programs on a database's hooks
//	bpfdb bench tpch [flags]             the hooks' overhead on TPC-H
//	bpfdb -c SQL [flags]                 run SQL statements, print results
//	bpfdb shell [flags] [FILE]           the interactive SQL shell
//	bpfdb serve --db FILE [flags]        serve PostgreSQL clients
//
// FILE is a bpf_conformance .data file or an ELF object from
// clang -target bpf. See "bpfdb bpf help" for the test environment.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: bpfdb <command> [arguments]

commands:
  demo                        the tour: TPC-H, then an eviction policy attached live
  bpf run|test|bench|disasm|verify
                              drive the eBPF runtime (bpfdb bpf help)
  tpch gen|load|run           generate, load and run TPC-H (bpfdb tpch help)
  ext ls|attach|detach        the eBPF programs attached to a database's hooks
  bench tpch                  the hooks' overhead on TPC-H (bpfdb bench help)
  -c SQL [--db FILE] [--format table|csv|json] [--threads N]
                              run SQL statements and print their results
  shell [FILE]                the SQL shell (bpfdb shell -h)
  serve --db FILE [--listen ADDR] [--user NAME]
                              serve PostgreSQL clients (bpfdb serve -h)
`

// run executes the command line and returns the exit code: 0 on success,
// 1 when a command ran and failed, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "bpf":
		return bpfCommand(args[1:], stdout, stderr)
	case "tpch":
		return tpchCommand(args[1:], stdout, stderr)
	case "ext":
		return extCommand(args[1:], stdout, stderr)
	case "demo":
		return demoCommand(args[1:], stdout, stderr)
	case "bench":
		return benchCommand(args[1:], stdout, stderr)
	case "shell":
		return shellCommand(args[1:], os.Stdin, stdout, stderr)
	case "serve":
		return serveCommand(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if isSQLFlag(args[0]) {
		return sqlCommand(args, os.Stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "bpfdb: unknown command %q (bpfdb help lists the commands)\n", args[0])
	return 2
}
