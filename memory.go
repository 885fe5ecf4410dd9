package bpfdb

import (
	"strings"

	"github.com/bpfdb/bpfdb/internal/storage/buffer"
	"github.com/bpfdb/bpfdb/internal/types"
)

// MemoryStats are the buffer manager's memory and counters: what the
// memory-related hooks act on and what their effect shows in.
type MemoryStats struct {
	Limit, Used                      int64            // bytes
	Tags                             map[string]int64 // accounted bytes per use (base_table, hash_table, sort, column_data, metadata, other)
	Resident                         int64            // blocks and buffers in memory
	Hits                             int64            // pins that found the block in memory
	Misses                           int64            // pins that loaded the block or read it back (Loads, Reloads)
	Loads                            int64            // database blocks read by pins
	Reloads                          int64            // spilled buffers read back
	Evictions                        int64            // blocks unloaded to make room
	Unloads                          int64            // blocks unloaded at unpin by the Unpin hook's decision
	Spills                           int64            // temporary buffers written out
	OutOfMemory                      int64            // allocations refused for lack of memory
	Repairs                          int64            // hook decisions the host replaced with the built-in step
	ReadAheads                       int64            // background reads started (Load hook), of which used and wasted:
	ReadAheadsUsed, ReadAheadsWasted int64
}

// Memory returns the buffer manager's memory and counters now. Counters
// run from when the database opened.
func (db *DB) Memory() MemoryStats {
	db.hooks.FlushMemory() // cached UpdateUsedMemory counts, so that the tags add up
	m := db.cat.Buffers().Metrics()
	s := MemoryStats{Limit: m.Limit, Used: m.Used, Tags: map[string]int64{}, Resident: m.Resident,
		Hits: m.Hits, Misses: m.Misses, Loads: m.Loads, Reloads: m.Reloads, Evictions: m.Evictions, Unloads: m.Unloads, Spills: m.Spills,
		OutOfMemory: m.OutOfMemory, Repairs: m.PolicyRepairs,
		ReadAheads: m.ReadAheads, ReadAheadsUsed: m.ReadAheadsUsed, ReadAheadsWasted: m.ReadAheadsWasted}
	for t, n := range m.Tags {
		s.Tags[tagName(buffer.Tag(t))] = n
	}
	return s
}

// memoryRows is bpfdb_memory(): one row per figure of Memory.
func memoryRows(db *DB, _ []string) ([][]types.Value, error) {
	s := db.Memory()
	row := func(name string, v int64) []types.Value {
		return []types.Value{types.VarcharValue(name), types.BigIntValue(v)}
	}
	rows := [][]types.Value{row("limit", s.Limit), row("used", s.Used)}
	for t := range buffer.NumTags {
		name := tagName(buffer.Tag(t))
		rows = append(rows, row("used_"+name, s.Tags[name]))
	}
	return append(rows, row("resident", s.Resident), row("hits", s.Hits), row("misses", s.Misses), row("loads", s.Loads), row("reloads", s.Reloads),
		row("evictions", s.Evictions), row("unloads", s.Unloads), row("spills", s.Spills),
		row("out_of_memory", s.OutOfMemory), row("repairs", s.Repairs), row("read_aheads", s.ReadAheads),
		row("read_aheads_used", s.ReadAheadsUsed), row("read_aheads_wasted", s.ReadAheadsWasted)), nil
}

// tagName is a tag's name in listings: base_table, hash_table, ….
func tagName(t buffer.Tag) string { return strings.ReplaceAll(t.String(), " ", "_") }
