package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/oci"
)

// parallelLayers compresses up to jobs layers at once (--jobs). The stream
// delivers layers one after the other, so a layer can be compressed while
// the next ones are read only if it is first copied into a temporary file
// (unlinked at once). That copy is made only when a compressor is idle:
// otherwise the reading goroutine compresses the layer itself, straight
// from the stream, and is the jobs-th compressor. Blobs are committed in
// layer order; each layer is compressed by the same deterministic writer
// whatever the number of goroutines, so the bytes do not depend on --jobs
// (a test compares them).
type parallelLayers struct {
	l    *ociLayout
	jobs int
	todo []*layerJob // started, not committed yet, in layer order
	err  error       // the first failure
}

type layerJob struct {
	size  int64
	done  chan struct{}
	blob  *pendingBlob
	layer oci.Layer
	err   error
}

// add compresses the next layer here, or spools it for an idle
// compressor, after committing what is ready; at most 2*jobs layers are
// outstanding.
func (p *parallelLayers) add(size int64, r io.Reader) error {
	if err := p.commitReady(); err != nil {
		return err
	}
	for len(p.todo) >= 2*p.jobs {
		if err := p.commitNext(); err != nil {
			return err
		}
	}
	job := &layerJob{size: size, done: make(chan struct{})}
	if p.running() >= p.jobs-1 {
		job.blob, job.err = p.l.store.newBlob()
		if job.err == nil {
			job.layer, job.err = writeLayerBlob(job.blob, io.LimitReader(r, size), size, p.l.kind)
		}
		close(job.done)
		p.todo = append(p.todo, job)
		return job.err
	}
	f, err := cli.UnlinkedTemp("manifest-gen-layer")
	if err != nil {
		return fmt.Errorf("spooling a layer: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n, err := io.Copy(bw, io.LimitReader(r, size))
	if err == nil {
		err = bw.Flush()
	}
	if err == nil && n != size {
		err = fmt.Errorf("%d bytes of the announced %d: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		f.Close()
		return err
	}
	p.todo = append(p.todo, job)
	go p.compress(job, f)
	return nil
}

// running counts the layers being compressed by other goroutines.
func (p *parallelLayers) running() int {
	n := 0
	for _, j := range p.todo {
		select {
		case <-j.done:
		default:
			n++
		}
	}
	return n
}

// commitReady commits the finished layers at the head of the queue.
func (p *parallelLayers) commitReady() error {
	for len(p.todo) > 0 {
		select {
		case <-p.todo[0].done:
		default:
			return p.err
		}
		if err := p.commitNext(); err != nil {
			return err
		}
	}
	return p.err
}

func (p *parallelLayers) compress(job *layerJob, f *os.File) {
	defer close(job.done)
	defer f.Close()
	job.blob, job.err = p.l.store.newBlob()
	if job.err == nil {
		job.layer, job.err = writeLayerBlob(job.blob, io.NewSectionReader(f, 0, job.size), job.size, p.l.kind)
	}
}

// commitNext waits for the oldest outstanding layer and commits its blob.
func (p *parallelLayers) commitNext() error {
	job := p.todo[0]
	p.todo = p.todo[1:]
	<-job.done
	err := job.err
	if err == nil {
		if err = job.blob.commit(job.layer.Blob.Digest, job.layer.Blob.Size); err == nil {
			p.l.blobs = append(p.l.blobs, job.layer.Blob)
			p.l.diffs = append(p.l.diffs, job.layer.DiffID)
		}
	}
	if err != nil && p.err == nil {
		p.err = err
	}
	return err
}

// wait commits every outstanding layer; after a failure it waits for the
// others and drops their blobs.
func (p *parallelLayers) wait() error {
	for len(p.todo) > 0 {
		if p.err != nil {
			job := p.todo[0]
			p.todo = p.todo[1:]
			<-job.done
			if job.err == nil {
				job.blob.discard()
			}
			continue
		}
		p.commitNext()
	}
	return p.err
}

// settle waits for every compressor to stop, committing nothing.
func (p *parallelLayers) settle() {
	for _, job := range p.todo {
		<-job.done
	}
}

// newParallel returns the parallel compressor for jobs > 1, or nil when
// layers are better written one by one (one job, or no compression: then
// there is nothing to share out).
func newParallel(l *ociLayout, jobs int) *parallelLayers {
	if jobs < 2 || l.kind == compress.None {
		return nil
	}
	return &parallelLayers{l: l, jobs: jobs}
}
