//go:build tinyvectors

package vector

// Size is the number of slots of every vector: 64 under the tinyvectors
// build tag (see size.go).
const Size = 64
