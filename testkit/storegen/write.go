package storegen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// chunk is the write size. Content is drawn chunk by chunk, so it is part
// of the output's definition: changing it changes Version.
const chunk = 1 << 20

// Generate writes the store spec describes under root (the logical store
// directory spec.StoreDir is written at root/spec.StoreDir, which must be
// absent or empty) and returns its manifest. Paths are written in parallel
// on every core; the result does not depend on their order.
func Generate(root string, spec Spec) (*Manifest, error) {
	spec, err := spec.Normalize()
	if err != nil {
		return nil, fmt.Errorf("generating store: %w", err)
	}
	storeDir := storeDirOf(root, spec.StoreDir)
	if ents, err := os.ReadDir(storeDir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("generating store: %s is not empty", storeDir)
	}
	if err := mkdirs(root, storeDir); err != nil {
		return nil, fmt.Errorf("generating store: %w", err)
	}
	pl := newPlan(spec)
	poolRand, _ := newRand(spec.Seed, domainPool, 0, 0)
	pool := textPool(poolRand, 1<<20)

	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, chunk)
			for i := range jobs {
				if err := pl.writePath(storeDir, i, pool, buf); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range pl.paths {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil {
		firstErr = setTime(storeDir)
	}
	if firstErr != nil {
		return nil, fmt.Errorf("generating store: %w", firstErr)
	}
	return pl.manifest(root), nil
}

// mkdirs creates the directories from root down to storeDir with mode
// 0755 whatever the umask.
func mkdirs(root, storeDir string) error {
	if err := os.MkdirAll(storeDir, 0o755); err != nil {
		return err
	}
	for d := storeDir; len(d) > len(root); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// writePath writes path i: its entries in order (parents before
// children), then Nix's modes and times on directories, deepest first.
func (pl *plan) writePath(storeDir string, i int, pool, buf []byte) error {
	p := pl.paths[i]
	base := filepath.Join(storeDir, p.base())
	phys := func(name string) string {
		if name == "" {
			return base
		}
		return filepath.Join(base, filepath.FromSlash(name))
	}
	var dirs []string
	for k, e := range p.entries {
		name := phys(e.name)
		var err error
		switch e.typ {
		case typeDir:
			err = os.Mkdir(name, 0o755)
			dirs = append(dirs, name)
		case typeFile:
			err = pl.writeFile(name, e, uint64(i), uint64(k), pool, buf)
		case typeSymlink:
			err = os.Symlink(e.target, name)
		case typeHardlink:
			err = os.Link(phys(e.target), name)
		}
		if err == nil && e.typ != typeDir {
			err = setTime(name)
		}
		if err != nil {
			return err
		}
	}
	for k := len(dirs) - 1; k >= 0; k-- {
		if err := os.Chmod(dirs[k], 0o555); err != nil {
			return err
		}
		if err := setTime(dirs[k]); err != nil {
			return err
		}
	}
	return nil
}

// setTime sets a file's times to 1 (1970-01-01T00:00:01Z), as Nix does,
// without following a symlink.
func setTime(name string) error {
	ts := []unix.Timespec{{Sec: 1}, {Sec: 1}}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &os.PathError{Op: "utimensat", Path: name, Err: err}
	}
	return nil
}

// writeFile writes a regular file: filler drawn from its own stream
// (seed, path, entry), with its references written over it at their
// offsets. The mode is set explicitly, so the umask does not matter.
func (pl *plan) writeFile(name string, e *entry, pathIdx, entryIdx uint64, pool, buf []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	rng, src := newRand(pl.spec.Seed, domainContent, pathIdx, entryIdx)
	poolOff := rng.IntN(len(pool))
	for off := int64(0); off < e.size; off += chunk {
		b := buf[:min(chunk, e.size-off)]
		if e.binary {
			fillBinary(b, rng, src, pool)
		} else {
			poolOff = fillText(b, poolOff, pool)
		}
		pl.overlay(b, off, e)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return err
		}
	}
	mode := os.FileMode(0o444)
	if e.exec {
		mode = 0o555
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fillBinary fills b with 4 KiB blocks, half random bytes and half text,
// so that binaries compress about as well as real ones (2:1).
func fillBinary(b []byte, rng *rand.Rand, src *rand.ChaCha8, pool []byte) {
	for j := 0; j < len(b); j += 4096 {
		blk := b[j:min(j+4096, len(b))]
		if rng.IntN(2) == 0 {
			src.Read(blk)
		} else {
			fillText(blk, rng.IntN(len(pool)), pool)
		}
	}
}

// fillText copies the pool into b from off, wrapping around, and returns
// where it stopped.
func fillText(b []byte, off int, pool []byte) int {
	for n := 0; n < len(b); {
		c := copy(b[n:], pool[off:])
		n += c
		off = (off + c) % len(pool)
	}
	return off
}

// overlay writes the references of e that fall in b, which holds the
// file's bytes from off. A reference is followed by a NUL in a binary (a C
// string, like an RPATH) and by a newline in text.
func (pl *plan) overlay(b []byte, off int64, e *entry) {
	end := off + int64(len(b))
	for _, s := range e.sites {
		ref := pl.full(s.ref) + "\n"
		if e.binary {
			ref = pl.full(s.ref) + "\x00"
		}
		from, to := s.off, s.off+int64(len(ref))
		if to <= off || from >= end {
			continue
		}
		lo, hi := max(from, off), min(to, end)
		copy(b[lo-off:hi-off], ref[lo-from:hi-from])
	}
}
