package repotest

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// checkedDocs are the documents whose backticked paths must exist.
var checkedDocs = []string{"ARCHITECTURE.md", "README.md"}

var codeSpan = regexp.MustCompile("`([^`\n]+)`")

// docPaths returns the repository paths named in inline code spans of the
// Markdown text md, without duplicates, in order of appearance. A span names
// a path if it has no spaces and contains a '/' or ends in .go or .md. Fenced
// code blocks (commands, diagrams) are skipped, and so are paths outside the
// repository: absolute, starting with "../", URLs and import paths of other
// modules (first element containing a dot, like github.com/...). A trailing
// "/" or "/..." is dropped.
func docPaths(md string) []string {
	var out []string
	fenced := false
	for line := range strings.Lines(md) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		for _, m := range codeSpan.FindAllStringSubmatch(line, -1) {
			p := m[1]
			if strings.ContainsAny(p, " \t") {
				continue
			}
			if !strings.Contains(p, "/") && !strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, ".md") {
				continue
			}
			if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "../") || strings.Contains(p, "://") {
				continue
			}
			if first, _, more := strings.Cut(p, "/"); more && strings.Contains(first, ".") && !strings.HasPrefix(first, ".") {
				continue // another module's import path
			}
			p = strings.TrimSuffix(p, "/...")
			p = strings.TrimSuffix(p, "/")
			p = strings.TrimPrefix(p, "./")
			if p != "" && !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// TestDocPaths checks that every path named in ARCHITECTURE.md and
// README.md exists, so the overview cannot drift from the tree.
func TestDocPaths(t *testing.T) {
	root := repoRoot(t)
	for _, doc := range checkedDocs {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Errorf("read %s: %v", doc, err)
			continue
		}
		paths := docPaths(string(b))
		if doc == "ARCHITECTURE.md" && len(paths) == 0 {
			t.Errorf("%s names no paths: the path check found nothing to check", doc)
		}
		var missing []string
		for _, p := range paths {
			if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err != nil {
				missing = append(missing, p)
			}
		}
		report(t, doc+" names paths that do not exist in the repository (fix the path or the text)", missing)
	}
}

func TestDocPathsExtraction(t *testing.T) {
	md := "The runtime is `ebpf/`, its maps `ebpf/maps/` and `ebpf/...` again.\n" +
		"See `RATIONALE.md`, `ebpf/spec.go` and `./cmd/bpfdb`.\n" +
		"Not paths: `Program.Run`, `go test ./...`, `0xb9f0`, `asm.Add.Imm(asm.R1, 22)`.\n" +
		"Outside: `../shared/DESIGN.md`, `/usr/local/go`, `github.com/cilium/ebpf`, `https://x.org/a`.\n" +
		"Hidden dirs count: `.ci/run`.\n" +
		"```\n" +
		"`internal/planner/` in a fenced block\n" +
		"```\n" +
		"After the block: `internal/hooks/`.\n"
	got := docPaths(md)
	want := []string{"ebpf", "ebpf/maps", "RATIONALE.md", "ebpf/spec.go", "cmd/bpfdb", ".ci/run", "internal/hooks"}
	if !slices.Equal(got, want) {
		t.Errorf("docPaths:\n got %q\nwant %q", got, want)
	}
}
