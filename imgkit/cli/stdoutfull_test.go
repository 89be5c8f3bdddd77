package cli

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"
)

// fullWriter fails every write as a full disk does (> /dev/full).
type fullWriter struct{}

func (fullWriter) Write([]byte) (int, error) { return 0, syscall.ENOSPC }

// TestHelpVersionOutputFails: --version and --help whose output cannot be
// written (stdout on a full disk) fail with one line and status 1, a
// runtime failure: --version exited 0 having printed nothing, --help
// exited 2 as if the command line were wrong.
func TestHelpVersionOutputFails(t *testing.T) {
	for _, arg := range []string{"--version", "--help"} {
		var stderr bytes.Buffer
		code := Run(context.Background(), "probe", "The probe.", &probe{}, []string{arg}, &IO{Stdout: fullWriter{}, Stderr: &stderr})
		msg := stderr.String()
		if code != ExitFailure || !strings.HasPrefix(msg, "probe: ") || !strings.Contains(msg, "no space left on device") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%s: exit %d, stderr %q; want 1 and one line \"probe: …: no space left on device\"", arg, code, msg)
		}
	}
}
