package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// probe is a tool with an enum flag and a Validate that refuses --count 0; its
// Run reads stdin, which in these tests is a pipe nobody writes.
type probe struct {
	Common
	N    int    `name:"count" default:"1"`
	Mode string `enum:"fast,slow" default:"fast"`
	Name string
	Size *uint32
	Each []string `sep:"none"`
	Args []string `arg:"" optional:""`
	ran  bool
}

func (p *probe) Validate() error {
	if p.N == 0 {
		return Usagef("--count 0: want at least 1")
	}
	return nil
}

func (p *probe) Run(ctx context.Context, o *IO) error {
	p.ran = true
	_, err := io.ReadAll(o.Stdin)
	return err
}

// runProbe runs the probe with a stdin that never ends: a case passes by
// returning at all.
func runProbe(t *testing.T, args ...string) (p *probe, code int, stdout, stderr string) {
	t.Helper()
	r, w := io.Pipe()
	defer w.Close()
	var out, errw bytes.Buffer
	p = &probe{}
	code = Run(context.Background(), "probe", "// Package probe probes.\npackage main\n", p, args, &IO{Stdin: r, Stdout: &out, Stderr: &errw})
	return p, code, out.String(), errw.String()
}

// intBits is how kong names an int's width: 32 bit on 386 and arm.
var intBits = strconv.Itoa(strconv.IntSize) + " bit"

// TestUsageErrorsReadNoInput: what kong refuses and what Validate refuses
// are worded alike (one line, "probe: " and the flag first), exit 2, and
// come before Run reads anything.
func TestUsageErrorsReadNoInput(t *testing.T) {
	for _, c := range []struct {
		name, stderr string
		args         []string
	}{
		{"Validate", "probe: --count 0: want at least 1\n", []string{"--count", "0"}},
		{"Enum", "probe: --mode: \"quick\" is not one of fast, slow\n", []string{"--mode", "quick"}},
		{"Mapper", "probe: --count: expected a valid " + intBits + " int but got \"x\"\n", []string{"--count", "x"}},
		{"Unknown", "probe: unknown flag --bogus\n", []string{"--bogus"}},
		{"CheckFlagsValidates", "probe: --count 0: want at least 1\n", []string{"--check-flags", "--count", "0"}},
		// A flag left without its value, last on the line, is worded
		// as the workflows word it, whatever its type: kong's mappers
		// said "expected a string but got <nil>", "expected a valid 64
		// bit int but got \"<nil>\"" or "missing value, expecting ...".
		{"NoValueString", "probe: --name needs a value\n", []string{"--count", "2", "--name"}},
		{"NoValueInt", "probe: --count needs a value\n", []string{"x", "--count"}},
		{"NoValueSlice", "probe: --each needs a value\n", []string{"--each"}},
		{"NoValueEnum", "probe: --mode needs a value\n", []string{"--check-flags", "--mode"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, code, stdout, stderr := runProbe(t, c.args...)
			if code != ExitUsage || stdout != "" || stderr != c.stderr || p.ran {
				t.Errorf("exit %d, stdout %q, stderr %q, ran %v; want exit 2, no stdout, stderr %q, not run", code, stdout, stderr, p.ran, c.stderr)
			}
		})
	}
}

// TestFlagValueStartingWithDash: a flag's value is the next argument,
// whatever it starts with, as getopt takes it (the workflows pass a
// user's --name -x or --tag -t on as they got it): the tool judges the
// value, where kong said "expected string value but got -x (short flag);
// perhaps try --name=-x", a usage error about a spelling the user never
// chose.
func TestFlagValueStartingWithDash(t *testing.T) {
	// The last argument is --count's value, not a flag without one.
	if p, code, _, stderr := runProbe(t, "--check-flags", "--name", "--count"); code != ExitOK || p.Name != "--count" {
		t.Errorf("--name --count: exit %d, stderr %q, --name %q; want exit 0 and --count", code, stderr, p.Name)
	}
	p, code, stdout, stderr := runProbe(t, "--check-flags", "--name", "-x", "--count", "-2")
	if code != ExitOK || stdout != "" || stderr != "" || p.Name != "-x" || p.N != -2 {
		t.Errorf("exit %d, stdout %q, stderr %q, --name %q, --count %d; want exit 0, no output, -x and -2", code, stdout, stderr, p.Name, p.N)
	}
}

// TestStringsVerbatim: a flag's value and an argument reach the tool byte
// for byte. File names and Nix strings are bytes, not always UTF-8; kong
// passed every string through a JSON round trip, which wrote U+FFFD for
// each byte that is not UTF-8, so -o "img\xff.tar" wrote another file and
// --uname another name into every header, without a word.
func TestStringsVerbatim(t *testing.T) {
	const v = "a\xffb\xc3(\xed\xa0\x80"
	p, code, _, stderr := runProbe(t, "--check-flags", "--name", v, "--each", v, "--each="+v, v, v)
	want := []string{v, v}
	if code != ExitOK || p.Name != v || !slices.Equal(p.Each, want) || !slices.Equal(p.Args, want) {
		t.Errorf("exit %d, stderr %q: --name %q, --each %q, args %q; want %q each time", code, stderr, p.Name, p.Each, p.Args, v)
	}
}

// TestIntFlagsAreDecimal: integers are decimal, as the shell, chown, tar
// and Nix read them, whatever their type: 010 is ten (kong's parser, Go's
// literals, made it eight), and 0x10, 0b1 or 1_000 are refused.
func TestIntFlagsAreDecimal(t *testing.T) {
	p, code, _, stderr := runProbe(t, "--check-flags", "--count", "010", "--size", "0100")
	if code != ExitOK || p.N != 10 || p.Size == nil || *p.Size != 100 {
		t.Errorf("--count 010 --size 0100: exit %d, stderr %q, got %d and %v; want 10 and 100", code, stderr, p.N, p.Size)
	}
	for _, c := range []struct{ flag, value, stderr string }{
		{"--count", "0x10", "probe: --count: expected a valid " + intBits + " int but got \"0x10\"\n"},
		{"--count", "1_000", "probe: --count: expected a valid " + intBits + " int but got \"1_000\"\n"},
		{"--size", "0b1", "probe: --size: expected a valid 32 bit uint but got \"0b1\"\n"},
		{"--size", "-1", "probe: --size: expected a valid 32 bit uint but got \"-1\"\n"},
	} {
		_, code, stdout, stderr := runProbe(t, "--check-flags", c.flag, c.value)
		if code != ExitUsage || stdout != "" || stderr != c.stderr {
			t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.flag, c.value, code, stdout, stderr, c.stderr)
		}
	}
}

// TestCheckFlags: a usable command line exits 0 without running.
func TestCheckFlags(t *testing.T) {
	p, code, stdout, stderr := runProbe(t, "--check-flags", "--count", "3", "--mode", "slow")
	if code != ExitOK || stdout != "" || stderr != "" || p.ran {
		t.Errorf("exit %d, stdout %q, stderr %q, ran %v; want exit 0, no output, not run", code, stdout, stderr, p.ran)
	}
}

// TestVersion: --version prints the tool's name and Version on stdout and
// exits 0, reading nothing; the same build prints the same line.
func TestVersion(t *testing.T) {
	for range 2 {
		p, code, stdout, stderr := runProbe(t, "--version")
		if code != ExitOK || stdout != "probe "+Version()+"\n" || stderr != "" || p.ran {
			t.Errorf("exit %d, stdout %q, stderr %q, ran %v; want exit 0 and %q", code, stdout, stderr, p.ran, "probe "+Version()+"\n")
		}
	}
	if v := Version(); v == "" || bytes.ContainsAny([]byte(v), " \n") {
		t.Errorf("Version() = %q, want one word", v)
	}
}

// TestRuntimeErrorAfterValidate: an error from Run is not a usage error.
func TestRuntimeErrorAfterValidate(t *testing.T) {
	var buf bytes.Buffer
	code := Run(context.Background(), "probe", "", &probe{}, nil, &IO{Stdin: errReader{}, Stdout: io.Discard, Stderr: &buf})
	if code != ExitFailure || buf.String() != "probe: broken\n" {
		t.Errorf("exit %d, stderr %q; want 1, \"probe: broken\"", code, buf.String())
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("broken") }

// TestReportIsOnePrintableLine: an error that repeats what an input or a
// server said (a library's message can: go-containerregistry's hash
// parser prints a manifest's non-hex character with %c, its bearer
// exchange a token server's whole answer) is one printable line of a
// bounded length: a carriage return, an escape sequence or a tab are
// escaped, not sent to the terminal, and 100 KB are cut.
func TestReportIsOnePrintableLine(t *testing.T) {
	var buf bytes.Buffer
	err := errors.New("found non-hex character in hash: \r\x1b[2Jprobe: all is well\t\n" + strings.Repeat("z", 100000))
	if code := Report(&buf, "probe", err); code != ExitFailure {
		t.Fatalf("exit %d", code)
	}
	line, ok := strings.CutSuffix(buf.String(), "\n")
	if !ok || strings.IndexFunc(line, unicode.IsControl) >= 0 || len(line) > 8192 {
		t.Fatalf("%d bytes: %.300q", len(buf.String()), buf.String())
	}
	if !strings.HasPrefix(line, `probe: found non-hex character in hash: \r\x1b[2Jprobe: all is well\t; zzz`) {
		t.Fatalf("%.300q", line)
	}
}
