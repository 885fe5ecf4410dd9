//go:build !tinyvectors

package vector

// Size is the number of slots of every vector: the most rows a chunk holds.
// The tinyvectors build tag makes it 64 (the smallest that keeps validity
// masks whole words), so that tests cross chunk
// boundaries with small inputs (the SQL test corpus runs both ways).
const Size = 2048
