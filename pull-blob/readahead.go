package main

import (
	"io"
	"sync"
)

// readahead reads its source in a goroutine of its own, a few chunks ahead
// of its reader, so that two stages of a pipeline (receiving and hashing a
// blob; inflating it; hashing and spooling the result) run on different
// cores instead of taking turns on one. Bytes and the source's error come
// out in the order the source gave them: the error (io.EOF included) after
// the last byte read before it.
//
// Close must be called, from the reading goroutine; it waits for the
// goroutine to end, so the source is no longer read once Close returns.
// When the reader stopped before the source's end, Close first calls stop
// (unless nil), which should make a source's blocked Read return (by
// cancelling the request it reads).
type readahead struct {
	full chan chunk  // filled chunks, in order
	free chan []byte // buffers to fill
	done chan struct{}
	stop func()
	wg   sync.WaitGroup

	cur    chunk // being read from
	curBuf []byte
	err    error // sticky, once the source's error is reached
	closed sync.Once
}

type chunk struct {
	b   []byte
	err error
}

// Chunks of readaheadSize bytes, readaheadChunks of them: enough to smooth
// out a stage's bursts (a gzip stream's blocks, a registry's writes)
// without holding much memory. Measured on the 1 GiB bench image: chunks of
// 1 MiB took as long as these and raised pull-blob's peak RSS from 33 to
// 57 MiB.
const (
	readaheadSize   = 256 << 10
	readaheadChunks = 4
)

func newReadahead(src io.Reader, stop func()) *readahead {
	ra := &readahead{
		stop: stop,
		full: make(chan chunk, readaheadChunks),
		free: make(chan []byte, readaheadChunks),
		done: make(chan struct{}),
	}
	ra.wg.Add(1)
	go ra.fill(src)
	return ra
}

// fill reads src into free buffers until src fails or ends, or Close.
func (ra *readahead) fill(src io.Reader) {
	defer ra.wg.Done()
	made := 0
	for {
		// A buffer is made only when none is free: a small layer uses one.
		var buf []byte
		select {
		case buf = <-ra.free:
		default:
			if made < readaheadChunks {
				buf = make([]byte, readaheadSize)
				made++
				break
			}
			select {
			case buf = <-ra.free:
			case <-ra.done:
				return
			}
		}
		// Fill the buffer: sources (a socket, a decompressor) return a
		// few KiB per Read, and a chunk per Read would cost more in
		// hand-offs than it saves.
		n, err := 0, error(nil)
		for n < len(buf) && err == nil {
			var m int
			m, err = src.Read(buf[n:])
			n += m
		}
		select {
		case ra.full <- chunk{buf[:n], err}:
		case <-ra.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// next makes the next chunk current, recycling the last one's buffer. It
// returns false once the source's error has been reached.
func (ra *readahead) next() bool {
	if ra.err != nil {
		return false
	}
	if ra.curBuf != nil {
		ra.free <- ra.curBuf[:cap(ra.curBuf)]
		ra.curBuf = nil
	}
	c := <-ra.full
	ra.cur, ra.curBuf = c, c.b
	return true
}

func (ra *readahead) Read(p []byte) (int, error) {
	for len(ra.cur.b) == 0 {
		if ra.cur.err != nil {
			ra.err = ra.cur.err
		}
		if !ra.next() {
			return 0, ra.err
		}
	}
	n := copy(p, ra.cur.b)
	ra.cur.b = ra.cur.b[n:]
	return n, nil
}

// WriteTo writes the chunks to w as they come, without copying them, up to
// the source's end (io.EOF is nil here, as io.Copy expects).
func (ra *readahead) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(ra.cur.b) > 0 {
			n, err := w.Write(ra.cur.b)
			total += int64(n)
			ra.cur.b = ra.cur.b[n:]
			if err != nil {
				return total, err
			}
			continue
		}
		if ra.cur.err != nil {
			ra.err = ra.cur.err
		}
		if !ra.next() {
			if ra.err == io.EOF {
				return total, nil
			}
			return total, ra.err
		}
	}
}

// Close stops the goroutine and waits for it. Reads after Close fail.
func (ra *readahead) Close() error {
	ra.closed.Do(func() {
		close(ra.done)
		if ra.stop != nil && ra.err == nil && ra.cur.err == nil {
			ra.stop()
		}
		ra.wg.Wait()
		if ra.err == nil {
			ra.err = io.ErrClosedPipe
		}
		ra.cur = chunk{}
	})
	return nil
}
