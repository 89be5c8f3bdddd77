package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// The machine's limits, measured in the same run as our tools and on the
// same bytes, so that a ratio means the same on a fast or a slow machine.

// storeFiles lists the regular files under a store path tree (every name,
// hardlinks included, as a scanner reads them) and their total size.
func storeFiles(dir string) ([]string, int64, error) {
	var files []string
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, p)
			total += fi.Size()
		}
		return nil
	})
	return files, total, err
}

// readLimit reads files with the given number of parallel readers into a
// discarded buffer: the machine's read limit with a warm page cache. With
// hashed, each reader also hashes what it reads with sha256 (Go's, which
// uses SHA-NI): the floor under reading and hashing a store on every core.
func readLimit(ctx context.Context, files []string, readers int, hashed bool) (sample, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, readers)
	start := time.Now()
	for w := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 1<<20)
			var h hash.Hash
			if hashed {
				h = sha256.New()
			}
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(files) {
					return
				}
				if err := readAll(files[i], buf, h); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	s := sample{wall: time.Since(start)}
	for _, err := range errs {
		if err != nil {
			return s, err
		}
	}
	return s, ctx.Err()
}

func readAll(name string, buf []byte, h hash.Hash) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		n, err := f.Read(buf)
		if h != nil {
			h.Write(buf[:n])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// hashRate is one core's sha256 rate over bytes already in memory (Go's
// sha256, SHA-NI where the CPU has it), best of three passes over 64 MiB:
// the floor under hashing one layer, however its reading is spread.
func hashRate() float64 {
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	best := time.Duration(1<<63 - 1)
	for range 3 {
		start := time.Now()
		sha256.Sum256(buf)
		best = min(best, time.Since(start))
	}
	return float64(len(buf)) / best.Seconds()
}

// tarHashLimit is `tar -cf - -C ROOT PATHS | openssl dgst -sha256`: every
// file read once and hashed with a SHA-NI sha256, the floor under any tool
// that must read and hash a store.
func (b *bench) tarHashLimit(ctx context.Context, root string, rel []string) (sample, error) {
	args := append([]string{"-cf", "-", "-C", root}, rel...)
	return b.run(ctx, []stage{
		command("tar", "tar", args...),
		command("openssl", "openssl", "dgst", "-sha256"),
	}, nil, nil)
}

// extractLimit is `tar -xf LAYER -C DIR` for each layer in order, into a
// fresh directory: what unpacking an image costs without flattening it.
func (b *bench) extractLimit(ctx context.Context, layers []string, dir string) (sample, error) {
	removeTree(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sample{}, err
	}
	defer removeTree(dir)
	var total sample
	for _, l := range layers {
		s, err := b.run(ctx, []stage{command("tar", "tar", "-xf", l, "-C", dir)}, nil, nil)
		if err != nil {
			return total, err
		}
		total.wall += s.wall
	}
	return total, nil
}

// createCost is the time to create, write and close one small file in a
// fresh directory under dir: what file creation costs there, to read the
// extraction limit with.
func createCost(dir string) (time.Duration, error) {
	tmp, err := os.MkdirTemp(dir, "create-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	const n = 300
	start := time.Now()
	for i := range n {
		if err := os.WriteFile(filepath.Join(tmp, fmt.Sprint(i)), []byte("x"), 0o644); err != nil {
			return 0, err
		}
	}
	return time.Since(start) / n, nil
}
