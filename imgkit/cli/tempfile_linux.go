package cli

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// namelessTemp opens an O_TMPFILE file in dir: it never has a name, and
// is freed when closed. It reports false where dir's file system (or the
// kernel) cannot make one, and for any other failure too: the caller's
// named fallback then reports the error in its own words.
func namelessTemp(dir, prefix string) (*os.File, bool) {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, false
	}
	return os.NewFile(uintptr(fd), filepath.Join(dir, prefix+"-(unlinked)")), true
}
