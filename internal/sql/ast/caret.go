package ast

import "strings"

// Caret renders the line of src that holds pos and, under it, a caret at
// pos's column, for error messages that point into SQL text (syntax
// errors, and the binder's unknown names and type errors):
//
//	SELECT l_quantiti FROM lineitem
//	       ^
func Caret(src string, pos Pos) string {
	off := min(max(pos.Offset, 0), len(src))
	start := strings.LastIndexByte(src[:off], '\n') + 1
	end := strings.IndexByte(src[off:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += off
	}
	return CaretLine(strings.TrimSuffix(src[start:end], "\r"), pos.Col)
}

// CaretLine renders line and, under it, a caret at column col (counted in
// characters from 1). Tabs before the column are kept so the caret lines
// up in a terminal; a line longer than 120 characters is cut to a window
// around the column, marked with "...".
func CaretLine(line string, col int) string {
	r := []rune(line)
	c := min(max(col-1, 0), len(r))
	const window = 120
	if len(r) > window {
		from := max(0, c-window/2)
		to := min(len(r), from+window)
		prefix, suffix := "", ""
		if from > 0 {
			prefix = "..."
		}
		if to < len(r) {
			suffix = "..."
		}
		r = []rune(prefix + string(r[from:to]) + suffix)
		c += len(prefix) - from
	}
	var pad strings.Builder
	for _, ch := range r[:c] {
		if ch == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return string(r) + "\n" + pad.String() + "^"
}
