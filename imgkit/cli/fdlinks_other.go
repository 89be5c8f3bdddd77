//go:build !linux

package cli

// descriptorDir says whether dir, a path without symlinks, holds links
// to open descriptors: /dev/fd, which macOS and FreeBSD mount as a file
// system of their own (fdesc) rather than lead to /proc, or /proc where
// there is one.
func descriptorDir(dir string) bool { return dir == "/dev/fd" || inProc(dir) }
