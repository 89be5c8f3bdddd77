package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/storefs"
)

// hashLen is the length of a store path's hash part: 160 bits in Nix's
// base32 (imgkit/storefs has the alphabet and the rules of names).
const hashLen = storefs.HashLen

// store is a Nix store directory seen through --root: documents name its
// paths logically (/nix/store/…), and their bytes are read at root+logical.
// Its files are read through the store directory opened inside root
// (imgkit/storefs), and below it no symlink is followed: a crafted store
// can make the scanner read nothing outside root or outside the store path
// being scanned.
type store struct {
	dir    string // logical store directory, clean and absolute
	root   string // physical root, clean and absolute; "/" for the host
	fd     int    // the store directory, once opened: open sets it
	isOpen bool
	cands  *candidates // its listing, once list has read it
}

// phys returns where the logical path p is found on the host, symlinks
// aside (for arguments spelt physically).
func (s *store) phys(p string) string {
	if s.root == "/" {
		return p
	}
	return filepath.Join(s.root, p)
}

// path returns the logical store path of the entry name.
func (s *store) path(name string) string { return s.dir + "/" + name }

// open opens the store directory as a process chrooted to root sees it,
// once: symlinks on its way never lead out of root.
func (s *store) open() error {
	if s.isOpen {
		return nil
	}
	fd, err := storefs.OpenDirInRoot(s.root, s.dir)
	if err != nil {
		return fileErr("opening the store directory", s.dir, err)
	}
	s.fd, s.isOpen = fd, true
	return nil
}

// close closes the store directory, if it was opened.
func (s *store) close() {
	if s.isOpen {
		unix.Close(s.fd)
		s.isOpen = false
	}
}

// candidates are the store entries a scan looks for: every store path name
// in the store directory, found by its hash part.
type candidates struct {
	names []string // sorted, so indices (and messages) are deterministic
	// byHash maps a hash part to its index in names, or to -1 when two
	// entries share it (a reference to it would be ambiguous).
	byHash map[string]int32
}

// list reads the store directory once; later calls return that listing.
// (Reading it again would not work: the descriptor is shared with the dup
// read from, whose position the first listing leaves at the end.)
func (s *store) list() (*candidates, error) {
	if s.cands != nil {
		return s.cands, nil
	}
	if err := s.open(); err != nil {
		return nil, err
	}
	d, err := unix.Dup(s.fd)
	if err != nil {
		return nil, fmt.Errorf("listing the store directory: %w", err)
	}
	f := os.NewFile(uintptr(d), s.dir) // closes d
	all, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, fileErr("listing the store directory", s.dir, err)
	}
	var names []string
	for _, name := range all {
		if storefs.ValidName(name) {
			names = append(names, name)
		}
	}
	s.cands = newCandidates(names)
	return s.cands, nil
}

// newCandidates indexes store path names (valid ones, each once) by hash.
func newCandidates(names []string) *candidates {
	c := &candidates{names: names, byHash: make(map[string]int32, len(names))}
	slices.Sort(c.names)
	for i, name := range c.names {
		h := name[:hashLen]
		if _, dup := c.byHash[h]; dup {
			c.byHash[h] = -1
			continue
		}
		c.byHash[h] = int32(i)
	}
	return c
}

// index returns the candidate index of a store path name.
func (c *candidates) index(s *store, name string) (int32, error) {
	i, ok := c.byHash[name[:hashLen]]
	switch {
	case !ok || i >= 0 && c.names[i] != name:
		return 0, fmt.Errorf("store path %q: %w", s.path(name), errdefs.ErrNotFound)
	case i < 0:
		return 0, c.ambiguous(s, name[:hashLen])
	}
	return i, nil
}

// ambiguous is the error for a hash part that two store entries share.
func (c *candidates) ambiguous(s *store, hash string) error {
	var names []string
	for _, n := range c.names {
		if strings.HasPrefix(n, hash) {
			names = append(names, s.path(n))
		}
	}
	return fmt.Errorf("hash part %q names %d store paths %q: %w", hash, len(names), names, errdefs.ErrInvalidInput)
}
