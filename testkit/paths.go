package testkit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// Abs returns path (relative to the package folder the test runs in) made
// absolute, failing t when it cannot be.
func Abs(t testing.TB, path string) string {
	t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// PrependPath puts dirs, in this order, before the script's PATH: the
// tools a test built and the repository's scripts/.
func PrependPath(env *testscript.Env, dirs ...string) {
	sep := string(os.PathListSeparator)
	env.Setenv("PATH", strings.Join(dirs, sep)+sep+env.Getenv("PATH"))
}
