package main

import (
	"errors"
	"fmt"

	"dockertools.dev/imgkit/layerstream"
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
)

type op struct {
	kind  opKind
	size  int64
	buf   []byte
	info  layerstream.LayerInfo
	check func(layerstream.LayerInfo) error // run on the completed description
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
}

func startPipeline(sw *layerstream.Writer) *pipeline {
	p := &pipeline{
		ops:    make(chan op, bufCount+2),
		free:   make(chan []byte, bufCount),
		failed: make(chan struct{}),
		done:   make(chan struct{}),
	}
	for range bufCount {
		p.free <- make([]byte, 0, bufSize)
	}
	go p.consume(sw)
	return p
}

func (p *pipeline) consume(sw *layerstream.Writer) {
	defer close(p.done)
	var lw *layerstream.LayerWriter
	for o := range p.ops {
		if p.err != nil {
			if o.buf != nil {
				p.free <- o.buf[:0]
			}
			continue
		}
		if err := p.do(sw, &lw, o); err != nil {
			p.err = err
			close(p.failed)
		}
	}
}

func (p *pipeline) do(sw *layerstream.Writer, lw **layerstream.LayerWriter, o op) error {
	var err error
	switch o.kind {
	case opBegin:
		*lw, err = sw.BeginLayer(o.size)
	case opData:
		_, err = (*lw).Write(o.buf)
		p.free <- o.buf[:0]
	case opEnd:
		var info layerstream.LayerInfo
		if info, err = (*lw).Close(o.info); err == nil {
			p.infos = append(p.infos, info)
			if o.check != nil {
				return o.check(info)
			}
		}
	}
	if err != nil {
		return fmt.Errorf("writing the layer stream: %w", err)
	}
	return nil
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
// full one to the consumer first. n is at most bufSize.
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

func (p *pipeline) begin(size int64) error {
	return p.send(op{kind: opBegin, size: size})
}

func (p *pipeline) end(info layerstream.LayerInfo, check func(layerstream.LayerInfo) error) error {
	if err := p.flush(); err != nil {
		return err
	}
	return p.send(op{kind: opEnd, info: info, check: check})
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
	if p.err != nil {
		return p.err
	}
	return produceErr
}
