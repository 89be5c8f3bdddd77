package layerstream

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"regexp"
	"strconv"
	"time"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/kcopy"
	"dockertools.dev/imgkit/sniff"
	"dockertools.dev/imgkit/tarmember"
	"dockertools.dev/imgkit/tarsafe"
)

// Version is the trailer version of a stream without reference layers.
// A stream with at least one is version RefVersion; this package reads both.
const Version = 1

// Member names of the non-layer members.
const (
	ConfigMember  = "config.json"
	TrailerMember = "stream.json"
)

// LayerInfo describes one layer in the trailer.
type LayerInfo struct {
	DiffID string   `json:"diff_id"`
	Size   int64    `json:"size"`
	Paths  []string `json:"paths,omitempty"` // see MarshalJSON

	Comment string `json:"comment,omitempty"`
	// Blobs, when not empty, make the layer a reference (see Ref): the
	// stream carries no bytes for it.
	Blobs []Blob `json:"blobs,omitempty"`
}

// MarshalJSON writes paths when they are given, even empty: [] (an empty
// store layer, "store paths: []") differs from no paths at all.
func (l LayerInfo) MarshalJSON() ([]byte, error) {
	out := struct {
		DiffID  string    `json:"diff_id"`
		Size    int64     `json:"size"`
		Paths   *[]string `json:"paths,omitempty"`
		Comment string    `json:"comment,omitempty"`
		Blobs   []Blob    `json:"blobs,omitempty"`
	}{DiffID: l.DiffID, Size: l.Size, Comment: l.Comment, Blobs: l.Blobs}
	if l.Paths != nil {
		out.Paths = &l.Paths
	}
	return json.Marshal(out)
}

// Trailer is the last member of a layer stream.
type Trailer struct {
	Version int         `json:"version"`
	Layers  []LayerInfo `json:"layers"`
}

// MemberName is the member name of the layer at position i.
func MemberName(i int) string { return fmt.Sprintf("layers/%03d.tar", i) }

var memberRE = regexp.MustCompile(`^layers/([0-9]{3,})\.(tar|ref)$`)

func header(name string, size int64) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		Size:     size,
		Mode:     0o644,
		ModTime:  time.Unix(0, 0),
		// No Format: archive/tar writes USTAR, and PAX only for a member of
		// 8 GiB or more, which USTAR's size field cannot hold.
	}
}

// Writer writes a layer stream. Its output depends only on the bytes and
// descriptions given to it. Layer members bypass the tar.Writer
// (tarmember), so that LayerWriter.CopyN can have the kernel copy a file
// into the stream.
type Writer struct {
	tm     *tarmember.Writer
	tw     *tar.Writer
	layers []LayerInfo
	open   *LayerWriter
	config bool
	closed bool
	refs   bool // a reference layer was written: the trailer is RefVersion
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	tm := tarmember.NewWriter(w)
	return &Writer{tm: tm, tw: tm.Tar}
}

// LayerWriter receives exactly the announced number of bytes of one layer
// and hashes them as they pass (unless begun by BeginLayerHashed).
type LayerWriter struct {
	w       *Writer
	size    int64
	written int64
	h       hash.Hash // nil: the caller gives the digest to Close
	started bool      // the member header is written
}

// BeginLayer starts the next layer member, of exactly size bytes. The
// member's header is written with its first bytes (or by Close): a layer
// that ends as a reference (see LayerWriter.Close) never gets one.
func (w *Writer) BeginLayer(size int64) (*LayerWriter, error) {
	if w.open != nil || w.config || w.closed {
		return nil, errors.New("layer stream: layer started out of order")
	}
	w.open = &LayerWriter{w: w, size: size, h: sha256.New()}
	return w.open, nil
}

// BeginLayerHashed is BeginLayer for bytes whose sha256 the caller
// computes elsewhere (layer-pack hashes several layers at once, apart from
// the ordered output) and hands to Close in info.DiffID: the bytes pass
// unhashed. The caller answers for the digest being that of these bytes.
func (w *Writer) BeginLayerHashed(size int64) (*LayerWriter, error) {
	lw, err := w.BeginLayer(size)
	if lw != nil {
		lw.h = nil
	}
	return lw, err
}

// WriteError is a failure to write the stream itself (its tar headers
// and padding): the message says "writing the layer stream" once, and a
// caller that says what it was writing need not say it again.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing the layer stream: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

func writeError(err error) error { return &WriteError{err} }

func (lw *LayerWriter) start() error {
	if lw.started {
		return nil
	}
	lw.started = true
	if err := lw.w.tm.Begin(header(MemberName(len(lw.w.layers)), lw.size)); err != nil {
		return writeError(err)
	}
	return nil
}

// Write passes p into the layer member.
func (lw *LayerWriter) Write(p []byte) (int, error) {
	if err := lw.room(int64(len(p))); err != nil {
		return 0, err
	}
	n, err := lw.w.tm.Out().Write(p)
	if lw.h != nil {
		lw.h.Write(p[:n])
	}
	lw.written += int64(n)
	return n, err
}

// room starts the member and checks that n more bytes fit in it.
func (lw *LayerWriter) room(n int64) error {
	if lw.written+n > lw.size {
		return fmt.Errorf("layer %d: more than the announced %d bytes: %w", len(lw.w.layers), lw.size, errdefs.ErrChanged)
	}
	return lw.start()
}

// CopyN copies n bytes of r into the layer member, as io.CopyN does (io.EOF
// when r ends sooner). When the layer is hashed elsewhere
// (BeginLayerHashed) and r and the Writer's output are files or pipes, the
// kernel copies them (kcopy.CopyN): they never enter this process.
func (lw *LayerWriter) CopyN(r io.Reader, n int64) (int64, error) {
	if lw.h != nil {
		return io.CopyN(lw, r, n)
	}
	if err := lw.room(n); err != nil {
		return 0, err
	}
	m, err := kcopy.CopyN(lw.w.tm.Out(), r, n)
	lw.written += m
	return m, err
}

// Close ends the layer. info's Paths and Comment are kept; its DiffID and
// Size are set from the bytes written (DiffID is info's own after
// BeginLayerHashed, and must be a sha256 digest). The completed description
// is returned.
//
// When info has Blobs and no byte was written, the layer becomes a
// reference member instead (as WriteRef writes it), described by info's
// DiffID, Size and Blobs: a producer can decide that a layer needs no bytes
// after announcing it.
func (lw *LayerWriter) Close(info LayerInfo) (LayerInfo, error) {
	if len(info.Blobs) > 0 && lw.written == 0 && !lw.started {
		lw.w.open = nil
		return lw.w.WriteRef(Ref{DiffID: info.DiffID, Size: info.Size, Blobs: info.Blobs}, info)
	}
	if err := lw.start(); err != nil {
		return info, err
	}
	if lw.written != lw.size {
		return info, fmt.Errorf("layer %d: %d bytes written, %d announced: %w", len(lw.w.layers), lw.written, lw.size, errdefs.ErrChanged)
	}
	if err := lw.w.tm.End(lw.size); err != nil {
		return info, writeError(err)
	}
	if lw.h != nil {
		info.DiffID = "sha256:" + hex.EncodeToString(lw.h.Sum(nil))
	} else if !validDigest(info.DiffID) {
		return info, fmt.Errorf("layer %d: %q is not a sha256 digest: %w", len(lw.w.layers), info.DiffID, errdefs.ErrInvalidInput)
	}
	info.Size = lw.size
	info.Blobs = nil
	lw.w.layers = append(lw.w.layers, info)
	lw.w.open = nil
	return info, nil
}

// WriteLayer copies a layer of exactly size bytes from r.
func (w *Writer) WriteLayer(size int64, info LayerInfo, r io.Reader) (LayerInfo, error) {
	lw, err := w.BeginLayer(size)
	if err != nil {
		return info, err
	}
	n, err := io.CopyN(lw, r, size)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = fmt.Errorf("layer %d: %d bytes read, %d announced: %w", len(w.layers), n, size, errdefs.ErrChanged)
		}
		return info, err
	}
	return lw.Close(info)
}

// Config adds image config bytes that the consumer must use verbatim. It
// comes after the last layer.
func (w *Writer) Config(data []byte) error {
	if w.open != nil || w.config || w.closed {
		return errors.New("layer stream: config written out of order")
	}
	w.config = true
	if err := w.tw.WriteHeader(header(ConfigMember, int64(len(data)))); err != nil {
		return err
	}
	_, err := w.tw.Write(data)
	return err
}

// Layers returns the descriptions of the layers written so far.
func (w *Writer) Layers() []LayerInfo { return w.layers }

// Close writes the trailer and the end of the tar. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.open != nil {
		return errors.New("layer stream: closed with a layer open")
	}
	if w.closed {
		return nil
	}
	w.closed = true
	layers := w.layers
	if layers == nil {
		layers = []LayerInfo{}
	}
	version := Version
	if w.refs {
		version = RefVersion
	}
	data, err := json.Marshal(Trailer{Version: version, Layers: layers})
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := w.tw.WriteHeader(header(TrailerMember, int64(len(data)))); err != nil {
		return err
	}
	if _, err := w.tw.Write(data); err != nil {
		return err
	}
	return w.tw.Close()
}

// Options tune a Reader.
type Options struct {
	// Verify recomputes every layer's sha256 and compares it with the
	// trailer's diff_id.
	Verify bool
	// NewHash makes the hash of each layer Verify computes: a sha256
	// (default sha256.New), perhaps one hashing on a goroutine of its own.
	NewHash func() hash.Hash
}

// Reader reads a layer stream.
type Reader struct {
	src     *bufio.Reader
	under   io.Reader // what src buffers, for Layer.WriteNTo; nil when the caller's
	pad     int64     // the padding after the member read last
	opts    Options
	cur     *Layer
	sizes   []int64
	digests []string
	config  []byte
	trailer *Trailer
	refs    []*Ref // per layer: its reference, nil for a member with bytes
	begun   bool   // Next was called: the input's first bytes were judged
}

// NewReader returns a Reader reading from r. Unless r is a bufio.Reader, the
// Reader puts a buffer of its own in front of it, and Layer.WriteNTo can
// copy a layer's bytes from r without it, in the kernel when r is a file or
// a pipe.
func NewReader(r io.Reader, opts Options) *Reader {
	if br, ok := r.(*bufio.Reader); ok {
		return &Reader{src: br, opts: opts}
	}
	return &Reader{src: bufio.NewReaderSize(r, readBuffer), under: r, opts: opts}
}

// readBuffer is the Reader's buffer: large reads of a pipe.
const readBuffer = 1 << 20

// nextHeader skips the padding of the member read last and reads the next
// header. A tar.Reader parses it, a new one for each member: the members'
// bytes are read here (see member), not through it.
func (r *Reader) nextHeader() (*tar.Header, error) {
	if r.pad > 0 {
		if _, err := r.src.Discard(int(r.pad)); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		r.pad = 0
	}
	return tarsafe.Next(tar.NewReader(r.src))
}

// member returns a reader of the size bytes of the member whose header was
// just read; the padding after them is skipped by the next nextHeader.
func (r *Reader) member(size int64) *body {
	r.pad = -size & (tarmember.BlockSize - 1)
	return &body{r: r.src, left: size}
}

// body reads a member's bytes: a stream that ends before them is
// io.ErrUnexpectedEOF, as with a tar.Reader.
type body struct {
	r    io.Reader
	left int64
}

func (b *body) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if err == io.EOF && b.left > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Layer is one layer member as it is read. Reading it yields the layer tar.
type Layer struct {
	Index int
	// Size is the layer tar's length (for a reference too).
	Size int64
	// Ref is set for a reference layer: the stream carries no bytes for
	// it, and reading it gives io.EOF at once.
	Ref *Ref
	r   *body
	rd  *Reader
	h   hash.Hash
	n   int64
}

func (l *Layer) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if l.h != nil {
		l.h.Write(p[:n])
	}
	l.n += int64(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = l.truncated()
	}
	return n, err
}

func (l *Layer) truncated() error {
	return fmt.Errorf("layer %d: truncated after %d of %d bytes: %w", l.Index, l.n, l.Size, errdefs.ErrInvalidInput)
}

// WriteNTo copies the layer's next n bytes to w, as io.CopyN(w, l, n) does
// (kcopy.WriterToN). When the layer is not being verified and w and the
// reader under the Reader are files or pipes (kcopy.Direct), the bytes
// the Reader holds in its buffer are written first and the kernel copies
// the rest (kcopy.CopyN): the layer's bytes then never enter this
// process. Otherwise w gets them as from io.CopyN: where the buffer ends
// depends on how the input arrived, and a writer whose output depends on
// how its input is cut (a compressor) must not see that.
func (l *Layer) WriteNTo(w io.Writer, n int64) (int64, error) {
	if l.h != nil || l.rd == nil || l.rd.under == nil || !kcopy.Direct(w, l.rd.under) {
		return io.CopyN(w, onlyReader{l}, n)
	}
	var done int64
	if k := min(int64(l.rd.src.Buffered()), n, l.r.left); k > 0 {
		m, err := io.CopyN(w, onlyReader{l}, k)
		if done += m; err != nil {
			return done, err
		}
	}
	// The buffer is empty now, or the copy ends within it.
	if rest := min(n-done, l.r.left); rest > 0 {
		m, err := kcopy.CopyN(w, l.rd.under, rest)
		l.n += m
		l.r.left -= m
		done += m
		if err == io.EOF {
			return done, l.truncated()
		}
		if err != nil {
			return done, err
		}
	}
	if done < n {
		return done, io.EOF
	}
	return done, nil
}

// onlyReader hides a Layer's WriteNTo.
type onlyReader struct{ io.Reader }

func invalid(format string, args ...any) error {
	return fmt.Errorf("layer stream: "+format+": %w", append(args, errdefs.ErrInvalidInput)...)
}

// readFailed is err, met reading the stream (what is named by format and
// args, if anything). A stream cut short or a malformed header (or one
// past archive/tar's bounds) is invalid input; any other error is the
// source's own (an I/O error, the cancelled context of a tool's
// ContextReader) and is kept as it is, so that it is
// not reported as a fault of the stream: a signal at the wrong moment made
// a tool say "context canceled: invalid input", not "interrupted".
func readFailed(err error, format string, args ...any) error {
	if format != "" {
		format += ": "
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, tar.ErrHeader) || errors.Is(err, tar.ErrFieldTooLong) {
		return invalid(format+"%v", append(args, err)...)
	}
	return fmt.Errorf("layer stream: "+format+"%w", append(args, err)...)
}

// Next returns the next layer. After the last layer it reads the optional
// config and the trailer, checks them against the layers seen, and returns
// io.EOF. A layer's unread remainder is skipped (and hashed, with Verify).
// An input that is another document (a plan, an image archive) from its
// first bytes on is an error that says what it is (imgkit/sniff).
func (r *Reader) Next() (*Layer, error) {
	if r.begun {
		return r.next()
	}
	r.begun = true
	head, _ := r.src.Peek(sniff.Len)
	head = bytes.Clone(head)
	l, err := r.next()
	if err != nil && errors.Is(err, errdefs.ErrInvalidInput) {
		if len(head) == 0 {
			return nil, invalid("%s", errdefs.EmptyInput)
		}
		if m, ok := sniff.Mismatch(head, sniff.Stream); ok {
			return nil, fmt.Errorf("layer stream: %s: %w", m, errdefs.ErrInvalidInput)
		}
	}
	return l, err
}

func (r *Reader) next() (*Layer, error) {
	if r.trailer != nil {
		return nil, io.EOF
	}
	if err := r.finishLayer(); err != nil {
		return nil, err
	}
	hdr, err := r.nextHeader()
	if err == io.EOF {
		return nil, invalid("ends without its %s trailer", TrailerMember)
	}
	if err != nil {
		return nil, readFailed(err, "")
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, invalid("member %s is not a regular file", errdefs.Quote(hdr.Name))
	}
	if m := memberRE.FindStringSubmatch(hdr.Name); m != nil {
		if r.config != nil {
			return nil, invalid("layer member %s after %s", errdefs.Quote(hdr.Name), ConfigMember)
		}
		if i, _ := strconv.Atoi(m[1]); i != len(r.sizes) || hdr.Name != MemberName(i) && hdr.Name != RefMemberName(i) {
			return nil, invalid("member %s where %q was expected", errdefs.Quote(hdr.Name), MemberName(len(r.sizes)))
		}
		if m[2] == "ref" {
			return r.readRef(hdr)
		}
		l := &Layer{Index: len(r.sizes), Size: hdr.Size, r: r.member(hdr.Size), rd: r}
		if r.opts.Verify {
			l.h = sha256.New()
			if r.opts.NewHash != nil {
				l.h = r.opts.NewHash()
			}
		}
		r.cur = l
		r.sizes = append(r.sizes, hdr.Size)
		r.refs = append(r.refs, nil)
		return l, nil
	}
	switch hdr.Name {
	case ConfigMember:
		if r.config != nil {
			return nil, invalid("two %s members", ConfigMember)
		}
		if hdr.Size > 64<<20 {
			return nil, invalid("%s of %d bytes", ConfigMember, hdr.Size)
		}
		if r.config, err = io.ReadAll(r.member(hdr.Size)); err != nil {
			return nil, readFailed(err, "reading %s", ConfigMember)
		}
		return r.next()
	case TrailerMember:
		return nil, r.readTrailer(hdr)
	}
	return nil, invalid("unexpected member %s", errdefs.Quote(hdr.Name))
}

func (r *Reader) finishLayer() error {
	l := r.cur
	if l == nil {
		return nil
	}
	r.cur = nil
	if l.Ref != nil {
		// Nothing to read or hash: its diff_id is the reference's word.
		if r.opts.Verify {
			r.digests = append(r.digests, l.Ref.DiffID)
		}
		return nil
	}
	if _, err := io.Copy(io.Discard, l); err != nil {
		return err
	}
	if l.n != l.Size {
		return invalid("layer %d: %d of %d bytes", l.Index, l.n, l.Size)
	}
	if l.h != nil {
		r.digests = append(r.digests, "sha256:"+hex.EncodeToString(l.h.Sum(nil)))
	}
	return nil
}

func (r *Reader) readTrailer(hdr *tar.Header) error {
	if hdr.Size > 64<<20 {
		return invalid("%s of %d bytes", TrailerMember, hdr.Size)
	}
	data, err := io.ReadAll(r.member(hdr.Size))
	if err != nil {
		return readFailed(err, "reading %s", TrailerMember)
	}
	var t Trailer
	if err := json.Unmarshal(data, &t); err != nil {
		return invalid("%s: %v", TrailerMember, err)
	}
	if t.Version != Version && t.Version != RefVersion {
		return invalid("%s version %d, this tool reads versions %d and %d", TrailerMember, t.Version, Version, RefVersion)
	}
	if len(t.Layers) != len(r.sizes) {
		return invalid("%s describes %d layers, the stream holds %d", TrailerMember, len(t.Layers), len(r.sizes))
	}
	for i, l := range t.Layers {
		if err := r.checkRefEntry(t.Version, i, l); err != nil {
			return err
		}
		if l.Size != r.sizes[i] {
			return invalid("layer %d: %s says %d bytes, the member has %d", i, TrailerMember, l.Size, r.sizes[i])
		}
		if !validDigest(l.DiffID) {
			return invalid("layer %d: diff_id %q is not a sha256 digest", i, l.DiffID)
		}
		if r.opts.Verify && r.digests[i] != l.DiffID {
			return fmt.Errorf("layer stream: layer %d: %s says %s, the bytes hash to %s: %w", i, TrailerMember, l.DiffID, r.digests[i], errdefs.ErrDigestMismatch)
		}
	}
	switch _, err := r.nextHeader(); {
	case err == nil:
		return invalid("members after %s", TrailerMember)
	case err != io.EOF:
		return readFailed(err, "after %s", TrailerMember)
	}
	r.trailer = &t
	return io.EOF
}

var digestRE = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

func validDigest(d string) bool { return digestRE.MatchString(d) }

// Trailer returns the checked trailer once Next has returned io.EOF.
func (r *Reader) Trailer() *Trailer { return r.trailer }

// Config returns the verbatim config bytes, or nil when the stream has none.
// It is known once Next has returned io.EOF.
func (r *Reader) Config() []byte { return r.config }
