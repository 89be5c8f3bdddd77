package testkit

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildTools builds the workspace's tools, given by folder name (the test
// runs in a tool's folder, so "../manifest-gen" is built for
// "manifest-gen"), into a directory removed after the test, and returns
// it, to put on the scripts' PATH.
func BuildTools(t testing.TB, tools ...string) string {
	t.Helper()
	dir := t.TempDir()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	for _, tool := range tools {
		cmd := exec.Command(goTool, "build", "-o", filepath.Join(dir, tool), "../"+tool)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", tool, err, out)
		}
	}
	return dir
}
