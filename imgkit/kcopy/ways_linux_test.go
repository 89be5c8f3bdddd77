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
