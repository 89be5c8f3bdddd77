package archive

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
)

// members writes the members of a tar the tools make (a docker-archive,
// an OCI layout in a tar) with fixed headers (see Writer). Small files go
// through a tar.Writer. Large members (layers, blobs) bypass it: their
// header is encoded apart and their bytes are copied straight to the
// underlying writer, so that io.Copy can hand the copy to the kernel when
// both ends are files (copy_file_range, a reflink where the filesystem
// has them) or one is a pipe (splice). archive/tar's Writer hides the
// ReaderFrom that would allow it: every byte would pass through user
// space.
type members struct {
	out io.Writer
	tw  *tar.Writer
}

func newMembers(w io.Writer) members { return members{out: w, tw: tar.NewWriter(w)} }

// header writes a member's fixed header through the tar.Writer. No
// Format: USTAR, or PAX for a member of 8 GiB or more.
func (m members) header(name string, typ byte, mode, size int64) error {
	return m.tw.WriteHeader(fixedHeader(name, typ, mode, size))
}

func fixedHeader(name string, typ byte, mode, size int64) *tar.Header {
	return &tar.Header{Typeflag: typ, Name: name, Size: size, Mode: mode, ModTime: MemberTime}
}

// file writes a regular member holding data.
func (m members) file(name string, data []byte) error {
	if err := m.header(name, tar.TypeReg, 0o644, int64(len(data))); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := m.tw.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// flusher is a buffered writer (bufio.Writer): the header must leave its
// buffer before the member's bytes go past it.
type flusher interface{ Flush() error }

// copy writes a regular member of exactly size bytes of r. The tar.Writer
// is flushed first (the previous member's padding), the header is encoded
// on its own and written, then the bytes and the padding to the next
// block. A reader that ends sooner is an error wrapping
// io.ErrUnexpectedEOF.
func (m members) copy(name string, size int64, r io.Reader) error {
	if err := m.tw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	var hdr bytes.Buffer
	// WriteHeader encodes the header blocks (a PAX record, then USTAR) and
	// writes them at once; the writer is dropped before any content.
	if err := tar.NewWriter(&hdr).WriteHeader(fixedHeader(name, tar.TypeReg, 0o644, size)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if _, err := m.out.Write(hdr.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if f, ok := m.out.(flusher); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	n, err := io.CopyN(m.out, r, size)
	if err == io.EOF {
		err = fmt.Errorf("%d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return err
	}
	if pad := -size & (blockSize - 1); pad > 0 {
		if _, err := m.out.Write(make([]byte, pad)); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// blockSize is the tar block: members start on its multiples.
const blockSize = 512
