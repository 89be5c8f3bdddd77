package testkit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// subidFiles are where newuidmap and newgidmap look up a user's
// subordinate ids.
var subidFiles = []string{"/etc/subuid", "/etc/subgid"}

// cmdSubids gives USER the subordinate id range START:COUNT in /etc/subuid
// and /etc/subgid until the script ends, when both files get back the
// bytes they had. Scripts run in parallel (and other test binaries may
// run at once): each holds an exclusive flock on /etc/subuid from the
// change to the restore, so that none restores another's line away.
func cmdSubids(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: subids USER START:COUNT")
	}
	start, count, ok := strings.Cut(args[1], ":")
	for _, n := range []string{start, count} {
		if _, err := strconv.ParseUint(n, 10, 32); err != nil || !ok {
			ts.Fatalf("subids: %q: want START:COUNT", args[1])
		}
	}
	if os.Geteuid() != 0 {
		ts.Fatalf("subids: changing %s needs root (guard the line with [root])", strings.Join(subidFiles, " and "))
	}
	lock, err := os.OpenFile(subidFiles[0], os.O_RDWR|os.O_CREATE, 0o644)
	ts.Check(err)
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		lock.Close()
		ts.Fatalf("subids: locking %s: %v", subidFiles[0], err)
	}
	var saved [][]byte
	restore := func() {
		// Written into the same files (the lock's inode stays).
		for i, b := range saved {
			if err := os.WriteFile(subidFiles[i], b, 0o644); err != nil {
				ts.Logf("subids: restoring %s: %v", subidFiles[i], err)
			}
		}
		lock.Close()
	}
	for _, f := range subidFiles {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			restore()
			ts.Fatalf("subids: %v", err)
		}
		saved = append(saved, b)
		grown := b
		if len(grown) > 0 && grown[len(grown)-1] != '\n' {
			grown = append(grown, '\n')
		}
		grown = fmt.Appendf(grown, "%s:%s:%s\n", args[0], start, count)
		if err := os.WriteFile(f, grown, 0o644); err != nil {
			restore()
			ts.Fatalf("subids: %v", err)
		}
	}
	ts.Defer(restore)
}
