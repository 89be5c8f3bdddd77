package tarw

import (
	"errors"
	"fmt"
	"io"
)

// Writer writes a tar archive in one Format to an io.Writer. Call
// WriteHeader, then Write exactly Size bytes for a regular file, and Close
// at the end. Close does not close the underlying writer.
type Writer struct {
	w      io.Writer
	f      Format
	buf    []byte
	off    int64 // bytes written to w
	remain int64 // data bytes the current entry still expects
	pad    int64 // NUL bytes that follow the current entry's data
	err    error
}

// NewWriter returns a Writer that writes f's bytes to w.
func NewWriter(w io.Writer, f Format) *Writer { return &Writer{w: w, f: f} }

// ErrEntrySize is returned when an entry gets more or fewer data bytes than
// its header announced.
var ErrEntrySize = errors.New("entry data does not match its size")

// WriteHeader finishes the previous entry and writes h's header.
func (tw *Writer) WriteHeader(h *Header) error {
	if err := tw.finishEntry(); err != nil {
		return err
	}
	buf, err := tw.f.AppendHeader(tw.buf[:0], h)
	if err != nil {
		return err
	}
	tw.buf = buf
	if err := tw.emit(buf); err != nil {
		return err
	}
	tw.remain, tw.pad = h.Size, DataLen(h.Size)-h.Size
	return nil
}

// Write writes data of the current entry.
func (tw *Writer) Write(p []byte) (int, error) {
	if tw.err != nil {
		return 0, tw.err
	}
	if int64(len(p)) > tw.remain {
		return 0, fmt.Errorf("tarw: %d bytes written past the entry's size: %w", int64(len(p))-tw.remain, ErrEntrySize)
	}
	n, err := tw.w.Write(p)
	tw.off += int64(n)
	tw.remain -= int64(n)
	if err != nil {
		tw.err = err
	}
	return n, err
}

// Offset is the number of bytes written so far.
func (tw *Writer) Offset() int64 { return tw.off }

// Close finishes the last entry and writes the end of the archive.
func (tw *Writer) Close() error {
	if err := tw.finishEntry(); err != nil {
		return err
	}
	return tw.emit(AppendEnd(tw.buf[:0], tw.off))
}

func (tw *Writer) finishEntry() error {
	if tw.err != nil {
		return tw.err
	}
	if tw.remain != 0 {
		tw.err = fmt.Errorf("tarw: entry ended %d bytes short: %w", tw.remain, ErrEntrySize)
		return tw.err
	}
	err := tw.emit(appendZeros(tw.buf[:0], int(tw.pad)))
	tw.pad = 0
	return err
}

func (tw *Writer) emit(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	n, err := tw.w.Write(b)
	tw.off += int64(n)
	if err != nil {
		tw.err = err
	}
	return err
}
