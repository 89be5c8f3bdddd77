package cli

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ExchangeDirs swaps the directories a and b in one rename (Linux's
// renameat2 RENAME_EXCHANGE): a reader of either name sees the old tree or
// the new one, never a missing or half-written one. Both must exist on the
// same file system.
func ExchangeDirs(a, b string) error {
	err := renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		// Both exist and neither holds the other (the callers make a
		// sibling of b): the file system has no exchange (NFS, some
		// FUSE ones), which "invalid argument" alone does not say.
		return fmt.Errorf("exchanging %s and %s: the file system cannot exchange two directories in one rename (renameat2 RENAME_EXCHANGE: %w); write it to a local file system", a, b, err)
	}
	return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
}

// renameat2 is unix.Renameat2; tests stand in a file system without the
// exchange.
var renameat2 = unix.Renameat2
