package repotest

import (
	"bufio"
	"errors"
	"fmt"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// repoRoot returns the directory holding the go.mod of this module, found by
// walking up from the test's working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// modulePath reads the module path from root/go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			p := strings.TrimSpace(rest)
			if u, err := strconv.Unquote(p); err == nil {
				p = u
			}
			return p, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("go.mod has no module line")
}

// goFile is one parsed Go source file.
type goFile struct {
	Name    string   // base name
	Package string   // package clause name
	Doc     string   // text of the package doc comment, "" if none
	Imports []string // import paths
	Test    bool     // a _test.go file
	Ignored bool     // excluded from every build by a `//go:build ignore` constraint
}

// goPackage is the Go source of one directory of the module.
type goPackage struct {
	Dir   string // slash-separated, relative to the module root ("." for the root)
	Path  string // import path
	Files []goFile
}

// loadTree parses the imports and doc comments of every .go file in the
// module rooted at root, ignoring build constraints (so files for every
// GOOS/GOARCH and build tag are checked). Like the go command, it skips
// testdata, directories whose names start with "." or "_", and nested
// modules (directories with their own go.mod).
func loadTree(root string) ([]*goPackage, error) {
	mod, err := modulePath(root)
	if err != nil {
		return nil, fmt.Errorf("read module path: %w", err)
	}
	byDir := map[string]*goPackage{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			name := d.Name()
			if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir // a separate module (e.g. a cgo benchmark harness)
			}
			return nil
		}
		name := d.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return fmt.Errorf("parse %s: %w", rel, err)
		}
		gf := goFile{Name: name, Package: f.Name.Name, Test: strings.HasSuffix(name, "_test.go")}
		if f.Doc != nil {
			gf.Doc = f.Doc.Text()
		}
		for _, im := range f.Imports {
			ip, err := strconv.Unquote(im.Path.Value)
			if err != nil {
				return fmt.Errorf("parse %s: import %s: %w", rel, im.Path.Value, err)
			}
			gf.Imports = append(gf.Imports, ip)
		}
		// Build constraints come before the package clause.
		for _, cg := range f.Comments {
			if cg.Pos() >= f.Package {
				break
			}
			for _, c := range cg.List {
				if !constraint.IsGoBuild(c.Text) {
					continue
				}
				expr, err := constraint.Parse(c.Text)
				if tag, ok := expr.(*constraint.TagExpr); err == nil && ok && tag.Tag == "ignore" {
					gf.Ignored = true
				}
			}
		}
		dir := path.Dir(rel)
		pkg := byDir[dir]
		if pkg == nil {
			ip := mod
			if dir != "." {
				ip = mod + "/" + dir
			}
			pkg = &goPackage{Dir: dir, Path: ip}
			byDir[dir] = pkg
		}
		pkg.Files = append(pkg.Files, gf)
		return nil
	})
	if err != nil {
		return nil, err
	}
	pkgs := make([]*goPackage, 0, len(byDir))
	for _, p := range byDir {
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].Dir < pkgs[j].Dir })
	return pkgs, nil
}

// report fails t with one line per offender, sorted, under a heading.
func report(t *testing.T, heading string, offenders []string) {
	t.Helper()
	if len(offenders) == 0 {
		return
	}
	sort.Strings(offenders)
	t.Errorf("%s (%d):\n\t%s", heading, len(offenders), strings.Join(offenders, "\n\t"))
}
