// Command genheader writes ext/include/bpfdb.h from the hook ABI declared
// in package ext: run by `go generate ./ext` (from the ext directory).
package main

import (
	"fmt"
	"os"

	"github.com/bpfdb/bpfdb/ext"
)

func main() {
	if err := os.WriteFile(ext.HeaderPath, []byte(ext.Header()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "genheader:", err)
		os.Exit(1)
	}
}
