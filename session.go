package bpfdb

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"github.com/bpfdb/bpfdb/internal/catalog"
	"github.com/bpfdb/bpfdb/internal/sql/ast"
)

// Session is who runs a statement: a user logged in to the wire server.
// A context carries it (WithSession); statements run with a session that
// is not a superuser's may not manage the database:
//
//	ATTACH PROGRAM, DETACH PROGRAM   change the engine's policies
//	CREATE USER, DROP USER           manage who may log in
//	ALTER USER                       except a user's change of its own password
//	SET                              change the database's settings, which every session shares
//	bpfdb_map(hook, map)             read a policy's map entries
//	COPY table FROM 'file'           read a file of the server's machine
//
// They fail with an error wrapping ErrPermission and change nothing.
// Statements run without a session (the embedded API, the shell, the
// database/sql driver) are the owner's and may do everything.
type Session struct {
	User      string
	Superuser bool
}

type sessionKey struct{}

// WithSession returns a copy of ctx that carries s.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the session ctx carries, if any.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

// ErrPermission is under the errors of statements a session may not run
// (SQLSTATE 42501 on the wire).
var ErrPermission = errors.New("permission denied")

// authorize refuses st if ctx carries a session that may not run it.
func authorize(ctx context.Context, st ast.Statement) error {
	s, ok := SessionFrom(ctx)
	if !ok || s.Superuser {
		return nil
	}
	var what string
	switch st := st.(type) {
	case *ast.AttachProgramStmt:
		what = "ATTACH PROGRAM"
	case *ast.DetachProgramStmt:
		what = "DETACH PROGRAM"
	case *ast.CreateUserStmt:
		what = "CREATE USER"
	case *ast.DropUserStmt:
		what = "DROP USER"
	case *ast.AlterUserStmt:
		if !strings.EqualFold(st.Name, s.User) || st.Superuser != nil {
			what = "ALTER USER (other than one's own password)"
		}
	case *ast.SetStmt:
		what = "SET"
	case *ast.CopyStmt:
		what = "COPY from a file of the server"
	default:
		ast.Inspect(st, func(n ast.Node) bool {
			if f, ok := n.(*ast.TableFuncRef); ok && f.Name == "bpfdb_map" {
				what = "reading a hook's map with bpfdb_map()"
			}
			return what == ""
		})
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("%s: %w: user %q is not a superuser", what, ErrPermission, s.User)
}

// User is a role that may log in to the wire server, as the database
// records it: its name, whether it is a superuser, and its SCRAM-SHA-256
// verifier (RFC 5802, RFC 7677). The password is not kept.
type User struct {
	Name       string
	Superuser  bool
	Salt       []byte // PBKDF2 salt
	Iterations int    // PBKDF2 iterations
	StoredKey  []byte // SHA-256(ClientKey), 32 bytes
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key"), 32 bytes
}

// scramIterations is the PBKDF2 iteration count of new verifiers, as
// PostgreSQL's scram_iterations defaults to.
const scramIterations = 4096

// SCRAMKeys derives a password's SCRAM-SHA-256 keys: the salted password
// is PBKDF2-HMAC-SHA-256(password, salt, iterations), the client key
// HMAC(salted, "Client Key"), the stored key SHA-256(client key), the
// server key HMAC(salted, "Server Key"). The password is used as its
// bytes, without SASLprep (the same for ASCII passwords).
func SCRAMKeys(password string, salt []byte, iterations int) (storedKey, serverKey []byte, err error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, nil, fmt.Errorf("derive scram keys: %w", err)
	}
	clientKey := scramHMAC(salted, "Client Key")
	sum := sha256.Sum256(clientKey)
	return sum[:], scramHMAC(salted, "Server Key"), nil
}

func scramHMAC(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// newVerifier derives a password's SCRAM-SHA-256 verifier with a random
// salt.
func newVerifier(name, password string) (salt, stored, server []byte, err error) {
	if password == "" {
		return nil, nil, nil, fmt.Errorf("user %q: an empty password", name)
	}
	salt = make([]byte, 16)
	rand.Read(salt)
	stored, server, err = SCRAMKeys(password, salt, scramIterations)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("user %q: %w", name, err)
	}
	return salt, stored, server, nil
}

// CreateUser records a user who logs in with password; with superuser it
// may manage the database (see Session). Only the password's SCRAM
// verifier is stored, with a random salt.
func (db *DB) CreateUser(name, password string, superuser bool) error {
	salt, stored, server, err := newVerifier(name, password)
	if err != nil {
		return fmt.Errorf("create %w", err)
	}
	tx := db.cat.Begin()
	defer tx.Rollback()
	if err := tx.CreateUser(catalog.User{Name: name, Superuser: superuser, Salt: salt, Iterations: scramIterations,
		StoredKey: stored, ServerKey: server}); err != nil {
		return err
	}
	return tx.Commit()
}

// AlterUser changes a user's password (a new verifier, new salt) and/or
// whether it is a superuser; nil leaves that unchanged.
func (db *DB) AlterUser(name string, password *string, superuser *bool) error {
	tx := db.cat.Begin()
	defer tx.Rollback()
	var u catalog.User
	for _, x := range tx.Users() {
		if strings.EqualFold(x.Name, name) {
			u = x
		}
	}
	if u.Name == "" {
		return fmt.Errorf("alter user %q: %w", name, catalog.ErrNotFound)
	}
	if password != nil {
		salt, stored, server, err := newVerifier(name, *password)
		if err != nil {
			return fmt.Errorf("alter %w", err)
		}
		u.Salt, u.Iterations, u.StoredKey, u.ServerKey = salt, scramIterations, stored, server
	}
	if superuser != nil {
		u.Superuser = *superuser
	}
	if err := tx.ReplaceUser(u); err != nil {
		return err
	}
	return tx.Commit()
}

// DropUser removes a user; one that does not exist is an error unless
// ifExists.
func (db *DB) DropUser(name string, ifExists bool) error {
	tx := db.cat.Begin()
	defer tx.Rollback()
	if err := tx.DropUser(name, ifExists); err != nil {
		return err
	}
	return tx.Commit()
}

// LookupUser returns the user called name (compared without case).
func (db *DB) LookupUser(name string) (User, bool) {
	u, ok := db.cat.User(name)
	if !ok {
		return User{}, false
	}
	return User(u), true
}

// Users returns the users in name order.
func (db *DB) Users() []User {
	var out []User
	for _, u := range db.cat.Users() {
		out = append(out, User(u))
	}
	return out
}

func (db *DB) createUser(st *ast.CreateUserStmt) (*Result, error) {
	if err := db.CreateUser(st.Name, st.Password, st.Superuser); err != nil {
		return nil, err
	}
	return &Result{Tag: "CREATE ROLE"}, nil
}

func (db *DB) alterUser(st *ast.AlterUserStmt) (*Result, error) {
	if err := db.AlterUser(st.Name, st.Password, st.Superuser); err != nil {
		return nil, err
	}
	return &Result{Tag: "ALTER ROLE"}, nil
}

func (db *DB) dropUser(st *ast.DropUserStmt) (*Result, error) {
	if err := db.DropUser(st.Name, st.IfExists); err != nil {
		return nil, err
	}
	return &Result{Tag: "DROP ROLE"}, nil
}
