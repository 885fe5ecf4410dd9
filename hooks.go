package bpfdb

//go:generate sh testdata/programs/build.sh

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/bpfdb/bpfdb/ebpf/maps"
	"github.com/bpfdb/bpfdb/ext"
	"github.com/bpfdb/bpfdb/extensions"
	"github.com/bpfdb/bpfdb/internal/catalog"
	"github.com/bpfdb/bpfdb/internal/hooks"
)

// HookStatus is one hook's line of bpfdb_hooks(): what is attached and its
// counters since it was attached.
type HookStatus struct {
	Hook       string        // SQL name: hash, execute_forever, schedule_task, load, update_used_memory, allocate_new_block, unpin
	Program    string        // the program's name (its symbol); "" when the built-in runs
	Source     string        // where it came from: a file name or a stock policy ("unpin/scan_resistant")
	Engine     string        // jit or interpreter
	Since      time.Time     // when it was attached
	Calls      uint64        // runs of the program
	Handled    uint64        // runs that returned BPFDB_HANDLED
	Errors     uint64        // failed runs (the built-in ran instead)
	Violations uint64        // decisions the host repaired
	Time       time.Duration // time spent in runs (estimated from a sample)
	LastError  string        // the last failure, "" if none
}

// Hooks returns the seven hooks in order with what is attached to each.
func (db *DB) Hooks() []HookStatus {
	out := make([]HookStatus, 0, 7)
	for _, hi := range db.hooks.List() {
		st := HookStatus{Hook: hi.Hook.String()}
		if a := hi.Attached; a != nil {
			s := a.Stats()
			st.Program, st.Engine, st.Since = a.Name(), a.Engine().String(), a.Since()
			st.Calls, st.Handled, st.Errors, st.Violations, st.Time = s.Calls, s.Handled, s.Errors, s.Violations, s.Time
			if err := a.LastError(); err != nil {
				st.LastError = err.Error()
			}
			db.progMu.Lock()
			st.Source = db.sources[hi.Hook]
			db.progMu.Unlock()
		}
		out = append(out, st)
	}
	return out
}

// AttachOptions qualify AttachProgram.
type AttachOptions struct {
	// Program names the program to attach (its symbol) when the object
	// holds several for the hook.
	Program string
	// Transient attaches without recording the attachment in the
	// database: it ends when the database closes (benchmarks, demos).
	Transient bool
	// Engine, if not EngineAuto, runs this program on that engine instead
	// of Options.HookEngine.
	Engine HookEngine
}

// AttachProgram verifies the eBPF program in the ELF object obj against
// hook's program type, compiles it and swaps it into the hook: the next
// call of the hook runs it, calls in flight finish on the program they
// started with. source says where the object came from (a file name), for
// listings. Unless opts.Transient (or the database is read-only), the
// attachment is recorded in the database, which attaches the program
// again when it opens (Options.NoPrograms skips that). A program the verifier rejects gives an
// error holding the verifier's log; nothing changes then.
func (db *DB) AttachProgram(hook, source string, obj []byte, opts AttachOptions) error {
	h, err := ext.ParseHook(hook)
	if err != nil {
		return err
	}
	db.progMu.Lock()
	defer db.progMu.Unlock()
	prev := db.hooks.Attached(h)
	engine := opts.Engine
	if engine == EngineAuto {
		engine = db.engine
	}
	a, err := db.hooks.AttachEngine(h, obj, opts.Program, engine)
	if err != nil {
		return err
	}
	if !db.cat.ReadOnly() && !opts.Transient {
		tx := db.cat.Begin()
		err := tx.SetProgram(catalog.Program{Hook: h.String(), Name: source, Section: a.Name(), Object: obj, Since: a.Since()})
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			// The statement failed: the hook goes back to what it ran.
			db.restore(h, prev)
			return fmt.Errorf("attach program to hook %s: record it in the database: %w", h, err)
		}
	}
	db.sources[h] = source
	return nil
}

// restore puts prev (nil: the built-in) back into hook h after an attach
// that could not be recorded. progMu is held.
func (db *DB) restore(h ext.Hook, prev *hooks.Attachment) {
	if prev == nil {
		_ = db.hooks.Detach(h)
		return
	}
	if _, err := db.hooks.AttachEngine(h, prev.Object(), prev.Name(), prev.Engine()); err != nil {
		_ = db.hooks.Detach(h) // it was verified before: only a changed runtime gets here
	}
}

// DetachProgram detaches the program attached to hook: the built-in
// behaviour runs from the next call on, and the database no longer
// records the attachment.
func (db *DB) DetachProgram(hook string) error {
	h, err := ext.ParseHook(hook)
	if err != nil {
		return err
	}
	db.progMu.Lock()
	defer db.progMu.Unlock()
	prev := db.hooks.Attached(h)
	if prev == nil {
		return fmt.Errorf("detach program from hook %s: %w", h, hooks.ErrNotAttached)
	}
	if !db.cat.ReadOnly() {
		tx := db.cat.Begin() // a transient attachment replaced a recorded one: drop the record too
		_, err := tx.DropProgram(h.String())
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("detach program from hook %s: %w", h, err)
		}
	}
	if err := db.hooks.Detach(h); err != nil && !errors.Is(err, hooks.ErrNotAttached) {
		return err
	}
	delete(db.sources, h)
	return nil
}

// detached follows the registry's detach of a after too many errors: the
// database stops recording the attachment, so that it does not come back
// at the next open (the operator attaches it again after fixing it). The
// registry is locked during the call, so the record is dropped on a
// goroutine, which Close waits for; if another program was attached to the
// hook meanwhile, its record stands.
func (db *DB) detached(h ext.Hook, a *hooks.Attachment, logf func(string, ...any)) {
	db.dropped.Add(1)
	go func() {
		defer db.dropped.Done()
		db.progMu.Lock()
		defer db.progMu.Unlock()
		if db.hooks.Attached(h) != nil {
			return
		}
		delete(db.sources, h)
		if db.cat.ReadOnly() {
			return
		}
		tx := db.cat.Begin()
		dropped, err := tx.DropProgram(h.String())
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		switch {
		case err != nil:
			logf("hooks: %s: program %s was detached after errors, but its record stays in the database: %v", h, a.Name(), err)
		case dropped:
			logf("hooks: %s: program %s is no longer recorded in the database", h, a.Name())
		}
	}()
}

// HookMap returns the map called name of the program attached to hook:
// a policy's state and its knobs (a quota, priorities), which Go code may
// read and update while the program runs.
func (db *DB) HookMap(hook, name string) (maps.Map, error) {
	h, err := ext.ParseHook(hook)
	if err != nil {
		return nil, err
	}
	a := db.hooks.Attached(h)
	if a == nil {
		return nil, fmt.Errorf("map %s of hook %s: %w", name, h, hooks.ErrNotAttached)
	}
	m, ok := a.Maps()[name]
	if !ok {
		return nil, fmt.Errorf("map %s of hook %s: program %s has no such map (maps: %s)", name, h, a.Name(), mapNames(a))
	}
	return m, nil
}

func mapNames(a *hooks.Attachment) string {
	if names := sortedMapNames(a); len(names) > 0 {
		return strings.Join(names, ", ")
	}
	return "none"
}

// attachRecorded attaches the programs the database file records, at
// open. A program that no longer verifies makes Open fail, naming it: a
// policy silently missing (a quota, say) is worse than a refusal, and
// Options.NoPrograms opens the database without them.
func (db *DB) attachRecorded() error {
	for _, p := range db.cat.Programs() {
		h, err := ext.ParseHook(p.Hook)
		if err != nil {
			return fmt.Errorf("attach recorded program %s: %w (open with NoPrograms to skip it)", p.Name, err)
		}
		if _, err := db.hooks.Attach(h, p.Object, p.Section); err != nil {
			return fmt.Errorf("attach recorded program %s to hook %s: %w (open with NoPrograms to skip it)", p.Name, h, err)
		}
		db.sources[h] = p.Name
	}
	return nil
}

// AttachStock attaches the stock policy called policy (extensions/<hook>/
// <policy>.c, built in) to hook, as AttachProgram does.
func (db *DB) AttachStock(hook, policy string, opts AttachOptions) error {
	h, err := ext.ParseHook(hook)
	if err != nil {
		return err
	}
	obj, err := extensions.Object(h.String(), policy)
	if err != nil {
		return err
	}
	return db.AttachProgram(h.String(), "stock:"+h.String()+"/"+policy, obj, opts)
}

// readProgram reads a program's object for ATTACH PROGRAM 'file': the
// file, or else, when file is a bare name that names no file, the stock
// policy of that name for the hook (extensions/<hook>/<name>.o, built in).
func readProgram(hook, file string) (obj []byte, source string, err error) {
	obj, err = os.ReadFile(file)
	if err == nil {
		return obj, file, nil
	}
	if !errors.Is(err, fs.ErrNotExist) || strings.ContainsAny(file, `/\.`) {
		return nil, "", fmt.Errorf("attach program %s: %w", file, err)
	}
	stock, serr := extensions.Object(hook, file)
	if serr != nil {
		return nil, "", fmt.Errorf("attach program %s: no such file, and %w (stock policies of hook %s: %s)", file, serr, hook, stockNames(hook))
	}
	return stock, "stock:" + hook + "/" + file, nil
}

// stockNames lists the stock policies of hook.
func stockNames(hook string) string {
	var names []string
	for _, p := range extensions.List() {
		if h, err := ext.ParseHook(hook); err == nil && p.Hook == h {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, ", ")
}
