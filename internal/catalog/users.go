package catalog

import (
	"fmt"
	"slices"
)

// User is a role that may log in to the database over the wire server, as
// the database file records it. The password itself is never stored: only
// its SCRAM-SHA-256 verifier (RFC 5802, RFC 7677), from which a server can
// check a client's proof but which does not reveal the password.
type User struct {
	Name       string // as created; compared without case
	Superuser  bool   // may attach programs, manage users and read hook maps
	Salt       []byte // the PBKDF2 salt
	Iterations int    // the PBKDF2 iteration count
	StoredKey  []byte // H(HMAC(SaltedPassword, "Client Key"))
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
}

// maxIterations bounds a stored iteration count, so that damaged metadata
// cannot make a login run for hours.
const maxIterations = 1 << 24

// Users returns the users the last committed version records, in name
// order.
func (c *Catalog) Users() []User { return usersOf(c.cur.Load()) }

// User returns the user called name (without regard to case) as the last
// committed version records it.
func (c *Catalog) User(name string) (User, bool) {
	u := c.cur.Load().users[fold(name)]
	if u == nil {
		return User{}, false
	}
	return cloneUser(u), true
}

// Users returns the users the transaction's version records.
func (tx *Tx) Users() []User {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return usersOf(tx.base)
}

func usersOf(v *version) []User {
	out := make([]User, 0, len(v.users))
	for _, k := range sortedKeys(v.users) {
		out = append(out, cloneUser(v.users[k]))
	}
	return out
}

func cloneUser(u *User) User {
	c := *u
	c.Salt, c.StoredKey, c.ServerKey = slices.Clone(u.Salt), slices.Clone(u.StoredKey), slices.Clone(u.ServerKey)
	return c
}

// CreateUser records u; a user of that name (without regard to case) must
// not exist (ErrExists). Like every write it is kept only if the statement
// commits.
func (tx *Tx) CreateUser(u User) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	if err := checkUser(&u); err != nil {
		return fmt.Errorf("create user %q: %w", u.Name, err)
	}
	k := fold(u.Name)
	if tx.next.users[k] != nil {
		return fmt.Errorf("%w: user %q", ErrExists, u.Name)
	}
	c := cloneUser(&u)
	tx.next.users[k] = &c
	tx.dirty = true
	return nil
}

// ReplaceUser records u in place of the user of its name (compared without
// case), which must exist (ErrNotFound); the stored name stays as created.
func (tx *Tx) ReplaceUser(u User) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	if err := checkUser(&u); err != nil {
		return fmt.Errorf("alter user %q: %w", u.Name, err)
	}
	k := fold(u.Name)
	old := tx.next.users[k]
	if old == nil {
		return fmt.Errorf("%w: user %q", ErrNotFound, u.Name)
	}
	c := cloneUser(&u)
	c.Name = old.Name
	tx.next.users[k] = &c
	tx.dirty = true
	return nil
}

// DropUser removes the user called name; a user that does not exist is
// ErrNotFound unless ifExists.
func (tx *Tx) DropUser(name string, ifExists bool) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err := tx.write(); err != nil {
		return err
	}
	k := fold(name)
	if tx.next.users[k] == nil {
		if ifExists {
			return nil
		}
		return fmt.Errorf("%w: user %q", ErrNotFound, name)
	}
	delete(tx.next.users, k)
	tx.dirty = true
	return nil
}

// checkUser checks a user record, new or decoded.
func checkUser(u *User) error {
	switch {
	case u.Name == "":
		return fmt.Errorf("%w: a user has no name", ErrCorrupt)
	case len(u.Salt) == 0 || len(u.StoredKey) != 32 || len(u.ServerKey) != 32:
		return fmt.Errorf("%w: user %q: a verifier needs a salt and keys of 32 bytes (salt %d, stored key %d, server key %d bytes)",
			ErrCorrupt, u.Name, len(u.Salt), len(u.StoredKey), len(u.ServerKey))
	case u.Iterations < 1 || u.Iterations > maxIterations:
		return fmt.Errorf("%w: user %q: %d iterations (want 1 to %d)", ErrCorrupt, u.Name, u.Iterations, maxIterations)
	}
	return nil
}
