//go:build !unix

package file

import "os"

// lockFile does nothing where flock does not exist: two writers on one file
// are then the caller's responsibility.
func lockFile(f *os.File, exclusive bool) error { return nil }

// syncDir does nothing where directories cannot be synced.
func syncDir(dir string) error { return nil }
