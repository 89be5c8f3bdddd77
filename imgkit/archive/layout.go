package archive

import (
	"archive/tar"
	"bufio"
	"fmt"
	"io"
	"os"

	"dockertools.dev/imgkit/cli"
)

// LayoutWriter writes an OCI image layout as a tar stream, the one writer
// of OCI layout tars (manifest-gen --format oci, tar-merge --index): the
// files the caller gives (oci-layout, index.json, a Docker manifest.json)
// and blobs/sha256/<hex>, each blob once. Open reads what it writes.
//
// Headers are fixed, as Writer's are: mode 0644 for files and 0755 for the
// directories blobs/ and blobs/sha256/ (written before the first blob),
// owner 0:0 without names, mtime MemberTime. The bytes depend on the
// content and the order of the calls alone.
type LayoutWriter struct {
	members
	stored  map[string]bool
	started bool
}

// NewLayoutWriter returns a LayoutWriter writing to w.
func NewLayoutWriter(w io.Writer) *LayoutWriter {
	return &LayoutWriter{members: newMembers(w), stored: map[string]bool{}}
}

// File writes a file of the layout that is not a blob.
func (w *LayoutWriter) File(name string, data []byte) error { return w.file(name, data) }

// Has reports whether the blob digest is written already.
func (w *LayoutWriter) Has(digest string) bool { return w.stored[digest] }

// Blob writes the blob digest ("sha256:<hex>"), exactly size bytes of r,
// as blobs/sha256/<hex>; a digest written before is not written again
// (and r not read). It trusts the digest: the caller has the bytes' hash,
// or checks it as r is read (an error from r fails the write).
func (w *LayoutWriter) Blob(digest string, size int64, r io.Reader) error {
	if !validDigest(digest) {
		return invalid("blob digest %q is not a sha256 digest", digest)
	}
	if !w.started {
		w.started = true
		for _, d := range []string{"blobs/", "blobs/sha256/"} {
			if err := w.header(d, tar.TypeDir, 0o755, 0); err != nil {
				return fmt.Errorf("writing %s: %w", d, err)
			}
		}
	}
	if w.stored[digest] {
		return nil
	}
	if err := w.copy(blobPath(digest), size, r); err != nil {
		return err // copy names the member
	}
	w.stored[digest] = true
	return nil
}

// Close ends the tar. It does not close the underlying writer.
func (w *LayoutWriter) Close() error {
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("writing the archive: %w", err)
	}
	return nil
}

// Spool holds a blob whose digest, and so its member name, is known only
// after its bytes (a layer being compressed): an unlinked temporary file
// in $TMPDIR, freed by Commit or Discard, or when the process ends.
type Spool struct {
	// W buffers writes to the file.
	W *bufio.Writer
	f *os.File
}

// NewSpool starts a spooled blob; prefix names the temporary file (its
// name is gone as soon as it is made).
func NewSpool(prefix string) (*Spool, error) {
	f, err := cli.UnlinkedTemp(prefix)
	if err != nil {
		return nil, fmt.Errorf("spooling a blob: %w", err)
	}
	return &Spool{W: bufio.NewWriterSize(f, 1<<20), f: f}, nil
}

// Commit writes the spooled bytes, size of them, into w as the blob
// digest, and frees the spool.
func (s *Spool) Commit(w *LayoutWriter, digest string, size int64) error {
	defer s.f.Close()
	if err := s.W.Flush(); err != nil {
		return fmt.Errorf("spooling a blob: %w", err)
	}
	return w.Blob(digest, size, io.NewSectionReader(s.f, 0, size))
}

// Discard frees the spool.
func (s *Spool) Discard() { s.f.Close() }
