package cli

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ExchangeDirs swaps the directories a and b in one rename (macOS's
// renamex_np RENAME_SWAP, which APFS and HFS+ have): a reader of either
// name sees the old tree or the new one, never a missing or half-written
// one. Both must exist on the same file system.
func ExchangeDirs(a, b string) error {
	err := unix.RenamexNp(a, b, unix.RENAME_SWAP)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOTSUP):
		return fmt.Errorf("exchanging %s and %s: the file system cannot exchange two directories in one rename (renamex_np RENAME_SWAP: %w); write it to a local file system", a, b, err)
	}
	return fmt.Errorf("exchanging %s and %s: %w", a, b, err)
}

// MountRoot says whether dir is the root of a mount, which no rename can
// replace or exchange: a directory on another device than its parent.
func MountRoot(dir string) bool { return otherDevice(dir) }
