package parallel

import "time"

// entry is one queued (or held) task.
type entry struct {
	task     Task
	p        *Producer
	queuedAt time.Time // when it entered a queue; for the queue-wait metric
}

// deque is a growable ring buffer of entries: a producer's queue. Tasks
// are taken from the front; the built-in policy adds at the back, a policy
// may add at the front.
type deque struct {
	buf  []entry
	head int
	n    int
}

func (q *deque) len() int { return q.n }

func (q *deque) grow() {
	nb := make([]entry, max(8, 2*len(q.buf)))
	for i := range q.n {
		nb[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = nb, 0
}

func (q *deque) pushBack(e entry) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = e
	q.n++
}

func (q *deque) pushFront(e entry) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = e
	q.n++
}

func (q *deque) popFront() (entry, bool) {
	if q.n == 0 {
		return entry{}, false
	}
	e := q.buf[q.head]
	q.buf[q.head] = entry{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return e, true
}

// drain removes and returns every entry, front first.
func (q *deque) drain() []entry {
	out := make([]entry, 0, q.n)
	for {
		e, ok := q.popFront()
		if !ok {
			return out
		}
		out = append(out, e)
	}
}
