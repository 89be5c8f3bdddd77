package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"dockertools.dev/imgkit/errdefs"
)

// hashLen is the length of a store path's hash part: 160 bits in Nix's
// base32.
const hashLen = 32

// base32Alphabet is Nix's base32 alphabet (no e, o, u, t).
const base32Alphabet = "0123456789abcdfghijklmnpqrsvwxyz"

// isBase32 marks the bytes of base32Alphabet.
var isBase32 = func() (t [256]bool) {
	for i := range len(base32Alphabet) {
		t[base32Alphabet[i]] = true
	}
	return t
}()

// store is a Nix store directory seen through --root: documents name its
// paths logically (/nix/store/…), and their bytes are read at root+logical.
type store struct {
	dir  string // logical store directory, clean and absolute
	root string // physical root, clean and absolute; "/" for the host
}

// phys returns where the logical path p is read.
func (s *store) phys(p string) string {
	if s.root == "/" {
		return p
	}
	return filepath.Join(s.root, p)
}

// path returns the logical store path of the entry name.
func (s *store) path(name string) string { return s.dir + "/" + name }

// validName reports whether a store directory entry is a store path name:
// a 32-character base32 hash part, a dash and a non-empty name. Other
// entries (.links, lock files) are never references.
func validName(name string) bool {
	if len(name) < hashLen+2 || name[hashLen] != '-' {
		return false
	}
	for i := range hashLen {
		if !isBase32[name[i]] {
			return false
		}
	}
	return !strings.Contains(name, "/")
}

// candidates are the store entries a scan looks for: every store path name
// in the store directory, found by its hash part.
type candidates struct {
	names []string // sorted, so indices (and messages) are deterministic
	// byHash maps a hash part to its index in names, or to -1 when two
	// entries share it (a reference to it would be ambiguous).
	byHash map[string]int32
}

// list reads the store directory once.
func (s *store) list() (*candidates, error) {
	dir := s.phys(s.dir)
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("listing the store directory: %w", err)
	}
	all, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("listing the store directory %q: %w", dir, err)
	}
	c := &candidates{byHash: make(map[string]int32, len(all))}
	for _, name := range all {
		if validName(name) {
			c.names = append(c.names, name)
		}
	}
	slices.Sort(c.names)
	for i, name := range c.names {
		h := name[:hashLen]
		if _, dup := c.byHash[h]; dup {
			c.byHash[h] = -1
			continue
		}
		c.byHash[h] = int32(i)
	}
	return c, nil
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
