// Package tarmember writes tars whose large regular members bypass
// archive/tar's Writer: a member's header is encoded apart and its bytes
// go straight to the underlying writer, so that kcopy.CopyN can have the
// kernel copy them (copy_file_range, splice). archive/tar's Writer hides
// the file it writes to, and every byte would pass through user space.
// Small members (a config, a manifest) still go through the tar.Writer;
// the bytes are the tar.Writer's either way.
package tarmember

import (
	"archive/tar"
	"bytes"
	"io"
)

// BlockSize is the tar block: members start on its multiples.
const BlockSize = 512

// Writer writes the members of one tar to an io.Writer.
type Writer struct {
	out io.Writer
	// Tar writes the small members, and ends the tar (Close).
	Tar *tar.Writer
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer { return &Writer{out: w, Tar: tar.NewWriter(w)} }

// flusher is a buffered writer (bufio.Writer): the header must leave its
// buffer before bytes the kernel copies go past it.
type flusher interface{ Flush() error }

// Begin writes hdr, a regular member's header: the tar.Writer's previous
// member's padding, then the header blocks (a PAX record when the header
// needs one, then USTAR) encoded apart. Exactly hdr.Size bytes must follow,
// written to Out (or copied there with kcopy.CopyN), then End.
func (w *Writer) Begin(hdr *tar.Header) error {
	if err := w.Tar.Flush(); err != nil {
		return err
	}
	var b bytes.Buffer
	// WriteHeader encodes the header blocks and writes them at once; the
	// writer is dropped before any content.
	if err := tar.NewWriter(&b).WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := w.out.Write(b.Bytes()); err != nil {
		return err
	}
	if f, ok := w.out.(flusher); ok {
		return f.Flush()
	}
	return nil
}

// Out is where a member's bytes go between Begin and End.
func (w *Writer) Out() io.Writer { return w.out }

// End writes the padding after a member of size bytes.
func (w *Writer) End(size int64) error {
	if pad := -size & (BlockSize - 1); pad > 0 {
		var zeros [BlockSize]byte
		if _, err := w.out.Write(zeros[:pad]); err != nil {
			return err
		}
	}
	return nil
}
