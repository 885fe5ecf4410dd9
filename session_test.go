package bpfdb_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bpfdb/bpfdb"
)

// TestSessionPermissions: a session that is not a superuser's cannot
// attach or detach programs, manage users, change settings or read a
// hook's map, and nothing changes; a superuser's session and the embedded
// API (no session) can.
func TestSessionPermissions(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	db := openWith(t, path, bpfdb.Options{})
	ctx := context.Background()
	exec(t, db, `CREATE USER root PASSWORD 'r00t' SUPERUSER; CREATE USER bob PASSWORD 'b0b'`)
	bob := bpfdb.WithSession(ctx, bpfdb.Session{User: "bob"})
	root := bpfdb.WithSession(ctx, bpfdb.Session{User: "root", Superuser: true})

	policy := filepath.Join("extensions", "unpin", "scan_resistant.o")
	for _, sql := range []string{
		"ATTACH PROGRAM '" + policy + "' TO HOOK unpin",
		"DETACH PROGRAM FROM HOOK unpin",
		"CREATE USER eve PASSWORD 'x' SUPERUSER",
		"DROP USER root",
		"SET threads = 1",
		"COPY t FROM '/etc/passwd'",
		"SELECT * FROM bpfdb_map('unpin', 'config')",
		"EXPLAIN SELECT * FROM (SELECT * FROM bpfdb_map('unpin', 'config')) m",
	} {
		if err := db.Exec(bob, sql); !errors.Is(err, bpfdb.ErrPermission) {
			t.Errorf("bob: %s: %v, want ErrPermission", sql, err)
		}
	}
	for _, h := range db.Hooks() {
		if h.Program != "" {
			t.Errorf("bob attached %s to %s", h.Program, h.Hook)
		}
	}
	if _, ok := db.LookupUser("eve"); ok {
		t.Error("bob created eve")
	}
	if _, ok := db.LookupUser("root"); !ok {
		t.Error("bob dropped root")
	}
	// A user may change its own password, nothing else of a user.
	for _, sql := range []string{"ALTER USER bob SUPERUSER", "ALTER USER root PASSWORD 'mine'", "ALTER USER bob PASSWORD 'x' NOSUPERUSER"} {
		if err := db.Exec(bob, sql); !errors.Is(err, bpfdb.ErrPermission) {
			t.Errorf("bob: %s: %v, want ErrPermission", sql, err)
		}
	}
	if err := db.Exec(bob, "ALTER USER BOB PASSWORD 'b0b2'"); err != nil {
		t.Errorf("bob's own password: %v", err)
	}
	u, _ := db.LookupUser("bob")
	if stored, _, _ := bpfdb.SCRAMKeys("b0b2", u.Salt, u.Iterations); !bytes.Equal(stored, u.StoredKey) || u.Superuser {
		t.Errorf("bob after his ALTER USER: %+v", u)
	}
	if err := db.Exec(root, "ALTER USER bob SUPERUSER; ALTER USER bob NOSUPERUSER PASSWORD 'b0b'"); err != nil {
		t.Errorf("root's ALTER USER: %v", err)
	}
	if err := db.Exec(root, "ALTER USER nobody PASSWORD 'x'"); err == nil {
		t.Error("ALTER USER of nobody worked")
	}

	// Queries are everyone's.
	if _, err := db.Query(bob, "SELECT count(*) FROM bpfdb_hooks()"); err != nil {
		t.Errorf("bob's query: %v", err)
	}
	if err := db.Exec(root, "ATTACH PROGRAM '"+policy+"' TO HOOK unpin; DETACH PROGRAM FROM HOOK unpin; CREATE USER eve PASSWORD 'x'; DROP USER eve"); err != nil {
		t.Errorf("root: %v", err)
	}

	// The users are durable, as verifiers that check the password.
	db.Close()
	db = openWith(t, path, bpfdb.Options{})
	u, ok := db.LookupUser("BOB")
	if !ok || u.Superuser || u.Iterations != 4096 || len(u.Salt) != 16 {
		t.Fatalf("bob after reopen: %+v %v", u, ok)
	}
	stored, server, err := bpfdb.SCRAMKeys("b0b", u.Salt, u.Iterations)
	if err != nil || !bytes.Equal(stored, u.StoredKey) || !bytes.Equal(server, u.ServerKey) {
		t.Fatalf("bob's verifier does not match his password (%v)", err)
	}
	if wrong, _, _ := bpfdb.SCRAMKeys("b0B", u.Salt, u.Iterations); bytes.Equal(wrong, u.StoredKey) {
		t.Fatal("a wrong password matches")
	}
	if names := len(db.Users()); names != 2 {
		t.Fatalf("%d users, want root and bob", names)
	}
}
