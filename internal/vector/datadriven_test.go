package vector

import "flag"

var rewrite = flag.Bool("rewrite", false, "rewrite testdata golden files with the actual output")
