package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
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
		{"Mapper", "probe: --count: expected a valid 64 bit int but got \"x\"\n", []string{"--count", "x"}},
		{"Unknown", "probe: unknown flag --bogus\n", []string{"--bogus"}},
		{"CheckFlagsValidates", "probe: --count 0: want at least 1\n", []string{"--check-flags", "--count", "0"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, code, stdout, stderr := runProbe(t, c.args...)
			if code != ExitUsage || stdout != "" || stderr != c.stderr || p.ran {
				t.Errorf("exit %d, stdout %q, stderr %q, ran %v; want exit 2, no stdout, stderr %q, not run", code, stdout, stderr, p.ran, c.stderr)
			}
		})
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
