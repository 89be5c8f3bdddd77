// Command rusage runs a program and writes its peak RSS and CPU time to a
// file: the harness starts every measured process through it.
//
//	rusage OUT PROG [ARG...]
//
// Why a helper: Linux starts a process's peak-RSS record (ru_maxrss) at
// the resident size of whatever it was forked from, so a tool started
// straight from the harness would report at least the harness's own peak.
// This helper is small, so the tools it starts report their own peak plus
// about 2 MB at most.
//
// The program inherits stdin, stdout and stderr (and the signal
// dispositions of the harness: the helper changes none). The helper exits
// with the program's status, or 128+N when signal N ended it. OUT receives
// one line: "maxrss_kib user_ns system_ns signal" (signal 0: none).
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rusage OUT PROG [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The program dies with the helper: the harness kills the helper's
	// process group on timeout, and this covers the helper being killed
	// alone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "rusage: %v\n", err)
		os.Exit(127)
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if ru == nil {
		fmt.Fprintln(os.Stderr, "rusage: no resource usage for the program")
		os.Exit(127)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	sig := 0
	if ws.Signaled() {
		sig = int(ws.Signal())
	}
	line := fmt.Sprintf("%d %d %d %d\n", ru.Maxrss, syscall.TimevalToNsec(ru.Utime), syscall.TimevalToNsec(ru.Stime), sig)
	if err := os.WriteFile(os.Args[1], []byte(line), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "rusage: %v\n", err)
		os.Exit(127)
	}
	if sig != 0 {
		os.Exit(128 + sig)
	}
	os.Exit(ws.ExitStatus())
}
