package archive

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"

	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"dockertools.dev/imgkit/cli"
	"dockertools.dev/imgkit/compress"
	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/sniff"
	"dockertools.dev/imgkit/tarsafe"
)

// Archive is an opened image archive. Close releases it.
type Archive struct {
	// Images in manifest order.
	Images []*Image
	// Repositories is the legacy `repositories` file of a docker-archive
	// ({"repo": {"tag": "v1 layer id"}}), nil when the archive has none or
	// it holds JSON null.
	Repositories map[string]map[string]string
	// Format is "docker" (manifest.json) or "oci" (index.json only).
	Format string
	// MultiPlatform is set when index.json names one image index and
	// nothing else but artifacts (which are no images: an SBOM that oras
	// cp -r copies beside it): one image for several platforms, as
	// tar-merge --index and skopeo copy --all write it. Images are the
	// index's.
	MultiPlatform bool

	name     string // for messages
	opts     Options
	f        *os.File
	borrowed bool // f is the caller's stdin: not closed
	size     int64
	stat     os.FileInfo // of an input read in place; nil for a temporary file
	members  map[string]*member

	// What was read, against the bounds of index.go.
	jsonRead  int64
	layerRefs int
}

// Image is one image of an archive.
type Image struct {
	// RepoTags as the archive gives them: manifest.json's RepoTags, or for
	// OCI the io.containerd.image.name annotation, else
	// org.opencontainers.image.ref.name verbatim.
	RepoTags []string
	// ConfigBytes are the config's bytes, verified against ConfigDigest
	// when the archive names the config by its digest.
	ConfigBytes []byte
	// ConfigDigest is "sha256:<hex>" of ConfigBytes.
	ConfigDigest string
	// Layers, bottom first.
	Layers []*Layer
	// Index is, for an image of a multi-platform image in an OCI layout,
	// the digest of the image index that index.json names for it (the
	// images of one multi-platform image share it), and so for the images
	// of a multi-platform image in a docker save (manifest.json's and
	// those index.json adds); "" for an image that index.json or
	// manifest.json lists itself.
	Index string
	// Platform is, for an image an index lists, the platform the index's
	// entry gives it (the one docker, containerd and skopeo choose it by,
	// which a config may not name in full: docker manifest annotate
	// --variant sets the entry's alone); nil when the entry gives none.
	Platform *v1.Platform
}

// Options adjust OpenWith.
type Options struct {
	// Expanded bounds decompression: the temporary copy of a compressed
	// archive, and each compressed layer as Layer.Open and
	// UncompressedSize read it, may not pass Max bytes (errors wrap
	// errdefs.ErrTooLarge). Max 0 means tarsafe.DefaultMaxExpanded
	// (64 GiB): a few kilobytes of zstd expand to terabytes, which a
	// reader without a bound of its own would spool to $TMPDIR or copy
	// into its output. Uncompressed bytes are read as they are stored and
	// are not bounded here.
	Expanded errdefs.Bound
	// Open opens a named archive; nil is os.Open. A tool passes its
	// cli.IO's OpenNamed, whose reads of a FIFO that stalls end when the
	// tool is interrupted.
	Open func(name string) (io.ReadCloser, error)
}

// Open opens the image archive name; "-" reads stdin (spooled to a
// temporary file, see the package doc). Errors name the input.
func Open(name string, stdin io.Reader) (*Archive, error) {
	return OpenWith(name, stdin, Options{})
}

// OpenWith is Open with options.
func OpenWith(name string, stdin io.Reader, opts Options) (*Archive, error) {
	a, err := open(name, stdin, opts)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", display(name), err)
	}
	return a, nil
}

func display(name string) string {
	if name == "-" {
		return "stdin"
	}
	return fmt.Sprintf("%q", name)
}

func open(name string, stdin io.Reader, opts Options) (*Archive, error) {
	if opts.Expanded.Max <= 0 {
		opts.Expanded = errdefs.Bound{Max: tarsafe.DefaultMaxExpanded}
	}
	a := &Archive{name: display(name), opts: opts}
	if name == "-" {
		if f, ok := stdin.(*os.File); ok && readableInPlace(f) {
			// Stdin redirected from an archive file: read in place
			// with ReadAt, which never moves stdin's offset.
			a.f, a.borrowed = f, true
			a.stat, _ = f.Stat()
		} else {
			f, err := spool(stdin, opts.Expanded)
			if err != nil {
				return nil, err
			}
			a.f = f
		}
	} else {
		openFile := opts.Open
		if openFile == nil {
			openFile = func(name string) (io.ReadCloser, error) { return os.Open(name) }
		}
		f, err := openFile(name)
		if err != nil {
			// The caller names the file already.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, err
		}
		if err := NotADir(f); err != nil {
			f.Close()
			return nil, err
		}
		a.f, a.stat, err = inPlaceOrSpool(f, opts.Expanded)
		if err != nil {
			return nil, err
		}
	}
	fi, err := a.f.Stat()
	if err != nil {
		a.Close()
		return nil, err
	}
	a.size = fi.Size()
	if err := a.index(); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.parse(); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

// NotADir returns an error wrapping errdefs.ErrInvalidInput when r, an
// image archive as opened, is a directory (os.Open opens one, and its
// read failed only later, as "decompressing: read DIR: is a directory"):
// most likely an OCI layout directory (manifest-gen --format oci-dir
// writes one), which the tools read as a tar of it, and the error says
// so. The workflows, which check their files before any tool runs, say
// the same (scripts/lib/paths.sh, need_image_file).
func NotADir(r io.Reader) error {
	s, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return nil
	}
	if fi, err := s.Stat(); err != nil || !fi.IsDir() {
		return nil
	}
	return invalid("a directory, not an image archive (an OCI layout directory is read as a tar of it: tar -cf FILE -C DIR .)")
}

// inPlaceOrSpool returns r itself when it is a regular uncompressed file,
// with its stat for Unchanged; otherwise a decompressed temporary copy.
func inPlaceOrSpool(r io.ReadCloser, b errdefs.Bound) (*os.File, os.FileInfo, error) {
	if f, ok := r.(*os.File); ok && readableInPlace(f) {
		fi, err := f.Stat()
		return f, fi, err
	}
	defer r.Close()
	t, err := spool(r, b)
	return t, nil, err
}

// readableInPlace reports whether f is a regular file, uncompressed, read
// from its start (stdin redirected from a file has offset 0 unless
// something read it before).
func readableInPlace(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	if off, err := f.Seek(0, io.SeekCurrent); err != nil || off != 0 {
		return false
	}
	var magic [6]byte
	n, err := f.ReadAt(magic[:], 0)
	if err != nil && err != io.EOF {
		return false
	}
	return compress.Detect(magic[:n]) == compress.None
}

// spool decompresses r into an unlinked temporary file, within the bound
// when r is compressed.
func spool(r io.Reader, b errdefs.Bound) (*os.File, error) {
	sr := &sourceReader{r: r}
	dr, kind, err := compress.NewReader(sr)
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	defer dr.Close()
	var src io.Reader = dr
	if kind != compress.None {
		src = compress.Bounded(dr, b)
	}
	// The first block says whether this is a tar at all: copying
	// /dev/zero or a FIFO of other data would fill $TMPDIR up to the
	// bound (64 GiB) before the index said no.
	br := bufio.NewReaderSize(src, 64<<10)
	if head, err := br.Peek(sniff.Len); err == nil && !sniff.TarHeader(head) {
		return nil, invalid("not a tar archive: its first block is no tar header")
	}
	src = br
	t, err := cli.UnlinkedTemp("imgkit-archive")
	if err != nil {
		return nil, fmt.Errorf("spooling: %w", err)
	}
	bw := bufio.NewWriterSize(t, 1<<20)
	if err := copyTar(bw, src, kind != compress.None); err != nil {
		t.Close()
		// A failed write of the temporary file (a full $TMPDIR) is the
		// disk's fault, not the archive's.
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path == t.Name() {
			return nil, fmt.Errorf("spooling: %w", err)
		}
		// A failed read of the source (an I/O error) is the source's.
		if sr.err != nil {
			return nil, fmt.Errorf("spooling: %w", sr.err)
		}
		var te tarError
		if errors.As(err, &te) {
			return nil, invalid("not a tar archive, or truncated: %v", te.err)
		}
		return nil, decompressError("decompressing", err)
	}
	if err := bw.Flush(); err != nil {
		t.Close()
		return nil, fmt.Errorf("spooling: %w", err)
	}
	return t, nil
}

// maxTrailing bounds what copyTar reads of an uncompressed input past
// the end of its tar: the padding of a record (10 KiB for GNU tar and
// bsdtar), read so that their writer does not meet a closed pipe.
const maxTrailing = 1 << 20

// tarError is copyTar's: src is no tar archive, or one cut short.
type tarError struct{ err error }

func (e tarError) Error() string { return e.err.Error() }

// copyTar copies to w the tar archive src holds, its headers and the data
// they claim (as the index reads them), and stops at the archive's end.
// Checking only the first block let an input that begins as a tar and
// goes on as anything else (a header, then a FIFO of other data, or
// endless zeros after the end) be copied to $TMPDIR until the disk was
// full. What follows the end is read and dropped: all of a compressed
// input, whose checksum at its end guards the archive's bytes (within
// the decompression bound), and at most maxTrailing of an uncompressed
// one. The errors are w's or src's as they are, or a tarError.
func copyTar(w io.Writer, src io.Reader, compressed bool) error {
	sr := &sourceReader{r: src}
	tr := tar.NewReader(io.TeeReader(sr, w))
	for {
		_, err := tarsafe.Next(tr)
		if err == io.EOF {
			break
		}
		if err != nil {
			// A write's error (the temporary file's) is a PathError,
			// which archive/tar's own never is.
			var pe *fs.PathError
			if sr.err != nil || errors.As(err, &pe) {
				return err
			}
			return tarError{err}
		}
	}
	rest := io.Reader(sr)
	if !compressed {
		rest = io.LimitReader(sr, maxTrailing)
	}
	_, err := io.Copy(io.Discard, rest)
	return err
}

// sourceReader is spool's source, keeping the error a read of it failed
// with, other than io.EOF.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// Close releases the archive (and its temporary file, if any).
func (a *Archive) Close() error {
	if a.f == nil {
		return nil
	}
	var err error
	if !a.borrowed {
		err = a.f.Close()
	}
	a.f = nil
	return err
}

// Unchanged reports an error wrapping errdefs.ErrChanged when an archive
// read in place changed (size or modification time) since Open. Readers that
// read a layer twice call it at the end, since the second read is not
// verified against the digest.
func (a *Archive) Unchanged() error {
	if a.stat == nil {
		return nil
	}
	fi, err := a.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != a.stat.Size() || !fi.ModTime().Equal(a.stat.ModTime()) {
		return fmt.Errorf("%s: %w", a.name, errdefs.ErrChanged)
	}
	return nil
}

// Find returns the image tagged name:tag. "" and "" give the first image.
// A name without a tag means tag "latest", and a tag may be given inside
// name ("busybox:1.36"). Names are compared both as written and in Docker's
// normalised form, so "busybox", "library/busybox" and
// "docker.io/library/busybox" are the same. The error for a missing image
// wraps errdefs.ErrNotFound and lists the tags the archive has.
func (a *Archive) Find(name, tag string) (*Image, error) {
	if len(a.Images) == 0 {
		return nil, fmt.Errorf("%s has no image: %w", a.name, errdefs.ErrNotFound)
	}
	if name == "" && tag == "" {
		return a.Images[0], nil
	}
	if tag == "" {
		name, tag = SplitRef(name)
	}
	for _, img := range a.Images {
		if tagged(img, name, tag) {
			return img, nil
		}
	}
	// The images of a multi-platform image share its tags: each is listed
	// once.
	var have []string
	for _, img := range a.Images {
		for _, t := range img.RepoTags {
			if !slices.Contains(have, t) {
				have = append(have, t)
			}
		}
	}
	list := "no tags"
	if len(have) > 0 {
		list = "tags " + strings.Join(quoteAll(have), ", ")
	}
	return nil, fmt.Errorf("no image %q in %s (it has %s): %w", name+":"+tag, a.name, list, errdefs.ErrNotFound)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

// decompressError says what went wrong decompressing: a bound passed, or
// input that is not what its compression says (invalid input, said once:
// imgkit/compress calls a decoder's own verdicts so already).
func decompressError(what string, err error) error {
	if errors.Is(err, errdefs.ErrTooLarge) || errors.Is(err, errdefs.ErrInvalidInput) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %v: %w", what, err, errdefs.ErrInvalidInput)
}

// tooMany returns an error wrapping errdefs.ErrTooLarge, for an archive
// past the bounds of index.go.
func tooMany(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrTooLarge)
}

// invalid returns an error wrapping errdefs.ErrInvalidInput.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errdefs.ErrInvalidInput)
}
