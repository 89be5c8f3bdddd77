package tarsafe

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"

	"dockertools.dev/imgkit/errdefs"
	"dockertools.dev/imgkit/tarw"
)

// Reader reads a layer tar as archive/tar's Reader does, with two
// differences that keep a small hostile layer small:
//
//   - a sparse file's data is read as stored: the bytes of its data
//     fragments one after the other, holes left out; Sparse gives the
//     fragments (where each run of bytes goes) and the header's Size is
//     the apparent size, holes counted;
//   - the bytes the layer expands to (the uncompressed tar, plus the holes
//     of its sparse files) are bounded by Options.Expanded: past it, Next,
//     Read or Finish fail with an error that names the entry and wraps
//     errdefs.ErrTooLarge.
//
// HeaderOffset and DataOffset say where the current entry is in the
// uncompressed stream, so a caller can come back to it.
type Reader struct {
	c       counter
	tr      *tar.Reader
	bound   errdefs.Bound
	name    string // the current entry's name, for errors
	last    string // the last entry's name, for errors past it
	frags   []tarw.Fragment
	left    int64 // stored bytes of a sparse entry not read yet
	restart bool  // tr is past a sparse entry: start a new one
	hdrOff  int64
	dataOff int64
	buf     []byte
	err     error
}

// maxCapture bounds the header blocks kept for one entry: archive/tar
// takes at most 1 MiB for each of its PAX records, long name, long link
// and sparse map.
const maxCapture = 8 << 20

// NewReader returns a Reader of the uncompressed tar r.
func NewReader(r io.Reader, opts Options) *Reader {
	b := opts.Expanded
	if b.Max <= 0 {
		b.Max = DefaultMaxExpanded
	}
	t := &Reader{bound: b}
	t.c = counter{r: r, max: b.Max}
	t.tr = tar.NewReader(&t.c)
	return t
}

// Next advances to the next entry, skipping what is left of the current
// one (holes are never expanded), and returns its header. It returns
// io.EOF after the last entry; other errors say where the layer stopped
// making sense (see readError).
func (t *Reader) Next() (*tar.Header, error) {
	hdr, err := t.next()
	if err != nil {
		return nil, readError(err, t.last)
	}
	t.last = hdr.Name
	return hdr, nil
}

func (t *Reader) next() (*tar.Header, error) {
	if t.err != nil {
		return nil, t.err
	}
	if err := t.skip(); err != nil {
		return nil, t.fail(err)
	}
	// The next header starts after the padding of the current entry's
	// data, which archive/tar reads at the start of its Next.
	t.hdrOff = tarw.DataLen(t.c.n)
	if t.restart {
		// archive/tar would expand the holes to skip them: after a
		// sparse entry, a new tar.Reader starts at the next header.
		if _, err := io.CopyN(io.Discard, &t.c, t.hdrOff-t.c.n); err != nil {
			return nil, t.fail(err)
		}
		t.tr, t.restart = tar.NewReader(&t.c), false
	}
	t.frags, t.name = nil, ""
	t.c.capture(t.hdrOff)
	hdr, err := Next(t.tr)
	raw, whole := t.c.endCapture()
	if errors.Is(err, errExpanded) {
		// In headers that describe the next entry, not named yet.
		return nil, t.fail(fmt.Errorf("%s: %w", position(t.last), t.bound.Past()))
	}
	if err != nil {
		t.err = err
		return nil, err
	}
	t.dataOff = t.c.n
	t.name = hdr.Name
	frags, stored, sparse, err := sparseMap(hdr, raw)
	switch {
	case sparse && !whole:
		err = invalid(hdr, "sparse file whose headers pass %d bytes", maxCapture)
	case sparse && err == nil:
		t.frags, t.left, t.restart = frags, stored, true
		if t.frags == nil {
			t.frags = []tarw.Fragment{}
		}
		t.c.holes += hdr.Size - stored
	}
	if err != nil {
		t.err = err
		return nil, err
	}
	if t.c.over() {
		return nil, t.fail(errExpanded)
	}
	return hdr, nil
}

// Read reads the current entry's data: a sparse file's stored bytes.
func (t *Reader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	var n int
	var err error
	if t.frags != nil {
		if t.left == 0 {
			return 0, io.EOF
		}
		if int64(len(p)) > t.left {
			p = p[:t.left]
		}
		n, err = t.c.Read(p)
		t.left -= int64(n)
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	} else {
		n, err = t.tr.Read(p)
	}
	if err != nil && err != io.EOF {
		return n, t.fail(err)
	}
	return n, err
}

// Sparse returns the data fragments of the current entry when it is a
// sparse file (never nil then, possibly empty), else nil.
func (t *Reader) Sparse() []tarw.Fragment { return t.frags }

// HeaderOffset is where the current entry's first header block starts in
// the uncompressed stream.
func (t *Reader) HeaderOffset() int64 { return t.hdrOff }

// DataOffset is where the current entry's data starts (after a PAX 1.0
// sparse map).
func (t *Reader) DataOffset() int64 { return t.dataOff }

// Finish reads what follows the end of the archive to the end of the
// stream, within the bound: a layer's digest covers those bytes, and a
// verifying reader checks it at EOF. Call it once Next returned io.EOF.
func (t *Reader) Finish() error {
	return readError(t.finish(), t.last)
}

func (t *Reader) finish() error {
	if t.buf == nil {
		t.buf = make([]byte, 256<<10)
	}
	t.name = ""
	for {
		_, err := t.c.Read(t.buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return t.named(err)
		}
	}
}

// skip reads what the caller left of the current entry.
func (t *Reader) skip() error {
	if t.buf == nil {
		t.buf = make([]byte, 256<<10)
	}
	for {
		_, err := t.Read(t.buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// errExpanded is the counter's error; fail names the entry.
var errExpanded = errors.New("expanded past the bound")

// fail makes err sticky, named.
func (t *Reader) fail(err error) error {
	if t.err == nil {
		t.err = t.named(err)
	}
	return t.err
}

// named names the entry in the counter's error: the entry whose bytes (or
// holes) passed the bound.
func (t *Reader) named(err error) error {
	if !errors.Is(err, errExpanded) {
		return err
	}
	past := t.bound.Past()
	if t.name == "" {
		return fmt.Errorf("after its last entry: %w", past)
	}
	return &Error{Name: t.name, Reason: past.Error(), Class: errdefs.ErrTooLarge}
}

// counter counts the bytes read from r, keeps the header blocks of an
// entry while archive/tar parses them, and stops reading when the bytes
// read plus the holes seen pass max.
type counter struct {
	r          io.Reader
	n, holes   int64
	max        int64
	capturing  bool
	capFrom    int64
	raw        []byte
	overflowed bool
}

func (c *counter) over() bool { return c.n+c.holes > c.max }

func (c *counter) Read(p []byte) (int, error) {
	// Read at most one byte past the bound: enough to know it was
	// passed, when the stream goes on. Header blocks count too: PAX
	// records and GNU long names may follow each other without end.
	room := c.max - c.n - c.holes + 1
	if room <= 0 {
		return 0, errExpanded
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	if c.capturing {
		c.keep(p[:n])
	}
	c.n += int64(n)
	if c.over() {
		return n, errExpanded
	}
	return n, err
}

// keep adds the bytes at offsets from capFrom on to raw.
func (c *counter) keep(p []byte) {
	if skip := c.capFrom - c.n; skip > 0 {
		if skip >= int64(len(p)) {
			return
		}
		p = p[skip:]
	}
	if len(c.raw)+len(p) > maxCapture {
		c.overflowed = true
		return
	}
	c.raw = append(c.raw, p...)
}

func (c *counter) capture(from int64) {
	c.capturing, c.capFrom, c.raw, c.overflowed = true, from, c.raw[:0], false
}

// endCapture returns the bytes kept, and false when some were dropped.
func (c *counter) endCapture() ([]byte, bool) {
	c.capturing = false
	return c.raw, !c.overflowed
}

// position says where a layer whose last entry read is last stopped.
func position(last string) string {
	if last == "" {
		return "at its first entry"
	}
	return "in or after entry " + errdefs.Quote(last)
}

// readError says where reading a layer stopped making sense (last is the
// name of the last entry read, "" before the first): a truncated layer or
// a corrupt header is errdefs.ErrInvalidInput. A refused entry (an *Error)
// names itself and is returned as it is, as are other errors (a digest
// mismatch found at the layer's end, I/O) and nil.
func readError(err error, last string) error {
	after := position(last)
	var te *Error
	switch {
	case errors.As(err, &te):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("truncated %s: %w", after, errdefs.ErrInvalidInput)
	case errors.Is(err, tar.ErrHeader):
		return fmt.Errorf("corrupt tar header %s: %w", after, errdefs.ErrInvalidInput)
	}
	return err
}
