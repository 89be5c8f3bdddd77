//go:build !linux

package storefs

import "golang.org/x/sys/unix"

// SearchOnly is the open(2) flag of a descriptor that is only resolved
// below (openat, fstatat, fstat), never read. Without Linux's O_PATH it
// is O_RDONLY: a directory that may be searched but not read (mode 0311)
// cannot be opened, and is refused (EACCES) rather than read otherwise.
const SearchOnly = unix.O_RDONLY

func searchOnly() int { return SearchOnly }

// There is no openat2 here: OpenDirInRoot and OpenBeneath always walk.
func openat2InRoot(int, string) (int, error)       { return -1, unix.ENOSYS }
func openat2Beneath(int, string, int) (int, error) { return -1, unix.ENOSYS }

// openComponent opens the name c of the directory cur for the component
// walk without following it (openComponentPortable).
func openComponent(cur int, c string) (int, bool, error) { return openComponentPortable(cur, c) }

// StatBeneath is fstat(2) of rel below dirfd, following no symlink, not
// even at its end (ELOOP), and refusing ".." (EXDEV), as on Linux; only
// its directory is opened (statBeneathPortable). Errors are
// *fs.PathError naming rel.
func StatBeneath(dirfd int, rel string) (unix.Stat_t, error) { return statBeneathPortable(dirfd, rel) }
