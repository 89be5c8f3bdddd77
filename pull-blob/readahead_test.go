package main

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

// ragged returns at most a few odd-sized pieces per Read, then err (with
// the last piece, when together is set).
type ragged struct {
	data     []byte
	err      error
	together bool
	rng      *rand.Rand
}

func (r *ragged) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := min(len(p), len(r.data), 1+r.rng.IntN(100_000))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	if len(r.data) == 0 && r.together {
		return n, r.err
	}
	return n, nil
}

// readahead must give back exactly the source's bytes, then its error,
// whether read with Read or drained with WriteTo (as io.Copy does).
func TestReadaheadPassesBytesThenError(t *testing.T) {
	errBroken := errors.New("broken")
	big := make([]byte, readaheadChunks*readaheadSize*3+12345)
	rand.NewChaCha8([32]byte{1}).Read(big)
	for _, tc := range []struct {
		name     string
		data     []byte
		err      error
		together bool
	}{
		{name: "Empty", err: io.EOF},
		{name: "OneByte", data: []byte{7}, err: io.EOF},
		{name: "MoreThanTheBuffers", data: big, err: io.EOF},
		{name: "EOFWithTheLastBytes", data: big, err: io.EOF, together: true},
		{name: "ErrorAfterBytes", data: big, err: errBroken},
		{name: "ErrorWithTheLastBytes", data: big[:1000], err: errBroken, together: true},
		{name: "ErrorAtOnce", err: errBroken},
	} {
		src := func() io.Reader {
			return &ragged{data: tc.data, err: tc.err, together: tc.together, rng: rand.New(rand.NewPCG(3, 4))}
		}
		t.Run(tc.name+"/Read", func(t *testing.T) {
			ra := newReadahead(src(), nil)
			defer ra.Close()
			got, err := io.ReadAll(iotest.OneByteReader(io.LimitReader(ra, 10)))
			if err != nil && tc.err == io.EOF {
				t.Fatal(err)
			}
			rest, err := io.ReadAll(ra)
			got = append(got, rest...)
			checkResult(t, got, err, tc.data, tc.err)
			if _, again := ra.Read(make([]byte, 1)); again != err && !(err == nil && again == io.EOF) {
				t.Fatalf("read after the end: %v, want %v again", again, err)
			}
		})
		t.Run(tc.name+"/WriteTo", func(t *testing.T) {
			ra := newReadahead(src(), nil)
			defer ra.Close()
			var buf bytes.Buffer
			n, err := io.Copy(&buf, ra)
			if n != int64(buf.Len()) {
				t.Fatalf("io.Copy counted %d bytes, wrote %d", n, buf.Len())
			}
			checkResult(t, buf.Bytes(), err, tc.data, tc.err)
		})
	}
}

// checkResult compares what was read with the source's bytes and end
// (io.ReadAll and io.Copy report io.EOF as nil).
func checkResult(t *testing.T, got []byte, err error, want []byte, wantErr error) {
	t.Helper()
	if wantErr == io.EOF {
		wantErr = nil
	}
	if !errors.Is(err, wantErr) {
		t.Fatalf("error %v, want %v", err, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the source's %d", len(got), len(want))
	}
}

// blockingSource gives a few bytes, then blocks in Read until unblocked.
type blockingSource struct {
	gave    bool
	unblock chan struct{}
	reads   atomic.Int32 // Reads begun after unblocking
}

func (s *blockingSource) Read(p []byte) (int, error) {
	if !s.gave {
		s.gave = true
		return copy(p, "abc"), nil
	}
	<-s.unblock
	s.reads.Add(1)
	return 0, errors.New("request cancelled")
}

// A reader that stops early: Close calls stop to unblock the source's
// Read (the goroutine is blocked there, filling its first chunk), waits
// for the goroutine, and later reads fail.
func TestReadaheadCloseEarlyStopsTheSource(t *testing.T) {
	src := &blockingSource{unblock: make(chan struct{})}
	stopped := 0
	ra := newReadahead(src, func() { stopped++; close(src.unblock) })
	ra.Close()
	if stopped != 1 {
		t.Fatalf("stop called %d times, want once", stopped)
	}
	n := src.reads.Load()
	if _, err := ra.Read(make([]byte, 1)); err == nil {
		t.Fatal("a read after Close succeeded")
	}
	ra.Close()
	if src.reads.Load() != n || stopped != 1 {
		t.Fatal("the source was read, or stop called, after Close returned")
	}
}

// A reader that reached the source's end has nothing to stop: Close must
// not call stop (which cancels the blob request whose verdict is still to
// be read).
func TestReadaheadCloseAtTheEndDoesNotStop(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(io.Reader) error
	}{
		{"ReadPastTheEnd", func(r io.Reader) error { _, err := io.ReadAll(r); return err }},
		{"ReadUpToTheLastByte", func(r io.Reader) error { _, err := io.ReadFull(r, make([]byte, 3)); return err }},
		{"CopiedToTheEnd", func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stopped := false
			ra := newReadahead(iotest.DataErrReader(bytes.NewReader([]byte("abc"))), func() { stopped = true })
			if err := tc.read(ra); err != nil {
				t.Fatal(err)
			}
			ra.Close()
			if stopped {
				t.Fatal("Close called stop after the end was read")
			}
		})
	}
}
