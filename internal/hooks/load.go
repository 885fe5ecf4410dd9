package hooks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// The Load site: buffer.LoadPolicy. Per call (a pin missed: a block of the
// database file is not in memory, or a temporary buffer is spilled; its
// memory is reserved and the manager holds the block's mutex) the host
// fills the context from the block's lock-free identity and runs the
// program, whose helpers act at once:
//
//	bpfdb_read_block(ctx)       read the block into the buffer being loaded
//	                            (Manager.ReadBlock: verified, or read back
//	                            from the temporary file)
//	bpfdb_read_ahead(ctx, n)    start reading block n of the database file
//	                            in the background (Manager.ReadAhead)
//
// and afterwards:
//
//	read by the program       done, whatever it returned
//	BPFDB_HANDLED, not read   a violation: the host reads the block
//	BPFDB_BUILTIN, not read   the host reads the block
//	< 0, not read             an error, counted: the host reads the block
//
// So the block is read exactly once per call, and a program can neither
// leave the buffer unfilled nor fail a pin that the built-in read would
// let succeed. A read that fails inside bpfdb_read_block is retried once
// by the host, whose error the pin reports. Readaheads cannot break the
// manager either: it resolves the number through its own handles (an
// unknown number is -EINVAL), reserves under the limit without evicting
// pinned blocks or spilling, and holds the block's mutex until the
// background read ends. The worker field is BPFDB_NO_WORKER: the buffer
// manager is not told which worker pins.

// Offsets of the Load context's fields.
var loadCtx = struct{ block, size, tag, temporary, worker int }{}

func init() {
	s := ext.SpecOf(ext.Load)
	loadCtx.block, loadCtx.size, loadCtx.tag = s.Field("block").Offset(), s.Field("size").Offset(), s.Field("tag").Offset()
	loadCtx.temporary, loadCtx.worker = s.Field("temporary").Offset(), s.Field("worker").Offset()
}

// Errno values the Load helpers return, besides EINVAL, EALREADY and
// ENOMEM.
const (
	errIO       = 5   // EIO: the read failed
	errBUSY     = 16  // EBUSY: the block is being loaded or unloaded
	errSHUTDOWN = 108 // ESHUTDOWN: the buffer manager is closed
)

// loadState is a runner's host state during a Load call: the block, the
// buffer being loaded, and whether the program has read it.
type loadState struct {
	m    *buffer.Manager
	b    *buffer.Block
	buf  []byte
	read bool
}

// loadSite is the registry's buffer.LoadPolicy.
type loadSite struct{ r *Registry }

// LoadPolicy returns the Load site, to pass as buffer.Options.Load: the
// built-in read while nothing is attached. Under nohooks it is
// buffer.DefaultLoad itself.
func (r *Registry) LoadPolicy() buffer.LoadPolicy {
	if !enabled {
		return buffer.DefaultLoad{}
	}
	return &r.loader
}

// Load implements buffer.LoadPolicy.
func (s *loadSite) Load(m *buffer.Manager, b *buffer.Block, buf []byte) error {
	a := s.r.load(ext.Load)
	if a == nil {
		return m.ReadBlock(b, buf)
	}
	return a.loadBlock(m, b, buf)
}

func (a *Attachment) loadBlock(m *buffer.Manager, b *buffer.Block, buf []byte) error {
	rn := a.acquire()
	st := rn.load
	*st = loadState{m: m, b: b, buf: buf}
	ctx, le := rn.ctx, binary.LittleEndian
	le.PutUint64(ctx[loadCtx.block:], b.Number())
	le.PutUint32(ctx[loadCtx.size:], uint32(min(b.Size(), math.MaxUint32)))
	le.PutUint32(ctx[loadCtx.tag:], uint32(b.Tag()))
	le.PutUint32(ctx[loadCtx.temporary:], b2u(b.Kind() == buffer.Temporary))
	le.PutUint32(ctx[loadCtx.worker:], noWorker)
	out, _ := a.call(rn, 0)
	read := st.read
	*st = loadState{}
	if !read && out == handled {
		rn.viol.Add(1)
	}
	rn.release() // before the host's read: it may wait for the disk
	if read {
		return nil
	}
	return m.ReadBlock(b, buf)
}

var loadHelpers = map[int32]ebpf.HelperFunc{
	helperID(ext.Load, "bpfdb_read_block"): loadReadBlock,
	helperID(ext.Load, "bpfdb_read_ahead"): loadReadAhead,
}

func loadHost(env *ebpf.Env) (*loadState, error) {
	st, ok := env.Host.(*loadState)
	if !ok || st.b == nil {
		return nil, fmt.Errorf("BUG: a Load helper outside a Load call")
	}
	return st, nil
}

// loadReadBlock is bpfdb_read_block(ctx): 0 once the block is read into
// its buffer, -EALREADY if it was read before in this call, -EIO if the
// read failed (the host then tries again after the program).
func loadReadBlock(env *ebpf.Env, _, _, _, _, _ uint64) (uint64, error) {
	st, err := loadHost(env)
	if err != nil {
		return 0, err
	}
	if st.read {
		return negErrno(errALREADY), nil
	}
	if err := st.m.ReadBlock(st.b, st.buf); err != nil {
		return negErrno(errIO), nil
	}
	st.read = true
	return 0, nil
}

// loadReadAhead is bpfdb_read_ahead(ctx, block): 0 if a background read
// of that block of the database file started, else a negative errno
// saying why not (see readAheadErrno).
func loadReadAhead(env *ebpf.Env, _, block, _, _, _ uint64) (uint64, error) {
	st, err := loadHost(env)
	if err != nil {
		return 0, err
	}
	if err := st.m.ReadAhead(block); err != nil {
		return negErrno(readAheadErrno(err)), nil
	}
	return 0, nil
}

// readAheadErrno maps a refused readahead to the errno a program sees.
func readAheadErrno(err error) int64 {
	switch {
	case errors.Is(err, buffer.ErrNoSuchBlock), errors.Is(err, buffer.ErrFreed):
		return errINVAL
	case errors.Is(err, buffer.ErrInMemory):
		return errALREADY
	case errors.Is(err, buffer.ErrBusy):
		return errBUSY
	case errors.Is(err, buffer.ErrOutOfMemory):
		return errNOMEM
	case errors.Is(err, buffer.ErrClosed):
		return errSHUTDOWN
	}
	return errIO
}
