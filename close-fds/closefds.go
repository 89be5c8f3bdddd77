package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
)

type command struct {
	cli.Common
	Keep    []int    `name:"keep" sep:"," placeholder:"FD" help:"Keep descriptor FD (open, above 2) for COMMAND; repeatable."`
	Command []string `arg:"" passthrough:"partial" placeholder:"COMMAND" help:"The command and its arguments."`
}

func (c *command) Validate() error {
	// kong keeps the "--" before a passthrough argument.
	if len(c.Command) > 0 && c.Command[0] == "--" {
		c.Command = c.Command[1:]
	}
	if len(c.Command) == 0 {
		return cli.Usagef("give the COMMAND to run")
	}
	for _, fd := range c.Keep {
		if fd < 3 {
			return cli.Usagef("--keep %d: 0, 1 and 2 are always kept; name a descriptor above 2", fd)
		}
		// One the caller gave survived its exec, so it is not
		// close-on-exec; one that is was opened here, by Go's runtime
		// (the cgroup's CPU limit, at 3 or 4 where the caller gave none).
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil || flags&unix.FD_CLOEXEC != 0 {
			return cli.Usagef("--keep %d: not an open descriptor", fd)
		}
	}
	return nil
}

func (c *command) Run(ctx context.Context, o *cli.IO) error {
	name := c.Command[0]
	path, err := exec.LookPath(name)
	if err != nil && !errors.Is(err, exec.ErrDot) {
		if errors.Is(err, exec.ErrNotFound) {
			return fmt.Errorf("%q: not found", name)
		}
		return fmt.Errorf("%q: %w", name, unwrapPath(err))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := closeOnExec(c.Keep); err != nil {
		return err
	}
	err = syscall.Exec(path, c.Command, os.Environ())
	return fmt.Errorf("%q: %w", name, err)
}

// unwrapPath drops exec.Error's and fs.PathError's repetition of the name
// the message already gives.
func unwrapPath(err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		return ee.Err
	}
	return cli.PathCause(err)
}

// closeOnExec marks every descriptor above 2 but those of keep
// close-on-exec, and clears the mark on those of keep.
func closeOnExec(keep []int) error {
	keep = slices.Sorted(slices.Values(keep))
	keep = slices.Compact(keep)
	for _, fd := range keep {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return fmt.Errorf("--keep %d: %w", fd, err)
		}
	}
	return markRanges(keep)
}
