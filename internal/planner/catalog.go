package planner

import "github.com/bpfdb/bpfdb/internal/storage/table"

// Catalog is what the binder looks names up in: the stored tables and the
// views of one database, as one statement sees them.
type Catalog interface {
	// Table returns the stored table called name, or nil.
	Table(name string) *table.Table
	// View returns the query text of the view called name and the names
	// it gives the query's columns (nil: the query's own names).
	View(name string) (query string, columns []string, ok bool)
}
