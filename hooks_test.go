package bpfdb_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bpfdb/bpfdb"
	"github.com/bpfdb/bpfdb/ebpf"
	"github.com/bpfdb/bpfdb/extensions"
)

// testPrograms are the hook sites' test programs (internal/hooks/testdata).
const testPrograms = "internal/hooks/testdata/"

// hostile holds programs the verifier refuses (testdata/programs).
const hostile = "testdata/programs/hostile.o"

func quiet(string, ...any) {}

func openWith(t *testing.T, path string, opts bpfdb.Options) *bpfdb.DB {
	t.Helper()
	if opts.Threads == 0 {
		opts.Threads = 2
	}
	if opts.Logf == nil {
		opts.Logf = quiet
	}
	db, err := bpfdb.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *bpfdb.DB, sql string) {
	t.Helper()
	if err := db.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

const hashWorkload = `SELECT a % 7 AS k, count(*), sum(b) FROM t JOIN u ON t.a = u.x GROUP BY k ORDER BY k`

func hashFixture(t *testing.T, db *bpfdb.DB) {
	exec(t, db, `CREATE TABLE t (a BIGINT, b BIGINT); CREATE TABLE u (x BIGINT)`)
	fill(t, db, "t", 20000, func(i int) string { return fmt.Sprintf("(%d, %d)", i, 3*i) })
	fill(t, db, "u", 5000, func(i int) string { return fmt.Sprintf("(%d)", 2*i) })
}

// fill inserts rows 0..n-1 of table, as row(i) writes them.
func fill(t *testing.T, db *bpfdb.DB, table string, n int, row func(i int) string) {
	t.Helper()
	for lo := 0; lo < n; lo += 1000 {
		vals := make([]string, 0, 1000)
		for i := lo; i < min(n, lo+1000); i++ {
			vals = append(vals, row(i))
		}
		exec(t, db, "INSERT INTO "+table+" VALUES "+strings.Join(vals, ", "))
	}
}

// TestAttachProgramSQL: ATTACH PROGRAM swaps a verified program into a
// hook, bpfdb_hooks() counts its calls, queries give the same answers,
// DETACH PROGRAM puts the built-in back.
func TestAttachProgramSQL(t *testing.T) {
	for _, engine := range []ebpf.Engine{ebpf.EngineInterpreter, ebpf.EngineAuto} {
		t.Run(engine.String(), func(t *testing.T) {
			db := openWith(t, "", bpfdb.Options{HookEngine: engine})
			hashFixture(t, db)
			want := rows(t, db, hashWorkload)
			if got := rows(t, db, `SELECT hook, program FROM bpfdb_hooks()`); got != "hash|built-in\nexecute_forever|built-in\nschedule_task|built-in\nload|built-in\nupdate_used_memory|built-in\nallocate_new_block|built-in\nunpin|built-in" {
				t.Fatalf("bpfdb_hooks() before attaching:\n%s", got)
			}
			exec(t, db, `ATTACH PROGRAM '`+testPrograms+`hash_default.o' TO HOOK hash`)
			if got := rows(t, db, hashWorkload); got != want {
				t.Fatalf("with the default hash program:\n%s\nwant\n%s", got, want)
			}
			got := rows(t, db, `SELECT hook, program, source, calls > 0, errors, violations FROM bpfdb_hooks() WHERE program <> 'built-in'`)
			if got != "hash|hash_default|"+testPrograms+"hash_default.o|true|0|0" {
				t.Fatalf("bpfdb_hooks() after a query:\n%s", got)
			}
			if got := rows(t, db, `SELECT hook, program, instructions > 10, object_bytes > 0 FROM bpfdb_programs()`); got != "hash|hash_default|true|true" {
				t.Fatalf("bpfdb_programs():\n%s", got)
			}
			exec(t, db, `DETACH PROGRAM FROM HOOK hash`)
			if got := rows(t, db, `SELECT count(*) FROM bpfdb_programs()`); got != "0" {
				t.Fatalf("programs after detaching: %s", got)
			}
			if got := rows(t, db, hashWorkload); got != want {
				t.Fatalf("after detaching:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestAttachProgramErrors: what cannot be attached is refused with an
// error that says why, and changes nothing.
func TestAttachProgramErrors(t *testing.T) {
	db := openWith(t, "", bpfdb.Options{})
	ctx := context.Background()
	for _, tc := range []struct{ sql, want string }{
		{`ATTACH PROGRAM '` + testPrograms + `hash_default.o' TO HOOK nosuch`, `unknown hook "nosuch"`},
		{`ATTACH PROGRAM 'no/such/file.o' TO HOOK hash`, "no such file"},
		{`ATTACH PROGRAM '` + testPrograms + `unpin.o' TO HOOK hash`, "unpin"}, // another hook's programs
		{`ATTACH PROGRAM '` + hostile + `' SECTION 'hash_write_count' TO HOOK hash`, "verifier log"},
		{`ATTACH PROGRAM '` + hostile + `' SECTION 'unpin_foreign_helper' TO HOOK unpin`, "unknown helper 4096"},
		{`ATTACH PROGRAM '` + hostile + `' SECTION 'schedule_spin' TO HOOK schedule_task`, "loop"},
		{`ATTACH PROGRAM '` + testPrograms + `hash_hostile.o' TO HOOK hash`, "hash_scribble"}, // several programs: name one
		{`DETACH PROGRAM FROM HOOK unpin`, "no program is attached"},
		{`SELECT * FROM bpfdb_nosuch()`, "bpfdb_hooks()"},
		{`SELECT * FROM bpfdb_map('unpin')`, "takes 2 arguments"},
		{`SELECT * FROM bpfdb_map('unpin', 'seen')`, "no program is attached"},
		{`SELECT * FROM bpfdb_map('unpin', 1)`, "must be a string"},
	} {
		err := db.Exec(ctx, tc.sql)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error containing %q", tc.sql, err, tc.want)
		}
	}
	if got := rows(t, db, `SELECT count(*) FROM bpfdb_hooks() WHERE program <> 'built-in'`); got != "0" {
		t.Fatalf("hooks attached after failed statements: %s", got)
	}
}

// TestAttachProgramDurable: attachments are recorded in the database file
// with the program's bytes and come back when it opens, unless
// NoPrograms; maps are listed and readable.
func TestAttachProgramDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hooks.db")
	db := openWith(t, path, bpfdb.Options{})
	exec(t, db, `CREATE TABLE t (a BIGINT)`)
	fill(t, db, "t", 100000, func(i int) string { return fmt.Sprintf("(%d)", i) })
	exec(t, db, `ATTACH PROGRAM '`+testPrograms+`unpin.o' SECTION 'unpin_scan' TO HOOK unpin`)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openWith(t, path, bpfdb.Options{MemoryLimit: 64 << 20})
	if got := rows(t, db, `SELECT hook, program, source FROM bpfdb_hooks() WHERE program <> 'built-in'`); got != "unpin|unpin_scan|"+testPrograms+"unpin.o" {
		t.Fatalf("after reopening: %q", got)
	}
	if got := rows(t, db, `SELECT sum(a) FROM t`); got != "4999950000" {
		t.Fatalf("sum: %s", got)
	}
	if got := rows(t, db, `SELECT map, type, key_size, value_size, entries > 0 FROM bpfdb_maps()`); got != "seen|lru_hash|8|8|true" {
		t.Fatalf("bpfdb_maps():\n%s", got)
	}
	if got := rows(t, db, `SELECT count(*) > 0, min(value) >= 1 FROM bpfdb_map('unpin', 'seen')`); got != "true|true" {
		t.Fatalf("bpfdb_map: %s", got)
	}
	exec(t, db, `DETACH PROGRAM FROM HOOK unpin`)
	exec(t, db, `ATTACH PROGRAM '`+testPrograms+`hash_default.o' TO HOOK hash`)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openWith(t, path, bpfdb.Options{NoPrograms: true})
	if got := rows(t, db, `SELECT count(*) FROM bpfdb_programs()`); got != "0" {
		t.Fatalf("opened with NoPrograms: %s programs attached", got)
	}
	db.Close()
	db = openWith(t, path, bpfdb.Options{})
	if got := rows(t, db, `SELECT hook FROM bpfdb_programs()`); got != "hash" {
		t.Fatalf("after detach and attach: %q attached", got)
	}
}

// TestHookMap: a policy's map is reachable from Go.
func TestHookMap(t *testing.T) {
	db := openWith(t, "", bpfdb.Options{})
	if _, err := db.HookMap("unpin", "seen"); err == nil {
		t.Fatal("map of a hook with nothing attached")
	}
	if err := db.Exec(context.Background(), `ATTACH PROGRAM '`+testPrograms+`unpin.o' SECTION 'unpin_scan' TO HOOK unpin`); err != nil {
		t.Fatal(err)
	}
	m, err := db.HookMap("Unpin", "seen")
	if err != nil {
		t.Fatal(err)
	}
	if m.Spec().KeySize != 8 {
		t.Fatalf("key size %d", m.Spec().KeySize)
	}
	if _, err := db.HookMap("unpin", "nosuch"); err == nil || !strings.Contains(err.Error(), "seen") {
		t.Fatalf("unknown map: %v", err)
	}
}

// TestAttachStockPolicies: every stock policy attaches by name, and the
// queries of a small workload give the same answers with each.
func TestAttachStockPolicies(t *testing.T) {
	db := openWith(t, "", bpfdb.Options{MemoryLimit: 32 << 20})
	hashFixture(t, db)
	want := rows(t, db, hashWorkload)
	for _, p := range extensions.List() {
		exec(t, db, `ATTACH PROGRAM '`+p.Name+`' TO HOOK `+p.Hook.String())
		if got := rows(t, db, hashWorkload); got != want {
			t.Errorf("with %s attached:\n%s\nwant\n%s", p, got, want)
		}
		if got := rows(t, db, `SELECT source FROM bpfdb_hooks() WHERE hook = '`+p.Hook.String()+`'`); got != "stock:"+p.String() {
			t.Errorf("source of %s: %q", p, got)
		}
	}
	if got := rows(t, db, `SELECT count(*) FROM bpfdb_programs()`); got != "7" {
		t.Errorf("%s programs attached, want 7", got)
	}
	err := db.Exec(context.Background(), `ATTACH PROGRAM 'nosuch' TO HOOK unpin`)
	if err == nil || !strings.Contains(err.Error(), "scan_resistant") {
		t.Errorf("unknown stock policy: %v, want an error listing the hook's policies", err)
	}
}

// TestHostilePrograms: programs that misbehave at run time are neutralized
// and counted by the host (or detached after too many errors), and the
// database keeps answering correctly; afterwards no memory is left
// accounted to queries.
func TestHostilePrograms(t *testing.T) {
	for _, tc := range []struct {
		hook, file, program string
		what                string
	}{
		{"schedule_task", testPrograms + "sched.o", "sched_drop", "never enqueues a task"},
		{"execute_forever", testPrograms + "sched.o", "exec_hoard", "takes tasks and never runs them"},
		{"unpin", testPrograms + "unpin.o", "unpin_double_enqueue", "puts a block in two queues (readers cannot be touched: the host decremented them before the call)"},
		{"unpin", testPrograms + "unpin.o", "unpin_garbage", "writes garbage decisions"},
		{"unpin", testPrograms + "unpin.o", "unpin_error", "fails every call"},
		{"update_used_memory", testPrograms + "memory.o", "mem_drop", "counts no memory"},
		{"update_used_memory", testPrograms + "memory.o", "mem_double", "counts memory twice"},
		{"allocate_new_block", testPrograms + "allocate.o", "alloc_garbage", "asks to evict more than the limit"},
		{"load", testPrograms + "load.o", "load_no_read", "claims a load it did not do"},
		{"load", testPrograms + "load.o", "load_error", "fails every load"},
		// Returns BPFDB_BUILTIN after writing the hashes: allowed (the
		// host discards the writes), so nothing is counted.
		{"hash", testPrograms + "hash_hostile.o", "hash_scribble", "scribbles on the hashes, then asks for the built-in"},
		{"hash", testPrograms + "hash_hostile.o", "hash_error", "scribbles, then fails"},
	} {
		t.Run(tc.program, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hostile.db")
			db := openWith(t, path, bpfdb.Options{})
			hashFixture(t, db)
			want := rows(t, db, hashWorkload)
			db.Close()
			db = openWith(t, path, bpfdb.Options{MemoryLimit: 4 << 20}) // scans load and evict
			exec(t, db, `ATTACH PROGRAM '`+tc.file+`' SECTION '`+tc.program+`' TO HOOK `+tc.hook)
			for range 3 {
				if got := rows(t, db, hashWorkload); got != want {
					t.Fatalf("with a program that %s:\n%s\nwant\n%s", tc.what, got, want)
				}
			}
			var st bpfdb.HookStatus
			for _, h := range db.Hooks() {
				if h.Hook == tc.hook {
					st = h
				}
			}
			t.Logf("%s: calls=%d errors=%d violations=%d program=%q", tc.program, st.Calls, st.Errors, st.Violations, st.Program)
			if st.Program != "" && st.Errors+st.Violations == 0 && tc.program != "hash_scribble" {
				t.Errorf("a program that %s: no error or violation counted", tc.what)
			}
			if st.Program != "" {
				exec(t, db, `DETACH PROGRAM FROM HOOK `+tc.hook)
			}
			if got := rows(t, db, hashWorkload); got != want {
				t.Fatalf("after detaching:\n%s\nwant\n%s", got, want)
			}
			m := db.Memory()
			for tag, n := range m.Tags {
				if tag != "base_table" && tag != "metadata" && n != 0 {
					t.Errorf("%d bytes still accounted to %s", n, tag)
				}
			}
		})
	}
}

// TestDetachAfterErrors: a program that fails every call is detached after
// HookMaxErrors failures, its record is dropped from the database (it does
// not come back at the next open), the event is logged, and the answers
// stay right throughout.
func TestDetachAfterErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "errors.db")
	db := openWith(t, path, bpfdb.Options{})
	hashFixture(t, db)
	want := rows(t, db, hashWorkload)
	db.Close()

	var mu sync.Mutex
	var logged []string
	logf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, fmt.Sprintf(format, args...))
	}
	db = openWith(t, path, bpfdb.Options{MemoryLimit: 4 << 20, HookMaxErrors: 5, Logf: logf})
	exec(t, db, `ATTACH PROGRAM '`+testPrograms+`unpin.o' SECTION 'unpin_error' TO HOOK unpin`)
	if got := rows(t, db, `SELECT count(*) FROM bpfdb_programs()`); got != "1" {
		t.Fatalf("%s programs attached", got)
	}
	for range 3 {
		if got := rows(t, db, hashWorkload); got != want {
			t.Fatalf("with a failing program:\n%s\nwant\n%s", got, want)
		}
	}
	if err := db.Close(); err != nil { // waits for the record to be dropped
		t.Fatal(err)
	}
	mu.Lock()
	events := strings.Join(logged, "\n")
	mu.Unlock()
	for _, w := range []string{"detached unpin_error after 5 errors", "no longer recorded"} {
		if !strings.Contains(events, w) {
			t.Errorf("log lacks %q:\n%s", w, events)
		}
	}
	db = openWith(t, path, bpfdb.Options{})
	if got := rows(t, db, `SELECT count(*) FROM bpfdb_programs()`); got != "0" {
		t.Fatalf("after reopening, %s programs attached: the failing one came back", got)
	}
	if got := rows(t, db, hashWorkload); got != want {
		t.Fatalf("after reopening:\n%s\nwant\n%s", got, want)
	}
}

// TestRefuseAllMemory: a policy that refuses every allocation makes the
// queries that need more than one buffer fail with a clean out-of-memory
// error naming it; each query still gets its first buffer (the host's
// progress rule, counted as a violation), so small queries and the
// listings keep answering, and after DETACH all queries do.
func TestRefuseAllMemory(t *testing.T) {
	db := openWith(t, "", bpfdb.Options{})
	hashFixture(t, db)
	want := rows(t, db, hashWorkload)
	exec(t, db, `ATTACH PROGRAM '`+hostile+`' SECTION 'allocate_refuse_all' TO HOOK allocate_new_block`)
	err := db.Exec(context.Background(), hashWorkload)
	if err == nil || !strings.Contains(err.Error(), "out of memory") || !strings.Contains(err.Error(), "allocate_refuse_all") {
		t.Fatalf("a join under a policy refusing all memory: %v, want out of memory naming the policy", err)
	}
	if got := rows(t, db, `SELECT count(*) FROM t WHERE a < 10`); got != "10" {
		t.Fatalf("a query that needs one buffer: %s", got)
	}
	if got := rows(t, db, `SELECT violations > 0 FROM bpfdb_hooks() WHERE hook = 'allocate_new_block'`); got != "true" {
		t.Fatalf("the progress rule's admissions are not counted: %s", got)
	}
	exec(t, db, `DETACH PROGRAM FROM HOOK allocate_new_block`)
	if got := rows(t, db, hashWorkload); got != want {
		t.Fatalf("after detaching:\n%s\nwant\n%s", got, want)
	}
}

// TestQueryQuota: with allocate_new_block/quota and a quota per query, a
// runaway query (a join building a hash table of every row) fails with a
// clean out-of-memory error naming the policy, while a small query
// beside it runs; without the quota the big query runs.
func TestQueryQuota(t *testing.T) {
	db := openWith(t, "", bpfdb.Options{})
	exec(t, db, `CREATE TABLE big (k BIGINT, v VARCHAR)`)
	fill(t, db, "big", 60000, func(i int) string { return fmt.Sprintf("(%d, 'value number %d, padded to take room')", i, i) })
	hashFixture(t, db)
	const runaway = `SELECT count(*), max(b1.v) FROM big b1 JOIN big b2 ON b1.k = b2.k`
	want := rows(t, db, runaway)
	small := rows(t, db, hashWorkload)

	exec(t, db, `ATTACH PROGRAM 'quota' TO HOOK allocate_new_block`)
	quota, err := db.HookMap("allocate_new_block", "query_quota")
	if err != nil {
		t.Fatal(err)
	}
	var key, val [8]byte
	binary.LittleEndian.PutUint64(val[:], 1<<20) // key 0: every query's quota, 1 MiB
	if err := quota.Update(key[:], val[:], 0); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	var bigErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		bigErr = db.Exec(ctx, runaway)
	}()
	for range 5 {
		if got := rows(t, db, hashWorkload); got != small {
			t.Fatalf("a small query beside the runaway:\n%s\nwant\n%s", got, small)
		}
	}
	wg.Wait()
	if bigErr == nil || !strings.Contains(bigErr.Error(), "out of memory") || !strings.Contains(bigErr.Error(), "quota") {
		t.Fatalf("the runaway query: %v, want out of memory refused by the quota", bigErr)
	}
	exec(t, db, `DETACH PROGRAM FROM HOOK allocate_new_block`)
	if got := rows(t, db, runaway); got != want {
		t.Fatalf("the big query without the quota: %s, want %s", got, want)
	}
}
