package planner

import (
	"github.com/bpfdb/bpfdb/internal/storage/table"
	"github.com/bpfdb/bpfdb/internal/types"
)

// Catalog is what the binder looks names up in: the stored tables and the
// views of one database, as one statement sees them.
type Catalog interface {
	// Table returns the stored table called name, or nil.
	Table(name string) *table.Table
	// View returns the query text of the view called name and the names
	// it gives the query's columns (nil: the query's own names).
	View(name string) (query string, columns []string, ok bool)
}

// TableFunctions is implemented by a Catalog that offers table functions,
// such as bpfdb's listings of hooks, programs and maps. The binder calls
// TableFunction with the values of the call's arguments (constants) and
// plans the rows it returns as constant rows: the function runs when the
// statement is bound, so a statement sees one state of what it lists.
type TableFunctions interface {
	// TableFunction returns the rows of name(args). An unknown name gives
	// an error wrapping ErrNotFound.
	TableFunction(name string, args []types.Value) (*TableFuncResult, error)
}

// TableFuncResult is the result of a table function: its columns' names
// and types, and rows of values of those types (NULLs allowed).
type TableFuncResult struct {
	Names []string
	Types []types.Type
	Rows  [][]types.Value
}
