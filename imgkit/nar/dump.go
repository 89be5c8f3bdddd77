package nar

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

// Dump writes the NAR of name, an entry of the open directory dirfd (which
// stays the caller's), to w, and returns its length. Nothing below name is
// followed (see the package doc). Errors name the entry by its path from
// name, as rel/sub/file.
func Dump(w io.Writer, dirfd int, name string) (int64, error) {
	return dump(w, dirfd, name, false)
}

func dump(w io.Writer, dirfd int, name string, omit bool) (int64, error) {
	cw := &cli.CountingWriter{W: w}
	d := &dumper{w: bufio.NewWriterSize(cw, 64<<10), dirs: storefs.NewDirPath(dirfd, unix.O_RDONLY), omit: omit}
	defer d.dirs.Close()
	d.str("nix-archive-1")
	if err := d.node(name, name); err != nil {
		return 0, err
	}
	if err := d.w.Flush(); err != nil {
		return 0, err
	}
	return cw.N, nil
}

// Hash returns the NAR hash of name, an entry of the open directory dirfd,
// in FormatHash's notation, and the NAR's size (narSize).
func Hash(dirfd int, name string) (string, uint64, error) {
	return hash(dirfd, name, false)
}

// HashOmitting is Hash of a tree that is no store path (closure-scan's
// extra roots: a copied root file system has fifos and devices): a named
// pipe, socket or device below name is left out of the NAR, as if it were
// not there, where Hash refuses it.
func HashOmitting(dirfd int, name string) (string, uint64, error) {
	return hash(dirfd, name, true)
}

func hash(dirfd int, name string, omit bool) (string, uint64, error) {
	h := sha256.New()
	n, err := dump(h, dirfd, name, omit)
	if err != nil {
		return "", 0, err
	}
	var sum [HashSize]byte
	h.Sum(sum[:0])
	return FormatHash(sum), uint64(n), nil
}

type dumper struct {
	w    *bufio.Writer
	buf  []byte           // for file contents
	dirs *storefs.DirPath // the directories above the node being written, at most a window of them open however deep
	omit bool             // leave out the entries a NAR cannot hold (HashOmitting)
}

var zeros [8]byte

// length writes a string's length, or a file's.
func (d *dumper) length(n int64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(n))
	d.w.Write(b[:])
}

// pad writes the zeros after n bytes of a string or a file.
func (d *dumper) pad(n int64) { d.w.Write(zeros[:(8-n%8)%8]) }

// str writes one string of the serialisation. The bufio.Writer keeps the
// first write error and returns it from Flush.
func (d *dumper) str(s string) {
	d.length(int64(len(s)))
	d.w.WriteString(s)
	d.pad(int64(len(s)))
}

// node writes the node of the entry name of the deepest directory of
// d.dirs, rel being its path for messages.
func (d *dumper) node(name, rel string) error {
	dirfd, err := d.dirs.Fd()
	if err != nil {
		return dirErr(path.Dir(rel), err)
	}
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("reading %q: %w", rel, err)
	}
	d.str("(")
	d.str("type")
	mode := StatMode(uint32(st.Mode))
	switch {
	case mode.IsRegular():
		d.str("regular")
		if mode&0o100 != 0 {
			d.str("executable")
			d.str("")
		}
		d.str("contents")
		if err := d.file(dirfd, name, rel, &st); err != nil {
			return err
		}
	case mode&fs.ModeSymlink != 0:
		target, err := storefs.Readlinkat(dirfd, name)
		if err != nil {
			return fmt.Errorf("reading %q: %w", rel, cli.PathCause(err))
		}
		d.str("symlink")
		d.str("target")
		d.str(target)
	case mode.IsDir():
		d.str("directory")
		if err := d.dir(name, rel, st.Ino); err != nil {
			return err
		}
	default:
		return fmt.Errorf("reading %q: %s, which a NAR cannot hold: %w", rel, TypeName(mode), errdefs.ErrInvalidInput)
	}
	d.str(")")
	return nil
}

// dir writes a directory's entries, sorted by name in byte order.
func (d *dumper) dir(name, rel string, ino uint64) error {
	if err := d.dirs.Push(name, ino); err != nil {
		return dirErr(rel, err)
	}
	defer d.dirs.Pop()
	fd, err := d.dirs.Fd()
	if err != nil {
		return dirErr(rel, err)
	}
	names, err := storefs.ReadDirNames(fd)
	if err != nil {
		return fmt.Errorf("reading %q: %w", rel, err)
	}
	slices.Sort(names)
	for _, n := range names {
		if d.omit {
			var st unix.Stat_t
			if err := unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fmt.Errorf("reading %q: %w", path.Join(rel, n), err)
			}
			if !Holds(StatMode(uint32(st.Mode))) {
				continue
			}
		}
		d.str("entry")
		d.str("(")
		d.str("name")
		d.str(n)
		d.str("node")
		if err := d.node(n, path.Join(rel, n)); err != nil {
			return err
		}
		d.str(")")
	}
	return nil
}

// dirErr words the error of opening the directory rel, or one above it
// again (see storefs.DirPath): the directory its *fs.PathError names,
// which is the one that changed, not rel below it.
func dirErr(rel string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		rel = pe.Path
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, storefs.ErrReplaced) || errors.Is(err, unix.ENOTDIR) {
		return fmt.Errorf("reading %q: it is no longer the directory it was: %w", rel, errdefs.ErrChanged)
	}
	return fmt.Errorf("reading %q: %w", rel, cli.PathCause(err))
}

// sameNode says whether the file now, renamed over the file st since it
// was examined, has the node written so far: a regular file, executable
// or not as st was, of st's size. `nix-store --optimise` renames
// /nix/store/.links' identical file over a store file so, and a NAR of
// the path (with the bytes now holds) is what it was.
func sameNode(now, st *unix.Stat_t) bool {
	return now.Mode&unix.S_IFMT == unix.S_IFREG && now.Size == st.Size && now.Mode&0o100 == st.Mode&0o100
}

// file writes a regular file's length, contents and padding. The file is
// opened without following a symlink and must still be the file fstatat
// saw, at the same size, to its end.
func (d *dumper) file(dirfd int, name, rel string, st *unix.Stat_t) error {
	if testHookOpen != nil {
		testHookOpen(rel)
	}
	fd, err := storefs.OpenBeneath(dirfd, name, unix.O_RDONLY)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return fmt.Errorf("reading %q: it became a symlink: %w", rel, errdefs.ErrChanged)
		}
		return fmt.Errorf("reading %q: %w", rel, cli.PathCause(err))
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil {
		return fmt.Errorf("reading %q: %w", rel, err)
	}
	if (now.Ino != st.Ino || now.Dev != st.Dev) && !sameNode(&now, st) {
		return fmt.Errorf("reading %q: it was replaced: %w", rel, errdefs.ErrChanged)
	}
	size := st.Size
	d.length(size)
	if d.buf == nil {
		d.buf = make([]byte, 1<<20)
	}
	n, err := io.CopyBuffer(d.w, io.LimitReader(f, size), d.buf)
	if err != nil {
		return fmt.Errorf("reading %q: %w", rel, cli.PathCause(err))
	}
	if n < size {
		return fmt.Errorf("reading %q: %d bytes instead of %d: %w", rel, n, size, errdefs.ErrChanged)
	}
	if m, _ := f.Read(d.buf[:1]); m > 0 {
		return fmt.Errorf("reading %q: it grew past the %d bytes it had: %w", rel, size, errdefs.ErrChanged)
	}
	d.pad(size)
	return nil
}

// testHookOpen, when set (by tests), runs before file opens the file rel
// that fstatat examined: it can be replaced there.
var testHookOpen func(rel string)
