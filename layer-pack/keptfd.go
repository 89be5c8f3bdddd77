package main

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/storefs"
)

// A layer hashed apart from the ordered output (hashAhead) is made twice,
// and each pass opened every file: a path lookup and a file open and
// close in the kernel, with the sha256 of the bytes the largest cost of a
// pack from the page cache. So the hashing pass keeps the descriptor of
// each file it hashed, in the layer's keptFDs, and the writer's pass
// takes it rather than opening the file again. The writer still checks
// the file against what the measure saw (checkFile). The hashing pass
// reads at offsets (pread), so the writer's kernel copy, which reads from
// the file's offset, starts at 0.
//
// The writer's pass does not overtake the hashing pass on a layer: at a
// file the hashing pass has not reached, it waits until that pass is
// writerLag entries further (so that it is woken once per writerLag files,
// not for each). That costs no time: the writer waits for the layer's
// digest at its end anyway.
//
// At most keptMax descriptors are kept at a time in the process (the
// hashing passes of the layers ahead of the writer keep theirs); past
// that, the hashing pass closes what it opened and the writer opens the
// file again. With 512 the writer opened again 20,000 of the bench
// store's 50,000 files: 73,000 opens of files in `layer-pack |
// manifest-gen` against 52,600 with 8192, which took 2.25 s against 2.15
// s (means of 8 interleaved runs; CPU time 3.75 against 3.68 s).
const (
	maxKeptFDs = 8192
	writerLag  = 64
)

// keptMax is maxKeptFDs, or a quarter of the process's limit on open
// descriptors when that is less (package os raises the soft limit to the
// hard one before this runs), so that kept descriptors never make another
// open fail.
var keptMax = keptLimit()

func keptLimit() int32 {
	limit, ok := storefs.OpenFileLimit()
	if !ok {
		return 0
	}
	return int32(min(limit/4, maxKeptFDs))
}

// kept counts the descriptors kept in every layer's keptFDs.
var kept atomic.Int32

// keptFDs are the descriptors the hashing pass over a layer kept for the
// writer's, one slot (8 bytes) per entry of its entryCache.
type keptFDs struct {
	slots []fdSlot
	over  atomic.Bool  // the hashing pass has ended, done or not
	until atomic.Int64 // the writer waits until the hashing pass is done with entry until-1; 0: it does not wait
	mu    sync.Mutex
	moved *sync.Cond // the hashing pass reached until, or ended
}

// fdSlot is one entry's kept descriptor.
type fdSlot struct {
	fd      atomic.Int32 // the descriptor plus one; 0: none kept
	hashed  atomic.Bool  // the hashing pass is done with the file
	adopted atomic.Bool  // what it hashed was a copy that replaced the file (see adopt)
}

func newKeptFDs(entries int) *keptFDs {
	k := &keptFDs{slots: make([]fdSlot, entries)}
	k.moved = sync.NewCond(&k.mu)
	return k
}

// hashed ends the hashing pass's use of fd, the file of entry i: it is
// kept for the writer's pass, or closed when the process keeps enough
// already (fd -1: the file could not be hashed).
func (k *keptFDs) hashed(i int, fd int) {
	s := &k.slots[i]
	if fd >= 0 {
		if kept.Add(1) <= keptMax {
			s.fd.Store(int32(fd) + 1)
		} else {
			kept.Add(-1)
			unix.Close(fd)
		}
	}
	s.hashed.Store(true)
	if u := k.until.Load(); u > 0 && int64(i) >= u-1 {
		k.wake()
	}
}

// hashingOver says that the hashing pass ended, so that the writer waits
// no more.
func (k *keptFDs) hashingOver() {
	k.over.Store(true)
	k.wake()
}

func (k *keptFDs) wake() {
	k.mu.Lock()
	k.moved.Broadcast()
	k.mu.Unlock()
}

// adopted records that the hashing pass read, for entry i, a copy that
// replaced the file examined (see adopt), before it calls hashed.
func (k *keptFDs) adopted(i int) { k.slots[i].adopted.Store(true) }

// take returns the descriptor the hashing pass kept for entry i, which
// the caller then owns, after waiting for that pass to be done with the
// file; -1 when it kept none. adopted says that what the hashing pass read
// was a copy that replaced the file examined.
func (k *keptFDs) take(i int) (fd int, adopted bool) {
	s := &k.slots[i]
	if !s.hashed.Load() && !k.over.Load() {
		k.mu.Lock()
		k.until.Store(int64(min(i+writerLag, len(k.slots))))
		for !s.hashed.Load() && !k.over.Load() {
			k.moved.Wait()
		}
		k.until.Store(0)
		k.mu.Unlock()
	}
	v := s.fd.Swap(0)
	if v == 0 {
		return -1, s.adopted.Load()
	}
	kept.Add(-1)
	return int(v - 1), s.adopted.Load()
}

// closeAll closes the descriptors still kept, once no pass will take one
// (the writer's pass stopped, or never came).
func (k *keptFDs) closeAll() {
	if k == nil {
		return
	}
	for i := range k.slots {
		if v := k.slots[i].fd.Swap(0); v != 0 {
			kept.Add(-1)
			unix.Close(int(v - 1))
		}
	}
}
