package buffer

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// fallbackMemory is the machine memory assumed where it cannot be read.
const fallbackMemory = 8 << 30

// DefaultLimit returns the default memory limit: 80% of the machine's
// memory. On Linux that is MemTotal from /proc/meminfo, or the cgroup v2
// memory.max of the process's cgroup if that is lower; elsewhere, or if
// neither can be read, 80% of 8 GiB.
func DefaultLimit() int64 {
	return systemMemory() / 10 * 8
}

func systemMemory() int64 {
	total := memTotal("/proc/meminfo")
	if cg := cgroupMax("/proc/self/cgroup", "/sys/fs/cgroup"); cg > 0 && (total == 0 || cg < total) {
		total = cg
	}
	if total <= 0 {
		return fallbackMemory
	}
	return total
}

// memTotal parses the MemTotal line of a /proc/meminfo file; 0 if absent.
func memTotal(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n <= 0 {
			return 0
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n
	}
	return 0
}

// cgroupMax returns the memory.max of the process's cgroup v2 (the "0::"
// line of the cgroup file, under root), or 0 if there is none or it is
// "max".
func cgroupMax(cgroupFile, root string) int64 {
	b, err := os.ReadFile(cgroupFile)
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::")
		if !ok {
			continue
		}
		m, err := os.ReadFile(root + p + "/memory.max")
		if err != nil {
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(m)), 10, 64)
		if err != nil {
			return 0 // "max": no limit
		}
		return n
	}
	return 0
}
