package dbgen

import (
	"fmt"
	"runtime"
	"sync"
)

// textPoolSize is the size of dbgen's text pool: 300 MiB.
const textPoolSize = 300 << 20

// The text pool is a long run of generated sentences. Every comment column
// is a window into it: two draws from the column's stream choose an offset in
// [0, size−max] and a length in [min, max].
var (
	poolOnce sync.Once
	pool     []byte
)

// textPool returns the shared text pool, building it on first use.
func textPool() []byte {
	poolOnce.Do(func() { pool = buildTextPoolParallel(runtime.GOMAXPROCS(0)) })
	return pool
}

// poolCheckpoint is where the sentence covering pool byte k·2¹⁸ starts, and
// the text stream's state there: enough to generate the pool in pieces.
// checkpoints.go lists them for the whole pool; TestTextPoolCheckpoints
// regenerates and checks the list.
type poolCheckpoint struct {
	offset uint32
	seed   uint32
}

// checkpointShift sets the distance between checkpoints (256 KiB).
const checkpointShift = 18

// buildTextPoolParallel builds the full pool on `workers` goroutines, each
// generating the sentences between consecutive checkpoints. Each piece must
// end exactly at the next checkpoint with the next checkpoint's stream state;
// anything else means the checkpoint table is wrong, a bug.
func buildTextPoolParallel(workers int) []byte {
	p := allocPool(textPoolSize + 512)[:textPoolSize+512]
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				k := next
				next++
				mu.Unlock()
				if k >= len(poolCheckpoints) {
					return
				}
				start := int(poolCheckpoints[k].offset)
				end, endSeed := len(p), int64(-1)
				if k+1 < len(poolCheckpoints) {
					end, endSeed = int(poolCheckpoints[k+1].offset), int64(poolCheckpoints[k+1].seed)
				}
				s := stream{seed: int64(poolCheckpoints[k].seed)}
				b := p[start:start:end]
				for len(b) < end-start && (endSeed >= 0 || len(b) <= textPoolSize-start) {
					b = appendSentence(b, &s, dPrepositions)
				}
				if &b[0] != &p[start] || endSeed >= 0 && (len(b) != end-start || s.seed != endSeed) {
					panic(fmt.Sprintf("BUG: dbgen: text pool checkpoint %d does not lead to checkpoint %d", k, k+1))
				}
			}
		}()
	}
	wg.Wait()
	return p[:textPoolSize]
}

// buildTextPool generates sentences from the text-pool stream until size
// bytes exist, and cuts the last one off at size: the sequential definition
// of the pool, used by the tests and the benchmark.
func buildTextPool(size int, prep *dist) []byte {
	s := stream{seed: streamDefs[sTextPool].seed}
	b := allocPool(size + 512)
	for len(b) <= size {
		b = appendSentence(b, &s, prep)
	}
	return b[:size]
}

// appendWord appends a word drawn from d followed by a space.
func appendWord(b []byte, s *stream, d *dist) []byte {
	return append(b, d.spaced[d.pick(s)]...)
}

// appendSentence appends one sentence of the grammar and a space. Each word
// is followed by a space; a terminator replaces the space before it.
//
//	sentence      noun phrase  verb phrase  other
//	N V T         N            V            T
//	N V P T       N            V            P T
//	N V N T       N            V            N T
//	N P V N T     N P          V            N T
//	N P V P T     N P          V            P T
func appendSentence(b []byte, s *stream, prep *dist) []byte {
	switch dGrammar.pick(s) {
	case 0:
		b = appendNounPhrase(b, s)
		b = appendVerbPhrase(b, s)
	case 1:
		b = appendNounPhrase(b, s)
		b = appendVerbPhrase(b, s)
		b = appendPrepPhrase(b, s, prep)
	case 2:
		b = appendNounPhrase(b, s)
		b = appendVerbPhrase(b, s)
		b = appendNounPhrase(b, s)
	case 3:
		b = appendNounPhrase(b, s)
		b = appendPrepPhrase(b, s, prep)
		b = appendVerbPhrase(b, s)
		b = appendNounPhrase(b, s)
	default:
		b = appendNounPhrase(b, s)
		b = appendPrepPhrase(b, s, prep)
		b = appendVerbPhrase(b, s)
		b = appendPrepPhrase(b, s, prep)
	}
	b = append(b[:len(b)-1], dTerminators.words[dTerminators.pick(s)]...)
	return append(b, ' ')
}

// appendNounPhrase appends "noun", "adjective noun", "adjective, adjective
// noun" or "adverb adjective noun".
func appendNounPhrase(b []byte, s *stream) []byte {
	switch dNounPhrases.pick(s) {
	case 0:
	case 1:
		b = appendWord(b, s, dAdjectives)
	case 2:
		b = appendWord(b, s, dAdjectives)
		b = append(b[:len(b)-1], ',', ' ')
		b = appendWord(b, s, dAdjectives)
	default:
		b = appendWord(b, s, dAdverbs)
		b = appendWord(b, s, dAdjectives)
	}
	return appendWord(b, s, dNouns)
}

// appendVerbPhrase appends "verb", "auxiliary verb", "verb adverb" or
// "auxiliary verb adverb".
func appendVerbPhrase(b []byte, s *stream) []byte {
	form := dVerbPhrases.pick(s)
	if form == 1 || form == 3 {
		b = appendWord(b, s, dAuxiliaries)
	}
	b = appendWord(b, s, dVerbs)
	if form >= 2 {
		b = appendWord(b, s, dAdverbs)
	}
	return b
}

// appendPrepPhrase appends "preposition the noun-phrase".
func appendPrepPhrase(b []byte, s *stream, prep *dist) []byte {
	b = appendWord(b, s, prep)
	b = append(b, "the "...)
	return appendNounPhrase(b, s)
}

// drawText draws the place of a comment in the text pool as dbgen's TEXT
// macro does: an offset in [0, size−max], then a length in [min, max] with
// min = avg·0.4 and max = avg·1.6.
func drawText(s *stream, avg int, poolSize int) (off, n int64) {
	lo, hi := int64(float64(avg)*0.4), int64(float64(avg)*1.6)
	off = s.draw(0, int64(poolSize)-hi)
	n = s.draw(lo, hi)
	return off, n
}

// appendText appends a comment drawn as drawText does from pool p.
func appendText(b []byte, s *stream, avg int, p []byte) []byte {
	off, n := drawText(s, avg, len(p))
	return append(b, p[off:off+n]...)
}

// textFiller defers the copying of comments out of the text pool. Comments
// sit at random places in 300 MiB, so nearly every one is a cache (and TLB)
// miss; copied one at a time between the rest of a row's work, the misses
// are taken one after another. The filler instead reserves each comment's
// bytes in the output and, once per batch of rows, first touches all their
// pool lines in a tight loop of independent loads (so the CPU has many misses
// in flight at once) and then copies them.
type textFiller struct {
	poolSize int // size of the pool comments come from
	refs     []textRef
	sink     byte // keeps the touching loads from being optimized away
}

// textRef is a reserved comment: n bytes at dst in the output buffer, to be
// copied from off in the pool.
type textRef struct{ dst, off, n int64 }

// fillBatch is the number of reserved comments after which rows are filled.
const fillBatch = 2048

// text reserves a comment drawn as drawText does.
func (f *textFiller) text(b []byte, s *stream, avg int) []byte {
	off, n := drawText(s, avg, f.poolSize)
	return f.reserve(b, off, n)
}

// reserve appends n placeholder bytes to b, to be filled from pool offset off.
func (f *textFiller) reserve(b []byte, off, n int64) []byte {
	f.refs = append(f.refs, textRef{int64(len(b)), off, n})
	return append(b, textPoolPlaceholder[:n]...)
}

// fill copies every reserved comment from pool p into b and forgets them.
func (f *textFiller) fill(b, p []byte) {
	var sink byte
	for _, r := range f.refs {
		sink += p[r.off] + p[r.off+r.n-1]
	}
	f.sink += sink
	for _, r := range f.refs {
		copy(b[r.dst:r.dst+r.n], p[r.off:r.off+r.n])
	}
	f.refs = f.refs[:0]
}

// textPoolPlaceholder supplies the bytes reserved for a comment until it is
// filled (comments are at most 198 bytes).
var textPoolPlaceholder [256]byte

// alphaNum is the alphabet of dbgen's random strings (addresses).
const alphaNum = "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ,"

// appendRandomString appends a string of a length drawn in
// [avg·0.4, avg·1.6] whose characters come 6 bits at a time from draws of
// 31-bit values, five characters per draw (dbgen's V_STR).
func appendRandomString(b []byte, s *stream, avg int, overflow bool) []byte {
	lo, hi := int64(float64(avg)*0.4), int64(float64(avg)*1.6)
	n := s.draw(lo, hi)
	var bits int64
	for i := int64(0); i < n; i++ {
		if i%5 == 0 {
			bits = s.drawBits(overflow)
		}
		b = append(b, alphaNum[bits&0o77])
		bits >>= 6
	}
	return b
}
