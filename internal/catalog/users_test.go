package catalog

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func testUser(name string, super bool) User {
	return User{Name: name, Superuser: super, Salt: []byte("0123456789abcdef"), Iterations: 4096,
		StoredKey: bytes.Repeat([]byte{7}, 32), ServerKey: bytes.Repeat([]byte{9}, 32)}
}

// TestUsers: users are created and dropped in transactions, compared
// without case, kept across a reopen, and a failed statement changes none.
func TestUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.db")
	c := mustOpen(t, path, Options{MemoryLimit: 16 << 20})
	exec(t, c, func(tx *Tx) error { return tx.CreateUser(testUser("admin", true)) })
	exec(t, c, func(tx *Tx) error { return tx.CreateUser(testUser("Bob", false)) })

	tx := c.Begin()
	if err := tx.CreateUser(testUser("ADMIN", false)); !errors.Is(err, ErrExists) {
		t.Fatalf("second admin: %v, want ErrExists", err)
	}
	if err := tx.DropUser("nobody", false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("drop nobody: %v, want ErrNotFound", err)
	}
	if err := tx.DropUser("nobody", true); err != nil {
		t.Fatalf("drop if exists: %v", err)
	}
	if err := tx.DropUser("bob", false); err != nil {
		t.Fatal(err)
	}
	tx.Rollback() // the drop is undone
	if _, ok := c.User("BOB"); !ok {
		t.Fatal("bob is gone after a rolled back drop")
	}
	bad := testUser("x", false)
	bad.StoredKey = nil
	exec(t, c, func(tx *Tx) error {
		if err := tx.CreateUser(bad); err == nil {
			t.Error("a user without a stored key was created")
		}
		return nil
	})
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c = mustOpen(t, path, Options{MemoryLimit: 16 << 20})
	defer c.Close()
	var names []string
	for _, u := range c.Users() {
		names = append(names, u.Name)
		if want := testUser(u.Name, u.Name == "admin"); u.Superuser != want.Superuser || !bytes.Equal(u.ServerKey, want.ServerKey) ||
			!bytes.Equal(u.StoredKey, want.StoredKey) || !bytes.Equal(u.Salt, want.Salt) || u.Iterations != want.Iterations {
			t.Errorf("reopened user %+v, want %+v", u, want)
		}
	}
	if len(names) != 2 || names[0] != "admin" || names[1] != "Bob" {
		t.Fatalf("users after reopen: %v", names)
	}
	changed := testUser("BOB", true)
	changed.Iterations = 8192
	exec(t, c, func(tx *Tx) error { return tx.ReplaceUser(changed) })
	if u, ok := c.User("bob"); !ok || u.Name != "Bob" || !u.Superuser || u.Iterations != 8192 {
		t.Fatalf("after ReplaceUser: %+v", u)
	}
	exec(t, c, func(tx *Tx) error {
		if err := tx.ReplaceUser(testUser("nobody", false)); !errors.Is(err, ErrNotFound) {
			t.Errorf("replace nobody: %v, want ErrNotFound", err)
		}
		return nil
	})
	exec(t, c, func(tx *Tx) error { return tx.DropUser("BOB", false) })
	if _, ok := c.User("bob"); ok {
		t.Fatal("bob survived DROP")
	}
}
