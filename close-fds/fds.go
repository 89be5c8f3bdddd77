package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// maxTried is the most descriptor numbers markListed tries one by one
// where it cannot list them: a second's worth of calls.
const maxTried = 1 << 20

// markListed marks every open descriptor above 2 but those of keep
// close-on-exec, found in /proc/self/fd (Linux) or /dev/fd; where neither
// can be read (no /proc mounted), every number up to the descriptor
// limit is tried, if it is not too high to try them all.
func markListed(keep []int) error {
	fds, err := openFDs()
	if err != nil {
		var lim unix.Rlimit
		if lerr := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); lerr != nil || uint64(lim.Cur) > maxTried { // an int64 on FreeBSD
			return fmt.Errorf("cannot list the open descriptors: %w", err)
		}
		for fd := 3; uint64(fd) < uint64(lim.Cur); fd++ {
			fds = append(fds, fd)
		}
	}
	for _, fd := range fds {
		if fd < 3 || slices.Contains(keep, fd) {
			continue
		}
		// EBADF: not open (or the listing's own descriptor, closed since).
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return fmt.Errorf("descriptor %d: %w", fd, err)
		}
	}
	return nil
}

// openFDs lists the process's open descriptors.
func openFDs() ([]int, error) {
	var names []string
	var err error
	for _, dir := range []string{"/proc/self/fd", "/dev/fd"} {
		if names, err = readNames(dir); err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	fds := make([]int, 0, len(names))
	for _, n := range names {
		if fd, err := strconv.Atoi(n); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds, nil
}

func readNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}
