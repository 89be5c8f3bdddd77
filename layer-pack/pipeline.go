package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/layerstream"
	"dockertools.dev/imgkit/pagecache"
)

// The producer (walking, opening, reading files, formatting headers) and
// the consumer (hashing and writing the stream) run on separate goroutines
// and pass a fixed pool of large buffers between them, so both cores work
// and memory stays at bufCount*bufSize whatever the image size.
const (
	bufSize  = 1 << 20
	bufCount = 8
)

type opKind uint8

const (
	opBegin opKind = iota // start a layer member of size bytes
	opData                // bytes of the current layer
	opEnd                 // close the current layer
	opFile                // copy a file of the current layer in the kernel
)

type op struct {
	kind   opKind
	size   int64
	buf    []byte
	info   layerstream.LayerInfo
	check  func(layerstream.LayerInfo) error // run on the completed description
	digest *digest                           // the layer's sha256, computed apart; nil: the sink hashes
	fd     int                               // opFile: the open file, which the consumer closes
	name   string                            // opFile: its member name, for messages
	same   func(fd int) error                // opFile: checks, once copied, that the file is still the one examined
}

// sink is what a pipeline's consumer does with the layers: write them to
// the layer stream (streamSink) or only hash them (hashSink).
type sink interface {
	begin(size int64, d *digest) error
	write(b []byte) error
	end(info layerstream.LayerInfo, d *digest) (layerstream.LayerInfo, error)
}

// errConsumerFailed stops the producer; the consumer's own error is what
// gets reported.
var errConsumerFailed = errors.New("stream writer stopped")

// pipeline is the producer's handle on the consumer goroutine.
type pipeline struct {
	ops    chan op
	free   chan []byte
	failed chan struct{} // closed when the consumer fails
	done   chan struct{} // closed when the consumer has returned
	err    error         // the consumer's error; read after done
	cur    []byte        // the buffer being filled by the producer
	infos  []layerstream.LayerInfo
	// direct: the consumer writes to a file or pipe, which the kernel can
	// copy files into; apart: the current layer is hashed apart from this
	// pass (its bytes need not pass through this process).
	direct, apart bool
	// hashing: this is a hashing pass (hashLayer), which keeps the files'
	// descriptors for the writer's pass (keptFDs).
	hashing bool
}

// startPipeline starts a consumer writing the layers to the layer stream.
// direct says that the stream goes to a file or a pipe.
func startPipeline(sw *layerstream.Writer, direct bool) *pipeline {
	p := newPipeline(&streamSink{sw: sw}, bufCount, bufSize)
	p.direct = direct
	return p
}

func newPipeline(s sink, count, size int) *pipeline {
	p := &pipeline{
		ops:    make(chan op, count+2),
		free:   make(chan []byte, count),
		failed: make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range count {
		p.free <- spareBuf(size)
	}
	go p.consume(s)
	return p
}

// spareBufs are the buffers of hashing passes that ended, for the next
// ones: a pass over each of 100 layers made 4 MiB of buffers and 100 MiB
// of garbage for the collector (hashBufSize; no other pipeline's buffers
// are kept).
var spareBufs = make(chan []byte, maxHashers*hashBufCount)

// spareBuf returns an empty buffer of size bytes, a spare when there is
// one.
func spareBuf(size int) []byte {
	if size == hashBufSize {
		select {
		case b := <-spareBufs:
			return b[:0]
		default:
		}
	}
	return make([]byte, 0, size)
}

// keepBufs keeps p's buffers as spares, once its consumer has returned
// (all are back in p.free then).
func (p *pipeline) keepBufs() {
	for {
		select {
		case b := <-p.free:
			if cap(b) != hashBufSize {
				return
			}
			select {
			case spareBufs <- b:
			default:
				return
			}
		default:
			return
		}
	}
}

func (p *pipeline) consume(s sink) {
	defer close(p.done)
	for o := range p.ops {
		if p.err != nil {
			if o.buf != nil {
				p.free <- o.buf[:0]
			}
			if o.kind == opFile {
				unix.Close(o.fd)
			}
			continue
		}
		if err := p.do(s, o); err != nil {
			p.err = err
			close(p.failed)
		}
	}
}

func (p *pipeline) do(s sink, o op) error {
	var err error
	switch o.kind {
	case opBegin:
		err = s.begin(o.size, o.digest)
	case opData:
		err = s.write(o.buf)
		p.free <- o.buf[:0]
	case opFile:
		err = s.(fileSink).file(o.fd, o.name, o.size, o.same)
	case opEnd:
		var info layerstream.LayerInfo
		if info, err = s.end(o.info, o.digest); err == nil {
			p.infos = append(p.infos, info)
			if o.check != nil {
				return o.check(info)
			}
		}
	}
	return err
}

// streamSink writes the layers to the layer stream, hashing each as it
// passes unless its digest is computed apart.
type streamSink struct {
	sw *layerstream.Writer
	lw *layerstream.LayerWriter
}

func (s *streamSink) begin(size int64, d *digest) (err error) {
	if d != nil {
		s.lw, err = s.sw.BeginLayerHashed(size)
	} else {
		s.lw, err = s.sw.BeginLayer(size)
	}
	return wrapStream(err)
}

func (s *streamSink) write(b []byte) error {
	_, err := s.lw.Write(b)
	return wrapStream(err)
}

func (s *streamSink) end(info layerstream.LayerInfo, d *digest) (layerstream.LayerInfo, error) {
	if d != nil {
		// The digest is computed apart from this pass: wait for it. Its
		// failure (a file that vanished while hashing) stops the stream.
		var err error
		if info.DiffID, err = d.wait(); err != nil {
			return info, err
		}
	}
	info, err := s.lw.Close(info)
	return info, wrapStream(err)
}

// fileSink is a sink that takes files whole: the stream's.
type fileSink interface {
	file(fd int, name string, size int64, same func(fd int) error) error
}

// file copies the open regular file fd, of size bytes, into the layer
// being written, in the kernel (LayerWriter.CopyN), and closes it. A file
// that holds fewer or more bytes than its header says is an error, as
// when copyData reads it; so is one that same, once it is copied, finds
// written to (see copyChecked).
func (s *streamSink) file(fd int, name string, size int64, same func(fd int) error) error {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if testHookKernelCopy != nil {
		testHookKernelCopy(name)
	}
	n, err := s.lw.CopyN(f, size)
	switch {
	case err == io.EOF:
		err = errShrank(name, size-n)
	case err != nil:
		return wrapStream(fmt.Errorf("copying %q: %w", name, err))
	default:
		// Ask for a byte past the end, so that a file that grew shows
		// itself.
		var b [1]byte
		if k, _ := pagecache.ReadAt(fd, b[:], size); k > 0 {
			err = errGrew(name)
		} else {
			err = same(fd)
		}
	}
	if err != nil {
		return fmt.Errorf("layer %d: %w", len(s.sw.Layers()), err)
	}
	return nil
}

// testHookKernelCopy, when set (by tests), runs before the kernel copies
// the file named name: it can change there, after the writer checked it.
var testHookKernelCopy func(name string)

// wrapStream says that err came from writing the layer stream, where
// layerstream has not said so already.
func wrapStream(err error) error {
	var we *layerstream.WriteError
	if err != nil && !errors.As(err, &we) {
		return fmt.Errorf("writing the layer stream: %w", err)
	}
	return err
}

// hashSink hashes one layer: the diff_id of a layer hashed apart from the
// ordered output.
type hashSink struct {
	h    hash.Hash
	size int64
	n    int64
}

func (s *hashSink) begin(size int64, _ *digest) error {
	s.h, s.size, s.n = sha256.New(), size, 0
	return nil
}

func (s *hashSink) write(b []byte) error {
	s.h.Write(b)
	s.n += int64(len(b))
	return nil
}

func (s *hashSink) end(info layerstream.LayerInfo, _ *digest) (layerstream.LayerInfo, error) {
	if s.n != s.size {
		return info, fmt.Errorf("%d bytes hashed, %d announced: %w", s.n, s.size, errdefs.ErrChanged)
	}
	info.DiffID, info.Size = "sha256:"+hex.EncodeToString(s.h.Sum(nil)), s.size
	return info, nil
}

// digest is a layer's diff_id being computed on another goroutine.
type digest struct {
	done chan struct{}
	d    string
	err  error
}

func newDigest() *digest { return &digest{done: make(chan struct{})} }

func (d *digest) set(v string, err error) {
	d.d, d.err = v, err
	close(d.done)
}

func (d *digest) wait() (string, error) {
	<-d.done
	return d.d, d.err
}

func (p *pipeline) send(o op) error {
	select {
	case p.ops <- o:
		return nil
	case <-p.failed:
		return errConsumerFailed
	}
}

// room returns the current buffer with at least n bytes free, handing a
// full one to the consumer first. n is at most the buffers' size.
func (p *pipeline) room(n int) ([]byte, error) {
	if p.cur != nil && cap(p.cur)-len(p.cur) >= n {
		return p.cur, nil
	}
	if err := p.flush(); err != nil {
		return nil, err
	}
	select {
	case p.cur = <-p.free:
		return p.cur, nil
	case <-p.failed:
		return nil, errConsumerFailed
	}
}

// flush hands the current buffer, if it holds anything, to the consumer.
func (p *pipeline) flush() error {
	if len(p.cur) == 0 {
		return nil
	}
	buf := p.cur
	p.cur = nil
	return p.send(op{kind: opData, buf: buf})
}

func (p *pipeline) begin(size int64) error { return p.beginDigest(size, nil) }

// beginDigest starts a layer whose digest d is computed apart (nil: the
// sink hashes the bytes).
func (p *pipeline) beginDigest(size int64, d *digest) error {
	p.apart = d != nil
	return p.send(op{kind: opBegin, size: size, digest: d})
}

// kernelMin is the smallest file the kernel copies: below it, a read into
// the buffers costs less than the calls a kernel copy takes (flushing the
// buffer, the copy, the check for growth).
const kernelMin = 64 << 10

// kernelCopies says whether a file of size bytes of the current layer is
// copied by the consumer in the kernel (sendFile), never entering this
// process: when the stream goes to a file or pipe and the layer's bytes
// are hashed by another pass.
func (p *pipeline) kernelCopies(size int64) bool {
	return p.direct && p.apart && size >= kernelMin
}

// sendFile hands the open file fd, of size bytes, to the consumer, after
// the bytes before it; the consumer closes it, once it has copied it and
// same has found it unchanged.
func (p *pipeline) sendFile(fd int, name string, size int64, same func(fd int) error) error {
	err := p.flush()
	if err == nil {
		err = p.send(op{kind: opFile, fd: fd, name: name, size: size, same: same})
	}
	if err != nil {
		unix.Close(fd)
	}
	return err
}

func (p *pipeline) end(info layerstream.LayerInfo, check func(layerstream.LayerInfo) error) error {
	return p.endDigest(info, check, nil)
}

func (p *pipeline) endDigest(info layerstream.LayerInfo, check func(layerstream.LayerInfo) error, d *digest) error {
	if err := p.flush(); err != nil {
		return err
	}
	return p.send(op{kind: opEnd, info: info, check: check, digest: d})
}

// finish waits for the consumer and returns the first error: the
// consumer's (a write or digest failure) before the producer's, since a
// producer stopped by a failed consumer only reports errConsumerFailed.
func (p *pipeline) finish(produceErr error) error {
	if produceErr == nil {
		produceErr = p.flush()
	}
	if p.cur != nil {
		p.free <- p.cur[:0]
		p.cur = nil
	}
	close(p.ops)
	<-p.done
	p.keepBufs()
	if p.err != nil {
		return p.err
	}
	return produceErr
}
