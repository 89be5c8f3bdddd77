package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// installPrefix lays out the tools the test built (binDir) and the
// workflows as `make install PREFIX=DIR` does: make install-workflows,
// then the tools into DIR/bin. The Nix tests give it as tools = $PREFIX.
func installPrefix(t *testing.T, binDir string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("make", "-s", "-C", "..", "install-workflows", "PREFIX="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install-workflows: %v\n%s", err, out)
	}
	for _, tool := range tools {
		data, err := os.ReadFile(filepath.Join(binDir, tool))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "bin", tool), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// goEnv returns the go command's value of an environment setting (the
// build and module caches, which the scripts' own HOME would leave cold).
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
