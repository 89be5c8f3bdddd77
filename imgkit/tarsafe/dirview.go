package tarsafe

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DirView is a View of a directory on disk that layers are extracted into
// (the root of the tree). Lookup never follows a symlink: it stats each
// component in turn with Lstat.
type DirView string

// Lookup implements View.
func (root DirView) Lookup(p string) (Kind, bool) {
	cur := string(root)
	parts := strings.Split(p, "/")
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return Ignored, false
		}
		k := kindOfMode(fi.Mode())
		if i < len(parts)-1 && k != Dir {
			return Ignored, false
		}
		if i == len(parts)-1 {
			return k, true
		}
	}
	return Dir, true
}

func kindOfMode(m fs.FileMode) Kind {
	switch {
	case m.IsDir():
		return Dir
	case m&fs.ModeSymlink != 0:
		return Symlink
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		return Char
	case m&fs.ModeDevice != 0:
		return Block
	case m&fs.ModeNamedPipe != 0:
		return Fifo
	}
	return Regular
}
