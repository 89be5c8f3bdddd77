package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarw"
)

// fakeroot's LD_PRELOAD library changes what libc's stat returns inside a
// fakeroot session, not the files, and a Go binary makes its system calls
// without libc. So the ownership, modes and device nodes that
// fakeRootCommands set are read from the session's save file
// (`fakeroot -s FILE`) and applied here, as `tar` run inside the session
// would see them.

// fakeKey identifies a file as fakeroot does: device and inode.
type fakeKey struct{ dev, ino uint64 }

// fakeStat is what fakeroot reports for a file it knows.
type fakeStat struct {
	mode     uint32 // type and permission bits
	uid, gid int64
	rdev     uint64
}

// fakeState is a parsed fakeroot save file.
type fakeState map[fakeKey]fakeStat

// readFakeState parses fakeroot's save file: one line per file,
// "dev=<hex>,ino=<dec>,mode=<oct>,uid=<dec>,gid=<dec>,nlink=<dec>,rdev=<dec>"
// (keys this tool does not use are ignored).
func readFakeState(r io.Reader) (fakeState, error) {
	st := fakeState{}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		k, v, err := parseFakeLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v: %w", line, err, errdefs.ErrInvalidInput)
		}
		st[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return st, nil
}

func parseFakeLine(text string) (fakeKey, fakeStat, error) {
	var k fakeKey
	var v fakeStat
	seen := map[string]bool{}
	for _, field := range strings.Split(text, ",") {
		key, val, ok := strings.Cut(field, "=")
		if !ok {
			return k, v, fmt.Errorf("%q is not key=value", field)
		}
		base, bits := 10, 64
		switch key {
		case "dev":
			base = 16
		case "mode":
			base, bits = 8, 32
		case "ino", "uid", "gid", "rdev":
		default:
			continue
		}
		n, err := strconv.ParseUint(val, base, bits)
		if err != nil {
			return k, v, fmt.Errorf("bad %s %q", key, val)
		}
		// faked keeps a uid_t: a larger id is a crafted file, and would
		// be written as given (see cli.MaxID).
		if (key == "uid" || key == "gid") && n > cli.MaxID {
			return k, v, fmt.Errorf("%s %s is not an id from 0 to %d", key, val, int64(cli.MaxID))
		}
		seen[key] = true
		switch key {
		case "dev":
			k.dev = n
		case "ino":
			k.ino = n
		case "mode":
			v.mode = uint32(n)
		case "uid":
			v.uid = int64(n)
		case "gid":
			v.gid = int64(n)
		case "rdev":
			v.rdev = n
		}
	}
	for _, key := range []string{"dev", "ino", "mode", "uid", "gid"} {
		if !seen[key] {
			return k, v, fmt.Errorf("no %s", key)
		}
	}
	return k, v, nil
}

// apply gives e what a program inside the fakeroot session sees: files
// the session recorded take its owner and permission bits, and an empty
// regular file that the session made with mknod becomes that device or
// fifo; every other file is owned by 0:0.
func (s fakeState) apply(e *entry) {
	h := &e.hdr
	f, ok := s[fakeKey{e.dev, e.ino}]
	if !ok {
		h.Uid, h.Gid = 0, 0
		return
	}
	h.Uid, h.Gid = f.uid, f.gid
	h.Mode = int64(f.mode & 0o7777)
	if h.Type != tarw.TypeReg {
		return
	}
	switch f.mode & unix.S_IFMT {
	case unix.S_IFCHR:
		h.Type = tarw.TypeChar
	case unix.S_IFBLK:
		h.Type = tarw.TypeBlock
	case unix.S_IFIFO:
		h.Type = tarw.TypeFifo
	default:
		return
	}
	h.Size = 0
	if h.Type != tarw.TypeFifo {
		h.Devmajor, h.Devminor = int64(unix.Major(f.rdev)), int64(unix.Minor(f.rdev))
	}
}
