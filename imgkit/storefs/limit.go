package storefs

import "golang.org/x/sys/unix"

// OpenFileLimit is the process's limit on open descriptors (its soft
// limit, which package os raises to the hard one at start), and false
// when it cannot be read. The walks and the tools that keep descriptors
// (layer-pack's kept files, pull-blob's spools, a DirPath's window) each
// take a share of it, so that one of them never makes another's open
// fail.
func OpenFileLimit() (uint64, bool) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Cur, true
}
