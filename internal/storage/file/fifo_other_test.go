//go:build !unix

package file

import "errors"

func mkfifo(path string) error { return errors.New("no FIFOs on this system") }
