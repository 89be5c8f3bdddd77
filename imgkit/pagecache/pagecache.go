package pagecache

import "golang.org/x/sys/unix"

// ReadAt is pread(2) of the regular file fd: up to len(b) bytes at off,
// with the file's offset left alone. A short count is not an error; 0 with
// a nil error is the end of the file. EINTR is retried.
func ReadAt(fd int, b []byte, off int64) (int, error) {
	if n, ok := nowait(fd, b, off); ok {
		return n, nil
	}
	for {
		n, err := unix.Pread(fd, b, off)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// Read is read(2) of the regular file fd, from and moving its offset, as
// ReadAt otherwise.
func Read(fd int, b []byte) (int, error) {
	if n, ok := nowait(fd, b, -1); ok {
		return n, nil
	}
	for {
		n, err := unix.Read(fd, b)
		if err != unix.EINTR {
			return n, err
		}
	}
}
