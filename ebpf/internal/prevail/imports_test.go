package prevail_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const yamlModule = "go.yaml.in/yaml/v3"

// TestImports enforces the package doc: prevail imports only the standard
// library, asm and the YAML parser, and no other package of the module
// imports the YAML parser (it is a test-data dependency).
func TestImports(t *testing.T) {
	fset := token.NewFileSet()
	root := "../../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		here := filepath.Dir(path) == filepath.Join(root, "ebpf", "internal", "prevail")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == yamlModule || strings.HasPrefix(p, yamlModule+"/"):
				if !here {
					t.Errorf("%s imports %s; only ebpf/internal/prevail may", path, p)
				}
			case here && !strings.HasSuffix(path, "_test.go"):
				first, _, _ := strings.Cut(p, "/")
				if strings.Contains(first, ".") && p != "github.com/bpfdb/bpfdb/ebpf/asm" {
					t.Errorf("%s imports %s; prevail may import only the standard library, asm and %s", path, p, yamlModule)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
