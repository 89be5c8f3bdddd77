package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/graphplan"
	"dockertools.dev/imgkit/nar"
	"dockertools.dev/imgkit/storefs"
	"golang.org/x/sys/unix"
)

// scanner finds references the way Nix's reference scanner does, by looking
// for the hash parts of the store's entries in everything a NAR of a path
// holds: file contents, symlink targets and entry names. Its unit of work is
// a task (a path's top entry, a directory, a batch of small files, a piece
// of a big file); workers take tasks from one queue, so both cores stay busy
// whether the closure has one big file or a long chain of small paths. A
// reference found anywhere queues its path at once (when follow is set), so
// the fixpoint needs no rounds.
type scanner struct {
	st     *store
	cands  *candidates
	follow bool // scan what the roots reference, to a fixpoint

	jobs       int   // workers; 0 means twice GOMAXPROCS
	readSize   int   // bytes per read
	chunkSize  int64 // files larger than this are split into pieces of this size
	batchBytes int64 // small files are queued in batches of about this size

	q      *queue
	mu     sync.Mutex
	paths  map[int32]*node // store paths in the closure, by candidate index
	extras []*node

	files, bytes int64 // what was read, for -v, summed from the workers
}

func newScanner(st *store, c *candidates, follow bool, jobs int) *scanner {
	return &scanner{
		st: st, cands: c, follow: follow, jobs: jobs,
		readSize:   1 << 20,
		chunkSize:  8 << 20,
		batchBytes: 1 << 20,
		q:          newQueue(),
		paths:      map[int32]*node{},
	}
}

// node is one node of the graph being built. Its files are read below the
// open directory base: a store path's is the store directory, an extra
// root's the directory that holds it, given by the user and taken as
// given. Below base nothing is followed (imgkit/storefs.OpenBeneath).
type node struct {
	path    string // logical store path, or an extra root's absolute path
	base    int    // the open directory it is read below
	rel     string // its name in base ("." for an extra root that is /)
	narSize atomic.Uint64
	mu      sync.Mutex
	refs    map[int32]struct{}
	// extra marks an extra root, which is no store path: a fifo, socket
	// or device in it is left out, as nar.HashOmitting leaves it out.
	extra bool
}

// logical names a file of n, rel below n's base, for messages.
func (n *node) logical(rel string) string { return path.Join(n.path, rel[len(n.rel):]) }

type taskKind uint8

const (
	taskTop   taskKind = iota // a node's top entry
	taskDir                   // the entries of a directory
	taskFiles                 // a batch of small files
	taskChunk                 // bytes [off, end) of a file of size bytes
)

type task struct {
	kind           taskKind
	n              *node
	rel            string    // below n.base; taskDir, taskChunk: the directory or file; taskFiles: the files' directory
	files          []fileRef // taskFiles
	off, end, size int64     // taskChunk
}

// fileRef is a regular file of a taskFiles directory, with the size the
// walk saw.
type fileRef struct {
	name string
	size int64
}

// addPath adds the store path with candidate index i to the scan; the
// store directory is open (list opened it).
func (s *scanner) addPath(i int32) {
	s.mu.Lock()
	if _, ok := s.paths[i]; ok {
		s.mu.Unlock()
		return
	}
	name := s.cands.names[i]
	n := &node{path: s.st.path(name), base: s.st.fd, rel: name, refs: map[int32]struct{}{}}
	s.paths[i] = n
	s.mu.Unlock()
	s.q.push(task{kind: taskTop, n: n})
}

// addExtra adds a file or directory outside the store, read where it is:
// its directory is opened as the user gave it, and nothing below it is
// followed. run closes that directory.
func (s *scanner) addExtra(abs string) error {
	dir, rel := filepath.Dir(abs), filepath.Base(abs)
	if abs == "/" {
		rel = "."
	}
	base, err := unix.Open(dir, storefs.SearchOnly|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fileErr("extra root", abs, err)
	}
	n := &node{path: abs, base: base, rel: rel, refs: map[int32]struct{}{}, extra: true}
	s.extras = append(s.extras, n)
	s.q.push(task{kind: taskTop, n: n})
	return nil
}

// run scans until the queue is empty.
func (s *scanner) run(ctx context.Context) error {
	jobs := s.jobs
	if jobs <= 0 {
		jobs = defaultScanJobs()
	}
	workers := make([]*worker, jobs)
	for i := range workers {
		w := &worker{s: s, buf: make([]byte, hashLen-1+s.readSize)}
		w.match = w.lookup
		workers[i] = w
	}
	err := s.q.run(ctx, workers)
	for _, n := range s.extras {
		unix.Close(n.base)
	}
	for _, w := range workers {
		s.files += w.nfiles
		s.bytes += w.nbytes
	}
	return err
}

// graph returns the scanned nodes.
func (s *scanner) graph() graphplan.Graph {
	g := make(graphplan.Graph, 0, len(s.paths)+len(s.extras))
	add := func(n *node) {
		refs := make([]string, 0, len(n.refs))
		for i := range n.refs {
			refs = append(refs, s.st.path(s.cands.names[i]))
		}
		g = append(g, graphplan.PathInfo{Path: n.path, NarSize: n.narSize.Load(), References: refs})
	}
	for _, n := range s.paths {
		add(n)
	}
	for _, n := range s.extras {
		add(n)
	}
	return g.Canonical()
}

// addRefs records references found by one task and, when following,
// queues the paths they name.
func (s *scanner) addRefs(n *node, found []int32) {
	if len(found) == 0 {
		return
	}
	n.mu.Lock()
	for _, i := range found {
		n.refs[i] = struct{}{}
	}
	n.mu.Unlock()
	if s.follow {
		for _, i := range found {
			s.addPath(i)
		}
	}
}

// worker holds what one goroutine reuses from task to task.
type worker struct {
	s          *scanner
	buf        []byte
	match      func([]byte) error // w.lookup, bound once
	found      []int32            // references found by the current task
	seen       []uint64           // found, as a set of candidate indices
	batch      []fileRef          // small files not queued yet, all in batchDir
	batchDir   string
	batchBytes int64

	nfiles, nbytes int64 // what it read
}

func (w *worker) run(t task) error {
	for _, i := range w.found {
		w.seen[i/64] = 0
	}
	w.found = w.found[:0]
	var err error
	switch t.kind {
	case taskTop:
		err = w.top(t.n)
	case taskDir:
		err = w.dir(t.n, t.rel)
	case taskFiles:
		err = w.files(t.n, t.rel, t.files)
	case taskChunk:
		err = w.chunk(t)
	}
	if err != nil {
		return err
	}
	w.flush(t.n)
	w.s.addRefs(t.n, w.found)
	return nil
}

// lookup is search's callback: a base32 window that is a candidate's hash
// part is a reference. A set keeps each once: a search of the references
// found so far made a file naming every path of a large store take time
// as the square of the paths (200,000 hashes in 6.4 MB: 20 s, per 8 MiB
// of file read).
func (w *worker) lookup(window []byte) error {
	i, ok := w.s.cands.byHash[string(window)]
	switch {
	case !ok:
		return nil
	case i < 0:
		return w.s.cands.ambiguous(w.s.st, string(window))
	}
	if w.seen == nil {
		w.seen = make([]uint64, (len(w.s.cands.names)+63)/64)
	}
	if bit := uint64(1) << (i % 64); w.seen[i/64]&bit == 0 {
		w.seen[i/64] |= bit
		w.found = append(w.found, i)
	}
	return nil
}

func (w *worker) top(n *node) error {
	var st unix.Stat_t
	if err := unix.Fstatat(n.base, n.rel, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fileErr("scanning", n.path, err)
	}
	size, err := w.entry(n, n.rel, ".", n.base, n.rel, nar.StatMode(uint32(st.Mode)), st.Size)
	if err != nil {
		return err
	}
	n.narSize.Add(narHeader + size)
	return nil
}

// dir accounts for the entries of a directory: their names are part of the
// NAR, so they are searched too. The directory is opened below the node's
// base without following a symlink; its entry types spare a stat of its
// subdirectories and symlinks, and the rest is looked up relative to it
// (fstatat, readlinkat) rather than by a path walked from the root each
// time.
func (w *worker) dir(n *node, rel string) error {
	fd, err := storefs.OpenBeneath(n.base, rel, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return readErr("scanning", n.logical(rel), err)
	}
	d := os.NewFile(uintptr(fd), rel) // closes fd, and only then
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		return fileErr("scanning", n.logical(rel), err)
	}
	var size uint64
	for _, e := range entries {
		name := e.Name()
		child := join(rel, name)
		if err := search([]byte(name), w.match); err != nil {
			return fmt.Errorf("scanning %s: %w", errdefs.Quote(n.logical(child)), err)
		}
		mode, fileSize := e.Type(), int64(0)
		if mode.IsRegular() || mode&(fs.ModeDir|fs.ModeSymlink) == 0 {
			// Its size and executable bit, or what it really is.
			var st unix.Stat_t
			if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				return fileErr("scanning", n.logical(child), err)
			}
			mode, fileSize = nar.StatMode(uint32(st.Mode)), st.Size // uint16 on some systems
		}
		if n.extra && !nar.Holds(mode) {
			continue // its name, searched above, is all it has
		}
		s, err := w.entry(n, child, rel, fd, name, mode, fileSize)
		if err != nil {
			return err
		}
		size += narEntryName(name) + s
	}
	n.narSize.Add(size)
	return nil
}

// entry returns the NAR size of one entry's node, its children and file
// contents excluded (their tasks add them), and queues that work. The
// entry is rel below the node's base, the entry name of the directory dir
// (below the base too), open as dirfd.
func (w *worker) entry(n *node, rel, dir string, dirfd int, name string, mode fs.FileMode, size int64) (uint64, error) {
	switch {
	case mode.IsDir():
		w.s.q.push(task{kind: taskDir, n: n, rel: rel})
		return narDirectory, nil
	case mode.IsRegular():
		w.addFile(n, dir, name, size)
		return narRegular(size, mode&0o100 != 0), nil
	case mode&fs.ModeSymlink != 0:
		target, err := storefs.Readlinkat(dirfd, name)
		if err != nil {
			return 0, fileErr("scanning", n.logical(rel), err)
		}
		if err := search([]byte(target), w.match); err != nil {
			return 0, fmt.Errorf("scanning %s: %w", errdefs.Quote(n.logical(rel)), err)
		}
		return narSymlink(target), nil
	}
	return 0, fmt.Errorf("scanning %s: %s, which a NAR cannot hold: %w", errdefs.Quote(n.logical(rel)), nar.TypeName(mode), errdefs.ErrInvalidInput)
}

// join names the entry name of the directory dir (filepath.Join without
// its Clean, which the walk's paths do not need).
func join(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// addFile queues a file's contents: big files in pieces, small ones in
// batches of one directory (dir, below the node's base).
func (w *worker) addFile(n *node, dir, name string, size int64) {
	switch {
	case size == 0:
		return
	case size > w.s.chunkSize:
		rel := join(dir, name)
		// Pushed last piece first, so the stack hands them out in order.
		for off := (size - 1) / w.s.chunkSize * w.s.chunkSize; off >= 0; off -= w.s.chunkSize {
			w.s.q.push(task{kind: taskChunk, n: n, rel: rel, off: off, end: min(off+w.s.chunkSize, size), size: size})
		}
		return
	}
	if dir != w.batchDir {
		w.flush(n)
		w.batchDir = dir
	}
	w.batch = append(w.batch, fileRef{name: name, size: size})
	w.batchBytes += size
	if w.batchBytes >= w.s.batchBytes || len(w.batch) >= 256 {
		w.flush(n)
	}
}

func (w *worker) flush(n *node) {
	if len(w.batch) == 0 {
		return
	}
	w.s.q.push(task{kind: taskFiles, n: n, rel: w.batchDir, files: w.batch})
	w.batch, w.batchBytes = nil, 0
}

// changed is the error for a file whose size differs from what the walk
// saw, so its narSize would be wrong.
func changed(logical string, want, got int64) error {
	if got > want {
		return fmt.Errorf("reading %s: it grew past the %d bytes it had: %w", errdefs.Quote(logical), want, errdefs.ErrChanged)
	}
	return fmt.Errorf("reading %s: %d bytes instead of %d: %w", errdefs.Quote(logical), got, want, errdefs.ErrChanged)
}

// fileErr names a file by its logical path: the physical one that the os
// package puts in its errors would be noise under --root.
func fileErr(verb, logical string, err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		err = pe.Err
	}
	return fmt.Errorf("%s %s: %w", verb, errdefs.Quote(logical), err)
}

// readErr is fileErr for opening what the walk saw as a directory or a
// regular file: ELOOP means that it, or a directory above it, is a symlink
// now, which is not followed.
func readErr(verb, logical string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		return fmt.Errorf("%s %s: it or a directory above it became a symlink, which is not followed: %w", verb, errdefs.Quote(logical), errdefs.ErrChanged)
	}
	return fileErr(verb, logical, err)
}

// defaultScanJobs is the scan's workers without --jobs: more than CPUs,
// so that while some wait for the disk (a cold cache), others scan.
func defaultScanJobs() int { return min(cli.MaxJobs, max(4, 2*runtime.GOMAXPROCS(0))) }

// scanJobs is --jobs, or defaultScanJobs, lowered to what the limit on
// open files holds (cli.IO.FitJobs): a worker holds the directory it
// lists and the file it reads.
func (c *command) scanJobs(o *cli.IO) int {
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = defaultScanJobs()
	}
	return o.FitJobs(jobs, 2)
}
