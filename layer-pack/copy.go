package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/pagecache"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/imgkit/tarw"
)

// copyFile streams the data of the regular file e into the pipeline. The
// file is the descriptor a pass before kept (keptFDs), or is opened by op,
// relative to its directory and following no symlink on the way; it must
// still be the file that was examined (same inode, type, size and change
// time), or a copy Nix renamed over it where this pass may read one
// (adopt); exactly its size is read, straight into the pipeline's buffers,
// and a read that returns more, or fewer, is an error naming the file:
// the layer never holds bytes that disagree with its header.
func copyFile(p *pipeline, op *storefs.Opener, e *entry) error {
	if e.fds != nil && !p.hashing {
		fd, adopted := e.fds.take(e.idx)
		if fd >= 0 {
			return copyChecked(p, fd, e, true)
		}
		if adopted {
			// The hashing pass read a copy that replaced the file, whose
			// descriptor it could not keep: what is at the name now may
			// be another.
			return errOptimised(e.hdr.Name)
		}
	}
	if testHookOpen != nil {
		testHookOpen(e.hdr.Name)
	}
	fd, err := op.Open(e.rel, unix.O_RDONLY)
	if err != nil {
		if e.keeping(p) {
			e.fds.hashed(e.idx, -1)
		}
		name := e.hdr.Name
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path != e.rel {
			// A directory above it: its member name ends as its rel does.
			name = strings.TrimSuffix(name, e.rel) + pe.Path
		}
		return openErr(name, errors.Unwrap(err))
	}
	return copyChecked(p, fd, e, false)
}

// testHookOpen, when set (by tests), runs before copyFile opens the file
// named name; testHookKept before the hashing pass keeps its descriptor
// for the writer's (keptFDs): it can change there, after being hashed.
var testHookOpen, testHookKept func(name string)

// openErr words an error opening a file the walk saw.
func openErr(name string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%q vanished while packing: %w", name, errdefs.ErrChanged)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%q became a symlink while packing: %w", name, errdefs.ErrChanged)
	}
	return fmt.Errorf("opening %q: %w", name, err)
}

// copyChecked copies the open regular file fd, which must be the file e
// that was examined: the same inode, size and change time (a write moves
// it), before the copy and after it. Layers hashed apart from the output
// read each file twice; the change time makes a file rewritten between
// the reads, or while one of them read it, an error rather than a layer
// whose bytes and digest disagree (a write moves the change time before
// it moves any byte, so a write that a read may have seen any part of
// shows after the read; after a hashing pass's read, the writer's check
// before its own finds it). It closes fd, keeps it for
// the writer's pass (the hashing pass, see keptFDs), or hands it to the
// consumer, which copies it in the kernel (see pipeline.sendFile). kept
// says that fd is the descriptor the hashing pass kept.
func copyChecked(p *pipeline, fd int, e *entry, kept bool) error {
	err := checkOpened(p, fd, e, kept)
	switch {
	case err == nil && p.kernelCopies(e.hdr.Size):
		// The consumer checks it after the walk moved on: e's fields are
		// copied, the entry may be reused by then.
		seen := entry{hdr: tarw.Header{Name: e.hdr.Name, Size: e.hdr.Size}, ino: e.ino, dev: e.dev, ctime: e.ctime, nlink: e.nlink}
		return p.sendFile(fd, e.hdr.Name, e.hdr.Size, func(fd int) error { return checkFile(fd, &seen) })
	case err == nil:
		// A hashing pass need not check again: a write during its read
		// moved the change time, which the writer's check before its own
		// read finds.
		if err = copyData(p, fd, e.hdr.Name, e.hdr.Size); err == nil && !p.hashing {
			err = checkFile(fd, e)
		}
	}
	keep := e.keeping(p)
	if err == nil && keep {
		if testHookKept != nil {
			testHookKept(e.hdr.Name)
		}
		if e.adopted {
			e.fds.adopted(e.idx)
		}
		e.fds.hashed(e.idx, fd)
		return nil
	}
	unix.Close(fd)
	if keep {
		e.fds.hashed(e.idx, -1)
	}
	return err
}

// keeping says whether p is the hashing pass that keeps e's descriptor for
// the writer's (keptFDs): it must tell e.fds when it is done with the file,
// with the descriptor or, when it has none to give, without.
func (e *entry) keeping(p *pipeline) bool { return e.fds != nil && p.hashing }

// adopt makes the open file of status st the file e stands for when it
// is a copy that replaced the file examined and this pass may read it: what
// `nix-store --optimise` does to a store file whose bytes
// /nix/store/.links holds already (it renames the .links file over it).
// A copy is a regular file of the same size and permission bits with
// Nix's modification time (see nixMtime); its bytes are not known to be
// the same, so a layer may hold them only where the bytes hashed are the
// bytes written: in a pass that both hashes and writes the layer, in the
// hashing pass when it keeps the descriptor for the writer's (which then
// reads that same file, and adopts it too), and in the writer's pass
// reading that kept descriptor. Elsewhere the writer's pass would write
// bytes other than the ones hashed: "was replaced while packing", with
// the likely cause.
func adopt(p *pipeline, st *unix.Stat_t, e *entry, kept bool) error {
	if st.Ino == e.ino && uint64(st.Dev) == e.dev || !copyOf(st, e) {
		return nil // checkStat tells
	}
	if p.hashing && !e.keeping(p) || !p.hashing && p.apart && !kept {
		return errOptimised(e.hdr.Name)
	}
	e.ino, e.dev, e.ctime, e.nlink, e.adopted = st.Ino, uint64(st.Dev), st.Ctim, uint64(st.Nlink), true
	return nil
}

// checkOpened is checkFile for the file fd copyChecked is given, which it
// adopts where it may (adopt): one fstat, as checkFile.
func checkOpened(p *pipeline, fd int, e *entry, kept bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%q: %w", e.hdr.Name, err)
	}
	if err := adopt(p, &st, e, kept); err != nil {
		return err
	}
	return checkStat(&st, e)
}

// copyOf says whether st, another file than e's, could be a copy of it
// that Nix made (see adopt).
func copyOf(st *unix.Stat_t, e *entry) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == e.hdr.Size &&
		int64(st.Mode&0o7777) == e.hdr.Mode && st.Mtim == nixMtime
}

func errOptimised(name string) error {
	return fmt.Errorf("%q was replaced while packing (nix-store --optimise?): run again: %w", name, errdefs.ErrChanged)
}

// checkFile checks that the open file fd is the file e that was examined.
func checkFile(fd int, e *entry) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("%q: %w", e.hdr.Name, err)
	}
	return checkStat(&st, e)
}

// checkStat checks that st, the open file's status, is the file e that
// was examined.
func checkStat(st *unix.Stat_t, e *entry) error {
	name := e.hdr.Name
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Ino != e.ino || uint64(st.Dev) != e.dev {
		if copyOf(st, e) {
			return errOptimised(name)
		}
		return fmt.Errorf("%q was replaced while packing: %w", name, errdefs.ErrChanged)
	}
	if st.Nlink == 0 && st.Mtim != nixMtime {
		// A descriptor kept from a pass before (keptFDs) of a file
		// removed or replaced since. One with Nix's modification time
		// still reads the bytes examined (no write happened, see
		// nixMtime): the file `nix-store --optimise` replaced by its
		// copy, or that garbage collection removed after it was opened.
		return fmt.Errorf("%q vanished while packing: %w", name, errdefs.ErrChanged)
	}
	if st.Size != e.hdr.Size {
		return fmt.Errorf("%q: size changed from %d to %d bytes while packing: %w", name, e.hdr.Size, st.Size, errdefs.ErrChanged)
	}
	if st.Ctim != e.ctime && (st.Mtim != nixMtime || uint64(st.Nlink) == e.nlink) {
		return fmt.Errorf("%q was written to while packing: %w", name, errdefs.ErrChanged)
	}
	return nil
}

// nixMtime is the modification time Nix gives every file of a valid store
// path. A write moves a file's modification time with its change time, so
// a file that still has it and whose link count moved was linked or
// unlinked, not written to, whatever its change time says: Nix's store
// optimisation (auto-optimise-store, when another path with an identical
// file is built meanwhile; nix-store --optimise) links other names to a
// store file, and garbage collection unlinks them, which moves its change
// time and link count alone, and a concurrent nix-build failed the pack.
// The link count must have moved: a write that then set the modification
// time back to 1 (cp -p, rsync -t over the file) moves the change time
// alone, and gave a layer whose digest disagreed with its bytes.
var nixMtime = unix.Timespec{Sec: 1}

// copyData reads exactly size bytes from the open file fd, from its start
// to its end, straight into the pipeline's buffers; a file that holds more
// or fewer is an error naming it. It reads at offsets (pread), leaving the
// file's offset alone for another pass that shares the descriptor, and
// without the scheduler's handoff where the page cache holds the bytes
// (imgkit/pagecache).
func copyData(p *pipeline, fd int, name string, size int64) error {
	remaining := size
	for {
		buf, err := p.room(1)
		if err != nil {
			return err
		}
		// Ask for one byte more than is left, so that a file that grew
		// shows itself.
		ask := buf[len(buf):cap(buf)]
		if int64(len(ask)) > remaining+1 {
			ask = ask[:remaining+1]
		}
		n, err := pagecache.ReadAt(fd, ask, size-remaining)
		if err != nil {
			return fmt.Errorf("reading %q: %w", name, err)
		}
		if int64(n) > remaining {
			return errGrew(name)
		}
		p.cur = buf[:len(buf)+n]
		remaining -= int64(n)
		switch {
		case n == 0 && remaining > 0:
			return errShrank(name, remaining)
		case n == 0, remaining == 0 && n < len(ask):
			// The end of the file: a read of a regular file comes back
			// short only there.
			return nil
		}
	}
}

func errGrew(name string) error {
	return fmt.Errorf("%q grew while packing: %w", name, errdefs.ErrChanged)
}

func errShrank(name string, by int64) error {
	return fmt.Errorf("%q shrank by %d bytes while packing: %w", name, by, errdefs.ErrChanged)
}

// openRead opens the file at path, not following it if it is a symlink.
func openRead(path string) (int, error) {
	return openAt(unix.AT_FDCWD, path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC)
}
