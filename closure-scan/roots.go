package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

// maxLinks bounds the symlinks followed while resolving one argument, as
// the kernel's ELOOP does.
const maxLinks = 40

// readLines reads one path per line, without a limit on line length but
// within cli.MaxDocument in all (an error wrapping errdefs.ErrTooLarge
// past it). Empty lines are skipped; a trailing \r is dropped. A NUL byte,
// which no path holds, is an error where it is read: stdin from
// /dev/zero, or a FIFO of one endless line, was read until memory ran out
// and the runtime stopped the tool.
func readLines(r io.Reader) ([]string, error) {
	cr := &cli.CountingReader{R: r}
	br := bufio.NewReader(io.LimitReader(cr, cli.MaxDocument+1))
	var out []string
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if bytes.IndexByte(chunk, 0) >= 0 {
			return nil, fmt.Errorf("reading paths from stdin: a NUL byte, which no path holds: %w", errdefs.ErrInvalidInput)
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if cr.N > cli.MaxDocument {
			return nil, fmt.Errorf("reading paths from stdin: more than %d MiB: %w", cli.MaxDocument>>20, errdefs.ErrTooLarge)
		}
		p := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
		line = line[:0]
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading paths from stdin: %w", err)
		}
	}
}

// inStore returns the logical path of an absolute, clean host path that
// names something in the store, spelt logically or (under --root)
// physically.
func (s *store) inStore(p string) (string, bool) {
	if s.root != "/" {
		if rest, ok := under(p, s.phys(s.dir)); ok {
			return s.dir + rest, true
		}
	}
	if rest, ok := under(p, s.dir); ok {
		return s.dir + rest, true
	}
	return "", false
}

// under reports whether p is dir or inside it, and returns the rest of p.
func under(p, dir string) (string, bool) {
	if dir == "/" {
		return p, true
	}
	rest, ok := strings.CutPrefix(p, dir)
	return rest, ok && (rest == "" || rest[0] == '/')
}

// resolve turns an argument into the name of the store entry it belongs
// to, the way Nix's followLinksToStorePath does: outside the store,
// symlinks are followed (./result); once the path is in the store, it is
// cut to its top-level store path. The argument must exist; inside the
// store its symlinks are resolved logically, so under --root they never
// lead out of the root.
func (s *store) resolve(arg string) (string, error) {
	p, err := filepath.Abs(arg)
	if err != nil {
		return "", fmt.Errorf("path %q: %w", arg, err)
	}
	for links := 0; ; links++ {
		if lp, ok := s.inStore(p); ok {
			return s.topLevel(arg, lp)
		}
		if links == maxLinks {
			return "", fmt.Errorf("path %q: %w", arg, syscall.ELOOP)
		}
		next, err := followFirstLink(p)
		switch {
		case errors.Is(err, fs.ErrNotExist) && links > 0:
			return "", fmt.Errorf("path %q: it leads to %q: %w", arg, p, errdefs.ErrNotFound)
		case errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("path %q: %w", arg, errdefs.ErrNotFound)
		case err != nil:
			return "", fileErr("path", arg, err)
		case next == "" && links > 0:
			return "", fmt.Errorf("path %q: it leads to %q, which is %w %q %s", arg, p, errdefs.ErrOutsideStore, s.dir, outsideStoreHint)
		case next == "":
			return "", fmt.Errorf("path %q: %w %q %s", arg, errdefs.ErrOutsideStore, s.dir, outsideStoreHint)
		}
		p = next
	}
}

// outsideStoreHint ends the line for a path outside the store: a user
// without Nix gives closure-scan the directory tree they want an image
// of, which is what build-layered-image --contents takes.
const outsideStoreHint = "(closure-scan reads store paths, or links to them as nix-build makes; a directory tree of your own goes into an image with build-layered-image --contents DIR)"

// followFirstLink replaces the first symlink among the components of the
// absolute host path p by its target. It returns "" when p has no symlink.
func followFirstLink(p string) (string, error) {
	cur := "/"
	rest := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i, c := range rest {
		if c == "" {
			continue
		}
		next := filepath.Join(cur, c)
		fi, err := os.Lstat(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(next)
			if err != nil {
				return "", err
			}
			if !filepath.IsAbs(target) {
				target = filepath.Join(cur, target)
			}
			return filepath.Join(append([]string{target}, rest[i+1:]...)...), nil
		}
		cur = next
	}
	return "", nil
}

// topLevel checks the logical path lp, which arg led to, and returns its
// top-level store entry.
func (s *store) topLevel(arg, lp string) (string, error) {
	rel := strings.TrimPrefix(strings.TrimPrefix(lp, s.dir), "/")
	if rel == "" {
		return "", fmt.Errorf("path %q: it is the store directory itself, %w", arg, errdefs.ErrInvalidInput)
	}
	name, _, _ := strings.Cut(rel, "/")
	if !storefs.ValidName(name) {
		return "", fmt.Errorf("path %q: %q is not a store path (no hash part): %w", arg, s.path(name), errdefs.ErrInvalidInput)
	}
	if err := s.lstat(lp); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fileErr("path", arg, err)
		}
		if _, err := os.Lstat(s.phys(s.path(name))); errors.Is(err, fs.ErrNotExist) {
			if lp == filepath.Clean(arg) {
				return "", fmt.Errorf("path %q: %w", arg, errdefs.ErrNotFound)
			}
			return "", fmt.Errorf("path %q: store path %q: %w", arg, s.path(name), errdefs.ErrNotFound)
		}
		return "", fmt.Errorf("path %q: %q: %w", arg, lp, errdefs.ErrNotFound)
	}
	return name, nil
}

// lstat checks that the logical path lp exists. Symlinks before its last
// component are resolved logically: an absolute target starts again at the
// logical root, and ".." stops there, so the physical path read is always
// under the root.
func (s *store) lstat(lp string) error {
	cur := "/"
	rest := strings.Split(strings.TrimPrefix(lp, "/"), "/")
	for links := 0; len(rest) > 0; {
		c := rest[0]
		rest = rest[1:]
		if c == "" {
			continue
		}
		next := path.Join(cur, c)
		fi, err := os.Lstat(s.phys(next))
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink == 0 || len(rest) == 0 {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return syscall.ELOOP
		}
		target, err := os.Readlink(s.phys(next))
		if err != nil {
			return err
		}
		if !path.IsAbs(target) {
			target = path.Join(cur, target)
		}
		rest = append(strings.Split(strings.TrimPrefix(path.Clean(target), "/"), "/"), rest...)
		cur = "/"
	}
	return nil
}
