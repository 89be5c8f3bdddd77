//go:build !linux

package pagecache

import "golang.org/x/sys/unix"

// ReadAt is pread(2) of the regular file fd; EINTR is retried.
func ReadAt(fd int, b []byte, off int64) (int, error) {
	for {
		n, err := unix.Pread(fd, b, off)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Read is read(2) of the regular file fd; EINTR is retried.
func Read(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
}
