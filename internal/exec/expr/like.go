package expr

import (
	"bytes"
	"errors"
	"unicode"
	"unicode/utf8"

	"github.com/bpfdb/bpfdb/internal/vector"
)

// ErrPattern is the cause of a malformed LIKE pattern (a trailing escape).
var ErrPattern = errors.New("invalid LIKE pattern")

// A LIKE pattern is compiled once into one of these matchers, fastest
// first:
//
//	pattern        matcher
//	abc            equal
//	abc%           prefix
//	%abc           suffix
//	%abc%          contains (bytes.Index)
//	a%b%c          segments: anchored first and last, the middle found
//	               left to right with bytes.Index (greedy is exact here)
//	anything with _ tokens: backtracking over the last %, one
//	               code point per _
//
// \ escapes the next character. ILIKE lower-cases the pattern and each
// value (Unicode simple folding) before matching.
type matcher struct {
	kind     matchKind
	segs     [][]byte // literal segments between % (kind segments and simpler)
	toks     []tok    // kind general
	fold     bool     // ILIKE
	foldBuf  []byte
	anchorLo bool // segments: the pattern does not start with %
	anchorHi bool // segments: the pattern does not end with %
}

type matchKind uint8

const (
	matchEqual matchKind = iota
	matchPrefix
	matchSuffix
	matchContains
	matchSegments
	matchGeneral
)

type tokKind uint8

const (
	tokByte tokKind = iota // one literal byte
	tokOne                 // _: one code point
	tokAny                 // %: any sequence
)

type tok struct {
	kind tokKind
	b    byte
}

// compilePattern compiles a LIKE pattern.
func compilePattern(pattern string, fold bool) (*matcher, error) {
	if fold {
		pattern = string(lowerAppend(nil, []byte(pattern)))
	}
	var toks []tok
	hasOne := false
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '\\':
			if i+1 == len(pattern) {
				return nil, ErrPattern
			}
			i++
			toks = append(toks, tok{kind: tokByte, b: pattern[i]})
		case '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != tokAny {
				toks = append(toks, tok{kind: tokAny})
			}
		case '_':
			hasOne = true
			toks = append(toks, tok{kind: tokOne})
		default:
			toks = append(toks, tok{kind: tokByte, b: c})
		}
	}
	m := &matcher{fold: fold}
	if hasOne {
		m.kind, m.toks = matchGeneral, toks
		return m, nil
	}
	// Split into literal segments at each %.
	seg := []byte{}
	for _, t := range toks {
		if t.kind == tokAny {
			m.segs = append(m.segs, seg)
			seg = []byte{}
			continue
		}
		seg = append(seg, t.b)
	}
	m.segs = append(m.segs, seg)
	m.anchorLo = len(toks) == 0 || toks[0].kind != tokAny
	m.anchorHi = len(toks) == 0 || toks[len(toks)-1].kind != tokAny
	switch {
	case len(m.segs) == 1:
		m.kind = matchEqual
	case len(m.segs) == 2 && m.anchorLo && !m.anchorHi:
		m.kind = matchPrefix
	case len(m.segs) == 2 && !m.anchorLo && m.anchorHi:
		m.kind = matchSuffix
	case len(m.segs) == 3 && !m.anchorLo && !m.anchorHi:
		m.kind = matchContains
	default:
		m.kind = matchSegments
	}
	return m, nil
}

// match reports whether s matches the pattern.
func (m *matcher) match(s []byte) bool {
	if m.fold {
		m.foldBuf = lowerAppend(m.foldBuf[:0], s)
		s = m.foldBuf
	}
	switch m.kind {
	case matchEqual:
		return bytes.Equal(s, m.segs[0])
	case matchPrefix:
		return bytes.HasPrefix(s, m.segs[0])
	case matchSuffix:
		return bytes.HasSuffix(s, m.segs[1])
	case matchContains:
		return bytes.Contains(s, m.segs[1])
	case matchSegments:
		return m.matchSegments(s)
	}
	return matchTokens(m.toks, s)
}

func (m *matcher) matchSegments(s []byte) bool {
	segs := m.segs
	first, last := segs[0], segs[len(segs)-1]
	if len(first)+len(last) > len(s) || !bytes.HasPrefix(s, first) || !bytes.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		j := bytes.Index(s, seg)
		if j < 0 {
			return false
		}
		s = s[j+len(seg):]
	}
	return true
}

// matchTokens is the general matcher: greedy, backtracking to the most
// recent % (which is enough: a later % can absorb anything an earlier one
// would have).
func matchTokens(toks []tok, s []byte) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(toks) {
			switch t := toks[p]; t.kind {
			case tokAny:
				starP, starI = p, i
				p++
				continue
			case tokOne:
				_, w := utf8.DecodeRune(s[i:])
				i += w
				p++
				continue
			default:
				if s[i] == t.b {
					i++
					p++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, w := utf8.DecodeRune(s[starI:])
		starI += w
		// If an ASCII byte follows the %, only positions holding it can
		// match: jump to the next one.
		if n := starP + 1; n < len(toks) && toks[n].kind == tokByte && toks[n].b < utf8.RuneSelf {
			j := bytes.IndexByte(s[starI:], toks[n].b)
			if j < 0 {
				return false
			}
			starI += j
		}
		p, i = starP+1, starI
	}
	for p < len(toks) && toks[p].kind == tokAny {
		p++
	}
	return p == len(toks)
}

// lowerAppend appends s lower-cased: ASCII directly, other code points
// with unicode.ToLower; invalid bytes are kept.
func lowerAppend(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, w := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && w == 1 {
			dst = append(dst, c)
		} else {
			dst = utf8.AppendRune(dst, unicode.ToLower(r))
		}
		i += w
	}
	return dst
}

type likeKernel struct {
	arg     operand
	m       *matcher
	negated bool
}

func compileLike(e *Like) (kernel, error) {
	arg, err := compile(e.Arg)
	if err != nil {
		return nil, err
	}
	m, err := compilePattern(e.Pattern, e.CaseInsensitive)
	if err != nil {
		return nil, &Error{Pos: e.At, Expr: e.String(), Err: err}
	}
	return &likeKernel{arg: arg, m: m, negated: e.Negated}, nil
}

func (k *likeKernel) eval(b *batch, out *vector.Vector) error {
	x, err := k.arg.get(b)
	if err != nil {
		return err
	}
	nullsOf(out, x)
	w := x.Validity().Words()
	strs, arena, os := x.Strs(), x.Arena(), out.Bools()
	m, neg := k.m, k.negated
	if !m.fold && (m.kind == matchPrefix || m.kind == matchSuffix || m.kind == matchContains) {
		// The common shapes inline, with no per-row dispatch. NULL
		// slots are skipped before their headers are used: they may
		// point anywhere.
		pat := m.segs[1]
		if m.kind == matchPrefix {
			pat = m.segs[0]
		}
		n := uint32(len(pat))
		for _, i := range b.sel {
			if !isValid(w, int(i)) {
				continue
			}
			h := strs[i]
			s := arena[h.Off : h.Off+h.Len]
			var ok bool
			switch {
			case h.Len < n:
			case m.kind == matchPrefix:
				ok = string(s[:n]) == string(pat)
			case m.kind == matchSuffix:
				ok = string(s[h.Len-n:]) == string(pat)
			default:
				ok = bytes.Contains(s, pat)
			}
			os[i] = ok != neg
		}
		return nil
	}
	for _, i := range b.sel {
		if !isValid(w, int(i)) {
			continue
		}
		h := strs[i]
		os[i] = m.match(arena[h.Off:h.Off+h.Len]) != neg
	}
	return nil
}
