package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"
)

// A held temporary is a file or directory a run writes under a hidden
// name beside its output (".DIR.tmp-N", a --layer-tars entry ".tmp-N")
// and renames into place when done. A SIGKILL (the OOM killer, a CI
// timeout) skips every cleanup, so such a name can outlive its run; the
// next run removes it, as long as it can tell a dead run's temporary from
// a live one's. It tells them apart by a lock: the run that makes a
// temporary holds flock(2) on it until it exits, and the kernel drops the
// lock when the process dies, however it dies (also in another PID
// namespace sharing the directory, where a process id would say nothing).
//
// The maker creates the name, then locks it, then checks that the name
// is still the file it locked: a cleaner that took the lock first (the
// name had no lock yet) has removed it by the time the maker gets the
// lock, and the maker makes another. A cleaner removes a name only while
// it holds the name's lock and the name is still the file it locked.

// errHeldTempGone is a temporary removed between its creation and its
// lock, by another run's cleanup.
var errHeldTempGone = errors.New("removed as it was made")

// MkdirHeldTemp makes a new directory in root named prefix and a random
// number, and holds it: RemoveStaleTemps leaves it alone until hold is
// closed or the process ends. It returns the name in root.
func MkdirHeldTemp(root *os.Root, prefix string) (name string, hold *os.File, err error) {
	for tries := 0; ; tries++ {
		name = prefix + strconv.FormatUint(uint64(rand.Uint32()), 10)
		err = root.Mkdir(name, 0o700)
		if err == nil {
			if hold, err = holdTemp(root, name); err == nil {
				return name, hold, nil
			}
		}
		if (errors.Is(err, fs.ErrExist) || errors.Is(err, errHeldTempGone)) && tries < 100 {
			continue
		}
		return "", nil, err
	}
}

// HoldTemp holds root's entry name, a temporary the caller has just made
// (see MkdirHeldTemp); an error when it is gone meanwhile (make another).
func HoldTemp(root *os.Root, name string) (*os.File, error) { return holdTemp(root, name) }

func holdTemp(root *os.Root, name string) (*os.File, error) {
	f, err := root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errHeldTempGone // a cleaner locked it first
	}
	if err != nil {
		return nil, err
	}
	// Blocking: a cleaner holding it is removing it, and is soon done. A
	// file system that has no locks (ENOLCK) fails every cleaner's lock
	// too, so the temporary is never removed: it is as held.
	lockFile(f, true)
	if !sameEntry(root, name, f) {
		f.Close()
		return nil, errHeldTempGone
	}
	return f, nil
}

// RemoveStaleTemps removes the entries of root named prefix and then
// only hex digits (so no other name is touched) that this user owns and
// no process holds: what killed runs left. An entry it cannot lock (a
// live run's) or cannot remove is left as it is; it reports the names
// removed.
func RemoveStaleTemps(root *os.Root, prefix string) []string {
	d, err := root.Open(".")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var removed []string
	for _, name := range names {
		rest, ok := strings.CutPrefix(name, prefix)
		if !ok || rest == "" || strings.Trim(rest, "0123456789abcdef") != "" {
			continue
		}
		if removeStale(root, name) {
			removed = append(removed, name)
		}
	}
	return removed
}

func removeStale(root *os.Root, name string) bool {
	fi, err := root.Lstat(name)
	if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) || !ownedByMe(fi) {
		return false
	}
	f, err := root.Open(name)
	if err != nil {
		return false
	}
	defer f.Close() // the lock goes with it, once the name is gone
	if lockFile(f, false) != nil || !sameEntry(root, name, f) {
		return false
	}
	return root.RemoveAll(name) == nil
}

// sameEntry reports whether root's name is (not through a symlink) the
// file f has open.
func sameEntry(root *os.Root, name string, f *os.File) bool {
	fi, err := root.Lstat(name)
	if err != nil {
		return false
	}
	ffi, err := f.Stat()
	return err == nil && os.SameFile(fi, ffi)
}

// LockDir holds flock(2)'s exclusive lock on the directory dir until
// unlock is called: runs that each commit several files into dir (an
// image and its SBOMs, renamed one after another) take it around their
// commits, so that two runs writing the same files at once leave all of
// one run's, never the image of one beside the SBOM of the other.
// (manifest-gen also holds with it, wait 0, a layout it exchanges out of
// -o DIR, which RemoveStaleTemps then leaves alone under the temporary's
// name.) A
// directory that cannot be opened for reading, or whose file system has
// no locks, is not locked (unlock does nothing); one locked by another
// process for longer than wait is an error.
func LockDir(dir string, wait time.Duration) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return func() {}, nil
	}
	deadline := time.Now().Add(wait)
	for {
		err := lockFile(f, false)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, errWouldBlock) {
			f.Close()
			return func() {}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("%s: another process has held a lock (flock) on it for %v (a build committing there that is stopped, or a flock(1) of the directory around this one)", dir, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
