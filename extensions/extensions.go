package extensions

import (
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bpfdb/bpfdb/ext"
)

//go:embed */*.c */*.o
var files embed.FS

// Policy describes one stock extension.
type Policy struct {
	// Hook is the hook the program is written for.
	Hook ext.Hook
	// Name is the policy's name: "default" for the built-in behaviour.
	Name string
	// Summary is one line saying what the policy does.
	Summary string
}

// String returns the policy's path, "hook/name".
func (p Policy) String() string { return p.Hook.String() + "/" + p.Name }

// Errors of Object and Source, wrapped with the names asked for.
var (
	// ErrUnknownHook: no hook has that name.
	ErrUnknownHook = errors.New("unknown hook")
	// ErrUnknownPolicy: the hook has no stock policy of that name.
	ErrUnknownPolicy = errors.New("unknown policy")
)

// policies are the stock extensions, in the order of ext.Hooks, default
// first; a test checks that they are exactly the files embedded.
var policies = []Policy{
	{ext.Hash, "default", "the built-in hash of join, aggregate and partition keys, bit for bit"},
	{ext.Hash, "multiply", "a cheaper hash: one multiply and one xor-shift per key (for well-spread keys)"},
	{ext.ExecuteForever, "default", "the built-in worker loop: round robin over queries, one morsel at a time"},
	{ext.ExecuteForever, "priority", "serve the query of highest priority (map priority), then the one with fewest queued tasks, first"},
	{ext.ScheduleTask, "default", "the built-in placement: back of the query's queue, wake one worker"},
	{ext.Load, "default", "the built-in miss path: read the block now"},
	{ext.Load, "readahead", "read the block now and, on sequential misses, the next blocks in the background"},
	{ext.UpdateUsedMemory, "default", "the built-in accounting: every change into its tag's counter at once"},
	{ext.UpdateUsedMemory, "pressure", "the built-in accounting, plus per tag the bytes reserved and released and the reservations above 90% of the limit (map tags)"},
	{ext.AllocateNewBlock, "default", "the built-in admission: admit every block, evict nothing ahead"},
	{ext.AllocateNewBlock, "quota", "refuse (out of memory) an allocation past its query's or its tag's quota (maps query_quota, tag_quota)"},
	{ext.Unpin, "default", "the built-in eviction queue: least recently unpinned first"},
	{ext.Unpin, "scan_resistant", "blocks of long sequential runs are evicted first; blocks used again in memory after a pause go to a queue evicted last"},
}

// List returns the stock extensions, hook by hook in the order of
// ext.Hooks, each hook's default first.
func List() []Policy { return slices.Clone(policies) }

// Object returns the ELF object of a stock policy, by hook name (its SQL
// name, as ext.ParseHook accepts it) and policy name. The object holds one
// program, in the hook's section; the caller may keep but must not modify
// the bytes.
func Object(hook, policy string) ([]byte, error) {
	p, err := find(hook, policy)
	if err != nil {
		return nil, fmt.Errorf("stock extension %s/%s: %w", hook, policy, err)
	}
	return read(p, ".o"), nil
}

// Source returns the C source of a stock policy, whose leading comment
// says what it does, why an operator would attach it, and its maps.
func Source(hook, policy string) (string, error) {
	p, err := find(hook, policy)
	if err != nil {
		return "", fmt.Errorf("stock extension %s/%s: %w", hook, policy, err)
	}
	return string(read(p, ".c")), nil
}

func find(hook, policy string) (Policy, error) {
	h, err := ext.ParseHook(hook)
	if err != nil {
		var hooks []string
		for _, h := range ext.Hooks() {
			hooks = append(hooks, h.String())
		}
		return Policy{}, fmt.Errorf("%w %q (hooks: %s)", ErrUnknownHook, hook, strings.Join(hooks, ", "))
	}
	var names []string
	for _, p := range policies {
		if p.Hook != h {
			continue
		}
		if p.Name == policy {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Policy{}, fmt.Errorf("%w %q for hook %s (it has %s)", ErrUnknownPolicy, policy, h, strings.Join(names, ", "))
}

// read returns an embedded file of p; the table and the files agree (a
// test checks it).
func read(p Policy, suffix string) []byte {
	b, err := files.ReadFile(p.String() + suffix)
	if err != nil {
		panic("BUG: extensions: the table names " + p.String() + " but " + p.String() + suffix + " is not embedded")
	}
	return b
}
