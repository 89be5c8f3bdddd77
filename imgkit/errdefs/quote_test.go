package errdefs

import (
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestQuoteCutsLongNames(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"Short", "etc/passwd", `"etc/passwd"`},
		{"Escaped", "a\nb", `"a\nb"`},
		{"ExactlyMax", strings.Repeat("a", MaxQuoted), `"` + strings.Repeat("a", MaxQuoted) + `"`},
		{"Long", strings.Repeat("a", 70000), `"` + strings.Repeat("a", MaxQuoted) + `"…(70000 bytes)`},
		// 199 ASCII bytes then "é": the cut backs up to the start of
		// the character rather than quote half of it as an escape.
		{"CutAtCharacter", strings.Repeat("a", MaxQuoted-1) + strings.Repeat("é", 10), `"` + strings.Repeat("a", MaxQuoted-1) + `"…(219 bytes)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quote(tc.in); got != tc.want {
				t.Errorf("Quote = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCutPathsKeepsErrorsShort(t *testing.T) {
	long := "/root/" + strings.Repeat("a", 70000)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"PathError", &fs.PathError{Op: "open", Path: long, Err: syscall.ENAMETOOLONG}},
		{"LinkError", &os.LinkError{Op: "link", Old: long, New: long, Err: syscall.ENAMETOOLONG}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CutPaths(tc.err)
			if n := len(got.Error()); n > 3*MaxQuoted {
				t.Errorf("%d bytes: %.300s", n, got)
			}
			if !strings.Contains(got.Error(), "…(70006 bytes)") || !strings.HasSuffix(got.Error(), "file name too long") {
				t.Errorf("lost the length or the cause: %.300s…", got)
			}
		})
	}
	short := &fs.PathError{Op: "open", Path: "/root/x", Err: syscall.ENOENT}
	if got := CutPaths(short); got != error(short) {
		t.Errorf("a short path changed: %v", got)
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		max            int
	}{
		{"AsIs", "état: ok", "état: ok", 100},
		{"ControlsEscaped", "a\r\x1b[2J\tb\n", `a\r\x1b[2J\tb\n`, 100},
		{"InvalidUTF8", "a\xffb", "a\uFFFDb", 100},
		{"Cut", strings.Repeat("a", 10), "aaaa…(10 bytes)", 4},
		{"CutAtCharacter", "aaaé", "aaa…(5 bytes)", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Printable(tc.in, tc.max); got != tc.want {
				t.Errorf("Printable = %q, want %q", got, tc.want)
			}
		})
	}
}
