package storefs

import "golang.org/x/sys/unix"

// OpenFileLimit is the process's limit on open descriptors (its soft
// limit, which package os raises to the hard one at start), and false
// when it cannot be read. The walks and the tools that keep descriptors
// (layer-pack's kept files, pull-blob's spools, a DirPath's window, the
// jobs of FitJobs) each take a share of it, so that one of them never
// makes another's open fail.
func OpenFileLimit() (uint64, bool) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return uint64(lim.Cur), true // an int64 on FreeBSD
}

// FitJobs returns jobs, or fewer (at least one) when jobs workers holding
// perJob descriptors each would take more than half of OpenFileLimit:
// the other half is for what the tool holds besides (its input and
// output, a walk's directories, connections, the runtime's own). A --jobs
// the limit cannot hold failed "too many open files" part way; the jobs
// never change a tool's output, only its speed, so fewer is the same
// result. limit is the limit read, 0 when it could not be.
func FitJobs(jobs, perJob int) (fit int, limit uint64) {
	limit, ok := OpenFileLimit()
	if !ok || perJob <= 0 {
		return jobs, 0
	}
	return int(max(1, min(uint64(jobs), limit/2/uint64(perJob)))), limit
}
