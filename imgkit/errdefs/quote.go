package errdefs

import (
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxQuoted is how many bytes of a name Quote and CutPaths keep. Names in
// archives may be tens of kilobytes long (PAX headers allow a megabyte);
// an error line should stay readable and still identify the entry.
const MaxQuoted = 200

// Quote returns s as %q gives it when it has at most MaxQuoted bytes;
// a longer s is cut to its first MaxQuoted bytes (at a UTF-8 boundary),
// quoted, and followed by its length: "aaa…"…(70000 bytes). Errors quote
// every name that comes from an archive through it.
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut(s, MaxQuoted)) + marker(s)
}

// cut returns the first max bytes of s (which has more), backing up to
// the start of a UTF-8 sequence so the prefix shows characters, not
// escapes.
func cut(s string, max int) string {
	n := max
	for n > max-utf8.UTFMax && n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func marker(s string) string { return fmt.Sprintf("…(%d bytes)", len(s)) }

// CutPaths returns err with the paths of an *fs.PathError or *os.LinkError
// at its top cut as Quote cuts names (without quotes), so a system call's
// error on a file named by an archive stays one readable line. Other
// errors are returned as they are.
func CutPaths(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		if len(e.Path) > MaxQuoted {
			return &fs.PathError{Op: e.Op, Path: cutPath(e.Path), Err: e.Err}
		}
	case *os.LinkError:
		if len(e.Old) > MaxQuoted || len(e.New) > MaxQuoted {
			return &os.LinkError{Op: e.Op, Old: cutPath(e.Old), New: cutPath(e.New), Err: e.Err}
		}
	}
	return err
}

func cutPath(p string) string {
	if len(p) <= MaxQuoted {
		return p
	}
	return cut(p, MaxQuoted) + marker(p)
}

// Printable returns s with its control characters (a carriage return or
// an escape sequence would rewrite a terminal's line) written as Go
// escapes, invalid UTF-8 as U+FFFD, and, past max bytes, cut (at a UTF-8
// boundary) and followed by its length, as Quote does. It is for messages that
// repeat what an input or a server said.
func Printable(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	out := b.String()
	if len(out) <= max {
		return out
	}
	return cut(out, max) + marker(out)
}
