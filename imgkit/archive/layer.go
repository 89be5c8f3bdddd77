package archive

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"

	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
)

// Layer is one layer of an image.
type Layer struct {
	// DiffID is the config's "sha256:<hex>" of the uncompressed layer tar.
	DiffID string
	// Member is the archive member holding the layer, as the manifest
	// names it ("<id>/layer.tar", "blobs/sha256/<hex>", …).
	Member string

	a          *Archive
	m          *member
	blobDigest string // digest of the stored bytes, when the archive gives one
	mediaType  string

	mu    sync.Mutex
	usize int64 // cached UncompressedSize, -1 until known
	known bool
}

// Stored returns the layer's bytes as stored in the archive: possibly
// compressed, and not verified. Use Open for verified uncompressed bytes.
func (l *Layer) Stored() *io.SectionReader { return l.a.section(l.m) }

// BlobDigest is the digest of the stored bytes when the archive names it
// (an OCI blob, or docker save's blobs/sha256/<hex>), else "": known
// without reading the layer, and checked by Open's reader at EOF.
func (l *Layer) BlobDigest() string { return l.blobDigest }

// Compression names how the layer is stored, from its first bytes.
func (l *Layer) Compression() (compress.Kind, error) {
	var magic [6]byte
	n, err := l.Stored().ReadAt(magic[:], 0)
	if err != nil && err != io.EOF {
		return compress.None, fmt.Errorf("reading %s: %w", errdefs.Quote(l.Member), err)
	}
	return compress.Detect(magic[:n]), nil
}

// Open returns the uncompressed layer tar. Its Read returns an error
// wrapping errdefs.ErrDigestMismatch instead of io.EOF when the bytes do
// not hash to DiffID (or the stored bytes to the blob's digest). Callers
// that stop at the tar's end-of-archive marker must still read to EOF for
// the check to happen.
func (l *Layer) Open() (io.ReadCloser, error) {
	kind, err := l.Compression()
	if err != nil {
		return nil, err
	}
	v := &verifier{l: l, diff: sha256.New()}
	var stored io.Reader = l.Stored()
	if kind != compress.None && l.blobDigest != "" {
		v.blob = sha256.New()
		stored = io.TeeReader(stored, v.blob)
	}
	v.stored = bufio.NewReaderSize(stored, 1<<16)
	v.dec, err = compress.Decompress(v.stored, kind)
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", errdefs.Quote(l.Member), err)
	}
	v.out = v.dec
	if kind != compress.None {
		v.out = compress.Bounded(v.dec, l.a.opts.Expanded)
	}
	return v, nil
}

// UncompressedSize returns the length of the uncompressed layer tar: the
// member's size when it is stored uncompressed, else counted (and
// verified) by decompressing it once; the result is cached.
func (l *Layer) UncompressedSize() (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.known {
		return l.usize, nil
	}
	kind, err := l.Compression()
	if err != nil {
		return 0, err
	}
	if kind == compress.None {
		l.usize, l.known = l.m.size, true
		return l.usize, nil
	}
	r, err := l.Open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return 0, err
	}
	l.usize, l.known = n, true
	return n, nil
}

// CopyUncompressed gives add the uncompressed layer tar and its size, to
// copy exactly that many bytes (as Writer.AddLayer does), then reads on to
// the end, where the digests are checked: add has copied the layer its
// DiffID names, or CopyUncompressed fails (a layer longer than it was
// measured is errdefs.ErrChanged).
func (l *Layer) CopyUncompressed(add func(size int64, r io.Reader) error) error {
	size, err := l.UncompressedSize()
	if err != nil {
		return err
	}
	r, err := l.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := add(size, r); err != nil {
		return err
	}
	if n, err := io.Copy(io.Discard, r); err != nil || n != 0 {
		if err == nil {
			err = fmt.Errorf("longer than its %d bytes: %w", size, errdefs.ErrChanged)
		}
		return err
	}
	return nil
}

// verifier hashes a layer as it is read and checks the digests at EOF.
type verifier struct {
	l      *Layer
	stored *bufio.Reader
	dec    io.ReadCloser
	out    io.Reader // dec, within the archive's bound when compressed
	diff   hash.Hash
	blob   hash.Hash // of the stored bytes; nil when stored uncompressed
	err    error     // sticky result once EOF is reached
}

func (v *verifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.out.Read(p)
	v.diff.Write(p[:n])
	switch {
	case err == io.EOF:
		v.err = v.finish()
		return n, v.err
	case err != nil:
		v.err = decompressError("decompressing "+errdefs.Quote(v.l.Member), err)
		return n, v.err
	}
	return n, nil
}

// finish compares the digests; it returns io.EOF when they match.
func (v *verifier) finish() error {
	got := "sha256:" + hex.EncodeToString(v.diff.Sum(nil))
	if got != v.l.DiffID {
		return mismatch("content of %s hashes to %s, not the diff_id %s", errdefs.Quote(v.l.Member), got, v.l.DiffID)
	}
	want := v.l.blobDigest
	if v.blob != nil {
		// Bytes after the compressed stream belong to the blob too.
		if _, err := io.Copy(io.Discard, v.stored); err != nil {
			return fmt.Errorf("reading %s: %w", errdefs.Quote(v.l.Member), err)
		}
		got = "sha256:" + hex.EncodeToString(v.blob.Sum(nil))
	}
	if want != "" && got != want {
		return mismatch("stored bytes of %s hash to %s, not %s", errdefs.Quote(v.l.Member), got, want)
	}
	return io.EOF
}

func (v *verifier) Close() error { return v.dec.Close() }
