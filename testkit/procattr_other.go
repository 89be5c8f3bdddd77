//go:build !linux

package testkit

import "syscall"

// serverAttr starts a test server in its own process group (no
// Pdeathsig here: a test binary that dies leaves it running).
func serverAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
