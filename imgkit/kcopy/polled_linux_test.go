package kcopy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// polledPipe is the read end of a pipe os.Pipe made (non-blocking, in the
// runtime's poller) that says so (Polled), as imgkit/cli's stdin does;
// err, once set, is what Err reports (a cancelled context).
type polledPipe struct {
	*os.File
	err atomic.Pointer[error]
}

func (p *polledPipe) Polled() bool { return true }
func (p *polledPipe) Err() error {
	if e := p.err.Load(); e != nil {
		return *e
	}
	return nil
}

func newPolledPipe(t *testing.T) (*polledPipe, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The writer first: a copy still waiting ends at the end of its
	// source, and only then can the reader's Close, which waits for it.
	t.Cleanup(func() { w.Close(); r.Close() })
	return &polledPipe{File: r}, w
}

// copyState returns the state the goroutine running CopyN shows in a
// stack dump ("IO wait", "syscall", ...), "" when there is none yet.
func copyState() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if !strings.Contains(g, "kcopy.copyFD") {
			continue
		}
		head, _, _ := strings.Cut(g, "\n")
		if i, j := strings.Index(head, "["), strings.Index(head, "]"); i >= 0 && j > i {
			state, _, _ := strings.Cut(head[i+1:j], ",")
			return state
		}
	}
	return ""
}

// TestCopyNPolledSourceWaitsInThePoller: a copy from a Polled pipe whose
// writer is slow waits for it through the runtime's poller (the goroutine
// parked in "IO wait"), not in a poll system call holding a thread
// ("syscall"), and copies the bytes in order as they come.
func TestCopyNPolledSourceWaitsInThePoller(t *testing.T) {
	needKernelCopy(t)
	src, w := newPolledPipe(t)
	dst, got := sink(t, "file")
	data := payload(3 << 20)
	done := make(chan error, 1)
	go func() {
		n, err := CopyN(dst, src, int64(len(data)))
		if err == nil && n != int64(len(data)) {
			err = errors.New("short copy")
		}
		done <- err
	}()
	var state string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if state = copyState(); state != "" && state != "running" && state != "runnable" {
			break
		}
	}
	if state != "IO wait" {
		t.Fatalf("the copy waiting for its source is in state %q, want \"IO wait\" (the runtime's poller)", state)
	}
	for i := 0; i < len(data); i += 100 << 10 {
		if _, err := w.Write(data[i:min(i+100<<10, len(data))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got(), data) {
		t.Fatal("the copy differs from what was written")
	}
}

// TestCopyNPolledSourceEndsEarly: a Polled source whose writer closes
// before n bytes gives what it had and io.EOF.
func TestCopyNPolledSourceEndsEarly(t *testing.T) {
	needKernelCopy(t)
	src, w := newPolledPipe(t)
	dst, got := sink(t, "file")
	go func() {
		time.Sleep(50 * time.Millisecond)
		w.Write([]byte("abc"))
		w.Close()
	}()
	n, err := CopyN(dst, src, 10)
	if n != 3 || err != io.EOF || string(got()) != "abc" {
		t.Fatalf("copied %d (%q), err %v; want 3 bytes and io.EOF", n, got(), err)
	}
}

// TestCopyNPolledSourceCancelled: a copy waiting for a Polled source ends
// with the source's Err once its read deadline passes, as imgkit/cli sets
// it when the tool is told to stop.
func TestCopyNPolledSourceCancelled(t *testing.T) {
	needKernelCopy(t)
	src, _ := newPolledPipe(t)
	dst, _ := sink(t, "file")
	stop := errors.New("stopped")
	go func() {
		time.Sleep(50 * time.Millisecond)
		src.err.Store(&stop)
		src.SetReadDeadline(time.Unix(1, 0))
	}()
	done := make(chan error, 1)
	go func() { _, err := CopyN(dst, src, 10); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, stop) {
			t.Fatalf("err %v, want the source's Err", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the copy did not end when its source's deadline passed")
	}
}

// TestCopyNPolledSourceWaitsForAFullOutput is TestCopyNWaitsForAFullOutput
// with a Polled source: with the output full and the source readable, the
// copy waits for the output (the poller would not wake it: the source is
// ready already) rather than spinning.
func TestCopyNPolledSourceWaitsForAFullOutput(t *testing.T) {
	needKernelCopy(t)
	src, srcW := newPolledPipe(t)
	checkWaitsForAFullOutput(t, src, srcW)
}

// TestCopyNPolledSourceReadyBeforeTheWait: the source becomes readable
// after the splice said EAGAIN and before the copy waits, and the poller
// has seen it by then (the hook sleeps, so the runtime polls): the wait
// must not miss it. Waiting at once did: the poller's record of the
// readiness was cleared as the wait began, no later change came, and the
// copy waited for ever.
func TestCopyNPolledSourceReadyBeforeTheWait(t *testing.T) {
	needKernelCopy(t)
	src, w := newPolledPipe(t)
	dst, got := sink(t, "file")
	var once atomic.Bool
	testHookWait = func() {
		if once.CompareAndSwap(false, true) {
			w.Write([]byte("0123456789"))
			time.Sleep(50 * time.Millisecond)
		}
	}
	defer func() { testHookWait = nil }()
	done := make(chan error, 1)
	go func() { _, err := CopyN(dst, src, 10); done <- err }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the copy still waits for a source that became readable before its wait")
	}
	if !once.Load() || string(got()) != "0123456789" {
		t.Fatalf("copied %q (the hook ran: %v)", got(), once.Load())
	}
}
