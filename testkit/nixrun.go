package testkit

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RunNix runs a Nix command (nix-build, nix-store, …) in dir with the
// settings of NixEnv and the extra environment env, stdin as its input,
// and returns its stdout; a failure fails the test with its stderr.
func RunNix(t testing.TB, dir, stdin string, env []string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), NixEnv()...), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}
