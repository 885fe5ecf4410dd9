package buffer

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/bpfdb/bpfdb/internal/storage/file"
)

// testBlockSize is the block size of the golden tests' database files.
const testBlockSize = file.MinBlockSize

// pool is the state of one golden test file: a manager and named blocks.
type pool struct {
	t     *testing.T
	dir   string
	m     *Manager
	f     *file.File
	names []string
	block map[string]*Block
	fill  map[*Block]string // the name whose pattern the block's bytes hold
}

// unloadAll is an Unpin policy that unloads every block at its last unpin.
type unloadAll struct{}

func (unloadAll) Unpin(m *Manager, b *Block, seq uint64) Placement { return Placement{Unload: true} }

// lazyLoad is a Load policy that forgets to read: the host must repair it.
type lazyLoad struct{}

func (lazyLoad) Load(m *Manager, b *Block, buf []byte) error { return nil }

// badQueue is an Unpin policy that names a queue that does not exist.
type badQueue struct{}

func (badQueue) Unpin(m *Manager, b *Block, seq uint64) Placement { return Placement{Queue: NumQueues} }

// TestPool runs the data-driven tests in testdata/*.txt. Commands:
//
//	new limit=<bytes> [file] [unpin=unload|bad-queue] [load=lazy]
//	                                a manager (with a database file of 4 KiB blocks)
//	alloc <name> tag=<tag> [size=<bytes>]   a temporary buffer (block-shaped without size)
//	pin <name> | unpin <name> | free <name> | persist <name>
//	handle <name> id=<block>        the handle of a persistent block
//	read-ahead id=<block>           start a readahead and wait for it
//	purge <queue>                   drop a queue's stale entries now
//	evict [n=<count>]               evict up to n blocks (default 1)
//	set-limit <bytes>
//	checkpoint                      checkpoint the database file
//	queues | metrics
//
// Every command but queues and metrics prints the pool: each named block
// (state, readers, tag, bytes, queue) and the memory per tag.
func TestPool(t *testing.T) {
	var p *pool
	defer func() {
		if p != nil {
			p.close()
		}
	}()
	runDataDriven(t, "testdata/*.txt", func(t *testing.T, c *ddCase) string {
		if c.Cmd == "new" {
			if p != nil {
				p.close()
			}
			p = newPool(t, c)
			return p.String()
		}
		if p == nil {
			t.Fatalf("%s: no pool: start with new", c.Pos)
		}
		out, err := p.run(c)
		if err != nil {
			out = "error: " + strings.ReplaceAll(err.Error(), p.dir, "$TMP") + "\n"
		}
		if c.Cmd != "queues" && c.Cmd != "metrics" {
			out += p.String()
		}
		return out
	})
}

func newPool(t *testing.T, c *ddCase) *pool {
	p := &pool{t: t, dir: t.TempDir(), block: map[string]*Block{}, fill: map[*Block]string{}}
	opts := Options{Limit: p.int(c, "limit"), TempDir: p.dir}
	if slices.Contains(c.Args, "file") {
		f, err := file.Create(filepath.Join(p.dir, "db"), file.CreateOptions{BlockSize: testBlockSize})
		if err != nil {
			t.Fatal(err)
		}
		p.f, opts.File = f, f
	}
	switch c.KV["unpin"] {
	case "unload":
		opts.Unpin = unloadAll{}
	case "bad-queue":
		opts.Unpin = badQueue{}
	}
	if c.KV["load"] == "lazy" {
		opts.Load = lazyLoad{}
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	p.m = m
	return p
}

func (p *pool) close() {
	p.m.Close()
	if p.f != nil {
		p.f.Close()
	}
}

func (p *pool) int(c *ddCase, key string) int64 {
	n, err := strconv.ParseInt(c.KV[key], 10, 64)
	if err != nil {
		p.t.Fatalf("%s: %s=%q: %v", c.Pos, key, c.KV[key], err)
	}
	return n
}

func (p *pool) named(c *ddCase) (string, *Block) {
	if len(c.Args) != 1 {
		p.t.Fatalf("%s: %s wants one block name", c.Pos, c.Cmd)
	}
	b, ok := p.block[c.Args[0]]
	if !ok && c.Cmd != "alloc" && c.Cmd != "handle" {
		p.t.Fatalf("%s: no block named %s", c.Pos, c.Args[0])
	}
	return c.Args[0], b
}

func (p *pool) add(name string, b *Block) {
	if _, ok := p.block[name]; !ok {
		p.names = append(p.names, name)
	}
	p.block[name] = b
}

func (p *pool) run(c *ddCase) (string, error) {
	switch c.Cmd {
	case "alloc":
		name, _ := p.named(c)
		tag, err := ParseTag(c.KV["tag"])
		if err != nil {
			p.t.Fatalf("%s: %v", c.Pos, err)
		}
		var b *Block
		var buf []byte
		if _, ok := c.KV["size"]; ok {
			b, buf, err = p.m.Allocate(tag, int(p.int(c, "size")))
		} else {
			b, buf, err = p.m.AllocateBlock(tag)
		}
		if err != nil {
			return "", err
		}
		fillPattern(buf, name)
		p.fill[b] = name
		p.add(name, b)
		return "", nil
	case "pin":
		name, b := p.named(c)
		buf, err := p.m.Pin(b)
		if err != nil {
			return "", err
		}
		if !hasPattern(buf, p.fill[b]) {
			return fmt.Sprintf("%s does not hold its bytes\n", name), nil
		}
		return "", nil
	case "unpin":
		_, b := p.named(c)
		p.m.Unpin(b)
		return "", nil
	case "free":
		name, b := p.named(c)
		err := p.m.Free(b)
		if err == nil {
			p.names = slices.DeleteFunc(p.names, func(n string) bool { return n == name })
			delete(p.block, name)
		}
		return "", err
	case "persist":
		_, b := p.named(c)
		id, err := p.m.MakePersistent(b)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("block %d\n", id), nil
	case "handle":
		name, _ := p.named(c)
		p.add(name, p.m.Persistent(file.BlockID(p.int(c, "id")), TagBaseTable))
		return "", nil
	case "evict":
		n := int64(1)
		if _, ok := c.KV["n"]; ok {
			n = p.int(c, "n")
		}
		return fmt.Sprintf("evicted %d\n", p.m.Evict(int(n))), nil
	case "set-limit":
		n, err := strconv.ParseInt(c.Args[0], 10, 64)
		if err != nil {
			p.t.Fatalf("%s: %v", c.Pos, err)
		}
		return "", p.m.SetLimit(n)
	case "read-ahead":
		err := p.m.ReadAhead(uint64(p.int(c, "id")))
		p.m.waitReadAheads()
		if err != nil {
			return "", err
		}
		return "started\n", nil
	case "purge":
		q := slices.Index(queueNames[:], c.Args[0])
		if q < 0 {
			p.t.Fatalf("%s: no queue %q", c.Pos, c.Args[0])
		}
		before := p.m.QueueLen(q)
		n := p.m.PurgeQueue(q)
		return fmt.Sprintf("purged %d of %d, %d left\n", n, before, p.m.QueueLen(q)), nil
	case "checkpoint":
		return "", p.f.Checkpoint(nil)
	case "queues":
		return p.m.QueueString(), nil
	case "metrics":
		return p.m.Metrics().String(), nil
	}
	p.t.Fatalf("%s: unknown command %q", c.Pos, c.Cmd)
	return "", nil
}

// String renders the pool: the named blocks, then memory per tag.
func (p *pool) String() string {
	var sb strings.Builder
	w := tabwriter.NewWriter(&sb, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "name\tblock\tstate\treaders\ttag\tbytes\tqueue")
	for _, n := range p.names {
		i := p.block[n].Info()
		state := i.State.String()
		if i.Spilled {
			state += " (spilled)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%d\t%s\n", n, i.Name, state, i.Readers, i.Tag, i.Size, queueNames[i.Queue])
	}
	w.Flush()
	x := p.m.Metrics()
	fmt.Fprintf(&sb, "used %d of %d:", x.Used, x.Limit)
	var sum int64
	for t, v := range x.Tags {
		sum += v
		if v != 0 {
			fmt.Fprintf(&sb, " %s %d", Tag(t), v)
		}
	}
	sb.WriteString("\n")
	if sum != x.Used {
		fmt.Fprintf(&sb, "tags sum to %d, not %d\n", sum, x.Used)
	}
	return sb.String()
}

// fillPattern fills buf with bytes derived from name, and hasPattern checks
// them, so that a block read back after eviction is seen to hold its bytes.
func fillPattern(buf []byte, name string) {
	for i := range buf {
		buf[i] = name[i%len(name)] + byte(i/len(name))
	}
}

func hasPattern(buf []byte, name string) bool {
	for i := range buf {
		if buf[i] != name[i%len(name)]+byte(i/len(name)) {
			return false
		}
	}
	return true
}
