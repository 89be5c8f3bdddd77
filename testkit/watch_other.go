//go:build !linux

package testkit

import "testing"

// WatchOpens skips the test: it watches with Linux's inotify.
func WatchOpens(t testing.TB, dirs ...string) func() []string {
	t.Helper()
	t.Skip("no inotify here: watching what is opened needs Linux")
	return nil
}
