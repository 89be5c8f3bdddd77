package kcopy

import (
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestCopyNWaitsForAFullOutput: splicing from a non-blocking pipe (stdin
// read through the poller) into a blocking one that is full, the copy
// waits for the output: the source's mode makes the kernel fail the call
// with EAGAIN whichever end is not ready, and waiting only for the
// source, which was readable, spun on the CPU until the reader drained
// the output. The CPU time of the process while the output stays full
// for 300 ms is measured, not the wall clock.
func TestCopyNWaitsForAFullOutput(t *testing.T) {
	needKernelCopy(t)
	var sp [2]int
	if err := unix.Pipe2(sp[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	src, srcW := os.NewFile(uintptr(sp[0]), "src"), os.NewFile(uintptr(sp[1]), "srcW")
	defer src.Close()
	defer srcW.Close()
	checkWaitsForAFullOutput(t, src, srcW)
}

// checkWaitsForAFullOutput copies from src, readable (srcW written), to a
// blocking pipe that is full for 300 ms, and fails the test when the
// process took more than a little CPU time meanwhile.
func checkWaitsForAFullOutput(t *testing.T, src io.Reader, srcW io.Writer) {
	t.Helper()
	var dp [2]int
	if err := unix.Pipe2(dp[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	dstR, dst := os.NewFile(uintptr(dp[0]), "dstR"), os.NewFile(uintptr(dp[1]), "dst")
	defer dstR.Close()
	defer dst.Close()
	// The output full: filled through a non-blocking write of our own.
	unix.SetNonblock(dp[1], true)
	for {
		if _, err := unix.Write(dp[1], make([]byte, 4096)); err != nil {
			break
		}
	}
	unix.SetNonblock(dp[1], false)
	// The source readable.
	const n = 64 << 10
	go srcW.Write(make([]byte, n))
	done := make(chan error, 1)
	var before, after unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &before)
	go func() { _, err := CopyN(dst, src, n); done <- err }()
	time.Sleep(300 * time.Millisecond)
	unix.Getrusage(unix.RUSAGE_SELF, &after)
	go io.Copy(io.Discard, dstR)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cpu := time.Duration(after.Utime.Nano() - before.Utime.Nano() + after.Stime.Nano() - before.Stime.Nano())
	t.Logf("CPU while the output was full for 300 ms: %v", cpu)
	if cpu > 20*time.Millisecond { // a spinning copy took 53-211 ms in four runs on a loaded machine; waiting, 1-3
		t.Fatalf("%v of CPU in 300 ms of a full output: the copy spun instead of waiting", cpu)
	}
}
