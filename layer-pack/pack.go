package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/layerstream"
)

// measured is the size of one layer, or why it could not be measured,
// and when it is hashed apart (hashAhead), its digest to come.
type measured struct {
	size   int64
	err    error
	digest *digest
	passes *passes // nil: one pass, the writer's
	layer  int     // the layer's index, for messages
}

// done ends the writer's pass over l: what its measure kept is dropped
// now, or when its hashing pass is done too.
func (m measured) done(l layer) {
	switch t, ok := l.(twoPass); {
	case m.passes != nil:
		m.passes.done()
	case ok:
		t.release()
	}
}

// measureAhead measures the layers in order on its own goroutine, one
// layer ahead of the writer, so that walking the next layer's metadata
// overlaps with reading and hashing the current one. The channel is
// unbuffered: at most two layers' entry caches exist at a time.
func measureAhead(ctx context.Context, wg *sync.WaitGroup, layers []layer) <-chan measured {
	ch := make(chan measured)
	wg.Go(func() {
		defer close(ch)
		for i, l := range layers {
			n, err := l.measure(ctx)
			if testHookMeasured != nil {
				testHookMeasured(i)
			}
			select {
			case ch <- measured{size: n, err: err, layer: i}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	})
	return ch
}

// pack writes the layers as a layer stream to w, hashing several layers
// at once when there are cores for it (see packParallel).
func pack(ctx context.Context, o *cli.IO, layers []layer, w io.Writer) error {
	return packWith(ctx, o, layers, w, min(runtime.GOMAXPROCS(0), maxHashers))
}

// maxHashers bounds the layers hashed at once: each holds an entry cache
// and buffers, and past a few sha256 streams the store's reads are the
// bound.
const maxHashers = 4

// packWith is pack with hashers goroutines hashing layers apart from the
// ordered output; fewer than 2 hashes each layer as it is written.
func packWith(ctx context.Context, o *cli.IO, layers []layer, w io.Writer, hashers int) error {
	ctx, cancel := context.WithCancel(ctx)
	// The measuring and hashing goroutines are done when pack returns;
	// then no descriptor stays kept, even for a layer never finished.
	var wg sync.WaitGroup
	defer closeKept(layers)
	defer wg.Wait()
	defer cancel()
	sw := layerstream.NewWriter(w)
	// A file or pipe (stdout): the kernel can copy files into it.
	_, direct := w.(syscall.Conn)
	p := startPipeline(sw, direct)
	var sizes <-chan measured
	if hashers >= 2 && len(layers) >= 2 {
		sizes = hashAhead(ctx, &wg, layers, hashers)
	} else {
		sizes = measureAhead(ctx, &wg, layers)
	}
	err := func() error {
		for i, l := range layers {
			m, ok := <-sizes
			if !ok {
				return ctx.Err()
			}
			if m.err != nil {
				return fmt.Errorf("layer %d: %w", m.layer, m.err)
			}
			o.Debugf("layer %d: %d bytes", i, m.size)
			if err := p.beginDigest(m.size, m.digest); err != nil {
				return err
			}
			err := l.emit(ctx, p, m.size)
			m.done(l)
			if err != nil {
				return fmt.Errorf("layer %d: %w", i, err)
			}
			info, check := l.describe()
			if err := p.endDigest(info, check, m.digest); err != nil {
				return err
			}
		}
		return nil
	}()
	if err != nil {
		// Stop the measuring and hashing; on success the consumer still
		// waits for the last digests.
		cancel()
	}
	if ferr := p.finish(err); ferr != nil {
		if err != nil && errors.Is(ferr, context.Canceled) && !errors.Is(err, errConsumerFailed) {
			// The cancel above stopped a hashing pass the consumer was
			// waiting on: the writer's error is the cause. (A consumer
			// whose write the signal's cancellation ended stopped the
			// writer: its error is.)
			return err
		}
		return ferr
	}
	for i, info := range p.infos {
		o.Debugf("layer %d: %s", i, info.DiffID)
	}
	if err := sw.Close(); err != nil {
		return wrapStream(err)
	}
	return nil
}

// hashAhead is measureAhead for two passes over each layer: the writer's,
// which streams the layers in order without hashing them, and a hashing
// pass on one of hashers goroutines, which makes the layer's tar again
// from the same entries and files (read again, from the page cache) and
// hashes it. So several layers are hashed at once, each on a core of its
// own, while the output stays one ordered stream: the single sha256
// stream, one core's speed, is no longer the bound. The writer takes a
// layer's digest when it closes the layer, waiting for it if need be.
//
// A file must be the same in both passes: both check it against what the
// measuring walk recorded (inode, size, change time), so a file rewritten
// after the walk is an error rather than a layer whose bytes and digest
// disagree.
//
// Layers that cannot be made twice (the --changes spool), that have no
// bytes (a --reuse reference) or whose entries were too many to record
// (see hashedApart) are hashed, or not, by the writer. Each
// measured layer's files are prefetched (treeLayer.prefetch), so that a
// cold page cache is read with many files in flight. The layer of the
// most store paths is measured and hashed first, on a goroutine of its
// own (firstToHash); the others in order. At most hashers layers are
// measured ahead of the one being written (the first among them), which
// bounds the entry caches in memory.
func hashAhead(ctx context.Context, wg *sync.WaitGroup, layers []layer, hashers int) <-chan measured {
	h := &hasher{ctx: ctx, wg: wg, layers: layers, hashers: hashers,
		first: firstToHash(layers), slots: make(chan struct{}, hashers)}
	ahead := hashers
	if h.first > 0 {
		ahead-- // its entry cache waits in run's held instead, not in ch
	}
	ch := make(chan measured, ahead)
	wg.Go(func() { h.run(ch) })
	return ch
}

// hasher is hashAhead's state.
type hasher struct {
	ctx     context.Context
	wg      *sync.WaitGroup
	layers  []layer
	hashers int
	first   int           // firstToHash
	slots   chan struct{} // one per hashing pass running
}

// run sends the measured layers to ch in order. Layer first, unless it
// comes first anyway, is measured on a goroutine of its own, beside the
// others (its walk is long too), and waits in held for its turn.
func (h *hasher) run(ch chan<- measured) {
	defer close(ch)
	send := func(m measured) bool {
		select {
		case ch <- m:
			return m.err == nil
		case <-h.ctx.Done():
			return false
		}
	}
	held := make(chan measured, 1)
	if h.first > 0 {
		h.wg.Go(func() {
			if m, ok := h.start(h.first); ok {
				held <- m
			}
		})
	}
	for i := range h.layers {
		var m measured
		select {
		case m = <-held:
			if m.err != nil {
				// Reported at once, not after the layers below it.
				send(m)
				return
			}
			held <- m
		default:
		}
		ok := true
		if i == h.first && h.first > 0 {
			select {
			case m = <-held:
			case <-h.ctx.Done():
				return
			}
		} else {
			m, ok = h.start(i)
		}
		if !ok || !send(m) {
			return
		}
	}
}

// start measures layer i and starts its hashing pass, when it has one;
// false when the pack was cancelled.
func (h *hasher) start(i int) (measured, bool) {
	l := h.layers[i]
	if t := treeOf(l); t != nil && t.budget == 0 {
		t.budget = cacheBudget(h.hashers + 2)
	}
	n, err := l.measure(h.ctx)
	if testHookMeasured != nil {
		testHookMeasured(i)
	}
	two := err == nil && hashedApart(l)
	if tl := treeOf(l); tl != nil && err == nil && tl.cache != nil {
		c := tl.cache
		if two {
			// The hashing pass keeps the files' descriptors for the
			// writer's.
			c.fds = newKeptFDs(c.n)
		}
		h.wg.Go(func() { tl.prefetch(h.ctx, c) })
	}
	m := measured{size: n, err: err, layer: i}
	if !two {
		return m, true
	}
	t := l.(twoPass)
	select {
	case h.slots <- struct{}{}:
	case <-h.ctx.Done():
		return m, false
	}
	bufs := hashBufCount
	if i == h.first {
		bufs = int(min(max(n/hashBufSize, hashBufCount), firstHashBufCount))
	}
	m.digest = newDigest()
	m.passes = &passes{l: t}
	m.passes.left.Store(2)
	h.wg.Go(func() {
		m.digest.set(hashLayer(h.ctx, l, n, bufs))
		<-h.slots
		m.passes.done()
	})
	return m, true
}

// hashedApart says whether the measured layer l is hashed by a pass of its
// own: one that can be made twice, with bytes, and whose entries the
// measure recorded. A tree layer with too many entries to record is not:
// each pass would walk it again and check each file against its own walk
// only, so a file rewritten or replaced between the hashing pass and the
// writer's gave a layer whose bytes and digest disagree; the writer
// hashes it as it writes it.
func hashedApart(l layer) bool {
	if t, ok := l.(twoPass); !ok || !t.reemit() {
		return false
	}
	tl := treeOf(l)
	return tl == nil || tl.cache != nil
}

// firstToHash returns the layer whose hashing pass starts first, and has
// the most buffers: the one of the most store paths (-1: none has more
// than one). Its sha256 is the longest single stream, the pack's critical path:
// popularity's split leaves all but the most popular paths to one layer
// (94% of the bench store's bytes), the last store layer, which was
// measured and hashed after all the others. Measuring it first starts
// that stream at once while the other layers are measured, hashed and
// written beside it. Only the order of the work changes: each layer's
// bytes and digest are the same, and the channel to the writer holds one
// layer fewer while it waits, so no more entry caches are alive than
// cacheBudget(hashers+2) allows for.
func firstToHash(layers []layer) int {
	best, most := -1, 1
	for i, l := range layers {
		if t, ok := l.(twoPass); !ok || !t.reemit() || treeOf(l) == nil {
			continue // a reference or a spool: no walk, no hashing pass
		}
		info, _ := l.describe()
		if len(info.Paths) > most {
			best, most = i, len(info.Paths)
		}
	}
	return best
}

// closeKept closes the descriptors the passes over layers kept, once no
// pass runs.
func closeKept(layers []layer) {
	for _, l := range layers {
		if t := treeOf(l); t != nil && t.cache != nil {
			t.cache.fds.closeAll()
		}
	}
}

// treeOf returns the tree layer l is, or wraps, or nil.
func treeOf(l layer) *treeLayer {
	if c, ok := l.(*cachedStoreLayer); ok {
		l = c.layer
	}
	t, _ := l.(*treeLayer)
	return t
}

// testHookMeasured, when set (by tests), runs after layer i is measured
// (on two goroutines at once while the first layer is measured apart): a
// file can vanish there, deterministically, between the measure and the
// passes that read it.
var testHookMeasured func(i int)

// hashBufs are each hashing pass's buffers: reads overlap hashing, in
// little memory. The first layer's pass (firstToHash), the longest, has
// more: its reading goroutine shares a core with the writer's and
// manifest-gen's, and the sha256 goroutine, on the other, waited for it
// whenever it was off its core for more than the 1 MiB it was ahead
// (0.7 ms of hashing). With up to 8 MiB (no more than the layer's size)
// the sha256 keeps its core (it ran in 78% of its core's profile samples
// before, 92% after): `layer-pack | manifest-gen` on the bench store went
// from 2.39 to 2.17 s (medians of 7 interleaved runs, load 1.4-1.6).
const (
	hashBufCount      = 4
	firstHashBufCount = 32
	hashBufSize       = 256 << 10
)

// hashLayer makes the layer's bytes again, in a pass with bufs buffers,
// and returns their sha256.
func hashLayer(ctx context.Context, l layer, size int64, bufs int) (string, error) {
	p := newPipeline(&hashSink{}, bufs, hashBufSize)
	p.hashing = true
	err := p.begin(size)
	if err == nil {
		err = l.emit(ctx, p, size)
	}
	if t := treeOf(l); t != nil && t.cache != nil && t.cache.fds != nil {
		// The writer waits for this pass no more.
		t.cache.fds.hashingOver()
	}
	if err == nil {
		err = p.end(layerstream.LayerInfo{}, nil)
	}
	if err = p.finish(err); err != nil {
		return "", err
	}
	return p.infos[0].DiffID, nil
}

// twoPass is a layer that can be made twice from one measure: reemit says
// whether it has bytes to make, release frees what measure kept once both
// passes are done.
type twoPass interface {
	reemit() bool
	release()
}

// passes counts the passes over a layer still running.
type passes struct {
	left atomic.Int32
	l    twoPass
}

func (p *passes) done() {
	if p.left.Add(-1) == 0 {
		p.l.release()
	}
}
