package testkit

import "syscall"

// serverAttr starts a test server in its own process group, stopped
// (Pdeathsig) if the test binary dies without cleaning up.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
