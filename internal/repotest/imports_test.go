package repotest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// under reports whether the slash-separated path rel is dir or lies below it.
func under(rel, dir string) bool {
	return rel == dir || strings.HasPrefix(rel, dir+"/")
}

// An importRule forbids some packages of the module from importing others.
// Paths are module-relative ("ebpf/asm"; "." is the module root).
type importRule struct {
	applies   func(importer string) bool
	forbidden func(imported string) bool
	why       string
}

// importRules are the import rules of DESIGN.md §1: the runtime and the
// engine meet only in internal/hooks (and the extension ABI in ext/).
var importRules = []importRule{
	{
		applies: func(p string) bool { return under(p, "ebpf") },
		forbidden: func(p string) bool {
			return !under(p, "ebpf") && !under(p, "ext")
		},
		why: "the eBPF runtime is reusable on its own: ebpf/... may import only ebpf/... and ext/... of bpfdb, never the engine, server or commands",
	},
	{
		applies: func(p string) bool {
			return under(p, "internal") && !under(p, "internal/hooks") && !under(p, "internal/repotest")
		},
		forbidden: func(p string) bool { return under(p, "ebpf") },
		why:       "engine packages never import the eBPF runtime; only internal/hooks bridges the two",
	},
}

// importViolations checks every file of pkgs (module path mod, test files
// and files for every build configuration included) against importRules.
func importViolations(pkgs []*goPackage, mod string) []string {
	var out []string
	for _, pkg := range pkgs {
		for _, rule := range importRules {
			if !rule.applies(pkg.Dir) {
				continue
			}
			for _, f := range pkg.Files {
				for _, ip := range f.Imports {
					var rel string
					switch {
					case ip == mod:
						rel = "."
					case strings.HasPrefix(ip, mod+"/"):
						rel = ip[len(mod)+1:]
					default:
						continue // not a package of this module
					}
					if rule.forbidden(rel) {
						out = append(out, fmt.Sprintf("%s/%s imports %s: %s", pkg.Dir, f.Name, ip, rule.why))
					}
				}
			}
		}
	}
	return out
}

// docViolations lists the packages without a package doc comment. A
// package is the non-test files of a directory; directories with only test
// files are not packages of their own. A command (package main) may start
// its comment with its own name, as Go commands do; every other package's
// comment must start "Package <name> ".
func docViolations(pkgs []*goPackage) []string {
	var out []string
	for _, pkg := range pkgs {
		name := ""
		documented := false
		for _, f := range pkg.Files {
			if f.Test || f.Ignored {
				continue
			}
			name = f.Package
			if f.Package == "main" && strings.TrimSpace(f.Doc) != "" ||
				strings.HasPrefix(f.Doc, "Package "+f.Package+" ") ||
				strings.HasPrefix(f.Doc, "Package "+f.Package+"\n") {
				documented = true
			}
		}
		if name == "" || documented {
			continue
		}
		want := `"// Package ` + name + ` ..."`
		if name == "main" {
			want = "a comment describing the command"
		}
		out = append(out, fmt.Sprintf("%s: package %s has no package doc comment: add doc.go with %s above the package clause", pkg.Dir, name, want))
	}
	return out
}

func loadRepo(t *testing.T) ([]*goPackage, string) {
	t.Helper()
	root := repoRoot(t)
	mod, err := modulePath(root)
	if err != nil {
		t.Fatal(err)
	}
	pkgs, err := loadTree(root)
	if err != nil {
		t.Fatalf("read source tree: %v", err)
	}
	// Guard against a walk that silently finds nothing (wrong root).
	if !slices.ContainsFunc(pkgs, func(p *goPackage) bool { return p.Dir == "ebpf" }) {
		t.Fatalf("source tree under %s has no ebpf package; found %d packages", root, len(pkgs))
	}
	return pkgs, mod
}

func TestImportRules(t *testing.T) {
	pkgs, mod := loadRepo(t)
	report(t, "import rules of DESIGN.md §1 are broken", importViolations(pkgs, mod))
}

func TestPackageDocs(t *testing.T) {
	pkgs, _ := loadRepo(t)
	report(t, "packages without a doc comment (STYLE.md habit 1)", docViolations(pkgs))
}

// TestRulesCatchViolations runs both checks on a small synthetic module
// that breaks every rule once, so a check that silently stops matching is
// noticed.
func TestRulesCatchViolations(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"go.mod":      "module example.com/m\n\ngo 1.26\n",
		"ebpf/doc.go": "// Package ebpf is the runtime.\npackage ebpf\n",
		// Allowed: runtime imports runtime, ext and the standard library.
		"ebpf/asm/asm.go": "// Package asm is fine.\npackage asm\n\nimport (\n\t\"fmt\"\n\t\"example.com/m/ebpf\"\n\t\"example.com/m/ext\"\n)\n",
		// Broken: runtime imports the engine; a test imports the server.
		"ebpf/interp/interp.go":      "// Package interp runs.\npackage interp\n\nimport \"example.com/m/internal/types\"\n",
		"ebpf/interp/interp_test.go": "package interp_test\n\nimport \"example.com/m/server\"\n",
		// Broken: runtime imports the module root; only for amd64, still checked.
		"ebpf/jit/jit_amd64.go": "//go:build amd64\n\n// Package jit compiles.\npackage jit\n\nimport \"example.com/m\"\n",
		// Broken: engine imports the runtime, and has no doc comment.
		"internal/types/types.go": "package types\n\nimport \"example.com/m/ebpf/asm\"\n",
		// Allowed: hooks bridge engine and runtime.
		"internal/hooks/hooks.go": "// Package hooks bridges.\npackage hooks\n\nimport \"example.com/m/ebpf\"\n",
		// Broken: the doc comment names another package; a generator file does not count.
		"ext/ext.go": "// Types of the ABI.\npackage ext\n",
		"ext/gen.go": "//go:build ignore\n\n// Package main generates.\npackage main\n",
		// Allowed: commands document themselves by name and may import anything.
		"cmd/tool/main.go": "// Tool does things.\npackage main\n\nimport \"example.com/m/ebpf\"\n",
		// Not packages: test-only directories, testdata, hidden dirs and nested modules.
		"ebpf/conformance/run_test.go": "package conformance\n\nimport \"testing\"\n",
		"ebpf/testdata/bad.go":         "package bad\n\nimport \"example.com/m/internal/types\"\n",
		"ebpf/.cache/bad.go":           "package bad\n\nimport \"example.com/m/internal/types\"\n",
		"bench/duckdb/go.mod":          "module example.com/m/bench/duckdb\n",
		"bench/duckdb/main.go":         "package main\n",
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pkgs, err := loadTree(root)
	if err != nil {
		t.Fatal(err)
	}

	got := importViolations(pkgs, "example.com/m")
	for i, v := range got {
		got[i], _, _ = strings.Cut(v, ":") // keep "file imports path"
	}
	slices.Sort(got)
	want := []string{
		"ebpf/interp/interp.go imports example.com/m/internal/types",
		"ebpf/interp/interp_test.go imports example.com/m/server",
		"ebpf/jit/jit_amd64.go imports example.com/m",
		"internal/types/types.go imports example.com/m/ebpf/asm",
	}
	if !slices.Equal(got, want) {
		t.Errorf("import violations:\n got %q\nwant %q", got, want)
	}

	got = docViolations(pkgs)
	for i, v := range got {
		got[i], _, _ = strings.Cut(v, ":")
	}
	slices.Sort(got)
	want = []string{"ext", "internal/types"}
	if !slices.Equal(got, want) {
		t.Errorf("undocumented packages:\n got %q\nwant %q", got, want)
	}
}
