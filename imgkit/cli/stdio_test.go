package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// copyTool copies its standard input to its standard output, or to -o
// FILE.
type copyTool struct {
	Output string `short:"o" default:"-"`
}

func (c *copyTool) Run(_ context.Context, o *IO) error {
	if c.Output != "-" {
		f, err := CreateAtomic(c.Output, 0o644)
		if err != nil {
			return err
		}
		defer f.Abort()
		if _, err := io.Copy(f, o.Stdin); err != nil {
			return fmt.Errorf("copying: %w", err)
		}
		return f.Commit()
	}
	if _, err := io.Copy(o.Stdout, o.Stdin); err != nil {
		return fmt.Errorf("copying: %w", err)
	}
	return nil
}

// TestClosedStdoutFails: a tool started with its standard output closed
// (Go's runtime puts /dev/null there) fails on the first write with a
// line that says so; it wrote its output to /dev/null, exiting 0.
// -o naming that stdout (/dev/stdout, /dev/fd/1) fails as well; it was
// written to that /dev/null. Redirected to /dev/null, it runs. A closed stdin reads as empty, as
// Nix's builders' read-write /dev/null does (see stdio).
func TestClosedStdoutFails(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("closed streams are told from /dev/null on Linux only")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// wantOut is what the file output holds, where the redirection
	// writes it.
	for _, c := range []struct{ redirect, wantErr, wantOut string }{
		{"<&- >/dev/null", "", ""},
		{"<&- >&-", "", ""},              // nothing read, nothing written
		{"0<>/dev/null >output", "", ""}, // stdin as Nix gives a builder
		{"</dev/null >&-", "", ""},       // nothing read, nothing written
		{"<input >&-", "copy: copying: stdout is closed\n", ""},
		{"<input >/dev/null", "", ""},
		{"<input >output", "", "image bytes"},
		{"<input 2>&- >&-", "", ""}, // no stderr to say it on; the status says it
		// -o naming the closed stdout is refused as writing it is.
		{"-o /dev/stdout <input >&-", "copy: creating \"/dev/stdout\": stdout is closed\n", ""},
		{"-o /dev/fd/1 <input >&-", "copy: creating \"/dev/fd/1\": stdout is closed\n", ""},
		{"-o /proc/self/fd/1 <input >&-", "copy: creating \"/proc/self/fd/1\": stdout is closed\n", ""},
		{"-o /dev/stdout <input >output", "", "image bytes"},
		{"-o /dev/null <input >&-", "", ""},
	} {
		t.Run(c.redirect, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(dir+"/input", []byte("image bytes"), 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", "-c", `exec "$0" `+c.redirect, exe)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "CLI_TEST_COPY=1")
			errOut, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(errOut)
			err := cmd.Wait()
			wantFail := c.wantErr != "" || c.redirect == "<input 2>&- >&-"
			if string(got) != c.wantErr || (err != nil) != wantFail {
				t.Fatalf("stderr %q, %v; want %q, failing %v", got, err, c.wantErr, wantFail)
			}
			if strings.HasSuffix(c.redirect, ">output") {
				if b, _ := os.ReadFile(dir + "/output"); string(b) != c.wantOut {
					t.Fatalf("output %q, want %q", b, c.wantOut)
				}
			}
		})
	}
}
