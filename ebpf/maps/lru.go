package maps

import "sync/atomic"

// lruHeap orders the entries of an LRUHash by last use, to find the one to
// evict.
//
// Policy: every use of an entry (the insert that creates it, an Update that
// replaces it, Lookup, LookupRef) takes a fresh stamp from the map's clock,
// a counter incremented by each use; a full map evicts the entry with the
// smallest stamp, the least recently used one. In one goroutine this is
// exact LRU. When goroutines use the same entry at once, the entry may keep
// the stamp of either use. NextKey and All are not uses.
//
// Uses happen under the map's shared lock and must stay cheap, so they only
// store the stamp (see hashMap.touch); the heap is fixed lazily: an item's
// stamp is the entry's stamp when the item was last placed, which is never
// newer than the entry's real stamp. evict, under the exclusive lock (so no
// stamp moves), looks at the minimum item: if its stamp is stale it takes
// the real one and sinks; else it is the least recently used entry. Every
// sink is paid for by a use since the item was placed, so evict costs
// O(log n) amortized per use.
//
// The heap holds exactly one item per entry in the map; pos[slot] is the
// index of that slot's item, so that Delete can remove it.
type lruHeap struct {
	items []heapItem
	pos   []uint32 // per slot: index in items, while the slot is in the map
}

// heapItem is a slot and its stamp when it was placed in the heap.
type heapItem struct {
	stamp uint64
	slot  uint32
}

// push adds slot with its stamp s.
func (q *lruHeap) push(slot uint32, s uint64) {
	q.items = append(q.items, heapItem{stamp: s, slot: slot})
	q.pos[slot] = uint32(len(q.items) - 1)
	q.up(len(q.items) - 1)
}

// evict removes and returns the slot with the oldest stamp, given the
// current stamps of all slots. The heap must not be empty.
func (q *lruHeap) evict(stamps []atomic.Uint64) uint32 {
	for {
		top := &q.items[0]
		s := stamps[top.slot].Load()
		if s == top.stamp {
			break
		}
		top.stamp = s
		q.down(0)
	}
	slot := q.items[0].slot
	q.remove(0)
	return slot
}

// remove removes the item at index j.
func (q *lruHeap) remove(j uint32) {
	last := len(q.items) - 1
	if int(j) != last {
		q.swap(int(j), last)
	}
	q.items = q.items[:last]
	if int(j) != last {
		q.down(int(j))
		q.up(int(j))
	}
}

func (q *lruHeap) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.stamp < b.stamp || (a.stamp == b.stamp && a.slot < b.slot)
}

func (q *lruHeap) swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.pos[q.items[i].slot] = uint32(i)
	q.pos[q.items[j].slot] = uint32(j)
}

func (q *lruHeap) up(j int) {
	for j > 0 {
		p := (j - 1) / 2
		if !q.less(j, p) {
			return
		}
		q.swap(j, p)
		j = p
	}
}

func (q *lruHeap) down(j int) {
	n := len(q.items)
	for {
		c := 2*j + 1
		if c >= n {
			return
		}
		if c+1 < n && q.less(c+1, c) {
			c++
		}
		if !q.less(c, j) {
			return
		}
		q.swap(j, c)
		j = c
	}
}
