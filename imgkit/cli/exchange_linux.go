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

// MountRoot says whether dir is the root of a mount (a file system or a
// bind mount of a directory: statx's STATX_ATTR_MOUNT_ROOT, Linux 5.8),
// which no rename can replace or exchange (EBUSY). Where the kernel
// cannot tell (before 5.8), a directory on another device than its
// parent is one (a volume, a tmpfs: a bind mount within one file system
// is not seen so); false where neither can be asked.
func MountRoot(dir string) bool {
	var st unix.Statx_t
	if statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, 0, &st) == nil && st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	}
	return otherDevice(dir)
}

// statx is unix.Statx; tests stand in a kernel without
// STATX_ATTR_MOUNT_ROOT.
var statx = unix.Statx
