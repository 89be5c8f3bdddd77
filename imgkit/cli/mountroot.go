package cli

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// otherDevice says whether the directory dir is on another device than
// its parent: the root of a mount (a volume, a tmpfs; a bind mount within
// one file system is not seen so). MountRoot asks it where the kernel
// cannot say more.
func otherDevice(dir string) bool {
	var self, parent unix.Stat_t
	if unix.Lstat(dir, &self) != nil || unix.Stat(filepath.Join(dir, ".."), &parent) != nil {
		return false
	}
	return self.Dev != parent.Dev
}
