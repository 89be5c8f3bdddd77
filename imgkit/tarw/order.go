package tarw

import "unicode/utf8"

// PythonLess reports whether the name a sorts before b among the entries of
// one directory as CPython's pathlib sorts them: by code point, where a byte
// that is not valid UTF-8 counts as its surrogate escape U+DC80..U+DCFF.
// For valid UTF-8 this is byte order.
func PythonLess(a, b string) bool {
	if utf8.ValidString(a) && utf8.ValidString(b) {
		return a < b
	}
	for a != "" && b != "" {
		ra, na := pyRune(a)
		rb, nb := pyRune(b)
		if ra != rb {
			return ra < rb
		}
		a, b = a[na:], b[nb:]
	}
	return a == "" && b != ""
}

// pyRune decodes the first character of s as CPython's surrogateescape
// decoding of a file name does.
func pyRune(s string) (rune, int) {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return 0xDC00 + rune(s[0]), 1
	}
	return r, n
}

// GNULess reports whether the name a sorts before b among the entries of
// one directory as GNU tar's --sort=name sorts them: strcmp, byte order.
func GNULess(a, b string) bool { return a < b }
