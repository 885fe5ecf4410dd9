//go:build !nohooks

package hooks

// enabled is false under the nohooks build tag: the sites are then the
// built-in policies and nothing can be attached.
const enabled = true
