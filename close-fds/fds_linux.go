package main

import (
	"errors"

	"golang.org/x/sys/unix"
)

// markRanges marks the descriptors from 3 up, those of keep (sorted, each
// above 2) left out, close-on-exec with close_range(2): one call per
// range, whatever the descriptor limit. Kernels before 5.11 know no
// CLOSE_RANGE_CLOEXEC (EINVAL), before 5.9 no close_range (ENOSYS); a
// seccomp filter may refuse it (EPERM): then the open descriptors are
// listed instead.
func markRanges(keep []int) error {
	first := uint(3)
	for _, k := range append(keep, -1) {
		last := ^uint(0)
		if k >= 0 {
			last = uint(k) - 1
		}
		if first <= last {
			if err := unix.CloseRange(first, last, unix.CLOSE_RANGE_CLOEXEC); err != nil {
				if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
					return markListed(keep)
				}
				return err
			}
		}
		first = uint(k) + 1
	}
	return nil
}
