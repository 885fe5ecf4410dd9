package expr

import (
	"testing"
	"unicode/utf8"
)

// TestLikeMatchers checks each matcher kind on chosen patterns against
// the regexp translation, and that the fast paths are chosen.
func TestLikeMatchers(t *testing.T) {
	cases := []struct {
		pattern string
		kind    matchKind
	}{
		{"abc", matchEqual}, {"abc%", matchPrefix}, {"%abc", matchSuffix}, {"%abc%", matchContains},
		{"a%b%c", matchSegments}, {"%a%b%", matchSegments}, {"a%%b", matchSegments}, {"a_c", matchGeneral},
		{"%_%", matchGeneral}, {`100\%`, matchEqual}, {`\_%`, matchPrefix}, {"%", matchSegments}, {"", matchEqual},
		{"%special%requests%", matchSegments},
	}
	inputs := []string{"", "a", "abc", "abcabc", "xabcx", "ab", "acb", "a_c", "100%", "1000", "_x", "aXbYc",
		"aabbcc", "special requests", "specialrequests x", "requests special", "ü", "aüc"}
	for _, tc := range cases {
		m, err := compilePattern(tc.pattern, false)
		if err != nil {
			t.Fatal(err)
		}
		if m.kind != tc.kind {
			t.Errorf("%q: matcher %d, want %d", tc.pattern, m.kind, tc.kind)
		}
		re := likeRegexp(tc.pattern, false)
		for _, s := range inputs {
			if got, want := m.match([]byte(s)), re.MatchString(s); got != want {
				t.Errorf("%q LIKE %q = %v, want %v", s, tc.pattern, got, want)
			}
		}
	}
	if _, err := compilePattern(`ab\`, false); err != ErrPattern {
		t.Errorf("trailing escape: got %v, want ErrPattern", err)
	}
	m, _ := compilePattern("%ÜN_C%", true)
	if !m.match([]byte("xünïcode")) || m.match([]byte("xunicode")) {
		t.Error("ILIKE with non-ASCII letters")
	}
}

// FuzzLike compares the compiled matcher with the regexp translation on
// valid UTF-8 patterns and strings.
func FuzzLike(f *testing.F) {
	for _, s := range [][2]string{{"abc", "a%c"}, {"xabcx", "%abc%"}, {"aüc", "a_c"}, {"mississippi", "%iss%ip_"},
		{"aaa", "%a%a%a%"}, {"a%b", `a\%b`}, {"", "%"}, {"special requests", "%special%requests%"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, s, pattern string) {
		if !utf8.ValidString(s) || !utf8.ValidString(pattern) || len(pattern) > 64 {
			return
		}
		m, err := compilePattern(pattern, false)
		if err != nil {
			if err != ErrPattern {
				t.Fatalf("%q: %v", pattern, err)
			}
			return
		}
		if got, want := m.match([]byte(s)), likeRegexp(pattern, false).MatchString(s); got != want {
			t.Fatalf("%q LIKE %q = %v, want %v", s, pattern, got, want)
		}
	})
}
