package dbgen

import "sync"

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
	poolOnce.Do(func() { pool = buildTextPool(textPoolSize) })
	return pool
}

// buildTextPool generates sentences from the text-pool stream until size
// bytes exist, and cuts the last one off at size.
func buildTextPool(size int) []byte {
	s := stream{seed: streamDefs[sTextPool].seed}
	b := make([]byte, 0, size+512)
	for len(b) <= size {
		b = appendSentence(b, &s)
	}
	return b[:size:size]
}

// appendWord appends a word drawn from d followed by a space.
func appendWord(b []byte, s *stream, d *dist) []byte {
	b = append(b, d.words[d.pick(s)]...)
	return append(b, ' ')
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
func appendSentence(b []byte, s *stream) []byte {
	switch dGrammar.pick(s) {
	case 0:
		b = appendNounPhrase(b, s)
		b = appendVerbPhrase(b, s)
	case 1:
		b = appendNounPhrase(b, s)
		b = appendVerbPhrase(b, s)
		b = appendPrepPhrase(b, s)
	case 2:
		b = appendNounPhrase(b, s)
		b = appendVerbPhrase(b, s)
		b = appendNounPhrase(b, s)
	case 3:
		b = appendNounPhrase(b, s)
		b = appendPrepPhrase(b, s)
		b = appendVerbPhrase(b, s)
		b = appendNounPhrase(b, s)
	default:
		b = appendNounPhrase(b, s)
		b = appendPrepPhrase(b, s)
		b = appendVerbPhrase(b, s)
		b = appendPrepPhrase(b, s)
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
func appendPrepPhrase(b []byte, s *stream) []byte {
	b = appendWord(b, s, dPrepositions)
	b = append(b, "the "...)
	return appendNounPhrase(b, s)
}

// appendText appends a comment of a length drawn in [avg·0.4, avg·1.6] from
// the text pool, as dbgen's TEXT macro does (offset first, then length).
func appendText(b []byte, s *stream, avg int) []byte {
	lo, hi := int64(float64(avg)*0.4), int64(float64(avg)*1.6)
	p := textPool()
	off := s.draw(0, int64(len(p))-hi)
	n := s.draw(lo, hi)
	return append(b, p[off:off+n]...)
}

// alphaNum is the alphabet of dbgen's random strings (addresses).
const alphaNum = "0123456789abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ,"

// appendRandomString appends a string of a length drawn in
// [avg·0.4, avg·1.6] whose characters come 6 bits at a time from draws of
// 31-bit values, five characters per draw (dbgen's V_STR).
func appendRandomString(b []byte, s *stream, avg int) []byte {
	lo, hi := int64(float64(avg)*0.4), int64(float64(avg)*1.6)
	n := s.draw(lo, hi)
	var bits int64
	for i := int64(0); i < n; i++ {
		if i%5 == 0 {
			bits = s.draw(0, maxLong)
		}
		b = append(b, alphaNum[bits&0o77])
		bits >>= 6
	}
	return b
}
