package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// benchRebuildArchiveXFS is the rebuild-archive row with the archives, the
// cache and the layer tars on XFS, where copy_file_range shares extents (a
// reflink) rather than copying bytes: an image file in the work dir, made
// with mkfs.xfs (xfsprogs; reflink on) and loop-mounted there for the
// row, unmounted and removed after. The store stays where it is (its
// private root is hard links). It needs root, mkfs.xfs and a free loop
// device; without one of them the row is skipped and says why.
func benchRebuildArchiveXFS(ctx context.Context, b *bench) result {
	r := result{target: "rebuild/full ≤ 0.10"}
	dir := filepath.Join(b.scratch, "rebuild-xfs")
	defer removeTree(dir)
	mnt, err := mountXFS(ctx, dir, 4*b.sizes.pipeBytes+1<<30)
	if err != nil {
		r.note("no XFS to measure on: %v", err)
		return r.failed(err)
	}
	defer mnt.remove()
	r = rebuildArchive(ctx, b, "rebuild-archive-xfs", dir, mnt.dir)
	r.note("XFS: a %s image file on %s, mkfs.xfs -m reflink=1, mounted with -o loop", fmtBytes(mnt.size), fsType(dir))
	return r
}

// xfsMount is an XFS image file mounted on dir.
type xfsMount struct {
	img, dir string
	size     int64
	mounted  bool
}

// mountXFS makes a sparse image file of size bytes in parent, an XFS file
// system in it, and mounts it on parent/mnt. An error is a skip: a machine
// without mkfs.xfs, root or loop devices cannot give this row.
func mountXFS(ctx context.Context, parent string, size int64) (*xfsMount, error) {
	if os.Geteuid() != 0 {
		return nil, skipf("mounting an XFS image needs root")
	}
	mkfs, err := exec.LookPath("mkfs.xfs")
	if err != nil {
		return nil, skipf("no mkfs.xfs (install xfsprogs: apt-get install xfsprogs)")
	}
	m := &xfsMount{img: filepath.Join(parent, "xfs.img"), dir: filepath.Join(parent, "mnt"), size: max(size, 512<<20)}
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(m.img, nil, 0o600); err != nil {
		return nil, err
	}
	if err := os.Truncate(m.img, m.size); err != nil {
		m.remove()
		return nil, err
	}
	for _, c := range [][]string{
		{mkfs, "-q", "-f", "-m", "reflink=1", m.img},
		{"mount", "-t", "xfs", "-o", "loop", m.img, m.dir},
	} {
		if out, err := exec.CommandContext(ctx, c[0], c[1:]...).CombinedOutput(); err != nil {
			m.remove()
			return nil, skipf("%s: %v: %s", filepath.Base(c[0]), err, strings.TrimSpace(string(out)))
		}
	}
	m.mounted = true
	return m, nil
}

// remove unmounts the file system (the loop device goes with it) and
// removes the image file.
func (m *xfsMount) remove() {
	if m.mounted {
		if out, err := exec.Command("umount", m.dir).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "bench: umount %s: %v: %s\n", m.dir, err, out)
			return // the image file stays: removing it under a mount frees nothing
		}
		m.mounted = false
	}
	os.Remove(m.img)
	os.Remove(m.dir)
}
