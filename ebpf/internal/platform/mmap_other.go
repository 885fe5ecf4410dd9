//go:build !((linux || darwin || freebsd) && amd64)

package platform

import "os"

const supported = false

var pageSize = os.Getpagesize()

func mapCode([]byte, uintptr) (*byte, error) { return nil, ErrUnsupported }

func unmapCode(*byte, uintptr) error { return ErrUnsupported }
