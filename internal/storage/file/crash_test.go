//go:build unix

package file

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The crash test's child process loads data and checkpoints in a loop; the
// parent kills it and checks the file. Environment of the child:
const (
	envCrashPath  = "BPFDB_CRASH_CHILD" // database path; set only in the child
	envCrashSeed  = "BPFDB_CRASH_SEED"  // seed of the whole test (parent) or of one child
	envCrashPoint = "BPFDB_CRASH_POINT" // kill yourself at this hook step (0: wait to be killed)
)

// A crash model is the metadata the child checkpoints: the checkpoint
// number it is written for and the live blocks with the seed of their
// contents. Its layout: checkpoint u64, n u64, n × (block u64, seed u64).
type crashModel struct {
	checkpoint uint64
	blocks     map[BlockID]uint64
}

func (m crashModel) encode() []byte {
	b := binary.LittleEndian.AppendUint64(nil, m.checkpoint)
	b = binary.LittleEndian.AppendUint64(b, uint64(len(m.blocks)))
	for id, seed := range m.blocks {
		b = binary.LittleEndian.AppendUint64(b, uint64(id))
		b = binary.LittleEndian.AppendUint64(b, seed)
	}
	return b
}

func decodeCrashModel(b []byte) (crashModel, error) {
	m := crashModel{blocks: map[BlockID]uint64{}}
	if len(b) == 0 {
		return m, nil // the empty database
	}
	le := binary.LittleEndian
	if len(b) < 16 || uint64(len(b)) != 16+16*le.Uint64(b[8:]) {
		return m, fmt.Errorf("metadata of %d bytes is not a crash model", len(b))
	}
	m.checkpoint = le.Uint64(b)
	for p := b[16:]; len(p) > 0; p = p[16:] {
		m.blocks[BlockID(le.Uint64(p))] = le.Uint64(p[8:])
	}
	return m, nil
}

// TestCrashChild is the child's body; it runs only under TestCrashSafety.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(envCrashPath)
	if path == "" {
		t.Skip("the child of TestCrashSafety; runs only when it sets " + envCrashPath)
	}
	seed, _ := strconv.ParseUint(os.Getenv(envCrashSeed), 10, 64)
	point, _ := strconv.Atoi(os.Getenv(envCrashPoint))
	steps := 0
	crashHook = func(string) {
		if steps++; point > 0 && steps == point {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
	f, err := Open(path, Options{})
	if errors.Is(err, fs.ErrNotExist) {
		f, err = Create(path, CreateOptions{BlockSize: 16 << 10})
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeCrashModel(f.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("ready")
	r := rand.New(rand.NewPCG(seed, 7))
	for range 1000 {
		for id := range m.blocks {
			if r.IntN(3) == 0 {
				if err := f.FreeBlock(id); err != nil {
					t.Fatal(err)
				}
				delete(m.blocks, id)
			}
		}
		for range 1 + r.IntN(6) {
			s := r.Uint64()
			m.blocks[writeNew(t, f, s)] = s
		}
		m.checkpoint = f.Info().Checkpoint + 1
		if err := f.Checkpoint(m.encode()); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("checkpoint %d\n", m.checkpoint)
	}
}

// TestCrashSafety kills a child process that loads and checkpoints, at
// numbered steps of its writes and checkpoints (even rounds) or after random
// delays (odd rounds; every tenth starts over with no file, so the kill may
// hit Create), and checks after every kill that the file opens at the last completed
// checkpoint (or the one in flight, if it completed before the kill) with
// all its blocks intact.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 60 processes")
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(envCrashSeed); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (rerun with %s=%d)", seed, envCrashSeed, seed)
	r := rand.New(rand.NewPCG(seed, 1))
	path := filepath.Join(t.TempDir(), "crash.db")
	kills, advanced, last := 0, 0, uint64(0)
	for round := range 60 {
		point := 0
		if round%2 == 0 {
			point = 1 + r.IntN(40)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
		cmd.Env = append(os.Environ(), envCrashPath+"="+path,
			fmt.Sprintf("%s=%d", envCrashSeed, r.Uint64()), fmt.Sprintf("%s=%d", envCrashPoint, point))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after a random delay: from the child's start every tenth
		// round, with a new file (to hit creation), else from when it is ready
		// to load (so that a slow start on a busy machine still leaves
		// checkpoints to interrupt).
		kill := func() {
			delay := time.Duration(r.IntN(60)) * time.Millisecond
			time.AfterFunc(delay, func() { cmd.Process.Kill() })
		}
		killFromStart := point == 0 && round%10 == 1
		if killFromStart { // start over: the kill may hit Create
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				t.Fatal(err)
			}
			last = 0
		}
		if killFromStart {
			kill()
		}
		done := uint64(0)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "checkpoint "); ok {
				done, _ = strconv.ParseUint(n, 10, 64)
			} else if sc.Text() == "ready" && point == 0 && !killFromStart {
				kill()
			}
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not killed; stderr:\n%s", round, err, stderr.String())
		}
		kills++
		got := verifyCrashed(t, round, path, max(done, last))
		if got > last {
			advanced++
		}
		last = got
	}
	t.Logf("%d kills; the checkpoint advanced in %d rounds, to %d", kills, advanced, last)
	if advanced < 10 {
		t.Errorf("the checkpoint advanced in only %d of 60 rounds: the kills came too early to test much", advanced)
	}
}

// verifyCrashed opens the file a killed child left and checks it holds
// checkpoint done (the last one known complete: printed by the child or
// found after the previous kill) or done+1 (in flight at the kill), complete;
// it returns the checkpoint found.
func verifyCrashed(t *testing.T, round int, path string, done uint64) uint64 {
	t.Helper()
	f, err := Open(path, Options{ReadOnly: true})
	if errors.Is(err, fs.ErrNotExist) && done == 0 {
		return 0 // killed before it created the file
	}
	if err != nil {
		t.Fatalf("round %d: after the kill: %v", round, err)
	}
	defer f.Close()
	info := f.Info()
	if info.Checkpoint < done || info.Checkpoint > max(done, 1)+1 {
		t.Fatalf("round %d: checkpoint %d was complete, the file holds %d", round, done, info.Checkpoint)
	}
	m, err := decodeCrashModel(f.Metadata())
	if err != nil {
		t.Fatalf("round %d: checkpoint %d: %v", round, info.Checkpoint, err)
	}
	if info.Checkpoint > 1 && m.checkpoint != info.Checkpoint {
		t.Fatalf("round %d: header says checkpoint %d, its metadata was written for %d", round, info.Checkpoint, m.checkpoint)
	}
	for id, seed := range m.blocks {
		checkBlockHas(t, f, id, seed)
	}
	if n, err := f.Check(); err != nil {
		t.Fatalf("round %d: checkpoint %d: Check of %d blocks: %v", round, info.Checkpoint, n, err)
	}
	return info.Checkpoint
}
