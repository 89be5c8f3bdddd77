package testkit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// SocketCommands are the scripts' commands for checking what a sandbox
// lets through to the host's Unix sockets:
//
//	unix-listen PATH
//	    listens on a Unix socket at PATH until the script ends, greeting
//	    each connection with "hello" and closing it
//
// Its client is a program, unix-dial (UnixDial), since it runs inside the
// sandbox.
func SocketCommands() Cmds {
	return Cmds{"unix-listen": cmdUnixListen}
}

func cmdUnixListen(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: unix-listen PATH")
	}
	l, err := net.Listen("unix", ts.MkAbs(args[0]))
	ts.Check(err)
	ts.Defer(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			io.WriteString(c, "hello\n")
			c.Close()
		}
	}()
}

// UnixDial is the program unix-dial PATH: it connects to the Unix socket
// at PATH and prints "connected: " and what it read, or "refused: " and
// the system's reason (a stream socket, then a datagram socket pair's
// sendto, each line), exiting 0 either way so a script compares the lines.
func UnixDial() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: unix-dial PATH")
		return 2
	}
	path := os.Args[1]
	if c, err := net.Dial("unix", path); err != nil {
		fmt.Println("stream refused:", reason(err))
	} else {
		b, _ := io.ReadAll(c)
		c.Close()
		fmt.Printf("stream connected: %s", b)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
	if err != nil {
		fmt.Println("datagram pair refused:", reason(err))
		return 0
	}
	defer syscall.Close(fds[0])
	defer syscall.Close(fds[1])
	err = syscall.Sendto(fds[0], []byte("hello\n"), 0, &syscall.SockaddrUnix{Name: path})
	fmt.Println("datagram pair made, sendto:", reason(err))
	return 0
}

// reason is the errno under err, as strerror words, or "ok".
func reason(err error) string {
	var errno syscall.Errno
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &errno):
		return errno.Error()
	}
	return err.Error()
}
