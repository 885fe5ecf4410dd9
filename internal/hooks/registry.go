package hooks

import (
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/ebpf/maps"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/internal/exec/hash"
	"github.com/bpfdb/bpfdb/internal/storage/buffer"
)

// Errors of the registry, wrapped in chains that name the hook and program.
var (
	// ErrDisabled: the binary was built with the nohooks tag.
	ErrDisabled = errors.New("hooks are compiled out (built with -tags nohooks)")
	// ErrNoSite: the engine does not run programs at this hook. Every hook
	// has a site since the Load site was added; Attach keeps the check
	// (and callers that probe for a site keep working).
	ErrNoSite = errors.New("the engine has no site for this hook yet")
	// ErrNotAttached: Detach of a hook with no program.
	ErrNotAttached = errors.New("no program is attached")
	// ErrReturned: a program returned a negative error code (a failed
	// call; the built-in behaviour ran).
	ErrReturned = errors.New("the program returned an error")
	// ErrNoProgram: the object has no program to attach (or several and
	// none was named).
	ErrNoProgram = errors.New("no program to attach")
)

// Options configure a Registry.
type Options struct {
	// Engine runs the programs: EngineAuto (the JIT where available),
	// EngineInterpreter or EngineJIT.
	Engine ebpf.Engine
	// Runners is the number of runners of each attachment: calls running
	// at once beyond it wait for a free one. It is also the number of
	// worker slots of per-worker maps. 0 means 2 × GOMAXPROCS, at least 4.
	Runners int
	// MaxErrors is the number of failed calls (negative return, fault,
	// exhausted budget) after which a program is detached; 0 means
	// DefaultMaxErrors, negative means never.
	MaxErrors int64
	// Budget is the instruction budget of one call; 0 means the hook's
	// default (DefaultBudget, HashBudget for Hash).
	Budget int64
	// Logf receives the registry's events (attach, replace, detach, and
	// detach after errors); nil means the standard logger.
	Logf func(format string, args ...any)
	// Detached, if set, is told of a program the registry detached on
	// its own after MaxErrors failures, with the last failure. It is
	// called with the registry locked: it must not call the registry
	// (start a goroutine for that).
	Detached func(hook ext.Hook, a *Attachment, last error)
}

// Defaults of Options.
const (
	DefaultMaxErrors = 100
	DefaultBudget    = ebpf.DefaultBudget
	// HashBudget is the default budget of a Hash call, which covers a
	// whole vector of keys.
	HashBudget = 16 * ebpf.DefaultBudget
)

// Registry holds one slot per hook for one database. It is safe for
// concurrent use: sites call into it from any goroutine while Attach and
// Detach (serialized among themselves) swap programs.
type Registry struct {
	opts    Options
	mu      sync.Mutex // serializes Attach, Detach and detach after errors
	slots   [ext.Unpin + 1]atomic.Pointer[Attachment]
	helpers [ext.Unpin + 1]*ebpf.Helpers // nil: no site
	hash    hash.Slot
	loader  loadSite
	unpin   unpinSite
	alloc   allocSite
	memory  memSite
	sched   schedSite
	exec    execSite
	caches  memCaches
	specs   specCache // parsed objects of recent attaches
}

// New returns a registry with nothing attached.
func New(opts Options) *Registry {
	if opts.Runners <= 0 {
		opts.Runners = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if opts.MaxErrors == 0 {
		opts.MaxErrors = DefaultMaxErrors
	}
	if opts.Logf == nil {
		opts.Logf = log.Printf
	}
	r := &Registry{opts: opts}
	r.loader.r, r.unpin.r, r.alloc.r, r.memory.r, r.sched.r, r.exec.r = r, r, r, r, r, r
	r.caches.slots = make([][buffer.NumTags]atomic.Int64, opts.Runners)
	for hook, fns := range siteHelpers() {
		hs := ebpf.DefaultHelpers()
		if err := ext.SpecOf(hook).Register(hs, fns); err != nil {
			panic("BUG: hooks: " + err.Error())
		}
		r.helpers[hook] = hs
	}
	return r
}

// siteHelpers returns the hook helpers of every hook's site.
func siteHelpers() map[ext.Hook]map[int32]ebpf.HelperFunc {
	return map[ext.Hook]map[int32]ebpf.HelperFunc{
		ext.Hash:             hashHelpers,
		ext.Load:             loadHelpers,
		ext.Unpin:            unpinHelpers,
		ext.AllocateNewBlock: allocHelpers,
		ext.UpdateUsedMemory: memHelpers,
		ext.ScheduleTask:     schedHelpers,
		ext.ExecuteForever:   execHelpers,
	}
}

// HashSlot returns the slot operators capture their hash function from
// (hash.Slot.Capture): the Hash hook's program while one is attached, the
// built-in function otherwise.
func (r *Registry) HashSlot() *hash.Slot { return &r.hash }

// load returns the program attached to hook, or nil. Under nohooks it is
// the constant nil, so that the sites reduce to their built-in branch.
func (r *Registry) load(hook ext.Hook) *Attachment {
	if !enabled {
		return nil
	}
	return r.slots[hook].Load()
}

// Attached returns the program attached to hook, or nil.
func (r *Registry) Attached(hook ext.Hook) *Attachment { return r.load(hook) }

// AttachFile is Attach with the object read from path.
func (r *Registry) AttachFile(hook ext.Hook, path, program string) (*Attachment, error) {
	obj, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("attach %s to hook %s: %w", path, hook, err)
	}
	return r.Attach(hook, obj, program)
}

// Attach loads a program from the ELF object obj into hook's slot,
// replacing the program attached before (calls in flight finish on it).
// program names the program (its symbol); "" picks the only program in
// section "bpfdb/<hook>". The program is verified against the hook's
// program type with the hook's helpers and compiled for Options.Engine;
// maps of the previous attachment of hook with the same name and a
// compatible spec are reused, so that a new version of a policy keeps its
// predecessor's state (.rodata is always the new object's). A verifier
// rejection's error carries the verifier's log and wraps ebpf.ErrVerifier.
func (r *Registry) Attach(hook ext.Hook, obj []byte, program string) (*Attachment, error) {
	return r.AttachEngine(hook, obj, program, r.opts.Engine)
}

// AttachEngine is Attach with the program run by engine instead of
// Options.Engine (benchmarks compare engines on one database).
func (r *Registry) AttachEngine(hook ext.Hook, obj []byte, program string, engine ebpf.Engine) (*Attachment, error) {
	fail := func(err error) (*Attachment, error) {
		what := "program"
		if program != "" {
			what = "program " + program
		}
		return nil, fmt.Errorf("attach %s to hook %s: %w", what, hook, err)
	}
	if !enabled {
		return fail(ErrDisabled)
	}
	if hook < ext.Hash || hook > ext.Unpin {
		return fail(fmt.Errorf("invalid hook %d", hook))
	}
	hs := r.helpers[hook]
	if hs == nil {
		return fail(ErrNoSite)
	}
	cs, err := r.specs.load(obj)
	if err != nil {
		return fail(err)
	}
	ps, err := pick(cs, hook, program)
	if err != nil {
		return fail(err)
	}
	program = ps.Name

	r.mu.Lock()
	defer r.mu.Unlock()
	prev := r.slots[hook].Load()
	ms, reused, err := r.maps(cs, ps, prev)
	if err != nil {
		return fail(err)
	}
	budget := r.opts.Budget
	if budget == 0 {
		budget = DefaultBudget
		if hook == ext.Hash {
			budget = HashBudget
		}
	}
	p, err := ebpf.NewProgram(ps, &ebpf.ProgramOptions{
		Helpers: hs, Maps: ms, Budget: budget, Type: ext.SpecOf(hook).Type(), Engine: engine,
	})
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) && ve.Log != "" {
			err = fmt.Errorf("%w\nverifier log:\n%s", err, strings.TrimRight(ve.Log, "\n"))
		}
		return fail(err)
	}
	a := newAttachment(r, hook, ps, p, ms, reused, slices.Clone(obj))
	r.slots[hook].Store(a)
	r.swapped(hook, a)
	if prev != nil {
		r.opts.Logf("hooks: %s: replaced %s with %s (%s; maps kept: %s)", hook, prev.name, a.name, p.Engine(), listOrNone(reused))
	} else {
		r.opts.Logf("hooks: %s: attached %s (%s)", hook, a.name, p.Engine())
	}
	return a, nil
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// pick returns the program to attach: the one named, or the only one in
// the hook's section.
func pick(cs *ebpf.CollectionSpec, hook ext.Hook, program string) (*ebpf.ProgramSpec, error) {
	if program != "" {
		ps, ok := cs.Programs[program]
		if !ok {
			return nil, fmt.Errorf("the object has no program %q (it has %s): %w", program, names(cs, ""), ErrNoProgram)
		}
		return ps, nil
	}
	section := ext.Section(hook)
	var found []*ebpf.ProgramSpec
	for _, ps := range cs.Programs {
		if ps.Section == section {
			found = append(found, ps)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return nil, fmt.Errorf("the object has no program in section %q (programs: %s): %w", section, names(cs, ""), ErrNoProgram)
	}
	return nil, fmt.Errorf("section %q holds %s; name one: %w", section, names(cs, section), ErrNoProgram)
}

// names lists the programs of cs (of one section if section is not "").
func names(cs *ebpf.CollectionSpec, section string) string {
	var out []string
	for name, ps := range cs.Programs {
		if section == "" || ps.Section == section {
			out = append(out, fmt.Sprintf("%s (%s)", name, ps.Section))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// maps creates the maps ps uses, reusing those of prev with the same name
// and a compatible spec (except read-only ones, which hold the new
// object's constants).
func (r *Registry) maps(cs *ebpf.CollectionSpec, ps *ebpf.ProgramSpec, prev *Attachment) (map[string]maps.Map, []string, error) {
	out := make(map[string]maps.Map, len(ps.MapNames))
	var reused []string
	for _, name := range ps.MapNames {
		if _, done := out[name]; done {
			continue
		}
		spec, ok := cs.Maps[name]
		if !ok {
			return nil, nil, fmt.Errorf("map %q is not in the object", name)
		}
		if prev != nil && !spec.ReadOnlyProg {
			if old, ok := prev.maps[name]; ok && compatible(old.Spec(), spec) {
				out[name] = old
				reused = append(reused, name)
				continue
			}
		}
		m, err := maps.New(spec, maps.Options{Workers: r.opts.Runners})
		if err != nil {
			return nil, nil, err
		}
		out[name] = m
	}
	slices.Sort(reused)
	return out, reused, nil
}

// compatible reports whether a map created for have can serve a program
// that declares want.
func compatible(have, want *maps.Spec) bool {
	return have.Type == want.Type && have.KeySize == want.KeySize && have.ValueSize == want.ValueSize &&
		have.MaxEntries == want.MaxEntries && have.ReadOnlyProg == want.ReadOnlyProg
}

// Detach empties hook's slot: the built-in behaviour runs from the next
// call on; calls in flight (and operators that captured a Hash program)
// finish on the program.
func (r *Registry) Detach(hook ext.Hook) error {
	if !enabled {
		return fmt.Errorf("detach from hook %s: %w", hook, ErrDisabled)
	}
	if hook < ext.Hash || hook > ext.Unpin {
		return fmt.Errorf("detach from hook %s: invalid hook", hook)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.slots[hook].Swap(nil)
	if a == nil {
		return fmt.Errorf("detach from hook %s: %w", hook, ErrNotAttached)
	}
	r.swapped(hook, nil)
	r.opts.Logf("hooks: %s: detached %s", hook, a.name)
	return nil
}

// detachFailing detaches a if it is still attached, after its errors
// reached Options.MaxErrors. It runs in the call that failed last; if an
// Attach or Detach holds the registry (verifying a program can take a
// while), it leaves the detach to a goroutine rather than wait on a hot
// path.
func (r *Registry) detachFailing(a *Attachment, last error) {
	if r.mu.TryLock() {
		defer r.mu.Unlock()
		r.detachFailingLocked(a, last)
		return
	}
	go func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.detachFailingLocked(a, last)
	}()
}

func (r *Registry) detachFailingLocked(a *Attachment, last error) {
	if !r.slots[a.hook].CompareAndSwap(a, nil) {
		return // replaced or detached meanwhile
	}
	r.swapped(a.hook, nil)
	r.opts.Logf("hooks: %s: detached %s after %d errors; last: %v", a.hook, a.name, a.errors.Load(), last)
	if r.opts.Detached != nil {
		r.opts.Detached(a.hook, a, last)
	}
}

// swapped follows a change of hook's slot to a (nil: detached): the hash
// slot gets the new function, cached memory counts are flushed. r.mu is
// held.
func (r *Registry) swapped(hook ext.Hook, a *Attachment) {
	switch hook {
	case ext.Hash:
		if a == nil {
			r.hash.Set(nil)
		} else {
			r.hash.Set(hashPolicy{a})
		}
	case ext.UpdateUsedMemory:
		r.FlushMemory()
	}
}

// HookInfo describes one hook's slot, for listings (bpfdb_hooks()).
type HookInfo struct {
	Hook ext.Hook
	// Attached is the program in the slot; nil if none.
	Attached *Attachment
}

// List returns the seven hooks in order with what is attached.
func (r *Registry) List() []HookInfo {
	out := make([]HookInfo, 0, 7)
	for _, h := range ext.Hooks() {
		out = append(out, HookInfo{Hook: h, Attached: r.load(h)})
	}
	return out
}

// String renders the listing: one line per hook, with the program, its
// engine and counters.
func (r *Registry) String() string {
	var sb strings.Builder
	for _, hi := range r.List() {
		fmt.Fprintf(&sb, "%-18s ", hi.Hook)
		if hi.Attached == nil {
			sb.WriteString("built-in\n")
			continue
		}
		a := hi.Attached
		fmt.Fprintf(&sb, "%s (%s) %s\n", a.Name(), a.Engine(), a.Stats())
	}
	return sb.String()
}

// Since returns when a was attached.
func (a *Attachment) Since() time.Time { return a.since }
