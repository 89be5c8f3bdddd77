package kcopy

import "testing"

// eachWay runs f with the kernel copying (splice, copy_file_range) and
// with CopyN copying through user space, as it does off Linux.
func eachWay(t *testing.T, f func(t *testing.T)) {
	for _, way := range []struct {
		name      string
		userSpace bool
	}{{"kernel", false}, {"user-space", true}} {
		t.Run(way.name, func(t *testing.T) {
			was := userSpace
			userSpace = way.userSpace
			defer func() { userSpace = was }()
			f(t)
		})
	}
}

// needKernelCopy skips a test of the kernel copy itself (splice's waits,
// that no byte passes through this process) in a build whose CopyN copies
// through user space (the tag dockertools_portable).
func needKernelCopy(t *testing.T) {
	t.Helper()
	if userSpace {
		t.Skip("the kernel copy is off in this build (dockertools_portable)")
	}
}
