//go:build unix

package main

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the processor time (user and system) this process
// has used so far, or -1 if the system does not say.
func processCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
