package main

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/format"
	"dockertools.dev/imgkit/nixhash"
	"dockertools.dev/imgkit/storefs"
)

// NAR hashes (--nar-hash). Nix's narHash is the SHA-256 of a path's NAR
// serialisation (narsize.go has the grammar), whose directory entries are
// sorted by name, byte by byte. The scanner reads files in pieces, in any
// order and in parallel, so it cannot hash them in NAR order: a second
// walk serialises each node in order, its nodes in parallel. That reads
// every file twice, which is why it is asked for, not done always.
// The walk follows no symlink below the node, as the scan does, and a
// NAR whose length differs from the scan's narSize means the path
// changed in between.

// narHashes sets the NarHash of every node of g that has none: a store
// path is read below the store directory, an extra root where it is. A
// hash Nix gave (in any form it writes) is printed as SRI, as nix
// path-info --json prints it.
func (c *command) narHashes(ctx context.Context, st *store, g format.Graph) error {
	for i, n := range g {
		if n.NarHash == "" {
			continue
		}
		d, err := nixhash.Parse(n.NarHash)
		if err != nil {
			return fmt.Errorf("the narHash Nix gave for %q: %w", n.Path, err)
		}
		g[i].NarHash = d.String()
	}
	for _, n := range g {
		if _, ok := st.inStore(n.Path); ok && n.NarHash == "" {
			if err := st.open(); err != nil {
				return err
			}
			break
		}
	}
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0) // hashing is CPU-bound
	}
	todo := make(chan int)
	errs := make([]error, len(g))
	var wg sync.WaitGroup
	for range min(jobs, len(g)) {
		wg.Go(func() {
			h := &narHasher{h: sha256.New(), buf: make([]byte, 1<<20)}
			for i := range todo {
				errs[i] = h.node(st, &g[i])
			}
		})
	}
	for i := range g {
		if g[i].NarHash != "" {
			continue
		}
		select {
		case todo <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(todo)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// narHasher serialises one node at a time into h.
type narHasher struct {
	h     hash.Hash
	buf   []byte
	n     uint64 // bytes serialised
	label string // the node, for messages
}

// node hashes n and sets its NarHash.
func (w *narHasher) node(st *store, n *format.PathInfo) error {
	w.h.Reset()
	w.n, w.label = 0, n.Path
	base, rel := st.fd, filepath.Base(n.Path)
	if _, ok := st.inStore(n.Path); !ok {
		// An extra root, read where it is, as the scan read it.
		dir := filepath.Dir(n.Path)
		if n.Path == "/" {
			rel = "."
		}
		fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fileErr("hashing", n.Path, err)
		}
		defer unix.Close(fd)
		base = fd
	}
	w.str("nix-archive-1")
	if err := w.entry(base, rel, n.Path); err != nil {
		return err
	}
	if w.n != n.NarSize {
		return fmt.Errorf("hashing %q: its NAR has %d bytes, %d when it was scanned: %w", n.Path, w.n, n.NarSize, errdefs.ErrChanged)
	}
	n.NarHash = nixhash.Digest(w.h.Sum(nil)).String()
	return nil
}

// str writes one NAR string: its length, its bytes, zeros to a multiple
// of 8.
func (w *narHasher) str(s string) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(len(s)))
	w.h.Write(b[:])
	w.h.Write([]byte(s))
	w.pad(uint64(len(s)))
	w.n += 8
}

// pad writes the zeros after n bytes of a string and counts them.
func (w *narHasher) pad(n uint64) {
	var zero [8]byte
	p := (8 - n%8) % 8
	w.h.Write(zero[:p])
	w.n += n + p
}

// entry serialises the node name of the open directory dirfd; logical
// names it in messages.
func (w *narHasher) entry(dirfd int, name, logical string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fileErr("hashing", logical, err)
	}
	w.str("(")
	w.str("type")
	switch mode := modeOf(uint32(st.Mode)); {
	case mode.IsRegular():
		w.str("regular")
		if mode&0o100 != 0 {
			w.str("executable")
			w.str("")
		}
		w.str("contents")
		if err := w.contents(dirfd, name, logical, st.Size); err != nil {
			return err
		}
	case mode&fs.ModeSymlink != 0:
		target, err := storefs.Readlinkat(dirfd, name)
		if err != nil {
			return fileErr("hashing", logical, err)
		}
		w.str("symlink")
		w.str("target")
		w.str(target)
	case mode.IsDir():
		w.str("directory")
		if err := w.dir(dirfd, name, logical, st.Ino); err != nil {
			return err
		}
	default:
		return fmt.Errorf("hashing %q: %s, which a NAR cannot hold: %w", logical, typeName(mode), errdefs.ErrInvalidInput)
	}
	w.str(")")
	return nil
}

// dir serialises a directory's entries, sorted by name as Nix sorts them.
func (w *narHasher) dir(dirfd int, name, logical string, ino uint64) error {
	fd, err := storefs.OpenListedDir(dirfd, name, ino)
	if err != nil {
		return readErr("hashing", logical, err)
	}
	d := os.NewFile(uintptr(fd), logical) // closes fd
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fileErr("hashing", logical, err)
	}
	slices.Sort(names)
	for _, child := range names {
		w.str("entry")
		w.str("(")
		w.str("name")
		w.str(child)
		w.str("node")
		if err := w.entry(fd, child, filepath.Join(logical, child)); err != nil {
			return err
		}
		w.str(")")
	}
	return nil
}

// contents writes a regular file's contents as a NAR string of size
// bytes, the size its stat gave.
func (w *narHasher) contents(dirfd int, name, logical string, size int64) error {
	fd, err := unix.Openat(dirfd, name, openFlags, 0)
	if err != nil {
		return readErr("hashing", logical, err)
	}
	defer unix.Close(fd)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(size))
	w.h.Write(b[:])
	w.n += 8
	var got int64
	r := fdReader(fd)
	for {
		m, err := r.Read(w.buf)
		if m > 0 {
			if got += int64(m); got > size {
				return changed(logical, size, got)
			}
			w.h.Write(w.buf[:m])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fileErr("hashing", logical, err)
		}
	}
	if got != size {
		return changed(logical, size, got)
	}
	w.pad(uint64(size))
	return nil
}
