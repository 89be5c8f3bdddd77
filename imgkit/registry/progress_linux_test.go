package registry

import (
	"bytes"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// On a terminal the bar is drawn, and Stop erases its line; -q (quiet)
// draws nothing even there.
func TestProgressOnTerminal(t *testing.T) {
	master, slave := openPTY(t)
	if p := NewProgress(slave, "pulling", true); p != nil {
		p.Stop()
		t.Fatal("a progress bar with quiet set")
	}
	p := NewProgress(slave, "pulling", false)
	if p == nil {
		t.Fatal("no progress bar on a terminal")
	}
	p.AddTotal(100)
	p.Add(50)
	p.Stop()
	// What the terminal received ends with the erasing of the line.
	var got []byte
	buf := make([]byte, 4096)
	master.SetReadDeadline(time.Now().Add(10 * time.Second))
	for !bytes.HasSuffix(got, []byte("\r\x1b[K")) {
		n, err := master.Read(buf)
		if err != nil {
			t.Fatalf("read %q from the terminal, then %v", got, err)
		}
		got = append(got, buf[:n]...)
	}
}
