package archive

import (
	"archive/tar"
	"fmt"
	"io"

	"dockertools.dev/imgkit/kcopy"
	"dockertools.dev/imgkit/tarmember"
)

// members writes the members of a tar the tools make (a docker-archive,
// an OCI layout in a tar) with fixed headers (see Writer). Small files go
// through a tar.Writer; large members (layers, blobs) bypass it
// (tarmember), so that the kernel copies their bytes when both ends are
// files or pipes.
type members struct {
	tm *tarmember.Writer
	tw *tar.Writer
}

func newMembers(w io.Writer) members {
	tm := tarmember.NewWriter(w)
	return members{tm: tm, tw: tm.Tar}
}

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

// copy writes a regular member of exactly size bytes of r, copied by the
// kernel when both ends allow it (kcopy.CopyN). A reader that ends sooner
// is an error wrapping io.ErrUnexpectedEOF. Every error names the member,
// once: callers do not name it again.
func (m members) copy(name string, size int64, r io.Reader) error {
	if err := m.tm.Begin(fixedHeader(name, tar.TypeReg, 0o644, size)); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	n, err := kcopy.CopyN(m.tm.Out(), r, size)
	if err == io.EOF {
		err = fmt.Errorf("%d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := m.tm.End(size); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
