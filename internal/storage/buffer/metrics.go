package buffer

import (
	"fmt"
	"strings"
	"sync/atomic"
	"text/tabwriter"
)

// Metrics is a snapshot of a Manager's memory and counters. Byte counts are
// read one by one while the manager runs, so under concurrent use they may
// disagree slightly with each other.
type Metrics struct {
	// Limit is the memory limit in bytes.
	Limit int64
	// Used is the memory accounted to resident blocks and buffers, in
	// bytes; the limit is enforced against it. Up to 4 evicted block-sized
	// buffers kept for reuse are not counted.
	Used int64
	// Tags is the accounted memory per tag, as the UpdateUsedMemory policy
	// counted it; with the built-in policy the tags sum to Used.
	Tags [NumTags]int64
	// Resident is the number of blocks and buffers in memory.
	Resident int64
	// QueueEntries is the number of entries in each eviction queue, stale
	// ones included.
	QueueEntries [NumQueues]int64
	// TempHeld is the bytes of spilled buffers held in the temporary file.
	TempHeld int64
	// TempExtent is the byte offset just past the last used slot of the
	// temporary file.
	TempExtent int64
	// Hits counts pins that found their block in memory: resident, or
	// read ahead and not pinned yet (ReadAheadsUsed counts those too).
	Hits int64
	// Misses counts pins that brought their block into memory themselves:
	// a block of the database file loaded, or a spilled buffer read back
	// (through the Load policy). Hits + Misses are the successful pins;
	// Hits / (Hits + Misses) is the hit ratio.
	Misses int64
	// Loads counts persistent blocks read from the database file by pins
	// (synchronous reads on the miss path; readaheads are counted in
	// ReadAheads).
	Loads int64
	// Reloads counts spilled temporary buffers read back by pins.
	Reloads int64
	// Evictions counts blocks and buffers unloaded to make room (for a
	// reservation, a lower limit or an Evict call).
	Evictions int64
	// Unloads counts blocks unloaded at unpin because the Unpin policy
	// asked for it.
	Unloads int64
	// Spills counts temporary buffers written to the temporary file.
	Spills int64
	// StaleEntries counts eviction-queue entries dropped because their
	// block was unpinned again, or freed, after they were queued.
	StaleEntries int64
	// OutOfMemory counts reservations and allocations that failed with
	// ErrOutOfMemory.
	OutOfMemory int64
	// PolicyRepairs counts policy decisions the host replaced with the
	// built-in step (a Load that did not read, a queue out of range).
	PolicyRepairs int64
	// ReadAheads counts background reads of persistent blocks started by
	// ReadAhead. Each is later used, wasted, or still in memory unpinned
	// (or in flight).
	ReadAheads int64
	// ReadAheadsUsed counts blocks read ahead that a pin then found in
	// memory (or waited for), instead of reading them itself.
	ReadAheadsUsed int64
	// ReadAheadsWasted counts blocks read ahead that were evicted or freed
	// before any pin, or whose background read failed.
	ReadAheadsWasted int64
}

// Metrics returns a snapshot of the manager's memory and counters.
func (m *Manager) Metrics() Metrics {
	x := Metrics{Limit: m.limit.Load(), Used: m.used.Load()}
	for t := range x.Tags {
		x.Tags[t] = m.tags[t].Load()
	}
	for q := range x.QueueEntries {
		x.QueueEntries[q] = int64(m.queues[q].len())
	}
	x.TempHeld, x.TempExtent = m.temp.stats()
	s := &m.stats
	x.Resident = s.resident.Load()
	x.Hits, x.Misses = m.hits.load(), s.misses.Load()
	x.Loads, x.Reloads = s.loads.Load(), s.reloads.Load()
	x.Evictions, x.Unloads, x.Spills = s.evictions.Load(), s.unloads.Load(), s.spills.Load()
	x.StaleEntries, x.OutOfMemory, x.PolicyRepairs = s.stale.Load(), s.oom.Load(), s.repairs.Load()
	x.ReadAheads, x.ReadAheadsUsed, x.ReadAheadsWasted = s.aheads.Load(), s.aheadUsed.Load(), s.aheadWasted.Load()
	return x
}

// queueNames name the eviction queues in metrics.
var queueNames = [NumQueues]string{"persistent", "temporary", "low", "last"}

// String renders the metrics as a text table: memory by tag, the queues,
// the temporary file and the counters.
func (x Metrics) String() string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(name string, v int64, what string) { fmt.Fprintf(w, "%s\t%d\t  %s\n", name, v, what) }
	row("limit", x.Limit, "bytes")
	row("used", x.Used, "bytes")
	for t, v := range x.Tags {
		row("  "+Tag(t).String(), v, "bytes")
	}
	row("resident", x.Resident, "blocks")
	for q, v := range x.QueueEntries {
		row("queue "+queueNames[q], v, "entries")
	}
	row("temp held", x.TempHeld, "bytes")
	row("temp extent", x.TempExtent, "bytes")
	row("hits", x.Hits, "pins that found the block in memory")
	row("misses", x.Misses, "pins that loaded or read back")
	row("loads", x.Loads, "persistent blocks read")
	row("reloads", x.Reloads, "spilled buffers read back")
	row("evictions", x.Evictions, "unloaded for room")
	row("unloads", x.Unloads, "unloaded at unpin by policy")
	row("spills", x.Spills, "buffers written to the temp file")
	row("stale entries", x.StaleEntries, "queue entries dropped")
	row("out of memory", x.OutOfMemory, "failed reservations")
	row("policy repairs", x.PolicyRepairs, "decisions replaced")
	row("read aheads", x.ReadAheads, "background reads started")
	row("read aheads used", x.ReadAheadsUsed, "found in memory by a pin")
	row("read aheads wasted", x.ReadAheadsWasted, "evicted or freed unused, or failed")
	w.Flush()
	return sb.String()
}

// stripedCounter counts events of the pin fast path. One atomic counter
// there would be a cache line written by every core that pins any block:
// on many cores its transfers between caches would cost more than the pin
// itself. The stripes are indexed by the block's queue shard (the block
// number modulo queueShards), each on a line of its own, so that pins of
// different blocks mostly write different lines; pins of one block from
// many cores already share its state word's line.
type stripedCounter struct {
	_       [cacheLine]byte // keep stripe 0 off the line of the field before
	stripes [queueShards]struct {
		n atomic.Int64
		_ [cacheLine - 8]byte
	}
}

// cacheLine is the stride of a stripe: 128 bytes, since some CPUs fetch
// 64-byte lines in adjacent pairs.
const cacheLine = 128

// add counts one event in stripe i (a block's shard).
func (c *stripedCounter) add(i uint8) { c.stripes[i%queueShards].n.Add(1) }

// load returns the count: the stripes' sum, each read atomically.
func (c *stripedCounter) load() int64 {
	var n int64
	for i := range c.stripes {
		n += c.stripes[i].n.Load()
	}
	return n
}
