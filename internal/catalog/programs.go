package catalog

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Program is an eBPF policy program attached to a hook, as the database
// file records it: enough to verify and attach it again when the database
// opens (the object's bytes, not its path, so the file stands alone).
type Program struct {
	Hook    string    // the hook's SQL name (unpin, hash, …)
	Name    string    // where it came from: a file name or a stock policy
	Section string    // the ELF section or program name chosen; "" for the only one
	Object  []byte    // the ELF object
	Since   time.Time // when it was attached (UTC, second precision when stored)
}

// Programs returns the programs the last committed version records, in
// hook name order.
func (c *Catalog) Programs() []Program { return programsOf(c.cur.Load()) }

// Programs returns the programs the transaction's version records.
func (tx *Tx) Programs() []Program {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return programsOf(tx.base)
}

func programsOf(v *version) []Program {
	out := make([]Program, 0, len(v.programs))
	for _, k := range sortedKeys(v.programs) {
		p := *v.programs[k]
		p.Object = slices.Clone(p.Object)
		out = append(out, p)
	}
	return out
}

// SetProgram records p as the program attached to p.Hook, replacing the
// one recorded before. Like every write it is kept only if the statement
// commits.
func (tx *Tx) SetProgram(p Program) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	if p.Hook == "" || len(p.Object) == 0 {
		return errors.New("record program: no hook or no object")
	}
	p.Object = slices.Clone(p.Object)
	p.Since = p.Since.UTC().Truncate(time.Second)
	tx.next.programs[p.Hook] = &p
	tx.dirty = true
	return nil
}

// DropProgram removes the record of the program attached to hook; it
// reports whether there was one.
func (tx *Tx) DropProgram(hook string) (bool, error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return false, err
	}
	if tx.next.programs[hook] == nil {
		return false, nil
	}
	delete(tx.next.programs, hook)
	tx.dirty = true
	return true, nil
}

// checkProgram checks a decoded program record.
func checkProgram(p *Program) error {
	switch {
	case p.Hook == "":
		return fmt.Errorf("%w: program %q has no hook", ErrCorrupt, p.Name)
	case len(p.Object) == 0:
		return fmt.Errorf("%w: program %q of hook %s has no object", ErrCorrupt, p.Name, p.Hook)
	}
	return nil
}
