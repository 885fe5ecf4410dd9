package parser

// Split cuts a script into the text of its complete statements, each
// ending at a semicolon outside strings, quoted names and comments (the
// semicolon itself is left out, and statements with nothing but space and
// comments are dropped), and returns what follows the last semicolon as
// rest ("" when only space and comments follow). A shell reading input line by line runs the complete statements
// and keeps rest for the next line.
//
// Split only lexes; the statements may still have syntax errors. When the
// text has a lexical error (an unterminated string or comment, which more
// input may close), everything from the statement holding it on is rest.
func Split(src string) (stmts []string, rest string) {
	start := 0
	empty := true
	for _, t := range Lex(src) {
		switch {
		case t.Kind == Invalid:
			return stmts, src[start:]
		case t.Kind == EOF:
			if empty {
				return stmts, "" // only space and comments are left
			}
			return stmts, src[start:]
		case t.Kind == Op && t.Value == ";":
			if !empty {
				stmts = append(stmts, src[start:t.Pos.Offset])
			}
			start, empty = t.Pos.Offset+1, true
		default:
			empty = false
		}
	}
	panic("BUG: Lex returned no EOF or Invalid token")
}
