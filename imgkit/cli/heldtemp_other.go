//go:build !unix

package cli

import (
	"errors"
	"io/fs"
	"os"
)

// errWouldBlock: no lock is ever held here.
var errWouldBlock = errors.New("would block")

// lockFile: no flock here, so nothing is ever taken for a dead run's.
func lockFile(f *os.File, wait bool) error {
	if wait {
		return nil
	}
	return errors.ErrUnsupported
}

// ownedByMe: no owner to compare; lockFile keeps every entry anyway.
func ownedByMe(fi fs.FileInfo) bool { return false }
