package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
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

// treeLayer is a layer tar built from files on disk: walk calls fn for
// every entry in member order (the entry is reused between calls).
type treeLayer struct {
	format tarw.Format
	walk   func(ctx context.Context, fn func(e *entry) error) error
	info   layerstream.LayerInfo
	check  func(layerstream.LayerInfo) error
	budget int         // for the entry cache; 0 means cacheBudget
	cache  *entryCache // what measure recorded, for emit; nil: walk again
}

func (l *treeLayer) describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error) {
	return l.info, l.check
}

func (l *treeLayer) measure(ctx context.Context) (int64, error) {
	var n int64
	budget := l.budget
	if budget == 0 {
		budget = cacheBudget
	}
	c := newEntryCache(budget)
	err := l.walk(ctx, func(e *entry) error {
		m, err := l.format.EntryLen(&e.hdr)
		n += m
		c.add(e)
		return err
	})
	if err == nil && !c.full {
		l.cache = c
	}
	return n + tarw.EndLen(n), err
}

func (l *treeLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	walk := l.walk
	if l.cache != nil {
		walk = l.cache.each
		defer func() { l.cache = nil }()
	}
	var n int64
	err := walk(ctx, func(e *entry) error {
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
			if err := copyFile(p, e); err != nil {
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

// fileLayer is a ready layer tar copied verbatim.
type fileLayer struct {
	path  string
	e     entry
	info  layerstream.LayerInfo
	check func(layerstream.LayerInfo) error
}

func (l *fileLayer) describe() (layerstream.LayerInfo, func(layerstream.LayerInfo) error) {
	return l.info, l.check
}

func (l *fileLayer) measure(ctx context.Context) (int64, error) {
	real, err := filepath.EvalSymlinks(l.path)
	if err != nil {
		return 0, notFound(l.path, err)
	}
	var st unix.Stat_t
	if err := lstat(real, &st); err != nil {
		return 0, notFound(l.path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, fmt.Errorf("%q is not a regular file: %w", l.path, errdefs.ErrInvalidInput)
	}
	l.e = entry{phys: real, ino: st.Ino, dev: uint64(st.Dev)}
	l.e.hdr = tarw.Header{Name: l.path, Type: tarw.TypeReg, Size: st.Size}
	return st.Size, nil
}

func (l *fileLayer) emit(ctx context.Context, p *pipeline, size int64) error {
	return copyFile(p, &l.e)
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
