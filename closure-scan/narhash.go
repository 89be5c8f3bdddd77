package main

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/storefs"
)

// narHashes gives every node of g that has no NAR hash (all of them after
// a scan; after Nix or a --graph from Nix, the extra roots only; a value
// that is no NAR hash counts as none) the sha256 of its NAR, written
// by imgkit/nar from the files as they are now: every file is read once
// more, in the order a NAR holds it, by -j workers, biggest path first. A
// path whose NAR is not narSize bytes long changed since it was scanned,
// which is an error: the graph would not be one snapshot.
func (c *command) narHashes(ctx context.Context, o *cli.IO, st *store, g graphplan.Graph) error {
	var todo []int
	for i, n := range g {
		if _, err := nar.ParseHash(n.NarHash); err != nil {
			todo = append(todo, i)
		}
	}
	return c.hashNodes(ctx, o, st, g, todo, sizeCheck{"when it was scanned", errdefs.ErrChanged})
}

// sizeCheck says, for the error of a NAR that is not narSize bytes long,
// where narSize came from and what the mismatch means.
type sizeCheck struct {
	from string
	err  error
}

// hashNodes hashes the nodes of g that todo lists, as narHashes says.
func (c *command) hashNodes(ctx context.Context, o *cli.IO, st *store, g graphplan.Graph, todo []int, sc sizeCheck) error {
	if len(todo) == 0 {
		return nil
	}
	if err := st.open(); err != nil {
		return err
	}
	slices.SortStableFunc(todo, func(a, b int) int { return cmp.Compare(g[b].NarSize, g[a].NarSize) })
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0) // hashing is bound by the CPU
	}
	// A job holds a walk's directories (nar.Hash), the file it reads and
	// the directory of a path named below the store.
	jobs = o.FitJobs(jobs, storefs.WindowFds()+2)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		next     int
		firstErr error
		wg       sync.WaitGroup
	)
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if next == len(todo) || firstErr != nil || ctx.Err() != nil {
			return 0, false
		}
		next++
		return todo[next-1], true
	}
	for range min(jobs, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, ok := take(); ok; i, ok = take() {
				if err := hashNode(st, &g[i], sc); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	o.Debugf("hashed the NAR of %d paths", len(todo))
	return nil
}

// hashNode hashes one node: a store path below the open store directory,
// an extra root below its directory as the user gave it.
func hashNode(st *store, n *graphplan.PathInfo, sc sizeCheck) error {
	base, name, hashOf := st.fd, path.Base(n.Path), nar.Hash
	if path.Dir(n.Path) != st.dir {
		hashOf = nar.HashOmitting // as the scan leaves them out
		dir := filepath.Dir(n.Path)
		if n.Path == "/" {
			name = "."
		}
		fd, err := unix.Open(dir, storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fileErr("hashing", n.Path, err)
		}
		defer unix.Close(fd)
		base = fd
	}
	hash, size, err := hashOf(base, name)
	if err != nil {
		return fmt.Errorf("hashing %q: %w", n.Path, err)
	}
	if size != n.NarSize {
		return fmt.Errorf("hashing %q: its NAR is %d bytes now, %d %s: %w", n.Path, size, n.NarSize, sc.from, sc.err)
	}
	n.NarHash = hash
	return nil
}

// verify checks the --graph's store paths against their files: each is
// hashed (narHashes, which fails on a NAR that is not the graph's narSize
// long) and the hash compared with the graph's narHash where it has one.
// Unchecked, a crafted graph's narHash and narSize went into the image's
// Nix database and SBOM as the files' own. The extra roots, hashed from
// their files anyway, are left for narHashes.
func (c *command) verify(ctx context.Context, o *cli.IO, st *store, g graphplan.Graph) error {
	before, err := c.verifiedBefore(o)
	if err != nil {
		return err
	}
	given := make([]string, len(g))
	var checked, todo []int
	for i := range g {
		if path.Dir(g[i].Path) != st.dir {
			continue
		}
		given[i], g[i].NarHash = g[i].NarHash, ""
		checked = append(checked, i)
		if j, ok := before.Index(g[i].Path); ok && before[j].NarSize == g[i].NarSize {
			if _, err := nar.ParseHash(before[j].NarHash); err == nil {
				g[i].NarHash = before[j].NarHash
				continue
			}
		}
		todo = append(todo, i)
	}
	if err := c.hashNodes(ctx, o, st, g, todo, sizeCheck{fmt.Sprintf("in the graph %q", c.Graph), errdefs.ErrDigestMismatch}); err != nil {
		return err
	}
	for _, i := range checked {
		n := g[i]
		if given[i] == "" {
			continue
		}
		want, err := nar.ParseHash(given[i])
		if err != nil {
			return fmt.Errorf("--graph %q: %q: narHash %q: %w", c.Graph, n.Path, given[i], err)
		}
		got, err := nar.ParseHash(n.NarHash)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("--graph %q: %q: narHash %s, but its files hash to %s: %w", c.Graph, n.Path, nar.FormatHash(want), n.NarHash, errdefs.ErrDigestMismatch)
		}
	}
	o.Debugf("verified the graph's narSize and narHash of %d store paths, %d of them hashed (the rest --verified before)", len(checked), len(todo))
	return nil
}

// verifiedBefore reads --verified: the graph of an earlier --verify of
// the same --graph and --root (a workflow's first scan), whose narHash
// is the files' own. Nil without it.
func (c *command) verifiedBefore(o *cli.IO) (graphplan.Graph, error) {
	if c.Verified == "" {
		return nil, nil
	}
	f, err := o.OpenNamed(c.Verified)
	if err != nil {
		return nil, fmt.Errorf("--verified %q: %w", c.Verified, err)
	}
	defer f.Close()
	g, err := graphplan.ReadGraph(f, "")
	if err != nil {
		return nil, fmt.Errorf("--verified %q: %w", c.Verified, err)
	}
	return g, nil
}
