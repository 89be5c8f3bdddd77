package main

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/imgkit/tarsafe"
	"dockertools.dev/imgkit/tarw"
)

// layer is one member of the layer stream. measure returns its exact
// size from metadata; emit then produces exactly that many bytes, or
// fails.
type layer interface {
	measure(ctx context.Context) (int64, error)
	emit(ctx context.Context, p *pipeline, size int64) error
	// describe returns the trailer entry (without digest and size) and an
	// optional check of the finished entry.
	describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error)
}

// treeLayer is a layer tar built from files on disk. base opens the
// directory the entries' rel paths start from (closed after each pass);
// walk calls fn for every entry in member order (the entry is reused
// between calls).
type treeLayer struct {
	format tarw.Format
	base   func() (int, error)
	walk   func(ctx context.Context, base int, fn func(e *entry) error) error
	info   layerstream.LayerInfo
	check  func(layerstream.LayerInfo) error
	budget int         // for the entry cache; 0 means cacheBudget(2), hashAhead sets it
	cache  *entryCache // what measure recorded, for emit; nil: walk again
}

// closeBase closes a base directory; -1 is a layer that reads no file.
func closeBase(fd int) {
	if fd >= 0 {
		unix.Close(fd)
	}
}

func (l *treeLayer) describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error) {
	return l.info, l.check
}

func (l *treeLayer) reemit() bool { return true }

// release drops the entries measure kept, and the descriptors its passes
// kept, once the layer is written and hashed.
func (l *treeLayer) release() {
	if l.cache != nil {
		l.cache.fds.closeAll()
	}
	l.cache = nil
}

func (l *treeLayer) measure(ctx context.Context) (int64, error) {
	var n int64
	budget := l.budget
	if budget == 0 {
		budget = cacheBudget(2)
	}
	c := newEntryCache(budget)
	base, err := l.base()
	if err != nil {
		return 0, err
	}
	defer closeBase(base)
	err = l.walk(ctx, base, func(e *entry) error {
		m, err := l.format.EntryLen(&e.hdr)
		n += m
		c.add(e)
		return err
	})
	if err == nil && !c.full {
		c.seal()
		l.cache = c
	}
	return n + tarw.EndLen(n), err
}

func (l *treeLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	walk := l.walk
	if l.cache != nil {
		walk = l.cache.each
	}
	base, err := l.base()
	if err != nil {
		return err
	}
	defer closeBase(base)
	op := storefs.NewOpener(base)
	defer op.Close()
	var n int64
	err = walk(ctx, base, func(e *entry) error {
		h := &e.hdr
		hl, err := l.format.HeaderLen(h)
		if err != nil {
			return err
		}
		m := hl + tarw.DataLen(h.Size)
		if n+m+2*tarw.BlockSize > size {
			return fmt.Errorf("files appeared or grew since the layer was measured (noticed at %q): %w", h.Name, errdefs.ErrChanged)
		}
		buf, err := p.room(int(hl))
		if err != nil {
			return err
		}
		if p.cur, err = l.format.AppendHeader(buf, h); err != nil {
			return err
		}
		if h.Type == tarw.TypeReg {
			if err := copyFile(p, op, e); err != nil {
				return err
			}
			pad := int(tarw.DataLen(h.Size) - h.Size)
			if buf, err = p.room(pad); err != nil {
				return err
			}
			p.cur = tarw.AppendPadding(buf, h.Size)
		}
		n += m
		return nil
	})
	if err != nil {
		return err
	}
	if n+tarw.EndLen(n) != size {
		return fmt.Errorf("files vanished or shrank since the layer was measured: %w", errdefs.ErrChanged)
	}
	buf, err := p.room(int(tarw.EndLen(n)))
	if err != nil {
		return err
	}
	p.cur = tarw.AppendEnd(buf, n)
	return nil
}

// fileLayer is a ready layer tar copied verbatim. With follow, path may be
// a symlink (a file the user named); without, the file must be at path
// itself, a regular file (a file inside a directory the user named).
type fileLayer struct {
	path   string
	follow bool
	real   string // path with its symlinks resolved, once measured
	e      entry
	info   layerstream.LayerInfo
	check  func(layerstream.LayerInfo) error
}

func (l *fileLayer) describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error) {
	return l.info, l.check
}

func (l *fileLayer) reemit() bool { return true }
func (l *fileLayer) release()     {}

func (l *fileLayer) measure(ctx context.Context) (int64, error) {
	l.real = l.path
	if l.follow {
		real, err := filepath.EvalSymlinks(l.path)
		if err != nil {
			return 0, notFound(l.path, err)
		}
		l.real = real
	}
	var st unix.Stat_t
	if err := lstat(l.real, &st); err != nil {
		return 0, notFound(l.path, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return 0, fmt.Errorf("%q is a symlink, which is not followed: %w", l.path, errdefs.ErrInvalidInput)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, fmt.Errorf("%q is not a regular file: %w", l.path, errdefs.ErrInvalidInput)
	}
	l.e = entry{ino: st.Ino, dev: uint64(st.Dev), ctime: st.Ctim, nlink: uint64(st.Nlink)}
	l.e.hdr = tarw.Header{Name: l.path, Type: tarw.TypeReg, Size: st.Size}
	if err := checkTar(l.real); err != nil {
		return 0, fmt.Errorf("%q: not a layer tar: %w", l.path, err)
	}
	return st.Size, nil
}

// checkTar reads the headers of the tar at path, seeking past the data:
// a file that is no tar, or a tar cut short, would be copied into the
// image as its layer, which no runtime reads. (emit copies the file only
// if it is still the one measured: copyChecked.)
func checkTar(path string) error {
	fd, err := openRead(path)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		_, err := tarsafe.Next(tr)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%v: %w", err, errdefs.ErrInvalidInput)
		}
	}
}

func (l *fileLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	fd, err := openRead(l.real)
	if err != nil {
		return openErr(l.path, err)
	}
	return copyChecked(p, fd, &l.e, false)
}

// notFound words an error from finding the file at name, wrapping
// errdefs.ErrNotFound when it does not exist.
func notFound(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%q: %w", name, errdefs.ErrNotFound)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%q: %w", name, err)
}
