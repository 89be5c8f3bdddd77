//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package cli

import "golang.org/x/sys/unix"

// getTermios is the ioctl that reads a terminal's settings (tcgetattr's).
const getTermios = unix.TIOCGETA
