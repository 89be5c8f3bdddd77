//go:build linux

package main

import (
	"context"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/storefs"
	"dockertools.dev/imgkit/tarw"
)

// prefetch asks the kernel to read the regular files of c, the entries a
// measure of l recorded, into the page cache (posix_fadvise WILLNEED),
// without waiting for them: with a cold cache, the disk then has the
// files of the layers ahead in flight while the passes read the current
// ones, rather than one file at a time as tar reads them. A file it
// cannot open is left for the passes to report.
//
// Files already in the page cache need none of it, and opening each costs
// (5% of the CPU time of a pack from the page cache): once warmAfter
// files in a row were found there (resident), prefetch opens only one
// file in sampleEvery, and is back to every file at the first one that is
// not in the page cache.
func (l *treeLayer) prefetch(ctx context.Context, c *entryCache) {
	base, err := l.base()
	if err != nil || base < 0 {
		return
	}
	defer closeBase(base)
	op := storefs.NewOpener(base)
	defer op.Close()
	inCache, files := 0, 0 // files found in the page cache in a row; files met
	c.each(ctx, base, func(e *entry) error {
		if e.hdr.Type != tarw.TypeReg || e.hdr.Size == 0 {
			return nil
		}
		files++
		if inCache >= warmAfter && files%sampleEvery != 0 {
			return nil
		}
		if testHookPrefetch != nil {
			testHookPrefetch(e.hdr.Name)
		}
		fd, err := op.Open(e.rel, unix.O_RDONLY)
		if err != nil {
			return nil
		}
		defer unix.Close(fd)
		if resident(fd, e.hdr.Size) {
			inCache++
			return nil
		}
		inCache = 0
		unix.Fadvise(fd, 0, e.hdr.Size, unix.FADV_WILLNEED)
		return nil
	})
}

const (
	warmAfter   = 64
	sampleEvery = 64
)

// testHookPrefetch, when set (by tests), runs before prefetch opens the
// file named name.
var testHookPrefetch func(name string)

// resident says whether the first and last bytes of the open file fd, of
// size bytes, are in the page cache: a read that must not wait for the
// disk (RWF_NOWAIT) gets them. Where the kernel cannot tell, it says no.
func resident(fd int, size int64) bool {
	var b [1]byte
	for _, off := range []int64{0, size - 1} {
		if n, err := unix.Preadv2(fd, [][]byte{b[:]}, off, unix.RWF_NOWAIT); n != 1 || err != nil {
			return false
		}
	}
	return true
}
