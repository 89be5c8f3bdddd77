// Package pyjson reads and writes JSON exactly as CPython's json module does,
// and prints Python's repr of strings, so that Go tools can reproduce bytes
// that nixpkgs' Python scripts write (an image config's sha256 is the image
// ID: one byte of difference and the image is another image).
//
// Parse follows json.load: object key order is kept (a repeated key keeps the
// position of its first occurrence and the value of its last, as a dict
// does); integers stay integers of any size; numbers with a fraction or an
// exponent become float64 and print with Python's float repr (1e5 prints
// 100000.0); strings may hold lone surrogates (\ud800), which are kept in
// WTF-8 form so that they print back unchanged.
//
// Dumps follows json.dumps with ensure_ascii=True: every character outside
// printable ASCII is a lowercase \uXXXX escape (a surrogate pair above
// U+FFFF), DEL included. With an indent the item separator is "," (no
// trailing space, as Python 3.4+ writes it) and the key separator ": "; with
// indent None they are ", " and ": ". Empty containers print as [] and {}.
//
// Options.JQ prints strings as jq does instead (nixpkgs' buildImage
// writes its image config with jq): non-ASCII characters as UTF-8.
//
// Where Python would write something that is not JSON, this package refuses
// instead: NaN, Infinity and numbers that overflow a float64 are parse
// errors. Integers of more than 4300 digits are refused as CPython 3.11+
// refuses them.
//
// ReprList prints Python's repr of a list of str. Each str is in single
// quotes unless the text holds a single quote and no double quote; \t \n
// \r and \\ are escaped; other control characters as \xHH; non-printable
// non-ASCII as \xHH, \uHHHH or \UHHHHHHHH; printable non-ASCII is kept as
// is. "Printable" is Go's unicode.IsPrint, the same rule as Python's
// str.isprintable; the two can differ only for characters assigned in a
// Unicode version one of them does not know yet.
package pyjson
