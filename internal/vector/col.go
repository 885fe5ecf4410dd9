package vector

// Col is a typed read view of one fixed-width column of a chunk: its data,
// validity and the chunk's selection, so that a kernel reads logical rows
// without boxing and without forgetting the selection or the NULLs.
//
//	c := vector.ColOf[int64](chunk, 0)
//	for r := range c.Len() {
//		if x, ok := c.Get(r); ok { sum += x }
//	}
//
// Hot loops may instead branch once on c.Sel() == nil and c.AllValid() and
// index c.Data() directly.
type Col[T Fixed] struct {
	data  []T
	words []uint64 // validity words, nil while the column has no NULL
	sel   Selection
	n     int
}

// ColOf returns the view of column j of chunk c. T must match the column's
// physical type.
func ColOf[T Fixed](c *Chunk, j int) Col[T] {
	v := c.cols[j]
	return Col[T]{data: Data[T](v), words: v.valid.Words(), sel: c.sel, n: c.n}
}

// Len returns the number of logical rows.
func (c Col[T]) Len() int { return c.n }

// Index returns the slot of logical row r.
func (c Col[T]) Index(r int) int {
	if c.sel != nil {
		return int(c.sel[r])
	}
	return r
}

// Get returns logical row r's value and whether it is valid (not NULL); a
// NULL row returns the slot's garbage and false.
func (c Col[T]) Get(r int) (T, bool) {
	i := r
	if c.sel != nil {
		i = int(c.sel[r])
	}
	return c.data[i], c.words == nil || c.words[i>>6]&(1<<(uint(i)&63)) != 0
}

// AllValid reports whether no slot of the column is NULL.
func (c Col[T]) AllValid() bool { return c.words == nil }

// Sel returns the selection (nil when dense).
func (c Col[T]) Sel() Selection { return c.sel }

// Data returns the physical slots.
func (c Col[T]) Data() []T { return c.data }

// StrCol is Col for VARCHAR columns: Get returns the bytes without copying.
type StrCol struct {
	v   *Vector
	sel Selection
	n   int
}

// StrColOf returns the view of VARCHAR column j of chunk c.
func StrColOf(c *Chunk, j int) StrCol {
	v := c.cols[j]
	v.Strs() // type check
	return StrCol{v: v, sel: c.sel, n: c.n}
}

// Len returns the number of logical rows.
func (c StrCol) Len() int { return c.n }

// Index returns the slot of logical row r.
func (c StrCol) Index(r int) int {
	if c.sel != nil {
		return int(c.sel[r])
	}
	return r
}

// Get returns logical row r's bytes and whether it is valid; the bytes
// stay valid until the vector is Reset. A NULL row returns nil, false.
func (c StrCol) Get(r int) ([]byte, bool) {
	i := c.Index(r)
	if c.v.valid.IsNull(i) {
		return nil, false
	}
	return c.v.Bytes(i), true
}

// AllValid reports whether no slot of the column is NULL.
func (c StrCol) AllValid() bool { return c.v.valid.AllValid() }
