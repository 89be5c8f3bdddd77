package cli

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// portable, set by tests, makes the files of CreateAtomic and
// UnlinkedTemp, and the outputs written in place, as they are made off
// Linux: temporaries with a name (no O_TMPFILE), in-place outputs opened
// with a plain open(2) (openInPlacePlain). The tests run here then check
// that those leave nothing behind and write the same bytes.
var portable bool

// namelessTemp opens an O_TMPFILE file in dir: it never has a name, and
// is freed when closed. It reports false where dir's file system (or the
// kernel) cannot make one, and for any other failure too: the caller's
// named fallback then reports the error in its own words.
func namelessTemp(dir, prefix string) (*os.File, bool) {
	return namelessFile(dir, filepath.Join(dir, prefix+"-(unlinked)"))
}

// namelessFile is namelessTemp with the name the file goes by in messages.
func namelessFile(dir, shown string) (*os.File, bool) {
	if portable {
		return nil, false
	}
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	return os.NewFile(uintptr(fd), shown), true
}

// linkTemp gives the nameless file f a name in dir, prefix and a random
// number: linkat through /proc/self/fd, or with AT_EMPTY_PATH where /proc
// is not mounted (which needs CAP_DAC_READ_SEARCH). Another file's name
// is never taken (EEXIST: another number).
func linkTemp(f *os.File, dir, prefix string) (string, error) {
	fd := int(f.Fd())
	for tries := 0; ; tries++ {
		tmp := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, tmp, unix.AT_SYMLINK_FOLLOW)
		if err != nil && err != unix.EEXIST {
			err = unix.Linkat(fd, "", unix.AT_FDCWD, tmp, unix.AT_EMPTY_PATH)
		}
		if err == unix.EEXIST && tries < 100 {
			continue
		}
		if err != nil {
			return "", &os.LinkError{Op: "link", Old: f.Name(), New: tmp, Err: err}
		}
		return tmp, nil
	}
}
